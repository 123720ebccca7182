//===- Kernels.cppm - The runtime's own vectorized loops ----------*- C++ -*-===//
//
// The `tfm.kernels` module: loops oneDNN 2.6 has no primitive for (masked
// softmax, single-query attention, layer normalization), and the thread
// helper they share.
//
// ISA: the runtime library is built for the baseline x86-64 ISA, so each hot
// loop is written once as plain C++ (shaped so that the vectorizer needs no
// reassociation: 16 independent lanes where a reduction is needed) and
// compiled three times: inlined into an AVX-512 entry point, an AVX2 + FMA
// one and a generic one. The widest copy the CPU has is chosen at run time
// (kernelIsa(); TFM_KERNELS=avx2 or generic force a narrower one); results
// differ between copies only by rounding.
//
// Threads: parallelFor runs on the OpenMP threads oneDNN itself uses
// (libgomp's GOMP_parallel, looked up at run time), so the runtime's kernels
// and oneDNN's primitives never compete for cores with two thread pools.
//
//===----------------------------------------------------------------------===//

module;
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <dlfcn.h>
#include <functional>
#include <limits>
#include <vector>
export module tfm.kernels;

#define TFM_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#define TFM_AVX2_FMA __attribute__((target("avx2,fma")))
#define TFM_INLINE [[gnu::always_inline]] inline

namespace tfm::kernels {

//===----------------------------------------------------------------------===//
// Threads
//===----------------------------------------------------------------------===//

using GompParallel = void (*)(void (*)(void *), void *, unsigned, unsigned);
using OmpInt = int (*)();

struct Gomp {
  GompParallel parallel = nullptr;
  OmpInt threadNum = nullptr, numThreads = nullptr;
  Gomp() {
    parallel = reinterpret_cast<GompParallel>(::dlsym(RTLD_DEFAULT, "GOMP_parallel"));
    threadNum = reinterpret_cast<OmpInt>(::dlsym(RTLD_DEFAULT, "omp_get_thread_num"));
    numThreads = reinterpret_cast<OmpInt>(::dlsym(RTLD_DEFAULT, "omp_get_num_threads"));
    if (!threadNum || !numThreads)
      parallel = nullptr;
  }
};

const Gomp &gomp() {
  static Gomp g;
  return g;
}

struct Job {
  const std::function<void(int64_t, int64_t)> *body;
  int64_t n;
};

/// Contiguous chunk `id` of `count` over [0, n).
void chunk(int64_t n, int id, int count, int64_t &begin, int64_t &end) {
  int64_t base = n / count, extra = n % count;
  begin = id * base + std::min<int64_t>(id, extra);
  end = begin + base + (id < extra ? 1 : 0);
}

void trampoline(void *p) {
  auto *job = static_cast<Job *>(p);
  int64_t begin, end;
  chunk(job->n, gomp().threadNum(), gomp().numThreads(), begin, end);
  if (begin < end)
    (*job->body)(begin, end);
}

//===----------------------------------------------------------------------===//
// Loops, written once (inlined into each ISA's entry point)
//===----------------------------------------------------------------------===//

constexpr int kLanes = 16;

/// exp(x) for x <= 0 (softmax), Cephes' single-precision polynomial: within
/// 2 ulp of std::exp on [-87, 0], exp(-87) (~1.6e-38) below; NaN for NaN. The argument is
/// clamped with comparisons that send NaN to -87 (converting a NaN to int32
/// below would be undefined behaviour), and NaN is put back at the end.
TFM_INLINE float expNonPositive(float in) {
  float x = in > -87.0f ? in : -87.0f;
  x = x < 0.0f ? x : 0.0f;
  float fx = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = x - fx * 0.693359375f + fx * 2.12194440e-4f;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * r * r + r + 1.0f;
  float e = y * std::bit_cast<float>((static_cast<int32_t>(fx) + 127) << 23);
  return in == in ? e : in;
}

/// x[0:count] = softmax(scale * x[0:count]); x[count:width] = 0.
TFM_INLINE void softmaxRow(float *x, int64_t count, int64_t width, float scale) {
  float lanes[kLanes];
  for (float &l : lanes)
    l = -std::numeric_limits<float>::infinity();
  int64_t j = 0;
  for (; j + kLanes <= count; j += kLanes)
    for (int c = 0; c < kLanes; ++c) {
      x[j + c] *= scale;
      lanes[c] = std::max(lanes[c], x[j + c]);
    }
  float m = -std::numeric_limits<float>::infinity();
  for (; j < count; ++j) {
    x[j] *= scale;
    m = std::max(m, x[j]);
  }
  for (float l : lanes)
    m = std::max(m, l);
  for (float &l : lanes)
    l = 0;
  for (j = 0; j + kLanes <= count; j += kLanes)
    for (int c = 0; c < kLanes; ++c) {
      x[j + c] = expNonPositive(x[j + c] - m);
      lanes[c] += x[j + c];
    }
  float sum = 0;
  for (; j < count; ++j) {
    x[j] = expNonPositive(x[j] - m);
    sum += x[j];
  }
  for (float l : lanes)
    sum += l;
  float inv = 1.0f / sum;
  for (j = 0; j < count; ++j)
    x[j] *= inv;
  for (; j < width; ++j)
    x[j] = 0;
}

TFM_INLINE float dot(const float *a, const float *b, int64_t n) {
  float lanes[kLanes] = {};
  int64_t e = 0;
  for (; e + kLanes <= n; e += kLanes)
    for (int c = 0; c < kLanes; ++c)
      lanes[c] += a[e + c] * b[e + c];
  float sum = 0;
  for (; e < n; ++e)
    sum += a[e] * b[e];
  for (float l : lanes)
    sum += l;
  return sum;
}

} // namespace tfm::kernels

export namespace tfm::kernels {

/// Runs body(begin, end) on contiguous chunks of [0, n), one per thread, on
/// up to `threads` OpenMP threads (serially when threads <= 1, n <= 1, or
/// no OpenMP runtime is loaded). The body must not throw.
void parallelFor(int64_t n, unsigned threads,
                 const std::function<void(int64_t, int64_t)> &body) {
  threads = static_cast<unsigned>(std::min<int64_t>(threads, n));
  if (threads <= 1 || !gomp().parallel) {
    if (n > 0)
      body(0, n);
    return;
  }
  Job job{&body, n};
  gomp().parallel(trampoline, &job, threads, 0);
}

/// The copies of the runtime's own kernels: each is one loop compiled for
/// AVX-512 (F, BW, DQ, VL), for AVX2 + FMA and for baseline x86-64.
enum class Isa { Generic, Avx2, Avx512 };

/// The widest copy the CPU runs; TFM_KERNELS=avx2 or TFM_KERNELS=generic
/// force a narrower one (so that the tests run every copy the CPU has).
Isa kernelIsa() {
  static const Isa isa = [] {
    const char *forced = std::getenv("TFM_KERNELS");
    bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (forced && std::string_view(forced) == "generic")
      return Isa::Generic;
    if (forced && std::string_view(forced) == "avx2")
      return avx2 ? Isa::Avx2 : Isa::Generic;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
      return Isa::Avx512;
    return avx2 ? Isa::Avx2 : Isa::Generic;
  }();
  return isa;
}

/// kernelIsa()'s name for --verbose: "avx512", "avx2" or "generic".
const char *kernelIsaName() {
  switch (kernelIsa()) {
  case Isa::Avx512: return "avx512";
  case Isa::Avx2: return "avx2";
  case Isa::Generic: break;
  }
  return "generic";
}

/// Whether the AVX-512 copies run (kernelIsa()).
bool hasAvx512() { return kernelIsa() == Isa::Avx512; }

/// The copy of a kernel that kernelIsa() selects.
template <class F> F pick(F avx512, F avx2, F generic) {
  switch (kernelIsa()) {
  case Isa::Avx512: return avx512;
  case Isa::Avx2: return avx2;
  case Isa::Generic: break;
  }
  return generic;
}

/// Attention scores [heads][t][s] (row (h, i) holds query i of head h against
/// all s keys, unscaled) become probabilities: row (h, i) is softmax(scale *
/// row) over its first count(i) entries (past + i + 1 when causal, else s)
/// and 0 after; with a causal `window` W > 0 only the last W of those count
/// (entries before them are 0 too).
void maskedSoftmax(float *scores, int64_t heads, int64_t t, int64_t s, int64_t past,
                   bool causal, float scale, unsigned threads, int64_t window = 0);

/// Attention of a few queries read straight from the cache (decode):
/// out[i, h*dh:(h+1)*dh] = softmax(scale * q_i,h . K_g^T) V_g with g = h /
/// (heads / kvHeads) the key/value head of query head h, row i seeing keys
/// [0, past + i] when causal (the last `window` of them if window > 0).
/// Pointers are to row 0; *Stride are row strides in floats.
struct Attention {
  const float *q;
  int64_t qStride;
  const float *k;
  int64_t kStride;
  const float *v;
  int64_t vStride;
  float *out;
  int64_t outStride;
  int64_t t, past, heads, headDim;
  float scale;
  bool causal;
  int64_t kvHeads = 0; ///< 0: heads
  int64_t window = 0;  ///< 0: every earlier key
};
void attend(const Attention &a, unsigned threads);

/// dst[i] = src[i] rounded to bf16 (nearest, ties to even; NaN stays NaN).
void toBf16(const float *src, uint16_t *dst, int64_t n);

/// Layer normalization of `rows` rows of width n (row strides in floats):
/// dst = (src - mean) / sqrt(var + eps) * scale + shift (scale, shift may be
/// null); with `rms`, RMS normalization: the same with mean taken as 0 (var
/// is then mean(src^2)). f32 partial sums, totals in double.
void layerNorm(const float *src, int64_t srcStride, float *dst, int64_t dstStride,
               int64_t rows, int64_t n, const float *scale, const float *shift, float eps,
               bool rms, unsigned threads);

/// The activations epilogue() computes, with oneDNN's formulas.
enum class Activation { None, Relu, Silu, GeluTanh };

/// A matmul's epilogue on one row of n outputs (the runtime's own GEMV):
/// row[c] = act(row[c] + bias[c]) * multiplier[c] + residual[c], each of
/// bias, multiplier and residual contiguous or null (absent). Silu is x *
/// sigmoid(x) and GeluTanh 0.5 x (1 + tanh(u)) = x * sigmoid(2u) with u =
/// sqrt(2/pi) (x + 0.044715 x^3), sigmoid from expNonPositive (within a few
/// ulp of the libm formulas).
void epilogue(float *row, int64_t n, const float *bias, Activation act, const float *multiplier,
              const float *residual);

} // namespace tfm::kernels

namespace tfm::kernels {

//===----------------------------------------------------------------------===//
// Masked softmax
//===----------------------------------------------------------------------===//

TFM_INLINE void softmaxRowsImpl(float *scores, int64_t begin, int64_t end, int64_t t, int64_t s,
                                int64_t past, bool causal, float scale, int64_t window) {
  for (int64_t r = begin; r < end; ++r) {
    int64_t i = r % t;
    int64_t count = causal ? std::min(s, past + i + 1) : s;
    int64_t first = causal && window > 0 ? std::max<int64_t>(0, past + i + 1 - window) : 0;
    float *row = scores + r * s;
    for (int64_t j = 0; j < first; ++j)
      row[j] = 0;
    softmaxRow(row + first, count - first, s - first, scale);
  }
}
TFM_AVX512 void softmaxRowsAvx512(float *scores, int64_t begin, int64_t end, int64_t t,
                                  int64_t s, int64_t past, bool causal, float scale, int64_t window) {
  softmaxRowsImpl(scores, begin, end, t, s, past, causal, scale, window);
}
TFM_AVX2_FMA void softmaxRowsAvx2(float *scores, int64_t begin, int64_t end, int64_t t,
                                  int64_t s, int64_t past, bool causal, float scale, int64_t window) {
  softmaxRowsImpl(scores, begin, end, t, s, past, causal, scale, window);
}
void softmaxRowsGeneric(float *scores, int64_t begin, int64_t end, int64_t t, int64_t s,
                        int64_t past, bool causal, float scale, int64_t window) {
  softmaxRowsImpl(scores, begin, end, t, s, past, causal, scale, window);
}

void maskedSoftmax(float *scores, int64_t heads, int64_t t, int64_t s, int64_t past,
                   bool causal, float scale, unsigned threads, int64_t window) {
  auto rows = pick(softmaxRowsAvx512, softmaxRowsAvx2, softmaxRowsGeneric);
  parallelFor(heads * t, threads, [&](int64_t begin, int64_t end) {
    rows(scores, begin, end, t, s, past, causal, scale, window);
  });
}

//===----------------------------------------------------------------------===//
// Direct attention (few queries)
//===----------------------------------------------------------------------===//

TFM_INLINE void attendHeadsImpl(const Attention &a, int64_t hBegin, int64_t hEnd, float *p) {
  int64_t dh = a.headDim, s = a.past + a.t;
  int64_t group = a.kvHeads > 0 ? a.heads / a.kvHeads : 1;
  for (int64_t h = hBegin; h < hEnd; ++h)
    for (int64_t i = 0; i < a.t; ++i) {
      const float *q = a.q + i * a.qStride + h * dh;
      int64_t kvOffset = (h / group) * dh;
      int64_t count = a.causal ? std::min(s, a.past + i + 1) : s;
      int64_t first =
          a.causal && a.window > 0 ? std::max<int64_t>(0, a.past + i + 1 - a.window) : 0;
      for (int64_t j = first; j < count; ++j)
        p[j] = dot(q, a.k + j * a.kStride + kvOffset, dh);
      softmaxRow(p + first, count - first, count - first, a.scale);
      float *o = a.out + i * a.outStride + h * dh;
      for (int64_t e = 0; e < dh; ++e)
        o[e] = 0;
      for (int64_t j = first; j < count; ++j) {
        const float *vj = a.v + j * a.vStride + kvOffset;
        float w = p[j];
        for (int64_t e = 0; e < dh; ++e)
          o[e] += w * vj[e];
      }
    }
}
TFM_AVX512 void attendHeadsAvx512(const Attention &a, int64_t hBegin, int64_t hEnd, float *p) {
  attendHeadsImpl(a, hBegin, hEnd, p);
}
TFM_AVX2_FMA void attendHeadsAvx2(const Attention &a, int64_t hBegin, int64_t hEnd, float *p) {
  attendHeadsImpl(a, hBegin, hEnd, p);
}
void attendHeadsGeneric(const Attention &a, int64_t hBegin, int64_t hEnd, float *p) {
  attendHeadsImpl(a, hBegin, hEnd, p);
}

/// Grouped-query attention, key/value heads [kvBegin, kvEnd): the G query
/// heads of a key/value head go through its cache together, so each key and
/// value row is read from memory once per group (not G times). p holds G
/// score rows of the cache length.
TFM_INLINE void attendGroupsImpl(const Attention &a, int64_t kvBegin, int64_t kvEnd, float *p) {
  int64_t dh = a.headDim, s = a.past + a.t, group = a.heads / a.kvHeads;
  for (int64_t kh = kvBegin; kh < kvEnd; ++kh)
    for (int64_t i = 0; i < a.t; ++i) {
      int64_t count = a.causal ? std::min(s, a.past + i + 1) : s;
      int64_t first =
          a.causal && a.window > 0 ? std::max<int64_t>(0, a.past + i + 1 - a.window) : 0;
      const float *q = a.q + i * a.qStride + kh * group * dh;
      for (int64_t j = first; j < count; ++j) {
        const float *k = a.k + j * a.kStride + kh * dh;
        for (int64_t g = 0; g < group; ++g)
          p[g * s + j] = dot(q + g * dh, k, dh);
      }
      float *o = a.out + i * a.outStride + kh * group * dh;
      for (int64_t g = 0; g < group; ++g) {
        softmaxRow(p + g * s + first, count - first, count - first, a.scale);
        for (int64_t e = 0; e < dh; ++e)
          o[g * dh + e] = 0;
      }
      for (int64_t j = first; j < count; ++j) {
        const float *vj = a.v + j * a.vStride + kh * dh;
        for (int64_t g = 0; g < group; ++g) {
          float w = p[g * s + j];
          float *og = o + g * dh;
          for (int64_t e = 0; e < dh; ++e)
            og[e] += w * vj[e];
        }
      }
    }
}
TFM_AVX512 void attendGroupsAvx512(const Attention &a, int64_t kvBegin, int64_t kvEnd, float *p) {
  attendGroupsImpl(a, kvBegin, kvEnd, p);
}
TFM_AVX2_FMA void attendGroupsAvx2(const Attention &a, int64_t kvBegin, int64_t kvEnd, float *p) {
  attendGroupsImpl(a, kvBegin, kvEnd, p);
}
void attendGroupsGeneric(const Attention &a, int64_t kvBegin, int64_t kvEnd, float *p) {
  attendGroupsImpl(a, kvBegin, kvEnd, p);
}

/// One query row (decode) over keys [j0, j1) of every key/value head, the
/// first half of flash-decoding (Dao et al. 2023): for each query head h,
/// part[h] = {m, l, o[0..dh)} with m the largest scaled score of the range,
/// l = sum_j exp(score_j - m) and o = sum_j exp(score_j - m) v_j (m = -inf,
/// l = 0, o = 0 for an empty range). Each key and value row is read once
/// for the group of query heads that shares it, and the cache rows in
/// order, all key/value heads of a position together (by head, each pass
/// read a third of every row at a stride, which the prefetchers served at
/// about half the speed). p holds heads * (j1 - j0) floats.
TFM_INLINE void attendKeysImpl(const Attention &a, int64_t j0, int64_t j1, float *p, float *part) {
  int64_t dh = a.headDim, kvHeads = a.kvHeads > 0 ? a.kvHeads : a.heads;
  int64_t group = a.heads / kvHeads, n = j1 - j0;
  for (int64_t j = j0; j < j1; ++j)
    for (int64_t kh = 0; kh < kvHeads; ++kh) {
      const float *k = a.k + j * a.kStride + kh * dh;
      for (int64_t g = 0; g < group; ++g) {
        int64_t h = kh * group + g;
        p[h * n + (j - j0)] = dot(a.q + h * dh, k, dh) * a.scale;
      }
    }
  for (int64_t h = 0; h < a.heads; ++h) {
    float *row = p + h * n, *r = part + h * (dh + 2);
    // Max and sum in kLanes partial lanes (vectorized), as softmaxRow.
    float lanes[kLanes], m = -std::numeric_limits<float>::infinity(), l = 0;
    for (float &x : lanes)
      x = m;
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
      for (int c = 0; c < kLanes; ++c)
        lanes[c] = std::max(lanes[c], row[j + c]);
    for (; j < n; ++j)
      m = std::max(m, row[j]);
    for (float x : lanes)
      m = std::max(m, x);
    for (float &x : lanes)
      x = 0;
    for (j = 0; j + kLanes <= n; j += kLanes)
      for (int c = 0; c < kLanes; ++c) {
        row[j + c] = expNonPositive(row[j + c] - m);
        lanes[c] += row[j + c];
      }
    for (; j < n; ++j) {
      row[j] = expNonPositive(row[j] - m);
      l += row[j];
    }
    for (float x : lanes)
      l += x;
    r[0] = m;
    r[1] = l;
    for (int64_t e = 0; e < dh; ++e)
      r[2 + e] = 0;
  }
  for (int64_t j = j0; j < j1; ++j)
    for (int64_t kh = 0; kh < kvHeads; ++kh) {
      const float *vj = a.v + j * a.vStride + kh * dh;
      for (int64_t g = 0; g < group; ++g) {
        int64_t h = kh * group + g;
        float w = p[h * n + (j - j0)];
        float *o = part + h * (dh + 2) + 2;
        for (int64_t e = 0; e < dh; ++e)
          o[e] += w * vj[e];
      }
    }
}
TFM_AVX512 void attendKeysAvx512(const Attention &a, int64_t j0, int64_t j1, float *p, float *part) {
  attendKeysImpl(a, j0, j1, p, part);
}
TFM_AVX2_FMA void attendKeysAvx2(const Attention &a, int64_t j0, int64_t j1, float *p, float *part) {
  attendKeysImpl(a, j0, j1, p, part);
}
void attendKeysGeneric(const Attention &a, int64_t j0, int64_t j1, float *p, float *part) {
  attendKeysImpl(a, j0, j1, p, part);
}

void attend(const Attention &a, unsigned threads) {
  auto heads = pick(attendHeadsAvx512, attendHeadsAvx2, attendHeadsGeneric);
  int64_t s = a.past + a.t;
  // Threads pay off from ~32K multiply-adds (measured: 50 vs 60 ms of
  // attention over 128 decode steps of GPT-2 124M).
  if (a.t * s * a.heads * a.headDim < (1 << 15))
    threads = 1;
  int64_t group = a.kvHeads > 0 ? a.heads / a.kvHeads : 1;
  // One grouped query row with fewer key/value heads than 2 per thread
  // (SmolLM2's 3): the keys are split over the threads instead (each reads
  // its share of every head once), and the parts merged. Measured on a
  // SmolLM2-135M shape after 2000 tokens: 240 us a layer, against 290 by
  // query head (which reads each key/value head G times). The order of the
  // sums, and so the last bits of the result, then follow the thread count.
  if (a.t == 1 && group > 1 && threads > 1 && a.kvHeads < 2 * static_cast<int64_t>(threads)) {
    int64_t first = a.causal && a.window > 0 ? std::max<int64_t>(0, s - a.window) : 0;
    int64_t n = s - first, chunks = std::min<int64_t>(threads, n), dh = a.headDim;
    // The calling thread's scratch; the workers reach it through `partsOut`
    // (a thread_local named inside the lambda would be each worker's own).
    thread_local std::vector<float> parts;
    parts.resize(static_cast<size_t>(chunks * a.heads * (dh + 2)));
    float *partsOut = parts.data();
    auto keys = pick(attendKeysAvx512, attendKeysAvx2, attendKeysGeneric);
    parallelFor(chunks, threads, [&](int64_t begin, int64_t end) {
      thread_local std::vector<float> p;
      for (int64_t c = begin; c < end; ++c) {
        int64_t j0 = first + n * c / chunks, j1 = first + n * (c + 1) / chunks;
        if (p.size() < static_cast<size_t>(a.heads * (j1 - j0)))
          p.resize(static_cast<size_t>(a.heads * (j1 - j0)));
        keys(a, j0, j1, p.data(), partsOut + c * a.heads * (dh + 2));
      }
    });
    // out_h = sum_c exp(m_c - M) o_c / sum_c exp(m_c - M) l_c, M = max_c m_c.
    for (int64_t h = 0; h < a.heads; ++h) {
      float big = -std::numeric_limits<float>::infinity(), l = 0;
      for (int64_t c = 0; c < chunks; ++c)
        big = std::max(big, parts[(c * a.heads + h) * (dh + 2)]);
      float *o = a.out + h * dh;
      for (int64_t e = 0; e < dh; ++e)
        o[e] = 0;
      for (int64_t c = 0; c < chunks; ++c) {
        const float *r = parts.data() + (c * a.heads + h) * (dh + 2);
        float w = std::exp(r[0] - big);
        l += w * r[1];
        for (int64_t e = 0; e < dh; ++e)
          o[e] += w * r[2 + e];
      }
      for (int64_t e = 0; e < dh; ++e)
        o[e] /= l;
    }
    return;
  }
  // Grouped heads: by key/value head (each cache row read once per group)
  // when there are enough of them to keep the threads busy; else by query
  // head, which parallelizes G times wider but reads the cache G times.
  if (group > 1 && (threads == 1 || a.kvHeads >= 2 * static_cast<int64_t>(threads))) {
    auto groups = pick(attendGroupsAvx512, attendGroupsAvx2, attendGroupsGeneric);
    parallelFor(a.kvHeads, threads, [&](int64_t begin, int64_t end) {
      thread_local std::vector<float> p;
      if (p.size() < static_cast<size_t>(group * s))
        p.resize(static_cast<size_t>(group * s));
      groups(a, begin, end, p.data());
    });
    return;
  }
  parallelFor(a.heads, threads, [&](int64_t begin, int64_t end) {
    thread_local std::vector<float> p;
    if (p.size() < static_cast<size_t>(s))
      p.resize(static_cast<size_t>(s));
    heads(a, begin, end, p.data());
  });
}

//===----------------------------------------------------------------------===//
// Matmul epilogue
//===----------------------------------------------------------------------===//

/// 1 / (1 + exp(-z)), from exp(-|z|) (never overflows). Below -87 the
/// polynomial stops at exp(-87); there sigmoid is taken as 0, so that x *
/// sigmoid(x) is -0 for a very negative x (not ~1.6e-38 x) and NaN at -inf,
/// as the libm formulas give.
TFM_INLINE float sigmoid(float z) {
  float e = expNonPositive(-std::fabs(z));
  e = -std::fabs(z) < -87.0f ? 0.0f : e;
  float inv = 1.0f / (1.0f + e);
  return z >= 0.0f ? inv : e * inv;
}

template <Activation A>
TFM_INLINE void epilogueImpl(float *row, int64_t n, const float *bias, const float *mul,
                             const float *res) {
  for (int64_t c = 0; c < n; ++c) {
    float v = row[c] + (bias ? bias[c] : 0.0f);
    if constexpr (A == Activation::Relu)
      v = v > 0.0f ? v : 0.0f;
    else if constexpr (A == Activation::Silu)
      v = v * sigmoid(v);
    else if constexpr (A == Activation::GeluTanh)
      v = v * sigmoid(2.0f * 0.7978845608028654f * (v + 0.044715f * v * v * v));
    if (mul)
      v *= mul[c];
    row[c] = v + (res ? res[c] : 0.0f);
  }
}

TFM_INLINE void epilogueDispatch(float *row, int64_t n, const float *bias, Activation act,
                                 const float *mul, const float *res) {
  switch (act) {
  case Activation::None: return epilogueImpl<Activation::None>(row, n, bias, mul, res);
  case Activation::Relu: return epilogueImpl<Activation::Relu>(row, n, bias, mul, res);
  case Activation::Silu: return epilogueImpl<Activation::Silu>(row, n, bias, mul, res);
  case Activation::GeluTanh: return epilogueImpl<Activation::GeluTanh>(row, n, bias, mul, res);
  }
}
TFM_AVX512 void epilogueAvx512(float *row, int64_t n, const float *bias, Activation act,
                               const float *mul, const float *res) {
  epilogueDispatch(row, n, bias, act, mul, res);
}
TFM_AVX2_FMA void epilogueAvx2(float *row, int64_t n, const float *bias, Activation act,
                               const float *mul, const float *res) {
  epilogueDispatch(row, n, bias, act, mul, res);
}
void epilogueGeneric(float *row, int64_t n, const float *bias, Activation act, const float *mul,
                     const float *res) {
  epilogueDispatch(row, n, bias, act, mul, res);
}

void epilogue(float *row, int64_t n, const float *bias, Activation act, const float *multiplier,
              const float *residual) {
  pick(epilogueAvx512, epilogueAvx2, epilogueGeneric)(row, n, bias, act, multiplier, residual);
}

//===----------------------------------------------------------------------===//
// bf16 conversion
//===----------------------------------------------------------------------===//

TFM_INLINE void toBf16Impl(const float *src, uint16_t *dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u = std::bit_cast<uint32_t>(src[i]);
    uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    dst[i] = static_cast<uint16_t>((u & 0x7fffffffu) > 0x7f800000u ? (u >> 16) | 0x40u : rounded);
  }
}
TFM_AVX512 void toBf16Avx512(const float *src, uint16_t *dst, int64_t n) {
  toBf16Impl(src, dst, n);
}
TFM_AVX2_FMA void toBf16Avx2(const float *src, uint16_t *dst, int64_t n) {
  toBf16Impl(src, dst, n);
}
void toBf16Generic(const float *src, uint16_t *dst, int64_t n) { toBf16Impl(src, dst, n); }

void toBf16(const float *src, uint16_t *dst, int64_t n) {
  pick(toBf16Avx512, toBf16Avx2, toBf16Generic)(src, dst, n);
}

//===----------------------------------------------------------------------===//
// Layer normalization
//===----------------------------------------------------------------------===//

TFM_INLINE void layerNormImpl(const float *src, int64_t srcStride, float *dst, int64_t dstStride,
                              int64_t begin, int64_t end, int64_t n, const float *scale,
                              const float *shift, float eps, bool rms) {
  for (int64_t r = begin; r < end; ++r) {
    const float *x = src + r * srcStride;
    float *y = dst + r * dstStride;
    // Mean, then the variance around it: two passes over an L1-resident row,
    // f32 lanes summed in double.
    // (RMS normalization: no centring, the mean is taken as 0.)
    float lanes[kLanes] = {};
    int64_t j = 0;
    double sum = 0;
    if (!rms) {
      for (; j + kLanes <= n; j += kLanes)
        for (int c = 0; c < kLanes; ++c)
          lanes[c] += x[j + c];
      for (; j < n; ++j)
        sum += x[j];
      for (float l : lanes)
        sum += l;
    }
    float mean = static_cast<float>(sum / n);
    for (float &l : lanes)
      l = 0;
    for (j = 0; j + kLanes <= n; j += kLanes)
      for (int c = 0; c < kLanes; ++c) {
        float d = x[j + c] - mean;
        lanes[c] += d * d;
      }
    double var = 0;
    for (; j < n; ++j)
      var += (x[j] - mean) * (x[j] - mean);
    for (float l : lanes)
      var += l;
    float inv = static_cast<float>(1.0 / std::sqrt(var / n + eps));
    if (scale && shift)
      for (j = 0; j < n; ++j)
        y[j] = (x[j] - mean) * inv * scale[j] + shift[j];
    else
      for (j = 0; j < n; ++j)
        y[j] = (x[j] - mean) * inv * (scale ? scale[j] : 1.0f) + (shift ? shift[j] : 0.0f);
  }
}
TFM_AVX512 void layerNormAvx512(const float *src, int64_t srcStride, float *dst,
                                int64_t dstStride, int64_t begin, int64_t end, int64_t n,
                                const float *scale, const float *shift, float eps, bool rms) {
  layerNormImpl(src, srcStride, dst, dstStride, begin, end, n, scale, shift, eps, rms);
}
TFM_AVX2_FMA void layerNormAvx2(const float *src, int64_t srcStride, float *dst,
                                int64_t dstStride, int64_t begin, int64_t end, int64_t n,
                                const float *scale, const float *shift, float eps, bool rms) {
  layerNormImpl(src, srcStride, dst, dstStride, begin, end, n, scale, shift, eps, rms);
}
void layerNormGeneric(const float *src, int64_t srcStride, float *dst, int64_t dstStride,
                      int64_t begin, int64_t end, int64_t n, const float *scale,
                      const float *shift, float eps, bool rms) {
  layerNormImpl(src, srcStride, dst, dstStride, begin, end, n, scale, shift, eps, rms);
}

void layerNorm(const float *src, int64_t srcStride, float *dst, int64_t dstStride,
               int64_t rows, int64_t n, const float *scale, const float *shift, float eps,
               bool rms, unsigned threads) {
  auto norm = pick(layerNormAvx512, layerNormAvx2, layerNormGeneric);
  if (rows * n < (1 << 15))
    threads = 1;
  parallelFor(rows, threads, [&](int64_t begin, int64_t end) {
    norm(src, srcStride, dst, dstStride, begin, end, n, scale, shift, eps, rms);
  });
}

} // namespace tfm::kernels
