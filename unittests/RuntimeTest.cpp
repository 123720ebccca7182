//===- RuntimeTest.cpp - Unit tests of the runtime's C ABI ---------*- C++ -*-===//
//
// Calls the C ABI the way generated code does (buffer records), and
// checks results against loops written here. Covers strided views, the
// broadcasting fallback, and errors reported instead of thrown.
//
//===----------------------------------------------------------------------===//

#include "tfm/Runtime/BufferRecord.h"
#include "tfm/Runtime/tfm_runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

import tfm.runtime;
import tfm.kernels;

namespace {
using Arg = tfm::runtime::RecordArg;
constexpr auto arg = [](const auto &d, int32_t dtype) { return tfm::runtime::recordOf(d, dtype); };

/// An MLIR ranked memref descriptor of rank R.
template <int R>
struct Desc {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[R];
  int64_t strides[R];
};

template <int R>
Desc<R> contiguous(std::vector<float> &data, std::array<int64_t, R> sizes) {
  Desc<R> d{data.data(), data.data(), 0, {}, {}};
  int64_t stride = 1;
  for (int i = R - 1; i >= 0; --i) {
    d.sizes[i] = sizes[i];
    d.strides[i] = stride;
    stride *= sizes[i];
  }
  return d;
}

TEST(Runtime, RecordIsReadWithOffset) {
  std::vector<float> data(10);
  Desc<1> d{data.data(), data.data(), 3, {4}, {2}};
  auto b = tfm::runtime::fromRecord(arg(d, TFM_DTYPE_F32));
  EXPECT_EQ(b.data, reinterpret_cast<char *>(data.data() + 3));
  EXPECT_EQ(b.dims, (std::vector<int64_t>{4}));
  EXPECT_EQ(b.strides, (std::vector<int64_t>{2}));
}

TEST(Runtime, MalformedRecordsAreErrors) {
  std::vector<float> data(4);
  Arg bad = arg(Desc<1>{data.data(), data.data(), 0, {4}, {1}}, 42);
  EXPECT_THROW(tfm::runtime::fromRecord(bad), std::runtime_error); // dtype
  bad.record.dtype = TFM_DTYPE_F32;
  bad.record.rank = TFM_MAX_RANK + 1;
  EXPECT_THROW(tfm::runtime::fromRecord(bad), std::runtime_error); // rank
  tfm_record_memref shortRef = tfm_record_ref(&bad.record);
  shortRef.size = 4;
  EXPECT_THROW(tfm::runtime::fromRecord(&shortRef), std::runtime_error); // not a record
  EXPECT_FALSE(tfm::runtime::fromRecord(Arg()).present());
}

TEST(Runtime, ReorderTransposesAStridedView) {
  std::vector<float> src(6), dst(6, -1);
  for (int i = 0; i < 6; ++i)
    src[i] = static_cast<float>(i); // [[0,1,2],[3,4,5]]
  Desc<2> view{src.data(), src.data(), 0, {3, 2}, {1, 3}}; // its transpose
  auto out = contiguous<2>(dst, {3, 2});
  _mlir_ciface_tfm_rt_reorder(arg(view, TFM_DTYPE_F32), arg(out, TFM_DTYPE_F32));
  ASSERT_EQ(tfm_rt_last_error(), nullptr);
  EXPECT_EQ(dst, (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(Runtime, MatmulWithEpilogue) {
  // [2x3] x [3x2] + bias, relu, + residual.
  std::vector<float> a = {1, -2, 3, 0.5f, 1, -1}, b = {1, 2, 0, -1, 3, 1}, bias = {-1, 0.5f};
  std::vector<float> res = {10, 20, 30, 40}, c(4);
  auto da = contiguous<2>(a, {2, 3}), db = contiguous<2>(b, {3, 2}), dc = contiguous<2>(c, {2, 2});
  auto dres = contiguous<2>(res, {2, 2});
  auto dbias = contiguous<1>(bias, {2});
  _mlir_ciface_tfm_rt_matmul(arg(da, TFM_DTYPE_F32), arg(db, TFM_DTYPE_F32),
                             arg(dbias, TFM_DTYPE_F32), Arg(), arg(dres, TFM_DTYPE_F32),
                             arg(dc, TFM_DTYPE_F32), /*relu*/ 3, 0);
  ASSERT_EQ(tfm_rt_last_error(), nullptr);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      double acc = bias[j];
      for (int k = 0; k < 3; ++k)
        acc += a[i * 3 + k] * b[k * 2 + j];
      EXPECT_NEAR(c[i * 2 + j], std::max(acc, 0.0) + res[i * 2 + j], 1e-5) << i << "," << j;
    }
}

TEST(Runtime, MatmulWithGatedEpilogue) {
  // A gated MLP's gate projection: silu(a x b^T + bias) * multiplier + residual,
  // b stored [N, K] (nn.Linear), against a naive loop.
  std::vector<float> a = {1, -2, 3, 0.5f, 1, -1}, b = {1, 0, 3, 2, -1, 1}, bias = {-1, 0.5f};
  std::vector<float> mul = {2, -0.5f, 1.5f, 3}, res = {10, 20, 30, 40}, c(4);
  auto da = contiguous<2>(a, {2, 3}), db = contiguous<2>(b, {2, 3}), dc = contiguous<2>(c, {2, 2});
  auto dmul = contiguous<2>(mul, {2, 2}), dres = contiguous<2>(res, {2, 2});
  auto dbias = contiguous<1>(bias, {2});
  _mlir_ciface_tfm_rt_matmul(arg(da, TFM_DTYPE_F32), arg(db, TFM_DTYPE_F32),
                             arg(dbias, TFM_DTYPE_F32), arg(dmul, TFM_DTYPE_F32),
                             arg(dres, TFM_DTYPE_F32), arg(dc, TFM_DTYPE_F32),
                             TFM_ACTIVATION_SILU, /*transpose_b*/ 1);
  ASSERT_EQ(tfm_rt_last_error(), nullptr);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      double acc = bias[j];
      for (int k = 0; k < 3; ++k)
        acc += a[i * 3 + k] * b[j * 3 + k];
      double want = acc / (1 + std::exp(-acc)) * mul[i * 2 + j] + res[i * 2 + j];
      EXPECT_NEAR(c[i * 2 + j], want, 1e-5) << i << "," << j;
    }
}

TEST(Runtime, SubtractionBroadcastingTheFirstOperand) {
  // [3] - [2x3]: oneDNN broadcasts only its second source; the runtime's
  // fallback must still compute lhs - rhs, not rhs - lhs.
  std::vector<float> lhs = {1, 2, 3}, rhs = {10, 20, 30, 40, 50, 60}, dst(6);
  auto dl = contiguous<1>(lhs, {3});
  auto dr = contiguous<2>(rhs, {2, 3}), dd = contiguous<2>(dst, {2, 3});
  _mlir_ciface_tfm_rt_binary(arg(dl, TFM_DTYPE_F32), arg(dr, TFM_DTYPE_F32), arg(dd, TFM_DTYPE_F32),
                             /*sub*/ 1);
  ASSERT_EQ(tfm_rt_last_error(), nullptr);
  EXPECT_EQ(dst, (std::vector<float>{-9, -18, -27, -39, -48, -57}));
}

TEST(Runtime, ErfMatchesTheStandardLibrary) {
  std::vector<float> src = {-2, -0.5f, 0, 0.25f, 3}, dst(5);
  auto ds = contiguous<1>(src, {5}), dd = contiguous<1>(dst, {5});
  _mlir_ciface_tfm_rt_eltwise(arg(ds, TFM_DTYPE_F32), arg(dd, TFM_DTYPE_F32), /*erf*/ 8, 0, 0);
  ASSERT_EQ(tfm_rt_last_error(), nullptr);
  for (int i = 0; i < 5; ++i)
    EXPECT_FLOAT_EQ(dst[i], std::erf(src[i]));
}

//===----------------------------------------------------------------------===//
// Attention (tfm_rt_sdpa) against a naive loop in double
//===----------------------------------------------------------------------===//

struct SdpaCase {
  int64_t t, past, heads, headDim;
  bool causal;
  int64_t ropeDim;
  bool cache;  ///< keys and values appended in place to one cache buffer
  bool packed; ///< q, k, v are column slices of one [t, width + 2 kv width] buffer
  int64_t kvHeads = 0; ///< 0: heads (multi-head attention)
  int64_t window = 0;  ///< causal sliding window (0: none)
};

void PrintTo(const SdpaCase &c, std::ostream *os) {
  *os << "t=" << c.t << " past=" << c.past << " heads=" << c.heads << "x" << c.headDim
      << " kv_heads=" << (c.kvHeads ? c.kvHeads : c.heads) << (c.causal ? " causal" : "")
      << " window=" << c.window << " rope=" << c.ropeDim << (c.cache ? " cache" : "")
      << (c.packed ? " packed" : "");
}

class Sdpa : public ::testing::TestWithParam<SdpaCase> {};

/// Rotates x (one head, rotate-half RoPE on its first 2 x inv.size() dims).
void rope(double *x, const std::vector<float> &inv, double pos) {
  int64_t half = static_cast<int64_t>(inv.size());
  for (int64_t i = 0; i < half; ++i) {
    double angle = pos * inv[i];
    double x1 = x[i], x2 = x[i + half];
    x[i] = x1 * std::cos(angle) - x2 * std::sin(angle);
    x[i + half] = x2 * std::cos(angle) + x1 * std::sin(angle);
  }
}

TEST_P(Sdpa, MatchesNaiveAttention) {
  const SdpaCase c = GetParam();
  int64_t kvHeads = c.kvHeads ? c.kvHeads : c.heads, group = c.heads / kvHeads;
  int64_t w = c.heads * c.headDim, kw = kvHeads * c.headDim, s = c.past + c.t,
          capacity = s + 3;
  double scale = 1.0 / std::sqrt(static_cast<double>(c.headDim));
  // Inverse frequencies 10000^(-2i/r), as f32 (the table a frontend passes).
  std::vector<float> inv(static_cast<size_t>(c.ropeDim / 2));
  for (size_t i = 0; i < inv.size(); ++i)
    inv[i] = static_cast<float>(std::pow(10000.0, -2.0 * static_cast<double>(i) / c.ropeDim));
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>(static_cast<int64_t>(state >> 33) % 2001 - 1000) / 250.0f;
  };
  // Inputs: q ([t, w]), k and v ([t, kw]), possibly slices of one packed row,
  // and the past.
  int64_t rowStride = c.packed ? w + 2 * kw : 0;
  std::vector<float> qkv(static_cast<size_t>(c.t * (w + 2 * kw))), pastK(c.past * kw),
      pastV(c.past * kw);
  for (auto *vec : {&qkv, &pastK, &pastV})
    for (float &x : *vec)
      x = next();
  auto view = [&](int which) {
    int64_t width = which == 0 ? w : kw;
    Desc<2> d{qkv.data(), qkv.data(), 0, {c.t, width}, {c.packed ? rowStride : width, 1}};
    int64_t before = which == 0 ? 0 : which == 1 ? w : w + kw;
    d.offset = c.packed ? before : before * c.t;
    return d;
  };
  Desc<2> q = view(0), k = view(1), v = view(2);
  auto at = [&](const Desc<2> &d, int64_t r, int64_t col) {
    return static_cast<double>(qkv[d.offset + r * d.strides[0] + col]);
  };
  std::vector<int64_t> positions(c.t);
  for (int64_t i = 0; i < c.t; ++i)
    positions[i] = c.past + i;
  Desc<1> pos{positions.data(), positions.data(), 0, {c.t}, {1}};
  auto dinv = contiguous<1>(inv, {static_cast<int64_t>(inv.size())});
  std::vector<float> out(c.t * w, -7);
  auto dout = contiguous<2>(out, {c.t, w});
  // With a cache: one buffer holding the past rows, passed as past and present.
  std::vector<float> cacheK(capacity * kw, -9), cacheV(capacity * kw, -9);
  std::copy(pastK.begin(), pastK.end(), cacheK.begin());
  std::copy(pastV.begin(), pastV.end(), cacheV.begin());
  Desc<2> pk{}, pv{}, presK{}, presV{};
  if (c.cache) {
    pk = {cacheK.data(), cacheK.data(), 0, {c.past, kw}, {kw, 1}};
    pv = {cacheV.data(), cacheV.data(), 0, {c.past, kw}, {kw, 1}};
    presK = {cacheK.data(), cacheK.data(), 0, {s, kw}, {kw, 1}};
    presV = {cacheV.data(), cacheV.data(), 0, {s, kw}, {kw, 1}};
  } else {
    pk = contiguous<2>(pastK, {c.past, kw});
    pv = contiguous<2>(pastV, {c.past, kw});
  }
  bool hasPast = c.cache || c.past > 0;
  // Grouped decode rows run on 2 threads whatever the host has, so the
  // threaded paths (keys split over the threads, by key/value head) are the
  // ones tested; the rest on the default.
  tfm_rt_set_threads(c.t == 1 && c.kvHeads > 0 ? 2 : 0);
  _mlir_ciface_tfm_rt_sdpa(arg(q, TFM_DTYPE_F32), arg(k, TFM_DTYPE_F32), arg(v, TFM_DTYPE_F32),
                           hasPast ? arg(pk, TFM_DTYPE_F32) : Arg(),
                           hasPast ? arg(pv, TFM_DTYPE_F32) : Arg(), arg(pos, TFM_DTYPE_I64),
                           c.ropeDim ? arg(dinv, TFM_DTYPE_F32) : Arg(), Arg(),
                           arg(dout, TFM_DTYPE_F32), c.cache ? arg(presK, TFM_DTYPE_F32) : Arg(),
                           c.cache ? arg(presV, TFM_DTYPE_F32) : Arg(), c.heads, kvHeads, scale,
                           c.causal, c.window);
  tfm_rt_set_threads(0);
  ASSERT_EQ(tfm_rt_last_error(), nullptr);

  // Keys and values of all s positions (new keys rotated), in double.
  std::vector<double> keys(s * kw), vals(s * kw);
  for (int64_t j = 0; j < s; ++j)
    for (int64_t e = 0; e < kw; ++e) {
      keys[j * kw + e] = j < c.past ? pastK[j * kw + e] : at(k, j - c.past, e);
      vals[j * kw + e] = j < c.past ? pastV[j * kw + e] : at(v, j - c.past, e);
    }
  for (int64_t j = c.past; j < s; ++j)
    for (int64_t h = 0; h < kvHeads; ++h)
      rope(&keys[j * kw + h * c.headDim], inv, static_cast<double>(j));
  double worst = 0;
  for (int64_t h = 0; h < c.heads; ++h)
    for (int64_t i = 0; i < c.t; ++i) {
      int64_t kvOffset = (h / group) * c.headDim;
      std::vector<double> qi(c.headDim), p(s);
      for (int64_t e = 0; e < c.headDim; ++e)
        qi[e] = at(q, i, h * c.headDim + e);
      rope(qi.data(), inv, static_cast<double>(c.past + i));
      int64_t count = c.causal ? c.past + i + 1 : s;
      int64_t first = c.causal && c.window ? std::max<int64_t>(0, count - c.window) : 0;
      double m = -1e300, sum = 0;
      for (int64_t j = first; j < count; ++j) {
        p[j] = 0;
        for (int64_t e = 0; e < c.headDim; ++e)
          p[j] += qi[e] * keys[j * kw + kvOffset + e];
        p[j] *= scale;
        m = std::max(m, p[j]);
      }
      for (int64_t j = first; j < count; ++j)
        sum += p[j] = std::exp(p[j] - m);
      for (int64_t e = 0; e < c.headDim; ++e) {
        double o = 0;
        for (int64_t j = first; j < count; ++j)
          o += p[j] / sum * vals[j * kw + kvOffset + e];
        worst = std::max(worst, std::abs(o - out[i * w + h * c.headDim + e]));
      }
    }
  EXPECT_LT(worst, 1e-4);
  if (c.cache) { // the cache holds the past, then the new (rotated) keys
    double cacheErr = 0;
    for (int64_t j = 0; j < s * kw; ++j)
      cacheErr = std::max({cacheErr, std::abs(cacheK[j] - keys[j]), std::abs(cacheV[j] - vals[j])});
    EXPECT_LT(cacheErr, 1e-5);
    EXPECT_EQ(cacheK[s * kw], -9) << "wrote past the present rows";
  }
}

// Few queries take the direct kernel, many (t >= 16) oneDNN's batched
// matmuls with the masked softmax between, in blocks of 128 queries.
INSTANTIATE_TEST_SUITE_P(
    Runtime, Sdpa,
    ::testing::Values(SdpaCase{1, 0, 4, 16, true, 0, true, false},
                      SdpaCase{1, 40, 4, 16, true, 0, true, false},
                      SdpaCase{3, 5, 2, 64, true, 0, true, true},
                      SdpaCase{5, 0, 3, 8, false, 0, false, false},
                      SdpaCase{20, 0, 4, 16, true, 0, false, false},
                      SdpaCase{20, 0, 4, 16, true, 0, false, true},
                      SdpaCase{24, 9, 2, 64, true, 0, true, true},
                      SdpaCase{17, 0, 3, 8, false, 0, false, false},
                      SdpaCase{18, 2, 2, 16, true, 16, true, false},
                      SdpaCase{2, 30, 2, 16, true, 8, true, true},
                      SdpaCase{33, 7, 12, 64, true, 64, true, true},
                      SdpaCase{70, 0, 5, 24, true, 0, false, false},
                      // several blocks of 128 queries, the last one partial
                      SdpaCase{150, 5, 2, 16, true, 0, true, true},
                      SdpaCase{140, 0, 2, 16, false, 8, false, false},
                      // grouped-query (groups of 3 and 7), multi-query, windows
                      SdpaCase{2, 9, 6, 16, true, 8, true, true, 2},
                      SdpaCase{21, 4, 6, 16, true, 16, true, true, 2},
                      SdpaCase{3, 5, 7, 8, true, 0, true, false, 1},
                      SdpaCase{40, 0, 7, 8, true, 4, false, true, 1},
                      SdpaCase{1, 30, 4, 16, true, 8, true, true, 2, 5},
                      SdpaCase{6, 10, 4, 16, true, 0, true, false, 4, 3},
                      SdpaCase{150, 20, 4, 16, true, 8, true, true, 2, 37},
                      SdpaCase{20, 0, 3, 8, true, 0, false, false, 3, 1},
                      // decode long enough for threads (2): keys split over the
                      // threads (2 kv heads) and by key/value head (4 kv heads)
                      SdpaCase{1, 2000, 8, 64, true, 0, true, false, 2},
                      // One row with fewer key/value heads than 2 a thread:
                      // keys split over the threads and merged (flash-decoding),
                      // with a window, multi-query, and not causal.
                      SdpaCase{1, 700, 6, 32, true, 16, true, true, 1, 100},
                      SdpaCase{1, 500, 9, 64, false, 0, true, false, 3},
                      SdpaCase{2, 600, 8, 32, true, 16, true, true, 4, 300}));

// Packed sequences (an encoder's batch in one call): runs of equal ids
// attend only within themselves; each run equals a call of its own, and the
// -O0 mask (tfm_rt_sequence_fill) keeps exactly the same entries.
TEST(Runtime, SdpaPackedSequencesEqualSeparateCalls) {
  const int64_t heads = 4, kvHeads = 2, dh = 8, w = heads * dh, kw = kvHeads * dh;
  // Runs of 5, 1, 20 (the batched-matmul path) and 3 rows; id 7 appears in
  // two separate runs: a sequence is a run, not an id.
  std::vector<int64_t> ids = {7, 7, 7, 7, 7, 3};
  ids.insert(ids.end(), 20, 9);
  ids.insert(ids.end(), {7, 7, 7}); // runs: [0,5) [5,6) [6,26) [26,29)
  const int64_t t = static_cast<int64_t>(ids.size());
  uint64_t state = 99;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>(static_cast<int64_t>(state >> 33) % 2001 - 1000) / 250.0f;
  };
  std::vector<float> q(t * w), k(t * kw), v(t * kw), packed(t * w, -7), single(t * w, -7);
  for (auto *vec : {&q, &k, &v})
    for (float &x : *vec)
      x = next();
  auto dq = contiguous<2>(q, {t, w}), dk = contiguous<2>(k, {t, kw}), dv = contiguous<2>(v, {t, kw});
  auto dout = contiguous<2>(packed, {t, w});
  Desc<1> dids{ids.data(), ids.data(), 0, {t}, {1}};
  for (bool causal : {false, true}) {
    _mlir_ciface_tfm_rt_sdpa(arg(dq, TFM_DTYPE_F32), arg(dk, TFM_DTYPE_F32),
                             arg(dv, TFM_DTYPE_F32), Arg(), Arg(), Arg(), Arg(),
                             arg(dids, TFM_DTYPE_I64), arg(dout, TFM_DTYPE_F32), Arg(), Arg(),
                             heads, kvHeads, 0.35, causal, 0);
    ASSERT_EQ(tfm_rt_last_error(), nullptr);
    for (auto [r0, n] : {std::pair<int64_t, int64_t>{0, 5}, {5, 1}, {6, 20}, {26, 3}}) {
      Desc<2> sq{q.data(), q.data(), r0 * w, {n, w}, {w, 1}};
      Desc<2> sk{k.data(), k.data(), r0 * kw, {n, kw}, {kw, 1}};
      Desc<2> sv{v.data(), v.data(), r0 * kw, {n, kw}, {kw, 1}};
      Desc<2> so{single.data(), single.data(), r0 * w, {n, w}, {w, 1}};
      _mlir_ciface_tfm_rt_sdpa(arg(sq, TFM_DTYPE_F32), arg(sk, TFM_DTYPE_F32),
                               arg(sv, TFM_DTYPE_F32), Arg(), Arg(), Arg(), Arg(), Arg(),
                               arg(so, TFM_DTYPE_F32), Arg(), Arg(), heads, kvHeads, 0.35,
                               causal, 0);
      ASSERT_EQ(tfm_rt_last_error(), nullptr);
    }
    for (int64_t e = 0; e < t * w; ++e)
      ASSERT_NEAR(packed[e], single[e], 1e-6) << "element " << e << (causal ? " causal" : "");
  }
  // sequence_fill on [2, t, t] scores.
  std::vector<float> scores(2 * t * t), filled(2 * t * t, 0);
  for (float &x : scores)
    x = next();
  auto ds = contiguous<3>(scores, {2, t, t}), df = contiguous<3>(filled, {2, t, t});
  _mlir_ciface_tfm_rt_sequence_fill(arg(ds, TFM_DTYPE_F32), arg(dids, TFM_DTYPE_I64),
                                    arg(df, TFM_DTYPE_F32), -1e30);
  ASSERT_EQ(tfm_rt_last_error(), nullptr);
  auto runOf = [](int64_t r) { return r < 5 ? 0 : r < 6 ? 1 : r < 26 ? 2 : 3; };
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t i = 0; i < t; ++i)
      for (int64_t j = 0; j < t; ++j) {
        int64_t e = (h * t + i) * t + j;
        ASSERT_EQ(filled[e], runOf(i) == runOf(j) ? scores[e] : -1e30f) << i << "," << j;
      }
}

TEST(Runtime, EpilogueMatchesLibmFormulas) {
  // The quantized GEMV's vectorized epilogue (the copy TFM_KERNELS selects)
  // against the formulas in double: 101 outputs (not a multiple of the 16
  // lanes) over [-60, 60], with and without bias, multiplier and residual.
  const int64_t n = 101;
  std::vector<float> x(n), bias(n), mul(n), res(n);
  for (int64_t c = 0; c < n; ++c) {
    x[c] = -60.0f + 120.0f * c / (n - 1) + 0.013f * c;
    bias[c] = 0.25f * std::sin(0.7f * c);
    mul[c] = 1.5f - 0.02f * c;
    res[c] = std::cos(0.3f * c);
  }
  using tfm::kernels::Activation;
  auto formula = [](Activation act, double v) {
    switch (act) {
    case Activation::None: return v;
    case Activation::Relu: return v > 0 ? v : 0.0;
    case Activation::Silu: return v / (1 + std::exp(-v));
    case Activation::GeluTanh:
      return 0.5 * v * (1 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
    }
    return v;
  };
  for (Activation act : {Activation::None, Activation::Relu, Activation::Silu, Activation::GeluTanh})
    for (bool extras : {false, true}) {
      std::vector<float> row = x;
      tfm::kernels::epilogue(row.data(), n, extras ? bias.data() : nullptr, act,
                             extras ? mul.data() : nullptr, extras ? res.data() : nullptr);
      for (int64_t c = 0; c < n; ++c) {
        double v = formula(act, static_cast<double>(x[c]) + (extras ? bias[c] : 0.0f));
        double want = extras ? v * mul[c] + res[c] : v;
        EXPECT_NEAR(row[c], want, 1e-6 * (1 + std::fabs(want)))
            << "activation " << static_cast<int>(act) << " extras " << extras << " at " << x[c];
      }
    }
  // NaN stays NaN through every activation but relu (max semantics).
  for (Activation act : {Activation::None, Activation::Silu, Activation::GeluTanh}) {
    float v = std::numeric_limits<float>::quiet_NaN();
    tfm::kernels::epilogue(&v, 1, nullptr, act, nullptr, nullptr);
    EXPECT_TRUE(std::isnan(v)) << static_cast<int>(act);
  }
  // Far below exp's range as the libm formulas give it: -0 for very
  // negative finite values (not the polynomial's floor times x), NaN at
  // -inf (-inf * 0), +inf at +inf.
  const float inf = std::numeric_limits<float>::infinity();
  for (Activation act : {Activation::Silu, Activation::GeluTanh}) {
    std::vector<float> v = {-1e38f, -std::numeric_limits<float>::max(), -200.0f, -inf, inf};
    tfm::kernels::epilogue(v.data(), static_cast<int64_t>(v.size()), nullptr, act, nullptr,
                           nullptr);
    for (int i = 0; i < 3; ++i)
      EXPECT_LT(std::fabs(v[i]), 1e-30f) << static_cast<int>(act) << " element " << i;
    EXPECT_TRUE(std::isnan(v[3])) << static_cast<int>(act);
    EXPECT_EQ(v[4], inf) << static_cast<int>(act);
  }
}

TEST(Runtime, LayerNormMatchesNaiveLoop) {
  // 3 rows of 37 (not a multiple of the 16 lanes), the middle row strided.
  const int64_t rows = 3, n = 37, stride = 40;
  std::vector<float> src(rows * stride), dst(rows * stride, -5), scale(n), shift(n);
  for (int64_t i = 0; i < rows * stride; ++i)
    src[i] = std::sin(0.37f * i) * 3 + (i / stride == 1 ? 100 : 0);
  for (int64_t j = 0; j < n; ++j) {
    scale[j] = 0.5f + 0.01f * j;
    shift[j] = -0.2f + 0.03f * j;
  }
  Desc<2> s{src.data(), src.data(), 0, {rows, n}, {stride, 1}};
  Desc<2> d{dst.data(), dst.data(), 0, {rows, n}, {stride, 1}};
  auto dscale = contiguous<1>(scale, {n}), dshift = contiguous<1>(shift, {n});
  _mlir_ciface_tfm_rt_layer_norm(arg(s, TFM_DTYPE_F32), arg(dscale, TFM_DTYPE_F32),
                                 arg(dshift, TFM_DTYPE_F32), arg(d, TFM_DTYPE_F32), 1e-5, 0);
  ASSERT_EQ(tfm_rt_last_error(), nullptr);
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < n; ++j)
      mean += src[r * stride + j] / static_cast<double>(n);
    for (int64_t j = 0; j < n; ++j)
      var += (src[r * stride + j] - mean) * (src[r * stride + j] - mean) / n;
    for (int64_t j = 0; j < n; ++j) {
      double want = (src[r * stride + j] - mean) / std::sqrt(var + 1e-5) * scale[j] + shift[j];
      EXPECT_NEAR(dst[r * stride + j], want, 1e-5) << r << "," << j;
    }
    EXPECT_EQ(dst[r * stride + n], -5) << "wrote into the row padding";
  }
}

TEST(Runtime, RmsNormMatchesNaiveLoop) {
  // RMS normalization (transformers' LlamaRMSNorm): no centring; 37-wide rows
  // with a large offset that a centring norm would remove.
  const int64_t rows = 3, n = 37;
  std::vector<float> src(rows * n), dst(rows * n, -5), scale(n);
  for (int64_t i = 0; i < rows * n; ++i)
    src[i] = std::sin(0.37f * i) * 3 + (i / n == 1 ? 100 : 0);
  for (int64_t j = 0; j < n; ++j)
    scale[j] = 0.5f + 0.01f * j;
  auto s = contiguous<2>(src, {rows, n}), d = contiguous<2>(dst, {rows, n});
  auto dscale = contiguous<1>(scale, {n});
  _mlir_ciface_tfm_rt_layer_norm(arg(s, TFM_DTYPE_F32), arg(dscale, TFM_DTYPE_F32), Arg(),
                                 arg(d, TFM_DTYPE_F32), 1e-6, 1);
  ASSERT_EQ(tfm_rt_last_error(), nullptr);
  for (int64_t r = 0; r < rows; ++r) {
    double ms = 0;
    for (int64_t j = 0; j < n; ++j)
      ms += static_cast<double>(src[r * n + j]) * src[r * n + j] / n;
    for (int64_t j = 0; j < n; ++j) {
      double want = src[r * n + j] / std::sqrt(ms + 1e-6) * scale[j];
      EXPECT_NEAR(dst[r * n + j], want, 1e-5 * std::max(1.0, std::abs(want))) << r << "," << j;
    }
  }
}

// The unfused causal mask (-O0): entries after the query's position, and
// with a window before its last `window` keys, become the fill value.
TEST(Runtime, CausalFillMatchesMask) {
  const int64_t h = 2, t = 3, keys = 5, window = 2; // 2 cached keys, then 3 queries
  std::vector<float> src(h * t * keys), dst(h * t * keys, -5);
  for (size_t i = 0; i < src.size(); ++i)
    src[i] = static_cast<float>(i);
  auto ds = contiguous<3>(src, {h, t, keys}), dd = contiguous<3>(dst, {h, t, keys});
  _mlir_ciface_tfm_rt_causal_fill(arg(ds, TFM_DTYPE_F32), arg(dd, TFM_DTYPE_F32), -1e9, window);
  ASSERT_EQ(tfm_rt_last_error(), nullptr);
  for (int64_t b = 0; b < h; ++b)
    for (int64_t i = 0; i < t; ++i)
      for (int64_t j = 0; j < keys; ++j) {
        int64_t at = (b * t + i) * keys + j, pos = keys - t + i;
        bool keep = j <= pos && j > pos - window;
        EXPECT_EQ(dst[at], keep ? src[at] : -1e9f) << b << "," << i << "," << j;
      }
}

// A NaN score (NaN weights) makes its row NaN and leaves the other rows
// exact; the exp approximation never converts NaN to an integer (undefined
// behaviour that UBSan reports). Checked against std::exp.
TEST(Runtime, MaskedSoftmaxPropagatesNaN) {
  const int64_t t = 2, s = 20;
  std::vector<float> scores(t * s);
  for (int64_t i = 0; i < t * s; ++i)
    scores[i] = 0.1f * static_cast<float>(i % 7) - 0.3f;
  std::vector<float> expected(scores);
  scores[3] = std::numeric_limits<float>::quiet_NaN();
  tfm::kernels::maskedSoftmax(scores.data(), 1, t, s, 0, /*causal=*/false, 1.0f, 1);
  for (int64_t j = 0; j < s; ++j)
    EXPECT_TRUE(std::isnan(scores[j])) << j;
  double sum = 0, m = -1e30;
  for (int64_t j = 0; j < s; ++j)
    m = std::max(m, static_cast<double>(expected[s + j]));
  for (int64_t j = 0; j < s; ++j)
    sum += std::exp(expected[s + j] - m);
  for (int64_t j = 0; j < s; ++j)
    EXPECT_NEAR(scores[s + j], std::exp(expected[s + j] - m) / sum, 1e-6) << j;
}

TEST(Runtime, Bf16ConversionRoundsToNearestEven) {
  auto bits = [](uint32_t u) { return std::bit_cast<float>(u); };
  // value -> expected bf16 bits; 17 values so that both the 16-lane body and
  // the scalar tail of the loop run.
  std::vector<std::pair<float, uint16_t>> cases = {
      {1.0f, 0x3f80},
      {bits(0x3f808000), 0x3f80}, // halfway, even below: down
      {bits(0x3f818000), 0x3f82}, // halfway, odd below: up
      {bits(0x3f808001), 0x3f81}, // just above halfway: up
      {bits(0x3f807fff), 0x3f80}, // just below halfway: down
      {-2.5f, 0xc020},
      {0.0f, 0x0000},
      {-0.0f, 0x8000},
      {bits(0x7f800000), 0x7f80},  // +inf
      {bits(0xff800000), 0xff80},  // -inf
      {bits(0x7f7fffff), 0x7f80},  // the largest float rounds to +inf
      {bits(0x00000001), 0x0000},  // the smallest denormal rounds to 0
      {bits(0x7fc00000), 0x7fc0},  // quiet NaN
      {3.14159265f, 0x4049},
      {1e-3f, 0x3a83},
      {65504.0f, 0x4780},
      {-1e30f, 0xf14a},  // 0xf149f2ca: low half above halfway, up
  };
  std::vector<float> src;
  for (auto &c : cases)
    src.push_back(c.first);
  std::vector<uint16_t> dst(src.size() + 1, 0xdead);
  tfm::kernels::toBf16(src.data(), dst.data(), static_cast<int64_t>(src.size()));
  for (size_t i = 0; i < cases.size(); ++i)
    EXPECT_EQ(dst[i], cases[i].second) << "case " << i << ": " << src[i];
  EXPECT_EQ(dst.back(), 0xdead) << "wrote past the end";
  // A signalling NaN whose payload sits in the low bits stays a NaN.
  float snan = bits(0x7f800001);
  uint16_t out = 0;
  tfm::kernels::toBf16(&snan, &out, 1);
  EXPECT_EQ(out & 0x7f80, 0x7f80);
  EXPECT_NE(out & 0x007f, 0) << "became infinity";
}

/// Exits 0 if a failing call records its error and later calls keep it.
[[noreturn]] void failThenCallAgain() {
  std::vector<float> a(6), b(6), c(4);
  auto da = contiguous<2>(a, {2, 3}), db = contiguous<2>(b, {2, 3});
  auto dc = contiguous<2>(c, {2, 2});
  // K mismatch (3 vs 2): oneDNN refuses to create the primitive.
  _mlir_ciface_tfm_rt_matmul(arg(da, TFM_DTYPE_F32), arg(db, TFM_DTYPE_F32), Arg(), Arg(), Arg(),
                             arg(dc, TFM_DTYPE_F32), 0, 0);
  const char *error = tfm_rt_last_error();
  bool reported = error && std::string(error).find("matmul: oneDNN error") != std::string::npos;
  // Later calls do nothing and keep the first error.
  _mlir_ciface_tfm_rt_eltwise(arg(da, TFM_DTYPE_F32), arg(da, TFM_DTYPE_F32), 99, 0, 0);
  bool kept = error && std::string(tfm_rt_last_error()).find("matmul") != std::string::npos;
  std::fprintf(stderr, "%s\n", error ? error : "(no error)");
  std::exit(reported && kept ? 0 : 1);
}

// The first error is sticky by design, so this runs in a child process
// (a death test) and leaves the other tests' runtime clean.
TEST(RuntimeDeathTest, ErrorsAreRecordedNotThrown) {
  EXPECT_EXIT(failThenCallAgain(), ::testing::ExitedWithCode(0), "matmul: oneDNN error");
}

} // namespace
