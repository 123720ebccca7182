//===- kernels.cpp - Time the runtime's attention on GPT-2 shapes -*- C++ -*-===//
//
// tfm-bench-kernels [T PAST [REPEATS]]: calls _mlir_ciface_tfm_rt_sdpa (12 heads of 64,
// causal, q/k/v as slices of one packed [T, 2304] projection, the cache
// appended in place) and prints the first call and the median of the rest
// in ms and GFLOP/s (the causal half of QK^T and PV).
//
// tfm-bench-kernels quantized BITS GROUP M K N [REPEATS]: calls
// _mlir_ciface_tfm_rt_quantized_matmul (M rows, a K x N weight quantized to BITS in
// groups of GROUP) and prints the median in ms, the multiply-adds per second
// and the weight bytes (integers + scales) read per second. Not a test.
//
//===----------------------------------------------------------------------===//

#include "tfm/Runtime/BufferRecord.h"
#include "tfm/Runtime/tfm_runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {
using Arg = tfm::runtime::RecordArg;
constexpr auto arg = [](const auto &d, int32_t dtype) { return tfm::runtime::recordOf(d, dtype); };
struct Desc2 {
  void *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
};
struct Desc1 {
  void *allocated, *aligned;
  int64_t offset, sizes[1], strides[1];
};

} // namespace

/// The median of `times` seconds.
double median(std::vector<double> times) {
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

int quantized(int argc, char **argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: tfm-bench-kernels quantized BITS GROUP M K N [REPEATS]\n");
    return 2;
  }
  int bits = std::atoi(argv[2]);
  int64_t group = std::atoll(argv[3]), m = std::atoll(argv[4]), k = std::atoll(argv[5]),
          n = std::atoll(argv[6]);
  int repeats = argc > 7 ? std::atoi(argv[7]) : 50;
  int64_t kp = (k + group - 1) / group * group, rowBytes = bits == 8 ? kp : kp / 2;
  std::vector<int8_t> q(n * rowBytes);
  for (size_t i = 0; i < q.size(); ++i)
    q[i] = static_cast<int8_t>((i * 2654435761u) >> 24);
  std::vector<float> scales(n * (kp / group), 0.01f), a(m * k, 0.5f), y(m * n);
  Desc2 da{a.data(), a.data(), 0, {m, k}, {k, 1}};
  Desc2 dq{q.data(), q.data(), 0, {n, rowBytes}, {rowBytes, 1}};
  Desc2 ds{scales.data(), scales.data(), 0, {n, kp / group}, {kp / group, 1}};
  Desc2 dy{y.data(), y.data(), 0, {m, n}, {n, 1}};
  std::vector<double> times;
  for (int r = 0; r <= repeats; ++r) {
    auto start = std::chrono::steady_clock::now();
    _mlir_ciface_tfm_rt_quantized_matmul(arg(da, TFM_DTYPE_F32), arg(dq, TFM_DTYPE_I8),
                                         arg(ds, TFM_DTYPE_F32), Arg(), Arg(), Arg(),
                                         arg(dy, TFM_DTYPE_F32), 0, bits, group);
    if (r > 0)
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                          .count());
  }
  if (const char *e = tfm_rt_last_error()) {
    std::fprintf(stderr, "error: %s\n", e);
    return 1;
  }
  double t = median(times), bytes = static_cast<double>(q.size() + scales.size() * 4);
  std::printf("int%d g%lld M=%lld K=%lld N=%lld: %.3f ms, %.1f G multiply-adds/s, %.1f GB/s "
              "of weights\n",
              bits, static_cast<long long>(group), static_cast<long long>(m),
              static_cast<long long>(k), static_cast<long long>(n), t * 1e3,
              static_cast<double>(m * k * n) / t * 1e-9, bytes / t * 1e-9);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && std::string(argv[1]) == "quantized")
    return quantized(argc, argv);
  int64_t t = argc > 1 ? std::atoll(argv[1]) : 512, past = argc > 2 ? std::atoll(argv[2]) : 0;
  int repeats = argc > 3 ? std::atoi(argv[3]) : 20;
  const int64_t heads = 12, dh = 64, w = heads * dh, s = past + t;
  std::vector<float> qkv(t * 3 * w), cacheK((s + 1) * w), cacheV((s + 1) * w), out(t * w);
  for (size_t i = 0; i < qkv.size(); ++i)
    qkv[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
  std::vector<int64_t> positions(t);
  for (int64_t i = 0; i < t; ++i)
    positions[i] = past + i;
  Desc2 q{qkv.data(), qkv.data(), 0, {t, w}, {3 * w, 1}}, k = q, v = q;
  k.offset = w;
  v.offset = 2 * w;
  Desc2 pk{cacheK.data(), cacheK.data(), 0, {past, w}, {w, 1}}, pv = pk;
  pv.allocated = pv.aligned = cacheV.data();
  Desc2 presK = pk, presV = pv;
  presK.sizes[0] = presV.sizes[0] = s;
  Desc2 o{out.data(), out.data(), 0, {t, w}, {w, 1}};
  Desc1 pos{positions.data(), positions.data(), 0, {t}, {1}};
  std::vector<double> ms;
  for (int r = 0; r <= repeats; ++r) {
    auto start = std::chrono::steady_clock::now();
    _mlir_ciface_tfm_rt_sdpa(
        arg(q, TFM_DTYPE_F32), arg(k, TFM_DTYPE_F32), arg(v, TFM_DTYPE_F32), arg(pk, TFM_DTYPE_F32),
        arg(pv, TFM_DTYPE_F32), arg(pos, TFM_DTYPE_I64), Arg(), Arg(), arg(o, TFM_DTYPE_F32),
        arg(presK, TFM_DTYPE_F32), arg(presV, TFM_DTYPE_F32), heads, heads, 0.125, 1, 0);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
    if (const char *e = tfm_rt_last_error()) {
      std::fprintf(stderr, "error: %s\n", e);
      return 1;
    }
  }
  double first = ms[0];
  std::sort(ms.begin() + 1, ms.end());
  double median = ms[1 + repeats / 2];
  // Causal: query i sees past + i + 1 keys; 2 products of 2 FLOP per MAC.
  double flops = 0;
  for (int64_t i = 0; i < t; ++i)
    flops += 4.0 * heads * dh * static_cast<double>(past + i + 1);
  std::printf("sdpa t=%lld past=%lld: first %.3f ms, median %.3f ms (%.1f GFLOP/s)\n",
              static_cast<long long>(t), static_cast<long long>(past), first, median,
              flops / median / 1e6);
}
