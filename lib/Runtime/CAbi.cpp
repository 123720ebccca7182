//===- CAbi.cpp - The tfm runtime's C ABI -------------------------*- C++ -*-===//
//
// The extern "C" functions that generated code calls. Each one unpacks its
// memref descriptors and forwards to tfm::runtime::Runtime. No exception
// crosses this boundary: the first failure is recorded (with the primitive
// that failed) and later calls return at once.
//
//===----------------------------------------------------------------------===//

#include "tfm/Runtime/tfm_runtime.h"

#include <exception>
#include <string>
#include <oneapi/dnnl/dnnl.hpp>

import tfm.runtime;

using tfm::runtime::Buffer;
using tfm::runtime::fromDescriptor;
using tfm::runtime::Runtime;

namespace {
std::string &lastError() {
  static std::string error;
  return error;
}

/// Runs `body`, turning any exception into the recorded error.
template <typename F>
void guarded(const char *what, F body) {
  if (!lastError().empty())
    return;
  try {
    body();
  } catch (const dnnl::error &e) {
    lastError() = std::string(what) + ": oneDNN error: " + e.what();
  } catch (const std::exception &e) {
    lastError() = std::string(what) + ": " + e.what();
  } catch (...) {
    lastError() = std::string(what) + ": unknown error";
  }
}
} // namespace

#define BUF(name) fromDescriptor(name, name##_rank, name##_dtype)

extern "C" {

void tfm_rt_matmul(TFM_BUF(a), TFM_BUF(b), TFM_BUF(bias), TFM_BUF(residual),
                   TFM_BUF(dst), int32_t activation, int32_t transpose_b) {
  guarded("matmul", [&] {
    Runtime::get().matmul(BUF(a), BUF(b), BUF(bias), BUF(residual), BUF(dst),
                          activation, transpose_b != 0);
  });
}

void tfm_rt_layer_norm(TFM_BUF(src), TFM_BUF(scale), TFM_BUF(shift), TFM_BUF(dst),
                       double epsilon) {
  guarded("layer_norm", [&] {
    Runtime::get().layerNorm(BUF(src), BUF(scale), BUF(shift), BUF(dst), epsilon);
  });
}

void tfm_rt_eltwise(TFM_BUF(src), TFM_BUF(dst), int32_t kind, double alpha, double beta) {
  guarded("eltwise", [&] { Runtime::get().eltwise(BUF(src), BUF(dst), kind, alpha, beta); });
}

void tfm_rt_binary(TFM_BUF(lhs), TFM_BUF(rhs), TFM_BUF(dst), int32_t kind) {
  guarded("binary", [&] { Runtime::get().binary(BUF(lhs), BUF(rhs), BUF(dst), kind); });
}

void tfm_rt_softmax(TFM_BUF(src), TFM_BUF(dst), int64_t axis) {
  guarded("softmax", [&] { Runtime::get().softmax(BUF(src), BUF(dst), axis); });
}

void tfm_rt_reorder(TFM_BUF(src), TFM_BUF(dst)) {
  guarded("reorder", [&] { Runtime::get().reorder(BUF(src), BUF(dst)); });
}

void tfm_rt_reduction(TFM_BUF(src), TFM_BUF(dst), int32_t kind) {
  guarded("reduction", [&] { Runtime::get().reduction(BUF(src), BUF(dst), kind); });
}

const char *tfm_rt_last_error(void) {
  return lastError().empty() ? nullptr : lastError().c_str();
}

} // extern "C"
