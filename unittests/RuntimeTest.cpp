//===- RuntimeTest.cpp - Unit tests of the runtime's C ABI ---------*- C++ -*-===//
//
// Calls the C ABI the way generated code does (memref descriptors), and
// checks results against loops written here. Covers strided views, the
// broadcasting fallback, and errors reported instead of thrown.
//
//===----------------------------------------------------------------------===//

#include "tfm/Runtime/tfm_runtime.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <vector>

import tfm.runtime;

namespace {

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

TEST(Runtime, DescriptorIsReadWithOffset) {
  std::vector<float> data(10);
  Desc<1> d{data.data(), data.data(), 3, {4}, {2}};
  auto b = tfm::runtime::fromDescriptor(&d, 1, TFM_DTYPE_F32);
  EXPECT_EQ(b.data, reinterpret_cast<char *>(data.data() + 3));
  EXPECT_EQ(b.dims, (std::vector<int64_t>{4}));
  EXPECT_EQ(b.strides, (std::vector<int64_t>{2}));
}

TEST(Runtime, ReorderTransposesAStridedView) {
  std::vector<float> src(6), dst(6, -1);
  for (int i = 0; i < 6; ++i)
    src[i] = static_cast<float>(i); // [[0,1,2],[3,4,5]]
  Desc<2> view{src.data(), src.data(), 0, {3, 2}, {1, 3}}; // its transpose
  auto out = contiguous<2>(dst, {3, 2});
  tfm_rt_reorder(&view, 2, TFM_DTYPE_F32, &out, 2, TFM_DTYPE_F32);
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
  tfm_rt_matmul(&da, 2, TFM_DTYPE_F32, &db, 2, TFM_DTYPE_F32, &dbias, 1, TFM_DTYPE_F32, &dres, 2,
                TFM_DTYPE_F32, &dc, 2, TFM_DTYPE_F32, /*relu*/ 3, 0);
  ASSERT_EQ(tfm_rt_last_error(), nullptr);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      double acc = bias[j];
      for (int k = 0; k < 3; ++k)
        acc += a[i * 3 + k] * b[k * 2 + j];
      EXPECT_NEAR(c[i * 2 + j], std::max(acc, 0.0) + res[i * 2 + j], 1e-5) << i << "," << j;
    }
}

TEST(Runtime, SubtractionBroadcastingTheFirstOperand) {
  // [3] - [2x3]: oneDNN broadcasts only its second source; the runtime's
  // fallback must still compute lhs - rhs, not rhs - lhs.
  std::vector<float> lhs = {1, 2, 3}, rhs = {10, 20, 30, 40, 50, 60}, dst(6);
  auto dl = contiguous<1>(lhs, {3});
  auto dr = contiguous<2>(rhs, {2, 3}), dd = contiguous<2>(dst, {2, 3});
  tfm_rt_binary(&dl, 1, TFM_DTYPE_F32, &dr, 2, TFM_DTYPE_F32, &dd, 2, TFM_DTYPE_F32, /*sub*/ 1);
  ASSERT_EQ(tfm_rt_last_error(), nullptr);
  EXPECT_EQ(dst, (std::vector<float>{-9, -18, -27, -39, -48, -57}));
}

TEST(Runtime, ErfMatchesTheStandardLibrary) {
  std::vector<float> src = {-2, -0.5f, 0, 0.25f, 3}, dst(5);
  auto ds = contiguous<1>(src, {5}), dd = contiguous<1>(dst, {5});
  tfm_rt_eltwise(&ds, 1, TFM_DTYPE_F32, &dd, 1, TFM_DTYPE_F32, /*erf*/ 8, 0, 0);
  ASSERT_EQ(tfm_rt_last_error(), nullptr);
  for (int i = 0; i < 5; ++i)
    EXPECT_FLOAT_EQ(dst[i], std::erf(src[i]));
}

// Must stay the last test of this binary that calls the runtime: the first
// error is sticky by design.
TEST(Runtime, ZErrorsAreRecordedNotThrown) {
  std::vector<float> a(6), b(6), c(4);
  auto da = contiguous<2>(a, {2, 3}), db = contiguous<2>(b, {2, 3}), dc = contiguous<2>(c, {2, 2});
  // K mismatch (3 vs 2): oneDNN refuses to create the primitive.
  tfm_rt_matmul(&da, 2, TFM_DTYPE_F32, &db, 2, TFM_DTYPE_F32, nullptr, 0, 0, nullptr, 0, 0, &dc, 2,
                TFM_DTYPE_F32, 0, 0);
  const char *error = tfm_rt_last_error();
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(error).find("matmul: oneDNN error"), std::string::npos) << error;
  // Later calls do nothing and keep the first error.
  tfm_rt_eltwise(&da, 2, TFM_DTYPE_F32, &da, 2, TFM_DTYPE_F32, 99, 0, 0);
  EXPECT_NE(std::string(tfm_rt_last_error()).find("matmul"), std::string::npos);
}

} // namespace
