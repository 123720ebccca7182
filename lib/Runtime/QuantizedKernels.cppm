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
// ISA: an AVX2 copy (vpmaddubsw + vpmaddwd: 32 multiply-adds per
// instruction pair, the int8 dot llama.cpp uses on AVX2; the signed x signed
// int8 product goes through vpsignb) and a baseline x86-64 copy of plain
// loops, chosen at run time; TFM_KERNELS=generic forces the baseline one.
// Both give the same integer dots; the f32 sums differ only by rounding.
// (No AVX-512 VNNI copy yet: this session's CPUs had no AVX-512 to test it
// on; AVX-512 CPUs run the AVX2 copy.)
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

/// The name of the GEMV copy that runs ("avx2" or "generic").
const char *gemvIsa() { return hasAvx2() ? "avx2" : "generic"; }

/// Quantizes rows i < m of `a` (row stride lda floats, k columns) into
/// `out`, zero-padded to kp (a multiple of 32).
void quantizeRows(const float *a, int64_t lda, int64_t m, int64_t k, int64_t kp,
                  QuantizedRows &out) {
  int64_t blocks = kp / quant::kBlock;
  out.rows = m;
  out.kp = kp;
  out.q.assign(static_cast<size_t>(m * kp), 0);
  out.scale.assign(static_cast<size_t>(m * blocks), 0.0f);
  out.sum.assign(static_cast<size_t>(m * blocks), 0);
  for (int64_t i = 0; i < m; ++i)
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
        q[j] = static_cast<int8_t>(std::lround(std::fmax(-127.0f, std::fmin(127.0f, x[j] * inv))));
        total += q[j];
      }
      out.scale[i * blocks + b] = s;
      out.sum[i * blocks + b] = total;
    }
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

void gemv(const QuantizedRows &x, const uint8_t *q, const float *scales,
          const quant::Scheme &scheme, int64_t k, int64_t n, float *dst, int64_t ldd,
          unsigned threads) {
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
  auto columns = hasAvx2() ? columnsAvx2 : columnsGeneric;
  // Threads pay off from ~64K multiply-adds.
  if (n * x.kp * x.rows < (1 << 16))
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
