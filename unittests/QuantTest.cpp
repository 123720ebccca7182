//===- QuantTest.cpp - Weight-only int8/int4: format and kernels --*- C++ -*-===//
//
// The quantized format (tfm.quant) against its definition written out here
// (symmetric, one scale per group along K, round half away from zero), and
// the runtime's quantized matmul (GEMV for a few rows, dequantization into
// oneDNN for many) against naive loops: exactly the integer arithmetic the
// kernel documents (activations quantized per block of 32), and the f32
// product within the quantization error. Runs on the widest kernels the CPU
// has, and again with TFM_KERNELS=avx2 and TFM_KERNELS=generic
// (unittests/CMakeLists.txt).
//
//===----------------------------------------------------------------------===//

#include "tfm/Runtime/BufferRecord.h"
#include "tfm/Runtime/tfm_runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

import tfm.kernels;
import tfm.quant;
import tfm.qkernels;
import tfm.runtime_quantized;

namespace {

using tfm::quant::Scheme;

/// Deterministic values in [-1, 1) with a few larger outliers.
std::vector<float> values(int64_t n, uint32_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  uint32_t x = seed * 2654435761u + 1;
  for (auto &f : v) {
    x = x * 1664525u + 1013904223u;
    f = static_cast<float>(x >> 8) / static_cast<float>(1u << 24) * 2.0f - 1.0f;
    if ((x & 0xff) == 7)
      f *= 8.0f;
  }
  return v;
}

/// The definition: W [K, N] (kn) or [N, K]; integers q[n][k] (unpadded) and
/// scales[n][g].
struct Naive {
  std::vector<std::vector<int>> q;
  std::vector<std::vector<float>> scale;
};
Naive naiveQuantize(const std::vector<float> &w, bool kn, int64_t k, int64_t n, Scheme s) {
  Naive r;
  int64_t groups = (k + s.group - 1) / s.group;
  r.q.assign(n, std::vector<int>(k));
  r.scale.assign(n, std::vector<float>(groups));
  for (int64_t c = 0; c < n; ++c)
    for (int64_t g = 0; g < groups; ++g) {
      float amax = 0;
      for (int64_t i = g * s.group; i < std::min(k, (g + 1) * s.group); ++i)
        amax = std::max(amax, std::fabs(kn ? w[i * n + c] : w[c * k + i]));
      float scale = amax / static_cast<float>(s.qmax());
      r.scale[c][g] = scale;
      for (int64_t i = g * s.group; i < std::min(k, (g + 1) * s.group); ++i) {
        float v = kn ? w[i * n + c] : w[c * k + i];
        r.q[c][i] = scale > 0 ? static_cast<int>(std::round(v / scale)) : 0;
      }
    }
  return r;
}

class QuantFormat : public ::testing::TestWithParam<std::tuple<int, int64_t, int64_t, bool>> {};

TEST_P(QuantFormat, MatchesTheDefinition) {
  auto [bits, group, k, kn] = GetParam();
  Scheme s{bits, group};
  int64_t n = 5;
  std::vector<float> w = values(k * n, 3);
  auto q = tfm::quant::quantize("w", w.data(), tfm::quant::Source::F32, kn, k, n, s);
  Naive ref = naiveQuantize(w, kn, k, n, s);
  ASSERT_EQ(q.q.size(), static_cast<size_t>(n * s.rowBytes(k)));
  ASSERT_EQ(q.scales.size(), static_cast<size_t>(n * s.groups(k)));
  for (int64_t c = 0; c < n; ++c) {
    const uint8_t *row = q.q.data() + c * s.rowBytes(k);
    for (int64_t i = 0; i < s.paddedK(k); ++i) {
      // The packing, read byte by byte as the format documents it.
      int v = bits == 8 ? static_cast<int8_t>(row[i])
                        : ((i % 32) < 16 ? row[16 * (i / 32) + i % 16] & 0xf
                                         : row[16 * (i / 32) + i % 16] >> 4) - 8;
      EXPECT_EQ(v, i < k ? ref.q[c][i] : 0) << "column " << c << " k " << i;
    }
    for (int64_t g = 0; g < s.groups(k); ++g)
      EXPECT_EQ(q.scales[c * s.groups(k) + g], g < (int64_t)ref.scale[c].size() ? ref.scale[c][g] : 0.0f);
    std::vector<float> deq(k);
    tfm::quant::dequantizeColumn(q.q.data(), q.scales.data(), s, k, c, deq.data());
    for (int64_t i = 0; i < k; ++i)
      EXPECT_EQ(deq[i], ref.scale[c][i / group] * static_cast<float>(ref.q[c][i]));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Schemes, QuantFormat,
    ::testing::Values(std::make_tuple(8, 32, 64, true), std::make_tuple(8, 64, 200, false),
                      std::make_tuple(8, 128, 40, true), std::make_tuple(4, 32, 96, true),
                      std::make_tuple(4, 64, 70, false), std::make_tuple(4, 32, 33, true)));

TEST(QuantFormat, NonFiniteWeightsAreAnErrorNamingTheElement) {
  std::vector<float> w(64, 0.5f);
  w[37] = std::nanf("");
  try {
    tfm::quant::quantize("h.0.mlp.c_fc.weight", w.data(), tfm::quant::Source::F32, true, 32, 2,
                         Scheme{8, 32});
    FAIL() << "no error";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'h.0.mlp.c_fc.weight' has a non-finite value"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("at element 37"), std::string::npos) << e.what();
  }
}

TEST(QuantFormat, HalfAndBfloat16SourcesConvertExactly) {
  uint16_t half[] = {0x3c00, 0xc000, 0x0001, 0x7bff}, bf[] = {0x3f80, 0xc040};
  EXPECT_EQ(tfm::quant::sourceAt(half, tfm::quant::Source::F16, 0), 1.0f);
  EXPECT_EQ(tfm::quant::sourceAt(half, tfm::quant::Source::F16, 1), -2.0f);
  EXPECT_EQ(tfm::quant::sourceAt(half, tfm::quant::Source::F16, 2), std::ldexp(1.0f, -24));
  EXPECT_EQ(tfm::quant::sourceAt(half, tfm::quant::Source::F16, 3), 65504.0f);
  EXPECT_EQ(tfm::quant::sourceAt(bf, tfm::quant::Source::BF16, 0), 1.0f);
  EXPECT_EQ(tfm::quant::sourceAt(bf, tfm::quant::Source::BF16, 1), -3.0f);
}

/// MLIR memref descriptor of rank 2.
struct Desc2 {
  void *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
};
Desc2 desc(void *p, int64_t rows, int64_t cols, int64_t ld) {
  return Desc2{p, p, 0, {rows, cols}, {ld, 1}};
}
struct Desc1 {
  void *allocated, *aligned;
  int64_t offset, sizes[1], strides[1];
};

class QuantizedMatmul
    : public ::testing::TestWithParam<std::tuple<int, int64_t, int64_t, int64_t>> {};

/// y = act(x W + bias) * multiplier + residual through the C ABI, act GELU
/// (tanh) for odd M and SiLU for even M, M rows (1-4: the GEMV; more:
/// dequantization into oneDNN's matmul and its post-ops), against (1) the kernel's
/// documented arithmetic in double (activations quantized per block of 32)
/// for the GEMV, the dequantized weights in double for oneDNN, both within
/// f32 rounding; and (2) the f32 product within the quantization error.
TEST_P(QuantizedMatmul, MatchesNaiveLoops) {
  auto [bits, group, m, k] = GetParam();
  Scheme s{bits, group};
  int64_t n = 67, lda = k + 3; // rows at a stride wider than K
  std::vector<float> w = values(k * n, 11), a = values(m * lda, 5), bias = values(n, 7),
                     res = values(m * n, 9), mul = values(m * n, 13), y(m * n, 0);
  auto quant = tfm::quant::quantize("w", w.data(), tfm::quant::Source::F32, true, k, n, s);
  Naive ref = naiveQuantize(w, true, k, n, s);
  Desc2 da = desc(a.data(), m, k, lda), dq = desc(quant.q.data(), n, s.rowBytes(k), s.rowBytes(k)),
        ds = desc(quant.scales.data(), n, s.groups(k), s.groups(k)), dr = desc(res.data(), m, n, n),
        dm = desc(mul.data(), m, n, n), dy = desc(y.data(), m, n, n);
  bool silu = m % 2 == 0;
  Desc1 db{bias.data(), bias.data(), 0, {n}, {1}};
  _mlir_ciface_tfm_rt_quantized_matmul(
      tfm::runtime::recordOf(da, TFM_DTYPE_F32), tfm::runtime::recordOf(dq, TFM_DTYPE_I8),
      tfm::runtime::recordOf(ds, TFM_DTYPE_F32), tfm::runtime::recordOf(db, TFM_DTYPE_F32),
      tfm::runtime::recordOf(dm, TFM_DTYPE_F32), tfm::runtime::recordOf(dr, TFM_DTYPE_F32),
      tfm::runtime::recordOf(dy, TFM_DTYPE_F32), silu ? TFM_ACTIVATION_SILU : TFM_ACTIVATION_GELU_TANH,
      bits, group);
  ASSERT_EQ(tfm_rt_last_error(), nullptr) << tfm_rt_last_error();
  auto act = [silu](double x) {
    return silu ? x / (1 + std::exp(-x))
                : 0.5 * x * (1 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
  };
  bool gemv = tfm::runtime::integerMatmul(m, s); // activations quantized too
  for (int64_t i = 0; i < m; ++i) {
    // Activations as the GEMV quantizes them: per block of 32, max |x| / 127.
    std::vector<double> xq(k), xStep(k);
    for (int64_t b = 0; b * 32 < k; ++b) {
      float amax = 0;
      for (int64_t j = b * 32; j < std::min(k, b * 32 + 32); ++j)
        amax = std::max(amax, std::fabs(a[i * lda + j]));
      float sx = amax / 127.0f;
      for (int64_t j = b * 32; j < std::min(k, b * 32 + 32); ++j) {
        xq[j] = amax > 0 ? sx * std::lround(a[i * lda + j] * (127.0f / amax)) : 0.0;
        xStep[j] = sx;
      }
    }
    for (int64_t c = 0; c < n; ++c) {
      double exact = bias[c], f32 = bias[c], bound = 0;
      for (int64_t j = 0; j < k; ++j) {
        double step = ref.scale[c][j / group];
        double wq = step * ref.q[c][j];
        exact += (gemv ? xq[j] : a[i * lda + j]) * wq;
        f32 += static_cast<double>(a[i * lda + j]) * w[j * n + c];
        // Rounding moves a weight by at most half its step, an activation
        // (GEMV) by half its block's step.
        bound += std::fabs(a[i * lda + j]) * step / 2 + (gemv ? std::fabs(wq) * xStep[j] / 2 : 0);
      }
      double mu = mul[i * n + c];
      double want = act(exact) * mu + res[i * n + c], got = y[i * n + c];
      EXPECT_NEAR(got, want, 2e-4 * (1 + std::fabs(want))) << "row " << i << " column " << c;
      // Against the unquantized f32 product: within the rounding bound
      // (|gelu'| <= 1.13, |silu'| <= 1.1), times the multiplier.
      EXPECT_NEAR(got, act(f32) * mu + res[i * n + c], 1.13 * bound * std::fabs(mu) + 1e-4)
          << "row " << i << " column " << c;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, QuantizedMatmul,
    ::testing::Values(std::make_tuple(8, 32, 1, 256), std::make_tuple(8, 128, 3, 256),
                      std::make_tuple(8, 64, 1, 100), std::make_tuple(4, 32, 1, 256),
                      std::make_tuple(4, 64, 4, 70), std::make_tuple(8, 32, 9, 96),
                      std::make_tuple(4, 32, 17, 64),
                      // The VNNI copy's chunks (64 weight bytes: 2 int8 or 4
                      // int4 blocks) cut short, spanning groups, or groups of
                      // several chunks; and a per-channel group of 3 blocks.
                      std::make_tuple(8, 32, 2, 160), std::make_tuple(4, 32, 1, 224),
                      std::make_tuple(4, 64, 3, 192), std::make_tuple(8, 64, 4, 200),
                      std::make_tuple(8, 96, 1, 96), std::make_tuple(8, 128, 1, 640),
                      std::make_tuple(4, 64, 2, 32),
                      // Whole prompts on integers (TFM_QUANTIZED_GEMV_ROWS,
                      // ctest tfm-unittests-integer-prefill): row pairs, row
                      // blocks (2 rows for K = 3072), column blocks of 64.
                      std::make_tuple(8, 128, 40, 256), std::make_tuple(4, 64, 33, 192),
                      std::make_tuple(8, 128, 7, 3072)));

TEST(QuantizedKernels, NamedForVerbose) {
  // The widest copy the CPU has runs unless TFM_KERNELS forces a narrower
  // one; ctest runs these tests three times (default, TFM_KERNELS=avx2,
  // TFM_KERNELS=generic), so every copy this CPU has is tested.
  std::string isa = tfm::qkernels::gemvIsa(), forced;
  if (const char *f = std::getenv("TFM_KERNELS"))
    forced = f;
  bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  bool vnni = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
              __builtin_cpu_supports("avx512vnni") && avx2;
  if (forced == "generic") {
    EXPECT_EQ(isa, "generic");
  } else if (forced == "avx2" || !vnni) {
    EXPECT_EQ(isa, avx2 ? "avx2" : "generic");
    if (forced != "avx2" && !vnni)
      GTEST_SKIP() << "this CPU has no AVX-512 VNNI: the avx512-vnni GEMV copy is built but "
                      "not run here";
  } else {
    EXPECT_EQ(isa, "avx512-vnni");
    // int8 groups of one block take the AVX2 copy (QuantizedKernels.cppm:
    // vnniFor); int4 and int8 groups of whole 64-byte chunks the VNNI one.
    EXPECT_EQ(std::string(tfm::qkernels::gemvIsa(Scheme{8, 32})), "avx2");
    EXPECT_EQ(std::string(tfm::qkernels::gemvIsa(Scheme{8, 128})), "avx512-vnni");
    EXPECT_EQ(std::string(tfm::qkernels::gemvIsa(Scheme{4, 32})), "avx512-vnni");
  }
}

TEST(Kernels, NamedForVerbose) {
  // The runtime's own kernels (softmax, attention, layer norm, bf16): the
  // widest of AVX-512, AVX2 and generic, or the one TFM_KERNELS forces.
  std::string isa = tfm::kernels::kernelIsaName(), forced;
  if (const char *f = std::getenv("TFM_KERNELS"))
    forced = f;
  bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  if (forced == "generic")
    EXPECT_EQ(isa, "generic");
  else if (forced == "avx2" || !avx512)
    EXPECT_EQ(isa, avx2 ? "avx2" : "generic");
  else
    EXPECT_EQ(isa, "avx512");
}

} // namespace

TEST(QuantizedKernels, ActivationsRoundAsLround) {
  // quantizeRows rounds x * 127 / amax half away from zero (std::lround's
  // rule): with amax = 127 the scaled values are the inputs themselves,
  // here ties (k + 0.5), the floats just below them and just above.
  std::vector<float> x = {127.0f};
  for (float base : {0.0f, 1.0f, 41.0f, 125.0f})
    for (float sign : {1.0f, -1.0f}) {
      float tie = sign * (base + 0.5f);
      x.push_back(tie);
      x.push_back(std::nextafter(tie, 0.0f));
      x.push_back(std::nextafter(tie, sign * 1000.0f));
    }
  x.push_back(-0.0f);
  x.push_back(1e-30f);
  int64_t k = static_cast<int64_t>(x.size()), kp = (k + 31) / 32 * 32;
  ASSERT_LE(k, 32); // one block: one amax
  tfm::qkernels::QuantizedRows rows;
  tfm::qkernels::quantizeRows(x.data(), k, 1, k, kp, rows);
  int32_t total = 0;
  for (int64_t j = 0; j < k; ++j) {
    EXPECT_EQ(rows.q[j], std::lround(x[j])) << "x = " << x[j];
    total += rows.q[j];
  }
  EXPECT_EQ(rows.sum[0], total);
  EXPECT_FLOAT_EQ(rows.scale[0], 1.0f);
}
