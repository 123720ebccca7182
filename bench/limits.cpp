//===- limits.cpp - Measure the machine's bandwidth and matmul peak -*- C++ -*-===//
//
// Prints, one per line, what bench/run.sh divides by:
//   bandwidth_gbs  <GB/s reading a 1 GiB buffer on huge pages (OMP_NUM_THREADS reader
//                  threads; the best of 5 passes)>
//   matmul_f32_gflops <oneDNN f32 matmul 512x768x3072, GFLOP/s>
//   matmul_bf16_gflops <the same in bf16>
// with oneDNN's OpenMP threads (OMP_NUM_THREADS).
//
//===----------------------------------------------------------------------===//

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <unordered_map>
#include <cstdio>
#include <vector>
#include <sys/mman.h>

namespace {
double seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

double matmulGflops(dnnl::memory::data_type dt) {
  using namespace dnnl;
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  const memory::dim m = 512, k = 768, n = 3072;
  memory::desc a({m, k}, dt, memory::format_tag::ab), b({k, n}, dt, memory::format_tag::any),
      c({m, n}, memory::data_type::f32, memory::format_tag::ab);
  matmul::primitive_desc pd(matmul::desc(a, b, c), eng);
  memory ma(a, eng), mb(pd.weights_desc(), eng), mc(c, eng);
  matmul mm(pd);
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}};
  for (int i = 0; i < 3; ++i)
    mm.execute(s, args);
  s.wait();
  int reps = 20;
  double t = seconds();
  for (int i = 0; i < reps; ++i)
    mm.execute(s, args);
  s.wait();
  return 2.0 * m * k * n * reps / (seconds() - t) / 1e9;
}
} // namespace

int main() {
  // The buffer on transparent huge pages where the kernel offers them, as
  // the executables' weights and activations are (4 KiB pages cost the
  // reader TLB misses that the kernels being measured do not pay).
  size_t n = (1u << 30) / sizeof(float);
  float *buf = static_cast<float *>(std::aligned_alloc(size_t(1) << 21, n * sizeof(float)));
  if (!buf)
    return 1;
  ::madvise(buf, n * sizeof(float), MADV_HUGEPAGE);
  std::fill(buf, buf + n, 1.0f);
  // One reader thread per OpenMP thread oneDNN would use.
  const char *env = std::getenv("OMP_NUM_THREADS");
  unsigned threads = env ? static_cast<unsigned>(std::atoi(env)) : std::thread::hardware_concurrency();
  threads = std::max(1u, threads);
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    std::vector<double> sums(threads, 0);
    double t = seconds();
    std::vector<std::thread> pool;
    for (unsigned w = 0; w < threads; ++w)
      pool.emplace_back([&, w] {
        // 16 independent partial sums: vectorized, bound by memory, not by
        // the latency of one long dependency chain.
        size_t begin = n * w / threads / 16 * 16, end = n * (w + 1) / threads / 16 * 16;
        float acc[16] = {};
        for (size_t i = begin; i < end; i += 16)
          for (int j = 0; j < 16; ++j)
            acc[j] += buf[i + j];
        float sum = 0;
        for (float a : acc)
          sum += a;
        sums[w] = sum;
      });
    for (auto &th : pool)
      th.join();
    double dt = seconds() - t;
    if (sums[0] < 0)
      std::printf("impossible\n");
    best = std::max(best, n * sizeof(float) / dt / 1e9);
  }
  std::printf("bandwidth_gbs %.1f\n", best);
  std::printf("matmul_f32_gflops %.1f\n", matmulGflops(dnnl::memory::data_type::f32));
  std::fflush(stdout);
  // oneDNN 2.6 has no bf16 matmul without AVX-512 (e.g. AMD Zen 3): then the
  // bf16 limit is the f32 one, which is what bf16 executables run there.
  try {
    std::printf("matmul_bf16_gflops %.1f\n", matmulGflops(dnnl::memory::data_type::bf16));
  } catch (const dnnl::error &) {
    std::printf("matmul_bf16_gflops %.1f\n", matmulGflops(dnnl::memory::data_type::f32));
  }
  return 0;
}
