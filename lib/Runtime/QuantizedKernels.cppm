//===- QuantizedKernels.cppm - GEMV over int8/int4 weights ---------*- C++ -*-===//
//
// The `tfm.qkernels` module: the loops of weight-only quantized matmuls
// (formats in lib/Support/Quant.cppm).
//
// Decode (a few rows): each activation row is quantized to int8 per block of
// 32 (scale max|x| / 127, as llama.cpp's Q8_0 does for activations), then
// every output column is an integer dot product per block, scaled by the
// activation block's and the weight group's scales and summed in f32:
//   y[n] = sum_g sw[n, g] * sum_{b in g} sx[b] * dot(qx[b], qw[n, b]).
// int4 weights are stored as q + 8 in [1, 15]: dot(q, x) = dot(q + 8, x) -
// 8 * sum(x), so the unsigned nibbles multiply the signed activations
// directly (no 16-bit overflow: 2 * 15 * 127 < 32767).
//
// ISA, the widest the CPU has, chosen once at run time (gemvIsa() names it
// for --verbose):
//  * avx512-vnni: vpdpbusd (64 u8 x s8 multiply-adds into 16 int32 lanes per
//    instruction) on 64 weight bytes at a time: 2 int8 blocks, or 4 int4
//    blocks (low and high nibbles, one vpdpbusd each, against activations
//    reordered once per call so the nibbles need no shuffle). vpdpbusd's
//    first operand is unsigned: int4 nibbles are q + 8 already; int8 weights
//    go in as w ^ 0x80 = w + 128. Both offsets (8 sum(x), 128 sum(x) per
//    block) start the accumulator, so they cost nothing per column.
//  * avx2: vpmaddubsw + vpmaddwd (32 multiply-adds per instruction pair, the
//    int8 dot llama.cpp uses on AVX2; the signed x signed int8 product goes
//    through vpsignb);
//  * generic: a baseline x86-64 copy of plain loops.
// TFM_KERNELS=avx2 or TFM_KERNELS=generic force a narrower copy (the tests
// run every copy the CPU has). All give the same integer dots; the f32 sums
// differ only by rounding.
//
//===----------------------------------------------------------------------===//

module;
#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <string_view>
#include <vector>
#include <immintrin.h>
export module tfm.qkernels;

import tfm.kernels;
import tfm.quant;

#define TFM_AVX2 __attribute__((target("avx2,fma")))
#define TFM_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma")))
#define TFM_INLINE [[gnu::always_inline]] inline

export namespace tfm::qkernels {

/// Activation rows quantized per block of 32: q [rows, kp] int8, the
/// blocks' scales [rows, kp / 32] and the sums of their integers.
struct QuantizedRows {
  int64_t rows = 0, kp = 0;
  std::vector<int8_t> q;
  std::vector<float> scale;
  std::vector<int32_t> sum;
};

/// Whether the AVX2 copies run: the CPU has AVX2 and FMA, and TFM_KERNELS
/// is not "generic".
bool hasAvx2() {
  static const bool yes = [] {
    const char *forced = std::getenv("TFM_KERNELS");
    if (forced && std::string_view(forced) == "generic")
      return false;
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return yes;
}

/// Whether the AVX-512 VNNI copy of the GEMV runs: the CPU has AVX-512 F,
/// BW, VL and VNNI, and TFM_KERNELS is neither "generic" nor "avx2".
bool hasAvx512Vnni() {
  static const bool yes = [] {
    const char *forced = std::getenv("TFM_KERNELS");
    if (forced && (std::string_view(forced) == "generic" || std::string_view(forced) == "avx2"))
      return false;
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
           __builtin_cpu_supports("fma");
  }();
  return yes;
}

/// The widest GEMV copy this CPU runs ("avx512-vnni", "avx2" or "generic").
const char *gemvIsa() {
  return hasAvx512Vnni() ? "avx512-vnni" : hasAvx2() ? "avx2" : "generic";
}

/// Whether the VNNI copy runs for `scheme`: every int4 scheme, and int8
/// groups of an even number of blocks (the default 128, 64, per-channel
/// with an even block count). int8 groups of one block (32) or another odd
/// number take the AVX2 copy: each 64-byte chunk then holds two groups, and
/// the per-lane weight scales made the VNNI copy stream from DRAM at 0.8x
/// the AVX2 one on AMD Zen 5 (docs/backend.md).
bool vnniFor(const quant::Scheme &scheme) {
  return hasAvx512Vnni() && (scheme.bits == 4 || (scheme.group / quant::kBlock) % 2 == 0);
}

/// The copy of dequantize() that runs ("avx2" or "generic").
const char *dequantizeIsa() { return hasAvx2() ? "avx2" : "generic"; }

/// The GEMV copy that runs for `scheme` (for --verbose).
const char *gemvIsa(const quant::Scheme &scheme) {
  return vnniFor(scheme) ? "avx512-vnni" : hasAvx2() ? "avx2" : "generic";
}

/// Quantizes rows i < m of `a` (row stride lda floats, k columns) into
/// `out`, zero-padded to kp (a multiple of 32).
void quantizeRows(const float *a, int64_t lda, int64_t m, int64_t k, int64_t kp,
                  QuantizedRows &out, unsigned threads = 1) {
  int64_t blocks = kp / quant::kBlock;
  out.rows = m;
  out.kp = kp;
  out.q.assign(static_cast<size_t>(m * kp), 0);
  out.scale.assign(static_cast<size_t>(m * blocks), 0.0f);
  out.sum.assign(static_cast<size_t>(m * blocks), 0);
  // Rows split over the threads when there are many (prompts).
  kernels::parallelFor(m, m * kp < (1 << 16) ? 1 : threads, [&](int64_t rowBegin, int64_t rowEnd) {
  for (int64_t i = rowBegin; i < rowEnd; ++i)
    for (int64_t b = 0; b < blocks; ++b) {
      const float *x = a + i * lda + b * quant::kBlock;
      int64_t count = std::min<int64_t>(quant::kBlock, k - b * quant::kBlock);
      // fmax drops NaN and fmin would clamp it to 127: a block holding NaN
      // or an infinity gets a NaN scale instead, so that the outputs it
      // reaches are NaN (as an f32 matmul's would be) and the driver's NaN
      // check sees them, not finite garbage.
      float amax = 0;
      bool finite = true;
      for (int64_t j = 0; j < count; ++j) {
        amax = std::fmax(amax, std::fabs(x[j]));
        finite &= std::fabs(x[j]) <= std::numeric_limits<float>::max();
      }
      float s = finite ? amax / 127.0f : std::numeric_limits<float>::quiet_NaN();
      float inv = finite && amax > 0 ? 127.0f / amax : 0.0f;
      int8_t *q = out.q.data() + i * kp + b * quant::kBlock;
      int32_t total = 0;
      for (int64_t j = 0; j < count; ++j) {
        // std::lround's rounding (half away from zero) as an add and a
        // truncating conversion, which vectorize (lround is a libm call a
        // value): v + copysign(0.5 - 2^-25, v) truncates to lround(v) for
        // every |v| < 2^23 (the largest float below 0.5 keeps v = 0.5 - 2^-25
        // from rounding up, while a tie v.5 still reaches the next integer).
        // v is clamped, never NaN (fmin/fmax drop it).
        float v = std::fmax(-127.0f, std::fmin(127.0f, x[j] * inv));
        q[j] = static_cast<int8_t>(static_cast<int32_t>(v + std::copysign(0.49999997f, v)));
        total += q[j];
      }
      out.scale[i * blocks + b] = s;
      out.sum[i * blocks + b] = total;
    }
  });
}

/// dst[i, c] = sum_k a[i, k] W[k, c] for rows i < x.rows and columns c < n
/// (dst row stride ldd floats), W the quantized weight (q, scales, scheme)
/// with k inputs. Columns are split over `threads` OpenMP threads.
void gemv(const QuantizedRows &x, const uint8_t *q, const float *scales,
          const quant::Scheme &scheme, int64_t k, int64_t n, float *dst, int64_t ldd,
          unsigned threads);

/// out[0:k, c] = the dequantized column c of W (out is [K, N], row stride n
/// floats: the plain layout oneDNN's f32 matmul reads fastest), for all n
/// columns, in tiles of 16 columns split over threads.
void dequantize(const uint8_t *q, const float *scales, const quant::Scheme &scheme, int64_t k,
                int64_t n, float *out, unsigned threads);

} // namespace tfm::qkernels

namespace tfm::qkernels {

/// The arguments every column loop needs.
struct Gemv {
  const QuantizedRows *x;
  const uint8_t *q;
  const float *scales;
  int64_t rowBytes, groups, blocksPerGroup, bits;
  float *dst;
  int64_t ldd;
  /// int4: per row and group, the sum over the group's blocks of sx * sum(x)
  /// (the offset of the +8 nibbles), computed once before the threads start.
  const float *corrG;
  /// The AVX-512 VNNI copy's activations, or null (VnniRows).
  const struct VnniRows *vnni = nullptr;
  int64_t n = 0; ///< columns (the VNNI copy reads scales in fours up to the end)
};

//===----------------------------------------------------------------------===//
// Baseline copy: plain loops
//===----------------------------------------------------------------------===//

void columnsGeneric(const Gemv &g, int64_t begin, int64_t end) {
  int64_t blocks = g.x->kp / quant::kBlock;
  for (int64_t c = begin; c < end; ++c) {
    const uint8_t *w = g.q + c * g.rowBytes;
    const float *ws = g.scales + c * g.groups;
    for (int64_t i = 0; i < g.x->rows; ++i) {
      const int8_t *xq = g.x->q.data() + i * g.x->kp;
      const float *xs = g.x->scale.data() + i * blocks;
      const int32_t *xsum = g.x->sum.data() + i * blocks;
      float total = 0;
      for (int64_t gr = 0; gr < g.groups; ++gr) {
        float part = 0;
        for (int64_t b = gr * g.blocksPerGroup; b < (gr + 1) * g.blocksPerGroup; ++b) {
          int32_t d = 0;
          const int8_t *xb = xq + b * quant::kBlock;
          if (g.bits == 8) {
            const int8_t *wb = reinterpret_cast<const int8_t *>(w) + b * quant::kBlock;
            for (int j = 0; j < quant::kBlock; ++j)
              d += static_cast<int32_t>(wb[j]) * xb[j];
          } else {
            const uint8_t *wb = w + b * 16;
            for (int j = 0; j < 16; ++j)
              d += static_cast<int32_t>(wb[j] & 0xf) * xb[j] +
                   static_cast<int32_t>(wb[j] >> 4) * xb[16 + j];
            d -= 8 * xsum[b];
          }
          part += xs[b] * static_cast<float>(d);
        }
        total += ws[gr] * part;
      }
      g.dst[i * g.ldd + c] = total;
    }
  }
}

//===----------------------------------------------------------------------===//
// AVX2 copy
//===----------------------------------------------------------------------===//

TFM_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/// The 32 products of block b of one column with the activation block vx,
/// summed in pairs and quads: 8 int32 lanes.
template <int Bits>
TFM_AVX2 inline __m256i blockDot(const uint8_t *w, int64_t b, __m256i vx) {
  const __m256i ones = _mm256_set1_epi16(1);
  if constexpr (Bits == 8) {
    __m256i vw = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(w + b * 32));
    return _mm256_madd_epi16(
        _mm256_maddubs_epi16(_mm256_sign_epi8(vw, vw), _mm256_sign_epi8(vx, vw)), ones);
  } else {
    __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i *>(w + b * 16));
    __m256i nib = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw),
                                   _mm256_set1_epi8(0x0f));
    return _mm256_madd_epi16(_mm256_maddubs_epi16(nib, vx), ones);
  }
}

/// Columns c0 .. c0 + Cols - 1 for every row: independent accumulators
/// hide the latency of the multiply-add chain, and each activation block is
/// loaded once for all of them.
template <int Bits, int Cols>
TFM_AVX2 void columnTile(const Gemv &g, int64_t c0, const float *corrG) {
  int64_t blocks = g.x->kp / quant::kBlock;
  for (int64_t i = 0; i < g.x->rows; ++i) {
    const int8_t *xq = g.x->q.data() + i * g.x->kp;
    const float *xs = g.x->scale.data() + i * blocks;
    __m256 acc[Cols];
    float correction[Cols];
    for (int j = 0; j < Cols; ++j) {
      acc[j] = _mm256_setzero_ps();
      correction[j] = 0;
    }
    for (int64_t gr = 0; gr < g.groups; ++gr) {
      __m256 part[Cols];
      for (int j = 0; j < Cols; ++j)
        part[j] = _mm256_setzero_ps();
      for (int64_t b = gr * g.blocksPerGroup; b < (gr + 1) * g.blocksPerGroup; ++b) {
        // The tile four ahead (Cols contiguous columns: Cols * rowBytes bytes,
        // Cols * 32 or Cols * 16 of them per block) is fetched while this one
        // is computed: the weights come from DRAM once per token, and each
        // column alone is too short for the hardware prefetcher to follow.
        const char *ahead = reinterpret_cast<const char *>(g.q + (c0 + 4 * Cols) * g.rowBytes) +
                            b * Cols * (Bits == 8 ? 32 : 16);
        for (int l = 0; l < Cols * (Bits == 8 ? 32 : 16); l += 64)
          _mm_prefetch(ahead + l, _MM_HINT_T0);
        __m256i vx = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(xq + b * 32));
        __m256 sx = _mm256_set1_ps(xs[b]);
        for (int j = 0; j < Cols; ++j)
          part[j] = _mm256_fmadd_ps(
              _mm256_cvtepi32_ps(blockDot<Bits>(g.q + (c0 + j) * g.rowBytes, b, vx)), sx,
              part[j]);
      }
      for (int j = 0; j < Cols; ++j) {
        float ws = g.scales[(c0 + j) * g.groups + gr];
        acc[j] = _mm256_fmadd_ps(part[j], _mm256_set1_ps(ws), acc[j]);
        if constexpr (Bits == 4)
          correction[j] += ws * corrG[i * g.groups + gr];
      }
    }
    for (int j = 0; j < Cols; ++j)
      g.dst[i * g.ldd + c0 + j] = hsum(acc[j]) - 8.0f * correction[j];
  }
}

/// int4 with groups of an even number of blocks: two blocks per 32-byte load.
/// The low nibbles of blocks b and b + 1 multiply activations [0, 16) of each
/// (one 128-bit lane per block), the high nibbles activations [16, 32); the
/// two products add in 16 bits (2 * 2 * 15 * 127 < 32767), so a pair costs one
/// vpmaddwd, one conversion and one multiply-add by [sx_b x4, sx_b+1 x4].
template <int Cols>
TFM_AVX2 void columnTileInt4Pairs(const Gemv &g, int64_t c0, const float *corrG) {
  int64_t blocks = g.x->kp / quant::kBlock;
  const __m256i ones = _mm256_set1_epi16(1), low = _mm256_set1_epi8(0x0f);
  for (int64_t i = 0; i < g.x->rows; ++i) {
    const int8_t *xq = g.x->q.data() + i * g.x->kp;
    const float *xs = g.x->scale.data() + i * blocks;
    __m256 acc[Cols];
    float correction[Cols];
    for (int j = 0; j < Cols; ++j) {
      acc[j] = _mm256_setzero_ps();
      correction[j] = 0;
    }
    for (int64_t gr = 0; gr < g.groups; ++gr) {
      __m256 part[Cols];
      for (int j = 0; j < Cols; ++j)
        part[j] = _mm256_setzero_ps();
      for (int64_t b = gr * g.blocksPerGroup; b < (gr + 1) * g.blocksPerGroup; b += 2) {
        const char *ahead = reinterpret_cast<const char *>(g.q + (c0 + 4 * Cols) * g.rowBytes) +
                            b * Cols * 16;
        for (int l = 0; l < Cols * 32; l += 64)
          _mm_prefetch(ahead + l, _MM_HINT_T0);
        __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(xq + b * 32));
        __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(xq + b * 32 + 32));
        __m256i xlo = _mm256_permute2x128_si256(x0, x1, 0x20); // [0,16) of b, b + 1
        __m256i xhi = _mm256_permute2x128_si256(x0, x1, 0x31); // [16,32) of b, b + 1
        __m256 sx = _mm256_set_m128(_mm_set1_ps(xs[b + 1]), _mm_set1_ps(xs[b]));
        for (int j = 0; j < Cols; ++j) {
          __m256i w = _mm256_loadu_si256(
              reinterpret_cast<const __m256i *>(g.q + (c0 + j) * g.rowBytes + b * 16));
          __m256i lo = _mm256_and_si256(w, low), hi = _mm256_and_si256(_mm256_srli_epi16(w, 4), low);
          __m256i sum = _mm256_add_epi16(_mm256_maddubs_epi16(lo, xlo), _mm256_maddubs_epi16(hi, xhi));
          part[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(sum, ones)), sx, part[j]);
        }
      }
      for (int j = 0; j < Cols; ++j) {
        float ws = g.scales[(c0 + j) * g.groups + gr];
        acc[j] = _mm256_fmadd_ps(part[j], _mm256_set1_ps(ws), acc[j]);
        correction[j] += ws * corrG[i * g.groups + gr];
      }
    }
    for (int j = 0; j < Cols; ++j)
      g.dst[i * g.ldd + c0 + j] = hsum(acc[j]) - 8.0f * correction[j];
  }
}

template <int Bits>
TFM_AVX2 void columnsAvx2Bits(const Gemv &g, int64_t begin, int64_t end) {
  const float *corrG = g.corrG;
  int64_t c = begin;
  if (Bits == 4 && g.blocksPerGroup % 2 == 0) {
    for (; c + 4 <= end; c += 4)
      columnTileInt4Pairs<4>(g, c, corrG);
    for (; c < end; ++c)
      columnTileInt4Pairs<1>(g, c, corrG);
    return;
  }
  for (; c + 4 <= end; c += 4)
    columnTile<Bits, 4>(g, c, corrG);
  for (; c < end; ++c)
    columnTile<Bits, 1>(g, c, corrG);
}

TFM_AVX2 void columnsAvx2(const Gemv &g, int64_t begin, int64_t end) {
  if (g.bits == 8)
    columnsAvx2Bits<8>(g, begin, end);
  else
    columnsAvx2Bits<4>(g, begin, end);
}


//===----------------------------------------------------------------------===//
// AVX-512 VNNI copy
//===----------------------------------------------------------------------===//

/// The activations as the VNNI loop reads them, prepared once per call
/// (before the threads start). The K axis is cut into chunks of 64 weight
/// bytes: 2 blocks of int8, 4 blocks of int4. Per row and chunk:
///  * x: the 64 activation bytes each weight byte multiplies (int8: blocks
///    b, b + 1 as they are; int4: 64 for the low nibbles, [0, 16) of blocks
///    b .. b + 3, then 64 for the high nibbles, [16, 32) of each);
///  * start: the accumulator's start, -offset * sum(x) of each block in the
///    first int32 lane of the block (int8: offset 128, lanes 0 and 8; int4:
///    8, lanes 0, 4, 8, 12);
///  * sx: the activation block's scale in each of the block's lanes.
/// Per chunk (all rows): where its weight scales start (group g0), how many
/// groups it spans (a load mask) and which of them each lane takes (idx).
struct VnniRows {
  int64_t chunks = 0, xBytes = 0; // per chunk: 64 (int8) or 128 (int4)
  /// How each lane finds its weight scale: Uniform, every chunk lies in one
  /// group (groups of whole chunks); Halves, every chunk is two groups of 8
  /// lanes (int8 groups of 32, int4 of 64); Quarters, four groups of 4
  /// lanes (int4 groups of 32); General, any other (a group of 3 blocks, a
  /// chunk cut short at the end of K): a permute from a table.
  enum class Lanes { Uniform, Halves, Quarters, General } lanes = Lanes::General;
  std::vector<int8_t> x;     // [rows, chunks, xBytes]
  std::vector<int32_t> start; // [rows, chunks, 16]
  std::vector<float> sx;      // [rows, chunks, 16]
  std::vector<int32_t> idx;   // [chunks, 16]
  std::vector<int64_t> g0;    // [chunks]
  std::vector<uint16_t> groupMask; // [chunks]

  void prepare(const QuantizedRows &rows, int64_t bits, int64_t blocksPerGroup,
               unsigned threads) {
    int64_t blocks = rows.kp / quant::kBlock;
    int64_t perChunk = bits == 8 ? 2 : 4, lanesPerBlock = 16 / perChunk;
    chunks = (blocks + perChunk - 1) / perChunk;
    xBytes = bits == 8 ? 64 : 128;
    bool whole = blocks % perChunk == 0;
    lanes = blocksPerGroup % perChunk == 0                                   ? Lanes::Uniform
            : whole && blocksPerGroup * 2 == perChunk                        ? Lanes::Halves
            : whole && blocksPerGroup * 4 == perChunk                        ? Lanes::Quarters
                                                                             : Lanes::General;
    x.assign(static_cast<size_t>(rows.rows * chunks * xBytes), 0);
    start.assign(static_cast<size_t>(rows.rows * chunks * 16), 0);
    sx.assign(static_cast<size_t>(rows.rows * chunks * 16), 0.0f);
    idx.assign(static_cast<size_t>(chunks * 16), 0);
    g0.assign(static_cast<size_t>(chunks), 0);
    groupMask.assign(static_cast<size_t>(chunks), 0);
    for (int64_t c = 0; c < chunks; ++c) {
      int64_t first = c * perChunk, last = std::min(blocks, first + perChunk) - 1;
      g0[c] = first / blocksPerGroup;
      groupMask[c] = static_cast<uint16_t>((1u << (last / blocksPerGroup - g0[c] + 1)) - 1);
      for (int l = 0; l < 16; ++l)
        idx[c * 16 + l] = static_cast<int32_t>(
            std::min(first + l / lanesPerBlock, last) / blocksPerGroup - g0[c]);
    }
    int32_t offset = bits == 8 ? 128 : 8;
    kernels::parallelFor(rows.rows, rows.rows * rows.kp < (1 << 16) ? 1 : threads,
                         [&](int64_t rowBegin, int64_t rowEnd) {
    for (int64_t i = rowBegin; i < rowEnd; ++i)
      for (int64_t b = 0; b < blocks; ++b) {
        int64_t c = b / perChunk, j = b % perChunk, at = (i * chunks + c);
        const int8_t *src = rows.q.data() + i * rows.kp + b * quant::kBlock;
        int8_t *dst = x.data() + at * xBytes;
        if (bits == 8) {
          std::memcpy(dst + j * 32, src, 32);
        } else {
          std::memcpy(dst + j * 16, src, 16);
          std::memcpy(dst + 64 + j * 16, src + 16, 16);
        }
        start[at * 16 + j * lanesPerBlock] = -offset * rows.sum[i * blocks + b];
        for (int64_t l = 0; l < lanesPerBlock; ++l)
          sx[at * 16 + j * lanesPerBlock + l] = rows.scale[i * blocks + b];
      }
    });
  }
};

/// A chunk's 64 weight bytes of one column as vpdpbusd's unsigned operand:
/// int8 w ^ 0x80 (w + 128) in `a`; int4 the low nibbles in `a`, the high
/// ones in `b`. The last chunk of a row may be short (`bytes`).
template <int Bits>
TFM_VNNI TFM_INLINE void chunkWeights(const uint8_t *w, __mmask64 bytes, __m512i &a, __m512i &b) {
  // A whole chunk is read with a plain load, a masked one only at a row's end.
  __m512i raw = bytes == ~__mmask64(0) ? _mm512_loadu_si512(w) : _mm512_maskz_loadu_epi8(bytes, w);
  if constexpr (Bits == 8) {
    a = _mm512_xor_si512(raw, _mm512_set1_epi8(static_cast<char>(0x80)));
  } else {
    const __m512i low = _mm512_set1_epi8(0x0f);
    a = _mm512_and_si512(raw, low);
    b = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low);
  }
}

/// One chunk of one row and column: 16 int32 lanes, each the dot of 4
/// weight bytes with their activations, plus the lane's start.
template <int Bits>
TFM_VNNI TFM_INLINE __m512i chunkDot(__m512i a, __m512i b, const int8_t *x, __m512i start) {
  __m512i d = _mm512_dpbusd_epi32(start, a, _mm512_loadu_si512(x));
  if constexpr (Bits == 4)
    d = _mm512_dpbusd_epi32(d, b, _mm512_loadu_si512(x + 64));
  return d;
}

using Lanes = VnniRows::Lanes;

/// The weight scale of each lane of a chunk, from the chunk's first group's
/// scale `ws` of one column (VnniRows::Lanes). Halves and Quarters read
/// only the chunk's own groups, as broadcasts; General permutes at most 4
/// scales, read unmasked where the array goes on that far (`Masked`
/// false), else masked.
template <Lanes L, bool Masked>
TFM_VNNI TFM_INLINE __m512 laneScales(const VnniRows &v, int64_t c, const float *ws) {
  if constexpr (L == Lanes::Halves) {
    return _mm512_mask_mov_ps(_mm512_set1_ps(ws[0]), 0xFF00, _mm512_set1_ps(ws[1]));
  } else if constexpr (L == Lanes::Quarters) {
    __m512 w = _mm512_mask_mov_ps(_mm512_set1_ps(ws[0]), 0x00F0, _mm512_set1_ps(ws[1]));
    w = _mm512_mask_mov_ps(w, 0x0F00, _mm512_set1_ps(ws[2]));
    return _mm512_mask_mov_ps(w, 0xF000, _mm512_set1_ps(ws[3]));
  } else {
    __m128 four = Masked ? _mm_maskz_loadu_ps(static_cast<__mmask8>(v.groupMask[c]), ws)
                         : _mm_loadu_ps(ws);
    return _mm512_permutexvar_ps(_mm512_loadu_si512(v.idx.data() + c * 16),
                                 _mm512_castps128_ps512(four));
  }
}

/// Rows r0 .. r0 + Rows - 1 by columns c0 .. c0 + Cols - 1: each chunk's
/// weights are loaded (and unpacked) once for all the rows, each row's
/// activations once for all the columns. Uniform: the activation scales are
/// applied per chunk and the weight's once per group; otherwise each lane
/// is scaled by its activation block's and its group's scales (laneScales).
template <int Bits, int Cols, Lanes L, bool Masked, int Rows>
TFM_VNNI void tileVnni(const Gemv &g, int64_t r0, int64_t c0) {
  const VnniRows &v = *g.vnni;
  int64_t chunksPerGroup = L == Lanes::Uniform ? g.blocksPerGroup / (Bits == 8 ? 2 : 4) : 1;
  __m512 acc[Rows][Cols], part[Rows][Cols];
  for (int r = 0; r < Rows; ++r)
    for (int j = 0; j < Cols; ++j)
      acc[r][j] = part[r][j] = _mm512_setzero_ps();
  for (int64_t c = 0; c < v.chunks; ++c) {
    int64_t left = g.rowBytes - c * 64;
    __mmask64 bytes = left >= 64 ? ~__mmask64(0) : (__mmask64(1) << left) - 1;
    // The tile four ahead, fetched while this one is computed (each column
    // alone is too short for the hardware prefetcher to follow); by the
    // first rows only (the others find the column block in L2).
    if (r0 == 0) {
      const char *ahead = reinterpret_cast<const char *>(g.q + (c0 + 4 * Cols) * g.rowBytes) +
                          c * Cols * 64;
      for (int l = 0; l < Cols * 64; l += 64)
        _mm_prefetch(ahead + l, _MM_HINT_T0);
    }
    __m512i wa[Cols], wb[Cols];
    __m512 ws[Cols];
    for (int j = 0; j < Cols; ++j) {
      chunkWeights<Bits>(g.q + (c0 + j) * g.rowBytes + c * 64, bytes, wa[j], wb[j]);
      if constexpr (L != Lanes::Uniform)
        ws[j] = laneScales<L, Masked>(v, c, g.scales + (c0 + j) * g.groups + v.g0[c]);
    }
    for (int r = 0; r < Rows; ++r) {
      int64_t at = (r0 + r) * v.chunks + c;
      const int8_t *x = v.x.data() + at * v.xBytes;
      __m512i start = _mm512_loadu_si512(v.start.data() + at * 16);
      __m512 sx = _mm512_loadu_ps(v.sx.data() + at * 16);
      for (int j = 0; j < Cols; ++j) {
        __m512 d = _mm512_cvtepi32_ps(chunkDot<Bits>(wa[j], wb[j], x, start));
        if constexpr (L == Lanes::Uniform)
          part[r][j] = _mm512_fmadd_ps(d, sx, part[r][j]);
        else
          acc[r][j] = _mm512_fmadd_ps(d, _mm512_mul_ps(sx, ws[j]), acc[r][j]);
      }
    }
    if constexpr (L == Lanes::Uniform) {
      if ((c + 1) % chunksPerGroup == 0 || c + 1 == v.chunks) {
        int64_t gr = c / chunksPerGroup;
        for (int j = 0; j < Cols; ++j) {
          __m512 scale = _mm512_set1_ps(g.scales[(c0 + j) * g.groups + gr]);
          for (int r = 0; r < Rows; ++r) {
            acc[r][j] = _mm512_fmadd_ps(part[r][j], scale, acc[r][j]);
            part[r][j] = _mm512_setzero_ps();
          }
        }
      }
    }
  }
  for (int r = 0; r < Rows; ++r)
    for (int j = 0; j < Cols; ++j)
      g.dst[(r0 + r) * g.ldd + c0 + j] = _mm512_reduce_add_ps(acc[r][j]);
}

/// Rows [r0, r1) by the tile at c0, two rows at a time.
template <int Bits, int Cols, Lanes L, bool Masked>
TFM_VNNI void rowsVnni(const Gemv &g, int64_t r0, int64_t r1, int64_t c0) {
  int64_t r = r0;
  for (; r + 2 <= r1; r += 2)
    tileVnni<Bits, Cols, L, Masked, 2>(g, r, c0);
  if (r < r1)
    tileVnni<Bits, Cols, L, Masked, 1>(g, r, c0);
}

/// Columns [begin, end) for every row, blocked for the caches: 64 columns
/// (their weights stay in L2) by as many rows as keep their activations in
/// L1 (16 for K = 768),
/// tiles of 4 columns by 2 rows inside. Decode (a few rows) is one row
/// block: the columns stream by, prefetched.
template <int Bits, Lanes L>
TFM_VNNI void columnsVnniLanes(const Gemv &g, int64_t begin, int64_t end) {
  // General: columns whose scales are followed by at least 3 more floats of
  // the array read 4 scales unmasked; the last few (1 + 3 / groups) mask
  // them. (The other kinds read only the chunk's own groups.)
  int64_t safeEnd =
      L == Lanes::General ? std::clamp<int64_t>(g.n - (3 + g.groups - 1) / g.groups, begin, end)
                          : end;
  // Rows per block: their activations (x, start and scales: 3 x 64 bytes a
  // chunk for int8, 4 x 64 for int4) within 32 KiB of L1; 2 at least.
  constexpr int64_t kColumnBlock = 64;
  int64_t rows = g.x->rows;
  int64_t kRowBlock =
      std::max<int64_t>(2, (32 << 10) / (g.vnni->chunks * (g.vnni->xBytes + 128)) / 2 * 2);
  for (int64_t cb = begin; cb < end; cb += kColumnBlock) {
    int64_t ce = std::min(end, cb + kColumnBlock);
    for (int64_t rb = 0; rb < rows; rb += kRowBlock) {
      int64_t re = std::min(rows, rb + kRowBlock);
      int64_t c = cb;
      for (; c + 4 <= std::min(ce, safeEnd); c += 4)
        rowsVnni<Bits, 4, L, false>(g, rb, re, c);
      for (; c < std::min(ce, safeEnd); ++c)
        rowsVnni<Bits, 1, L, false>(g, rb, re, c);
      for (; c < ce; ++c)
        rowsVnni<Bits, 1, L, true>(g, rb, re, c);
    }
  }
}

template <int Bits>
TFM_VNNI void columnsVnniBits(const Gemv &g, int64_t begin, int64_t end) {
  switch (g.vnni->lanes) {
  case Lanes::Uniform: return columnsVnniLanes<Bits, Lanes::Uniform>(g, begin, end);
  case Lanes::Halves: return columnsVnniLanes<Bits, Lanes::Halves>(g, begin, end);
  case Lanes::Quarters: return columnsVnniLanes<Bits, Lanes::Quarters>(g, begin, end);
  case Lanes::General: return columnsVnniLanes<Bits, Lanes::General>(g, begin, end);
  }
}

TFM_VNNI void columnsVnni(const Gemv &g, int64_t begin, int64_t end) {
  if (g.bits == 8)
    columnsVnniBits<8>(g, begin, end);
  else
    columnsVnniBits<4>(g, begin, end);
}

void gemv(const QuantizedRows &x, const uint8_t *q, const float *scales,
          const quant::Scheme &scheme, int64_t k, int64_t n, float *dst, int64_t ldd,
          unsigned threads) {
  if (x.kp == 0) { // K = 0: every output is an empty sum
    for (int64_t i = 0; i < x.rows; ++i)
      std::fill(dst + i * ldd, dst + i * ldd + n, 0.0f);
    return;
  }
  // Allocations happen here, not on the OpenMP threads (a body there must
  // not throw).
  int64_t blocks = x.kp / quant::kBlock, groups = scheme.groups(k),
          blocksPerGroup = scheme.group / quant::kBlock;
  std::vector<float> corrG;
  if (scheme.bits == 4) {
    corrG.assign(static_cast<size_t>(x.rows * groups), 0.0f);
    for (int64_t i = 0; i < x.rows; ++i)
      for (int64_t b = 0; b < blocks; ++b)
        corrG[i * groups + b / blocksPerGroup] +=
            x.scale[i * blocks + b] * static_cast<float>(x.sum[i * blocks + b]);
  }
  Gemv g{&x,  q,   scales, scheme.rowBytes(k), groups, blocksPerGroup, scheme.bits,
         dst, ldd, corrG.data()};
  thread_local VnniRows vnni; // reused: decode calls this once per matmul per token
  bool useVnni = vnniFor(scheme);
  if (useVnni) {
    vnni.prepare(x, scheme.bits, blocksPerGroup, threads);
    g.vnni = &vnni;
    g.n = n;
  }
  auto columns = useVnni ? columnsVnni : hasAvx2() ? columnsAvx2 : columnsGeneric;
  // Threads pay off from ~512K multiply-adds: below, an OpenMP fork/join
  // costs more than the second core saves (tfm-bench-kernels quantized, AMD
  // EPYC AVX-512, 2 threads against 1: int8 576 x 576 10 vs 6 us, 576 x 1536
  // 16 vs 22 us).
  if (n * x.kp * x.rows < (1 << 19))
    threads = 1;
  kernels::parallelFor(n, threads, [&](int64_t begin, int64_t end) { columns(g, begin, end); });
}

/// Columns [begin, end) in tiles of 16: each column dequantized into a
/// buffer, then written row by row (16 contiguous floats per row of out).
TFM_INLINE void dequantizeImpl(const uint8_t *q, const float *scales, const quant::Scheme &scheme,
                               int64_t k, int64_t n, int64_t begin, int64_t end, float *out) {
  constexpr int64_t kTile = 16;
  thread_local std::vector<float> tile;
  if (tile.size() < static_cast<size_t>(kTile * k))
    tile.resize(static_cast<size_t>(kTile * k));
  for (int64_t c0 = begin; c0 < end; c0 += kTile) {
    int64_t cols = std::min(kTile, end - c0);
    for (int64_t j = 0; j < cols; ++j)
      quant::dequantizeColumn(q, scales, scheme, k, c0 + j, tile.data() + j * k);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < cols; ++j)
        out[i * n + c0 + j] = tile[j * k + i];
  }
}
TFM_AVX2 void dequantizeAvx2(const uint8_t *q, const float *scales, const quant::Scheme &scheme,
                             int64_t k, int64_t n, int64_t begin, int64_t end, float *out) {
  dequantizeImpl(q, scales, scheme, k, n, begin, end, out);
}
void dequantizeGeneric(const uint8_t *q, const float *scales, const quant::Scheme &scheme,
                       int64_t k, int64_t n, int64_t begin, int64_t end, float *out) {
  dequantizeImpl(q, scales, scheme, k, n, begin, end, out);
}

void dequantize(const uint8_t *q, const float *scales, const quant::Scheme &scheme, int64_t k,
                int64_t n, float *out, unsigned threads) {
  auto columns = hasAvx2() ? dequantizeAvx2 : dequantizeGeneric;
  // Whole tiles per thread.
  int64_t tiles = (n + 15) / 16;
  // The tile buffers are allocated on the threads: a failure is carried out
  // of the parallel region and rethrown here (a body must not throw).
  bool outOfMemory = false;
  kernels::parallelFor(tiles, threads, [&](int64_t begin, int64_t end) {
    try {
      columns(q, scales, scheme, k, n, begin * 16, std::min(n, end * 16), out);
    } catch (const std::bad_alloc &) {
      outOfMemory = true;
    }
  });
  if (outOfMemory)
    throw std::bad_alloc();
}

} // namespace tfm::qkernels
