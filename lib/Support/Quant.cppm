//===- Quant.cppm - Weight-only int8/int4 formats ------------------*- C++ -*-===//
//
// The `tfm.quant` module: the packed formats of weight-only quantized weights
// (`tfmc --dtype=int8|int4`, the onednn-quantize-weights pass), how a weight
// is quantized into them and dequantized back. Shared by tfmc (which writes
// the quantized tensors into the executable's weights) and the runtime (its
// kernels read the format; it quantizes at load what a weights file lacks,
// e.g. random weights). Standard library only: the runtime has no LLVM.
//
// The scheme (symmetric, per group, after llama.cpp's Q8_0 and Q4_0): a
// linear layer's weight W has K inputs and N outputs. Each output column n is
// cut into groups of `group` consecutive weights along K (the last group
// padded with zeros to Kp = K rounded up to `group`); each group g has one
// f32 scale s[n, g] = max |W[k, n]| / qmax over the group (qmax 127 for int8,
// 7 for int4) and integers q[n, k] = round(W[k, n] / s[n, g]) (half away from
// zero) in [-qmax, qmax]; W[k, n] ~= s[n, k / group] * q[n, k]. An all-zero
// group has scale 0.
//
// Layouts (row n = output column n, so a GEMV streams each column's bytes):
//  - int8: q is int8 [N, Kp] (safetensors I8);
//  - int4: q is uint8 [N, Kp / 2] (safetensors U8): block b of 32 weights of
//    column n is the 16 bytes at [n, 16b, 16b + 16): byte j holds q[n, 32b + j]
//    + 8 in its low nibble and q[n, 32b + 16 + j] + 8 in its high nibble;
//  - scales: f32 [N, Kp / group].
// `group` is a multiple of 32 (the kernels' block of activations), at most
// 64 for int4; per-channel quantization is the group Kp (K rounded up to 32).
//
//===----------------------------------------------------------------------===//

module;
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>
export module tfm.quant;

export namespace tfm::quant {

/// Weights per block: the unit of the kernels' activation quantization and
/// of int4 packing. Every group is a multiple of it.
constexpr int64_t kBlock = 32;

/// A quantization scheme: bits (8 or 4) and the group size along K (a
/// multiple of kBlock).
struct Scheme {
  int bits = 8;
  int64_t group = 32;

  int qmax() const { return bits == 8 ? 127 : 7; }
  /// K padded to a whole number of groups.
  int64_t paddedK(int64_t k) const { return (k + group - 1) / group * group; }
  /// Bytes of one column's integers.
  int64_t rowBytes(int64_t k) const { return bits == 8 ? paddedK(k) : paddedK(k) / 2; }
  int64_t groups(int64_t k) const { return paddedK(k) / group; }
  /// The suffix of the quantized tensors' names: ".int8_g32", and ".kn"
  /// after it for a weight stored [K, N] (Conv1D), so that one weight
  /// quantized in both orientations gets two names.
  std::string suffix(bool kn) const {
    return ".int" + std::to_string(bits) + "_g" + std::to_string(group) + (kn ? ".kn" : "");
  }
};

/// The group that per-channel quantization of K inputs uses: K rounded up to
/// a whole block.
inline int64_t perChannelGroup(int64_t k) { return (k + kBlock - 1) / kBlock * kBlock; }

/// Why `scheme` cannot be used, or empty: bits 8 or 4, a group that is a
/// positive multiple of 32, at most 64 for int4 (larger int4 groups lose
/// too much accuracy: docs/backend.md).
inline std::string checkScheme(const Scheme &scheme) {
  if (scheme.bits != 8 && scheme.bits != 4)
    return "bits must be 8 or 4, not " + std::to_string(scheme.bits);
  if (scheme.group <= 0 || scheme.group % kBlock != 0)
    return "the group size must be a positive multiple of 32, not " +
           std::to_string(scheme.group);
  if (scheme.bits == 4 && scheme.group > 64)
    return "int4 groups are at most 64 weights, not " + std::to_string(scheme.group);
  return "";
}

/// The element types a source weight may have.
enum class Source { F32, F16, BF16 };

/// Element i of a source tensor as f32.
inline float sourceAt(const void *data, Source type, int64_t i) {
  if (type == Source::F32) {
    float f;
    std::memcpy(&f, static_cast<const char *>(data) + 4 * i, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, static_cast<const char *>(data) + 2 * i, 2);
  if (type == Source::BF16)
    return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
  // IEEE half: sign, 5-bit exponent, 10-bit mantissa.
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f,
           man = h & 0x3ffu;
  if (exp == 0) {
    float v = std::ldexp(static_cast<float>(man), -24);
    return sign ? -v : v;
  }
  if (exp == 31)
    return std::bit_cast<float>(sign | 0x7f800000u | (man << 13));
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (man << 13));
}

/// A weight quantized by `quantize`.
struct Quantized {
  std::vector<uint8_t> q;     ///< [N, rowBytes(K)]: int8, or packed int4
  std::vector<float> scales;  ///< [N, groups(K)]
};

/// Quantizes the weight `data` (`type` elements) of a layer with K inputs
/// and N outputs, stored [K, N] (Hugging Face's Conv1D, `kn`) or [N, K]
/// (nn.Linear, a tied embedding; !kn). Throws std::runtime_error naming
/// `name` and the element at a non-finite value (NaN or infinity cannot be
/// quantized).
inline Quantized quantize(const std::string &name, const void *data, Source type, bool kn,
                          int64_t k, int64_t n, const Scheme &scheme) {
  int64_t kp = scheme.paddedK(k), groups = kp / scheme.group, rowBytes = scheme.rowBytes(k);
  Quantized out;
  out.q.assign(static_cast<size_t>(n * rowBytes), scheme.bits == 8 ? 0 : 0x88);
  out.scales.assign(static_cast<size_t>(n * groups), 0.0f);
  std::vector<float> column(static_cast<size_t>(kp));
  std::vector<int> ints(static_cast<size_t>(kp));
  float qmax = static_cast<float>(scheme.qmax());
  for (int64_t c = 0; c < n; ++c) {
    for (int64_t i = 0; i < kp; ++i) {
      float v = i < k ? sourceAt(data, type, kn ? i * n + c : c * k + i) : 0.0f;
      if (!std::isfinite(v))
        throw std::runtime_error("tensor '" + name + "' has a non-finite value (" +
                                 std::to_string(v) + ") at element " +
                                 std::to_string(kn ? i * n + c : c * k + i) +
                                 ": it cannot be quantized");
      column[i] = v;
    }
    for (int64_t g = 0; g < groups; ++g) {
      float amax = 0;
      for (int64_t i = g * scheme.group; i < (g + 1) * scheme.group; ++i)
        amax = std::fmax(amax, std::fabs(column[i]));
      float scale = amax / qmax;
      out.scales[c * groups + g] = scale;
      for (int64_t i = g * scheme.group; i < (g + 1) * scheme.group; ++i) {
        float r = scale > 0 ? std::round(column[i] / scale) : 0.0f;
        ints[i] = static_cast<int>(std::fmax(-qmax, std::fmin(qmax, r)));
      }
    }
    uint8_t *row = out.q.data() + c * rowBytes;
    if (scheme.bits == 8) {
      for (int64_t i = 0; i < kp; ++i)
        row[i] = static_cast<uint8_t>(static_cast<int8_t>(ints[i]));
    } else {
      for (int64_t b = 0; b < kp / kBlock; ++b)
        for (int64_t j = 0; j < 16; ++j)
          row[16 * b + j] = static_cast<uint8_t>((ints[kBlock * b + j] + 8) |
                                                 (ints[kBlock * b + 16 + j] + 8) << 4);
    }
  }
  return out;
}

/// The integer q[n, i] of a quantized column `row` (rowBytes bytes).
inline int quantAt(const uint8_t *row, int bits, int64_t i) {
  if (bits == 8)
    return static_cast<int8_t>(row[i]);
  uint8_t byte = row[16 * (i / kBlock) + i % 16];
  return ((i % kBlock) < 16 ? byte & 0xf : byte >> 4) - 8;
}

/// out[0:k] = the dequantized weights of column n (s[n, i / group] * q[n, i]).
/// Plain loops per group and block, shaped for the vectorizer.
inline void dequantizeColumn(const uint8_t *q, const float *scales, const Scheme &scheme,
                             int64_t k, int64_t n, float *out) {
  const uint8_t *row = q + n * scheme.rowBytes(k);
  const float *s = scales + n * scheme.groups(k);
  float block[kBlock];
  for (int64_t b = 0; b * kBlock < k; ++b) {
    float scale = s[b * kBlock / scheme.group];
    if (scheme.bits == 8) {
      const int8_t *qb = reinterpret_cast<const int8_t *>(row) + b * kBlock;
      for (int64_t j = 0; j < kBlock; ++j)
        block[j] = scale * static_cast<float>(qb[j]);
    } else {
      const uint8_t *qb = row + b * 16;
      for (int64_t j = 0; j < 16; ++j) {
        block[j] = scale * static_cast<float>((qb[j] & 0xf) - 8);
        block[16 + j] = scale * static_cast<float>((qb[j] >> 4) - 8);
      }
    }
    int64_t count = k - b * kBlock < kBlock ? k - b * kBlock : kBlock;
    std::memcpy(out + b * kBlock, block, static_cast<size_t>(count) * sizeof(float));
  }
}

} // namespace tfm::quant
