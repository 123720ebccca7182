//===- CAbi.cpp - The tfm runtime's C ABI -------------------------*- C++ -*-===//
//
// The extern "C" functions that generated code calls (MLIR's C interface,
// `_mlir_ciface_tfm_rt_*`). Each one unpacks its buffer records and forwards
// to tfm::runtime::Runtime. No exception
// crosses this boundary: the first failure is recorded (with the primitive
// that failed) and later calls return at once.
//
//===----------------------------------------------------------------------===//

#include "tfm/Runtime/tfm_runtime.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

import tfm.runtime;
import tfm.quant;
import tfm.runtime_quantized;

using tfm::runtime::Buffer;
using tfm::runtime::fromRecord;
using tfm::runtime::Runtime;

namespace {
std::string &lastError() {
  static std::string error;
  return error;
}

/// Time spent in each kind of runtime call (tfm_rt_set_profile).
struct Profile {
  bool enabled = false;
  struct Entry {
    const char *what;
    long long calls = 0;
    double seconds = 0;
  };
  std::vector<Entry> entries; // a handful: linear search beats hashing

  void add(const char *what, double seconds) {
    for (Entry &e : entries)
      if (e.what == what) {
        ++e.calls;
        e.seconds += seconds;
        return;
      }
    entries.push_back({what, 1, seconds});
  }
};

Profile &profile() {
  static Profile p;
  return p;
}

/// Runs `body`, turning any exception into the recorded error.
template <typename F>
void guarded(const char *what, F body) {
  if (!lastError().empty())
    return;
  std::chrono::steady_clock::time_point start;
  if (profile().enabled)
    start = std::chrono::steady_clock::now();
  try {
    body();
    if (profile().enabled)
      profile().add(what, std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                              .count());
  } catch (const dnnl::error &e) {
    lastError() = std::string(what) + ": oneDNN error: " + e.what();
  } catch (const std::exception &e) {
    lastError() = std::string(what) + ": " + e.what();
  } catch (...) {
    lastError() = std::string(what) + ": unknown error";
  }
}
} // namespace

#define BUF(name) fromRecord(name)

extern "C" {

void _mlir_ciface_tfm_rt_matmul(TFM_BUF(a), TFM_BUF(b), TFM_BUF(bias), TFM_BUF(multiplier),
                                TFM_BUF(residual), TFM_BUF(dst), int32_t activation,
                                int32_t transpose_b) {
  guarded("matmul", [&] {
    Runtime::get().matmul(BUF(a), BUF(b), BUF(bias), BUF(residual), BUF(dst), activation,
                          transpose_b != 0, BUF(multiplier));
  });
}

void _mlir_ciface_tfm_rt_layer_norm(TFM_BUF(src), TFM_BUF(scale), TFM_BUF(shift), TFM_BUF(dst),
                                    double epsilon, int32_t rms) {
  guarded("layer_norm", [&] {
    Runtime::get().layerNorm(BUF(src), BUF(scale), BUF(shift), BUF(dst), epsilon, rms != 0);
  });
}

void _mlir_ciface_tfm_rt_causal_fill(TFM_BUF(src), TFM_BUF(dst), double fill, int64_t window) {
  guarded("causal_fill", [&] { Runtime::get().causalFill(BUF(src), BUF(dst), fill, window); });
}

void _mlir_ciface_tfm_rt_sequence_fill(TFM_BUF(src), TFM_BUF(sequence_ids), TFM_BUF(dst),
                                       double fill) {
  guarded("sequence_fill",
          [&] { Runtime::get().sequenceFill(BUF(src), BUF(sequence_ids), BUF(dst), fill); });
}

void _mlir_ciface_tfm_rt_eltwise(TFM_BUF(src), TFM_BUF(dst), int32_t kind, double alpha,
                                 double beta) {
  guarded("eltwise", [&] { Runtime::get().eltwise(BUF(src), BUF(dst), kind, alpha, beta); });
}

void _mlir_ciface_tfm_rt_binary(TFM_BUF(lhs), TFM_BUF(rhs), TFM_BUF(dst), int32_t kind) {
  guarded("binary", [&] { Runtime::get().binary(BUF(lhs), BUF(rhs), BUF(dst), kind); });
}

void _mlir_ciface_tfm_rt_softmax(TFM_BUF(src), TFM_BUF(dst), int64_t axis) {
  guarded("softmax", [&] { Runtime::get().softmax(BUF(src), BUF(dst), axis); });
}

void _mlir_ciface_tfm_rt_reorder(TFM_BUF(src), TFM_BUF(dst)) {
  guarded("reorder", [&] { Runtime::get().reorder(BUF(src), BUF(dst)); });
}

void _mlir_ciface_tfm_rt_reduction(TFM_BUF(src), TFM_BUF(dst), int32_t kind) {
  guarded("reduction", [&] { Runtime::get().reduction(BUF(src), BUF(dst), kind); });
}

} // extern "C"

namespace {
/// The name a weight call passes (a NUL-terminated memref<?xi8>).
const char *weightName(const tfm_bytes_memref *ref) {
  const auto *name = reinterpret_cast<const tfm::runtime::BytesMemRef *>(ref);
  if (!name || !name->data || name->sizes[0] < 1 || name->strides[0] != 1 ||
      name->data[name->offset + name->sizes[0] - 1])
    throw std::runtime_error("a weight name is not a NUL-terminated memref<?xi8>");
  return name->data + name->offset;
}

/// Sets `result` to `bytes` bytes at `data`; on failure (data null), to a
/// valid dummy buffer: later calls are no-ops anyway.
void setBytes(tfm_bytes_memref *result, void *data, int64_t bytes) {
  static char dummy[64];
  char *p = data ? static_cast<char *>(data) : dummy;
  auto &m = *reinterpret_cast<tfm::runtime::BytesMemRef *>(result);
  m.basePtr = m.data = p;
  m.offset = 0;
  m.sizes[0] = data ? bytes : 0;
  m.strides[0] = 1;
}
} // namespace

extern "C" {

void _mlir_ciface_tfm_rt_weight(tfm_bytes_memref *result, const tfm_bytes_memref *nameRef,
                                int64_t rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
                                int32_t dtype) {
  // Generated code passes each weight's name as the same constant on every
  // call (with the same shape and type): after the first lookup, the address
  // of the name finds the data without hashing the name (the name is still
  // compared, for callers whose buffers get reused).
  struct Seen {
    std::string name;
    void *data;
    int64_t bytes;
  };
  static std::unordered_map<const char *, Seen> seen;
  const char *name = nullptr;
  void *data = nullptr;
  int64_t bytes = 0;
  guarded("weight", [&] {
    name = weightName(nameRef);
    if (auto it = seen.find(name); it != seen.end() && it->second.name == name) {
      data = it->second.data;
      bytes = it->second.bytes;
      return;
    }
    int64_t all[4] = {d0, d1, d2, d3};
    std::vector<int64_t> shape(all, all + std::clamp<int64_t>(rank, 0, 4));
    data = tfm::runtime::Weights::get().get(name, shape, dtype);
    bytes = tfm::runtime::elementSize(dtype);
    for (int64_t d : shape)
      bytes *= d;
    Runtime::get().markWeight(data, name);
    seen[name] = Seen{name, data, bytes};
  });
  setBytes(result, data, bytes);
}

void _mlir_ciface_tfm_rt_quantized_weight(tfm_bytes_memref *result, const tfm_bytes_memref *nameRef,
                                          int64_t d0, int64_t d1, int32_t dtype, int32_t transposed,
                                          int32_t bits, int64_t group, int32_t part) {
  // As tfm_rt_weight: after the first call, the address of the name constant
  // (and the same arguments) finds the part without building the derived
  // tensor's name and hashing it (two lookups a weight, every decode step).
  struct Seen {
    std::string name;
    std::array<int64_t, 7> args;
    void *data;
    int64_t bytes;
  };
  static std::unordered_map<const char *, std::array<std::optional<Seen>, 2>> seen;
  void *data = nullptr;
  int64_t bytes = 0;
  guarded("weight", [&] {
    const char *name = weightName(nameRef);
    std::array<int64_t, 7> args = {d0, d1, dtype, transposed, bits, group, part};
    std::optional<Seen> *slot = nullptr;
    if (part == 0 || part == 1) {
      slot = &seen[name][part];
      if (*slot && (*slot)->name == name && (*slot)->args == args) {
        data = (*slot)->data;
        bytes = (*slot)->bytes;
        return;
      }
    }
    data = tfm::runtime::quantizedWeight(name, d0, d1, dtype, transposed != 0, bits, group, part);
    tfm::quant::Scheme scheme{bits, group}; // checked by quantizedWeight
    int64_t k = transposed ? d0 : d1, n = transposed ? d1 : d0;
    bytes = part == 0 ? n * scheme.rowBytes(k) : n * scheme.groups(k) * int64_t(sizeof(float));
    if (slot)
      *slot = Seen{name, args, data, bytes};
  });
  setBytes(result, data, bytes);
}

void _mlir_ciface_tfm_rt_quantized_matmul(TFM_BUF(a), TFM_BUF(q), TFM_BUF(scales), TFM_BUF(bias),
                                          TFM_BUF(multiplier), TFM_BUF(residual), TFM_BUF(dst),
                                          int32_t activation, int32_t bits, int64_t group) {
  guarded("quantized_matmul", [&] {
    tfm::runtime::quantizedMatmul(BUF(a), BUF(q), BUF(scales), BUF(bias), BUF(multiplier),
                                  BUF(residual), BUF(dst), activation, bits, group);
  });
}

void _mlir_ciface_tfm_rt_embedding(TFM_BUF(tokens), TFM_BUF(table), TFM_BUF(table_scales),
                                   TFM_BUF(position_table), TFM_BUF(positions), TFM_BUF(dst),
                                   int32_t position, int32_t bits, int64_t group) {
  guarded("embedding", [&] {
    tfm::runtime::embedding(BUF(tokens), BUF(table), BUF(table_scales), BUF(position_table),
                            BUF(positions), BUF(dst), position, bits, group);
  });
}

void _mlir_ciface_tfm_rt_sdpa(TFM_BUF(q), TFM_BUF(k), TFM_BUF(v), TFM_BUF(past_k), TFM_BUF(past_v),
                              TFM_BUF(positions), TFM_BUF(inv_freq), TFM_BUF(sequences),
                              TFM_BUF(dst), TFM_BUF(present_k), TFM_BUF(present_v),
                              int64_t num_heads, int64_t num_kv_heads, double scale,
                              int32_t causal, int64_t window) {
  guarded("sdpa", [&] {
    tfm::runtime::sdpa(BUF(q), BUF(k), BUF(v), BUF(past_k), BUF(past_v), BUF(positions),
                       BUF(inv_freq), BUF(sequences), BUF(dst), BUF(present_k),
                       BUF(present_v), num_heads, num_kv_heads, scale, causal != 0, window);
  });
}

int tfm_rt_set_weights(const char *spec) {
  guarded("weights", [&] { tfm::runtime::Weights::get().configure(spec); });
  return lastError().empty() ? 0 : 1;
}

void tfm_rt_set_threads(int threads) { Runtime::get().setThreads(threads); }

void tfm_rt_warm_up(void) {
  guarded("warm-up", [&] { Runtime::get().warmUp(); });
}

void tfm_rt_set_bf16(int enabled) { Runtime::get().setBf16(enabled != 0); }

int tfm_rt_bf16_active(void) { return Runtime::get().bf16() ? 1 : 0; }

int tfm_rt_threads(void) { return static_cast<int>(Runtime::get().threads()); }

const char *tfm_rt_isa(void) {
  static const std::string isa = Runtime::isa();
  return isa.c_str();
}

void tfm_rt_print_implementations(void *stream) {
  for (const std::string &impl : Runtime::get().implementations())
    std::fprintf(static_cast<FILE *>(stream), "%s\n", impl.c_str());
}

void tfm_rt_set_profile(int enabled) { profile().enabled = enabled != 0; }

void tfm_rt_profile_print(void *stream, double total) {
  auto *out = static_cast<FILE *>(stream);
  double inCalls = 0;
  for (const Profile::Entry &e : profile().entries)
    inCalls += e.seconds;
  std::fprintf(out, "profile: %-12s %8s %10s %6s\n", "runtime call", "calls", "ms", "%");
  auto line = [&](const char *what, long long calls, double seconds) {
    std::fprintf(out, "profile: %-12s %8lld %10.2f %5.1f%%\n", what, calls, seconds * 1e3,
                 total > 0 ? 100 * seconds / total : 0.0);
  };
  for (const Profile::Entry &e : profile().entries)
    line(e.what, e.calls, e.seconds);
  line("(elsewhere)", 0, total - inCalls);
  profile().entries.clear();
}

const char *tfm_rt_last_error(void) {
  return lastError().empty() ? nullptr : lastError().c_str();
}

} // extern "C"
