//===- Quantized.cppm - Weight-only quantized weights and matmuls --*- C++ -*-===//
//
// The `tfm.runtime_quantized` module: what the C ABI's
// tfm_rt_quantized_weight and tfm_rt_quantized_matmul do
// (onednn.quantized_weight and onednn.quantized_matmul). Formats:
// lib/Support/Quant.cppm; loops: QuantizedKernels.cppm.
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Runtime/tfm_runtime.h"
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>
export module tfm.runtime_quantized;

import tfm.runtime;
import tfm.kernels;
import tfm.qkernels;
import tfm.quant;

export namespace tfm::runtime {
/// Whether a quantized matmul of `m` rows runs on the integers
/// (activations quantized per block of 32, qkernels::gemv): decode (up to 4
/// rows); above, the weight is dequantized into oneDNN's f32 matmul
/// (prefill). Chosen by measurement: the integer path over whole prompts,
/// even with the VNNI copy blocked for the caches, was 0.7-0.85x the
/// dequantizing one in GPT-2 124M's prefill (docs/backend.md). TFM_QUANTIZED_GEMV_ROWS=N: integers
/// up to N rows (the tests run whole prompts through the GEMV this way).
bool integerMatmul(int64_t m, const quant::Scheme &scheme) {
  (void)scheme; // the choice may depend on the scheme's copy (gemvIsa)
  static const int64_t forced = [] {
    const char *env = std::getenv("TFM_QUANTIZED_GEMV_ROWS");
    long long v = env ? std::atoll(env) : 0;
    return v > 0 ? static_cast<int64_t>(v) : int64_t(0);
  }();
  return m <= (forced > 0 ? forced : 4);
}
} // namespace tfm::runtime

namespace tfm::runtime {
namespace {
/// The Runtime::scratch slot of dequantized weights.
constexpr size_t kDequantSlot = 4;

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// activation(x) for a tfm_activation (checked by quantizedMatmul), with
/// oneDNN's formulas.
float activate(int32_t activation, float x) {
  switch (activation) {
  case TFM_ACTIVATION_GELU_TANH:
    return 0.5f * x *
           (1.0f + std::tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
  case TFM_ACTIVATION_GELU_ERF: return 0.5f * x * (1.0f + std::erf(x * 0.7071067811865476f));
  case TFM_ACTIVATION_RELU: return x > 0 ? x : 0.0f;
  case TFM_ACTIVATION_SILU: return x / (1.0f + std::exp(-x));
  default: return x;
  }
}
} // namespace

/// The integers (part 0) or scales (part 1) of weight `name` quantized by
/// (bits, group), from the weights file or quantized from the source tensor
/// once (see tfm_rt_quantized_weight). Throws std::runtime_error.
export void *quantizedWeight(const std::string &name, int64_t d0, int64_t d1, int32_t dtype,
                             bool transposed, int bits, int64_t group, int part) {
  quant::Scheme scheme{bits, group};
  if (std::string e = quant::checkScheme(scheme); !e.empty())
    throw std::runtime_error("weight '" + name + "': " + e);
  int64_t k = transposed ? d0 : d1, n = transposed ? d1 : d0;
  std::string derived = name + scheme.suffix(transposed);
  Weights &weights = Weights::get();
  const safetensors::TensorInfo *q = weights.find(derived), *s = weights.find(derived + ".scales");
  void *result = nullptr;
  if (q || s) {
    std::vector<int64_t> qShape = {n, scheme.rowBytes(k)}, sShape = {n, scheme.groups(k)};
    safetensors::DType qType = bits == 8 ? safetensors::DType::I8 : safetensors::DType::U8;
    if (!q || !s)
      throw std::runtime_error(weights.path() + ": tensor '" + derived +
                               (q ? ".scales" : "") + "' is missing (its pair is there)");
    if (q->dtype != qType || q->shape != qShape)
      throw std::runtime_error(weights.path() + ": tensor '" + derived + "' is " +
                               safetensors::dtypeName(q->dtype) + " " + shapeString(q->shape) +
                               ", expected " + safetensors::dtypeName(qType) + " " +
                               shapeString(qShape));
    if (s->dtype != safetensors::DType::F32 || s->shape != sShape)
      throw std::runtime_error(weights.path() + ": tensor '" + derived + ".scales' is " +
                               safetensors::dtypeName(s->dtype) + " " + shapeString(s->shape) +
                               ", expected F32 " + shapeString(sShape));
    result = const_cast<char *>(part == 0 ? q->data : s->data);
  } else {
    // Not in the file (random weights, IR compiled by hand): quantized once.
    static std::unordered_map<std::string, quant::Quantized> made;
    auto it = made.find(derived);
    if (it == made.end()) {
      if (dtype != TFM_DTYPE_F32 && dtype != TFM_DTYPE_F16 && dtype != TFM_DTYPE_BF16)
        throw std::runtime_error("weight '" + name + "': only f32, f16 and bf16 weights are "
                                 "quantized");
      void *source = weights.get(name, {d0, d1}, dtype);
      quant::Source type = dtype == TFM_DTYPE_F32   ? quant::Source::F32
                           : dtype == TFM_DTYPE_F16 ? quant::Source::F16
                                                    : quant::Source::BF16;
      it = made.emplace(derived, quant::quantize(name, source, type, transposed, k, n, scheme))
               .first;
    }
    result = part == 0 ? static_cast<void *>(it->second.q.data())
                       : static_cast<void *>(it->second.scales.data());
  }
  // The GEMV streams the integers once per token: they live on 2 MiB pages
  // (a copy made once; the embedded section and the heap have 4 KiB pages,
  // whose TLB misses cost ~2x in decode, measured on GPT-2 124M).
  // The copies share 8 MiB chunks (64-byte aligned), so that small models
  // do not pay 2 MiB per tensor.
  static std::unordered_map<const void *, void *> onHugePages;
  static char *chunk = nullptr;
  static size_t chunkLeft = 0;
  void *&copy = onHugePages[result];
  if (!copy) {
    size_t bytes = part == 0 ? static_cast<size_t>(n * scheme.rowBytes(k))
                             : static_cast<size_t>(n * scheme.groups(k)) * sizeof(float);
    size_t rounded = (bytes + 63) / 64 * 64;
    if (rounded > chunkLeft) {
      chunkLeft = std::max(rounded, size_t(8) << 20);
      chunk = static_cast<char *>(hugeAlloc(chunkLeft));
    }
    copy = chunk;
    chunk += rounded;
    chunkLeft -= rounded;
    std::memcpy(copy, result, bytes);
    Runtime::get().markWeight(copy, derived + (part == 0 ? "" : ".scales"));
  }
  return copy;
}

/// dst = activation(a x W + bias) * multiplier + residual for the quantized
/// weight W = (q, scales) (onednn.quantized_matmul). Throws std::runtime_error.
export void quantizedMatmul(const Buffer &a, const Buffer &q, const Buffer &scales,
                            const Buffer &bias, const Buffer &multiplier,
                            const Buffer &residual, const Buffer &dst, int32_t activation,
                            int bits, int64_t group) {
  for (const Buffer *b : {&a, &dst})
    if (b->dtype != TFM_DTYPE_F32 || b->dims.size() < 2 || b->strides.back() != 1)
      throw std::runtime_error("quantized matmul: expected f32 activations with unit stride "
                               "along K");
  if (activation < TFM_ACTIVATION_NONE || activation > TFM_ACTIVATION_SILU)
    throw std::runtime_error("quantized matmul: unknown activation code " +
                             std::to_string(activation));
  quant::Scheme scheme{bits, group};
  if (std::string e = quant::checkScheme(scheme); !e.empty())
    throw std::runtime_error("quantized matmul: " + e);
  int64_t k = a.dims.back(), n = q.dims[0], m = 1;
  for (size_t i = 0; i + 1 < a.dims.size(); ++i)
    m *= a.dims[i];
  // The weight must be the one K and the scheme describe (sizes of IR
  // written by hand are only checked here when K is dynamic).
  if (q.dims.size() != 2 || scales.dims.size() != 2 || q.dims[1] != scheme.rowBytes(k) ||
      scales.dims[0] != n || scales.dims[1] != scheme.groups(k) || dst.dims.back() != n)
    throw std::runtime_error("quantized matmul: the weight [" + std::to_string(q.dims[0]) +
                             ", " + std::to_string(q.dims.size() == 2 ? q.dims[1] : 0) +
                             "] and its scales do not fit " + std::to_string(k) +
                             " inputs and " + std::to_string(dst.dims.back()) + " outputs, int" +
                             std::to_string(bits) + " in groups of " + std::to_string(group));
  for (const Buffer *b : {&bias, &multiplier, &residual})
    if (b->present() && b->dtype != TFM_DTYPE_F32)
      throw std::runtime_error("quantized matmul: expected an f32 bias, multiplier and residual");
  for (const Buffer *b : {&multiplier, &residual})
    if (b->present() && b->strides.back() != 1)
      throw std::runtime_error("quantized matmul: expected a multiplier and residual with unit "
                               "stride along N");
  // Rows: rank 2 at any row stride; higher ranks must be dense row-major.
  for (const Buffer *b : {&a, &dst, &multiplier, &residual})
    if (b->present() && b->dims.size() > 2) {
      int64_t stride = 1;
      for (size_t i = b->dims.size(); i-- > 0; stride *= b->dims[i])
        if (b->dims[i] != 1 && b->strides[i] != stride)
          throw std::runtime_error("quantized matmul: expected dense buffers above rank 2");
    }
  int64_t lda = a.dims.size() == 2 ? a.strides[0] : k;
  int64_t ldd = dst.dims.size() == 2 ? dst.strides[0] : n;
  Runtime &rt = Runtime::get();
  if (!integerMatmul(m, scheme)) {
    // Prefill: the whole weight dequantized (f32 [K, N]) into oneDNN's matmul.
    rt.noteKernel("quantized_matmul", bits == 8 ? "int8 dequantize + oneDNN f32 matmul"
                                                : "int4 dequantize + oneDNN f32 matmul",
                  qkernels::dequantizeIsa());
    float *w = rt.scratch(kDequantSlot, static_cast<size_t>(n * k));
    qkernels::dequantize(reinterpret_cast<const uint8_t *>(q.data),
                         reinterpret_cast<const float *>(scales.data), scheme, k, n, w,
                         rt.threads());
    Buffer b;
    b.data = reinterpret_cast<char *>(w);
    b.dtype = TFM_DTYPE_F32;
    b.dims = {k, n};
    b.strides = {n, 1};
    rt.matmul(a, b, bias, residual, dst, activation, /*transposeB=*/false, multiplier);
    return;
  }
  rt.noteKernel("quantized_matmul",
                m <= 4 ? (bits == 8 ? "int8 gemv" : "int4 gemv")
                       : (bits == 8 ? "int8 integer matmul" : "int4 integer matmul"),
                qkernels::gemvIsa(scheme));
  static qkernels::QuantizedRows x;
  qkernels::quantizeRows(reinterpret_cast<const float *>(a.data), lda, m, k, scheme.paddedK(k),
                         x, rt.threads());
  float *out = reinterpret_cast<float *>(dst.data);
  qkernels::gemv(x, reinterpret_cast<const uint8_t *>(q.data),
                 reinterpret_cast<const float *>(scales.data), scheme, k, n, out, ldd,
                 rt.threads());
  // Epilogue: bias, activation, multiplier, residual, a row at a time.
  const float *bi = reinterpret_cast<const float *>(bias.data);
  const float *mul = reinterpret_cast<const float *>(multiplier.data);
  const float *res = reinterpret_cast<const float *>(residual.data);
  int64_t biasStride = bias.present() ? bias.strides.back() : 0;
  int64_t ldm = multiplier.present() && multiplier.dims.size() == 2 ? multiplier.strides[0] : n;
  int64_t ldr = residual.present() && residual.dims.size() == 2 ? residual.strides[0] : n;
  // The vectorized epilogue where it applies (contiguous bias, an activation
  // it has: all but erf GELU); else plain loops.
  std::optional<kernels::Activation> act;
  switch (activation) {
  case TFM_ACTIVATION_NONE: act = kernels::Activation::None; break;
  case TFM_ACTIVATION_RELU: act = kernels::Activation::Relu; break;
  case TFM_ACTIVATION_SILU: act = kernels::Activation::Silu; break;
  case TFM_ACTIVATION_GELU_TANH: act = kernels::Activation::GeluTanh; break;
  default: break;
  }
  if (bi && biasStride != 1)
    act.reset();
  // Rows split over the threads when there are many (prefill).
  kernels::parallelFor(m, m * n < (1 << 16) ? 1 : rt.threads(), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if (act) {
        kernels::epilogue(out + i * ldd, n, bi, *act, mul ? mul + i * ldm : nullptr,
                          res ? res + i * ldr : nullptr);
        continue;
      }
      for (int64_t c = 0; c < n; ++c) {
        float v = out[i * ldd + c] + (bi ? bi[c * biasStride] : 0.0f);
        v = activate(activation, v);
        if (mul)
          v *= mul[i * ldm + c];
        out[i * ldd + c] = v + (res ? res[i * ldr + c] : 0.0f);
      }
    }
  });
}

} // namespace tfm::runtime
