//===- Runtime.cppm - oneDNN primitives behind the tfm C ABI ---*- C++ -*-===//
//
// The `tfm.runtime` module: turns the buffers that generated code passes
// (MLIR memref descriptors) into oneDNN memory descriptors, creates the
// primitive for each distinct shape once, caches it, and executes it.
// Functions throw (dnnl::error or std::runtime_error); the C ABI in CAbi.cpp
// catches everything and records the first error.
//
//===----------------------------------------------------------------------===//

module;
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <fcntl.h>
#include <limits>
#include <algorithm>
#include <cstdlib>
#include <dlfcn.h>
#include <thread>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>
#include <oneapi/dnnl/dnnl.hpp>
#include "tfm/Runtime/tfm_runtime.h"
export module tfm.runtime;
import tfm.kernels;
import tfm.json_depth;
import tfm.quant;

export namespace tfm::runtime {

/// One buffer as generated code describes it.
struct Buffer {
  char *data = nullptr; ///< address of element [0, ..., 0]
  int32_t dtype = 0;
  std::vector<int64_t> dims, strides;

  bool present() const { return data != nullptr; }
  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : dims)
      n *= d;
    return n;
  }
};

/// Reads an MLIR ranked memref descriptor {allocated, aligned, offset,
/// sizes[rank], strides[rank]}.
inline Buffer fromDescriptor(const void *desc, int64_t rank, int32_t dtype) {
  Buffer b;
  if (!desc)
    return b;
  struct Header {
    void *allocated;
    char *aligned;
    int64_t offset;
  };
  const auto *h = static_cast<const Header *>(desc);
  const auto *rest = reinterpret_cast<const int64_t *>(h + 1);
  // Bytes per element by TFM_DTYPE_* code (F32, F16, BF16, I32, I64, U8, I8).
  static const int64_t elemSize[] = {4, 2, 2, 4, 8, 1, 1};
  if (dtype < 0 || dtype >= static_cast<int32_t>(std::size(elemSize)))
    throw std::runtime_error("unknown element type code " + std::to_string(dtype));
  b.dtype = dtype;
  b.data = h->aligned + h->offset * elemSize[dtype];
  b.dims.assign(rest, rest + rank);
  b.strides.assign(rest + rank, rest + 2 * rank);
  return b;
}

/// Page-aligned memory that lives as long as the process, backed by 2 MiB
/// pages where the kernel allows it (transparent huge pages on request):
/// fewer page faults when it is first touched and fewer TLB misses when
/// large weights are streamed.
inline void *hugeAlloc(size_t bytes) {
  constexpr size_t kHuge = size_t(2) << 20;
  size_t size = (std::max<size_t>(bytes, 1) + kHuge - 1) / kHuge * kHuge;
  void *raw = ::mmap(nullptr, size + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
  if (raw == MAP_FAILED)
    throw std::bad_alloc();
  auto begin = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = (begin + kHuge - 1) / kHuge * kHuge;
  if (aligned > begin)
    ::munmap(raw, aligned - begin);
  if (uintptr_t end = begin + size + kHuge; end > aligned + size)
    ::munmap(reinterpret_cast<void *>(aligned + size), end - aligned - size);
  ::madvise(reinterpret_cast<void *>(aligned), size, MADV_HUGEPAGE);
  return reinterpret_cast<void *>(aligned);
}

/// The runtime: one CPU engine and stream, and a primitive cache keyed by
/// the primitive's kind, shapes, strides, types and attributes.
class Runtime {
public:
  Runtime() : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

  static Runtime &get() {
    static Runtime rt;
    return rt;
  }

  void matmul(const Buffer &a, const Buffer &b, const Buffer &bias,
              const Buffer &residual, const Buffer &dst, int32_t activation,
              bool transposeB);
  void layerNorm(const Buffer &src, const Buffer &scale, const Buffer &shift,
                 const Buffer &dst, double epsilon);
  void eltwise(const Buffer &src, const Buffer &dst, int32_t kind, double alpha,
               double beta);
  void binary(const Buffer &lhs, const Buffer &rhs, const Buffer &dst, int32_t kind);
  void softmax(const Buffer &src, const Buffer &dst, int64_t axis);
  void reorder(const Buffer &src, const Buffer &dst);
  void reduction(const Buffer &src, const Buffer &dst, int32_t kind);

  /// dst[g] = a[g] x b[g] for plain f32 views given by dims and strides
  /// (elements), batch first: attention's two products. Cached per shape.
  void batchedMatmul(const float *a, const dnnl::memory::dims &aDims,
                     const dnnl::memory::dims &aStrides, const float *b,
                     const dnnl::memory::dims &bDims, const dnnl::memory::dims &bStrides,
                     float *dst, const dnnl::memory::dims &dDims,
                     const dnnl::memory::dims &dStrides);

  /// Work done once per process ahead of the first pass: oneDNN generates
  /// its GEMM kernels on first use (~40 ms) and OpenMP starts its threads.
  void warmUp() {
    // Both products of the attention, with the strides sdpa passes (rows of
    // a wider buffer, keys transposed): each kind has its own first-use cost.
    std::vector<float> qkv(16 * 192, 0.0f), scores(16 * 16), out(16 * 128);
    batchedMatmul(qkv.data(), {1, 16, 64}, {64, 192, 1}, qkv.data() + 64, {1, 64, 16},
                  {64, 1, 192}, scores.data(), {1, 16, 16}, {256, 16, 1});
    kernels::maskedSoftmax(scores.data(), 1, 16, 16, 0, true, 1.0f, threads());
    batchedMatmul(scores.data(), {1, 16, 16}, {256, 16, 1}, qkv.data() + 128, {1, 16, 64},
                  {64, 192, 1}, out.data(), {1, 16, 64}, {64, 128, 1});
  }

  /// f32 scratch memory kept between calls (it only grows), one per `slot`:
  /// no page faults on fresh memory in the steady state.
  float *scratch(size_t slot, size_t floats) {
    if (scratch_.size() <= slot)
      scratch_.resize(slot + 1);
    if (scratch_[slot].size() < floats)
      scratch_[slot].resize(floats);
    return scratch_[slot].data();
  }

  /// Implementation names oneDNN chose, per primitive created (for --verbose).
  const std::vector<std::string> &implementations() const { return impls_; }

  /// Records (once) that `kind` ran on one of the runtime's own kernels;
  /// called on every call, so a repeat costs a pointer comparison or two.
  /// `isa` names the copy that runs (default: the AVX-512/generic choice of
  /// tfm.kernels).
  void noteKernel(const char *kind, const char *variant, const char *isa = nullptr) {
    for (const auto &[k, v] : noted_)
      if (k == kind && v == variant)
        return;
    noted_.emplace_back(kind, variant);
    impls_.push_back(std::string(kind) + ": tfm:" + variant + " (" +
                     (isa ? isa : kernels::hasAvx512() ? "avx512" : "generic") + ")");
  }

  /// Records that `data` is a model weight: matmuls then use it prepacked
  /// into oneDNN's preferred layout (reordered once, on first use).
  void markWeight(const void *data) { weights_.insert(data); }
  bool isWeight(const void *data) const { return weights_.count(data) != 0; }

  /// Threads for oneDNN (OpenMP) and the runtime's own kernels; 0 keeps the
  /// OpenMP default (OMP_NUM_THREADS or all cores).
  void setThreads(int n) {
    threads_ = n;
    if (n > 0)
      if (auto set = reinterpret_cast<void (*)(int)>(::dlsym(RTLD_DEFAULT, "omp_set_num_threads")))
        set(n);
  }
  unsigned threads() const {
    if (threads_ > 0)
      return static_cast<unsigned>(threads_);
    // OpenMP's default, read once (kernels ask on every call).
    static const unsigned fallback = [] {
      const char *env = std::getenv("OMP_NUM_THREADS");
      return env ? static_cast<unsigned>(std::max(1, std::atoi(env)))
                 : std::max(1u, std::thread::hardware_concurrency());
    }();
    return fallback;
  }

  /// The instruction set oneDNN dispatches to on this CPU.
  static std::string isa() {
    switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_amx: return "AVX-512 with AMX";
    case dnnl::cpu_isa::avx512_core_bf16: return "AVX-512 with bf16 (avx512_core_bf16)";
    case dnnl::cpu_isa::avx512_core_vnni: return "AVX-512 with VNNI (avx512_core_vnni)";
    case dnnl::cpu_isa::avx512_core: return "AVX-512 (avx512_core)";
    case dnnl::cpu_isa::avx2: return "AVX2";
    default: return "other (below AVX2)";
    }
  }

  /// bf16 mode: weights are packed as bf16 and matmuls by weights run in
  /// bf16 with f32 accumulation (activations are converted per call). Where
  /// oneDNN has no bf16 matmul for this CPU (oneDNN 2.6 needs AVX-512; an
  /// AVX2-only CPU such as AMD Zen 3 has none) the matmuls stay f32: the
  /// executable runs, at f32 accuracy and f32 weight size.
  void setBf16(bool on) { bf16_ = on && bf16Supported(); }
  bool bf16() const { return bf16_; }
  /// Whether oneDNN can create a bf16 matmul on this CPU (probed once).
  static bool bf16Supported() {
    static const bool yes = [] {
      try {
        dnnl::engine engine(dnnl::engine::kind::cpu, 0);
        using dt = dnnl::memory::data_type;
        using tag = dnnl::memory::format_tag;
        dnnl::memory::desc a({16, 16}, dt::bf16, tag::ab), b({16, 16}, dt::bf16, tag::any),
            c({16, 16}, dt::f32, tag::ab);
        dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), engine);
        return true;
      } catch (const dnnl::error &) {
        return false;
      }
    }();
    return yes;
  }

private:
  dnnl::memory::desc desc(const Buffer &b, size_t rank) const;
  dnnl::memory mem(const dnnl::memory::desc &md, const Buffer &b) const {
    return dnnl::memory(md, engine_, b.data);
  }
  template <typename Prim>
  dnnl::primitive &cached(const std::string &key,
                          const std::function<typename Prim::primitive_desc()> &make);

  dnnl::engine engine_;
  dnnl::stream stream_;
  std::unordered_map<std::string, dnnl::primitive> cache_;
  std::vector<std::string> impls_;
  std::vector<std::pair<const char *, const char *>> noted_; ///< noteKernel's
  std::unordered_set<const void *> weights_;
  bool bf16_ = false;
  int threads_ = 0;
  std::vector<uint16_t> bf16Scratch_; ///< activations converted for bf16 matmuls
  std::vector<std::vector<float>> scratch_;
  std::unordered_map<std::string, dnnl::memory::desc> packedDescs_; ///< per matmul key
  /// Each weight is packed once; later primitives reuse its layout.
  std::unordered_map<const void *, dnnl::memory> packed_;
};

} // namespace tfm::runtime

namespace tfm::runtime {
using dnnl::algorithm;
using dnnl::memory;

namespace {
memory::data_type toDnnl(int32_t dtype) {
  switch (dtype) {
  case TFM_DTYPE_F32: return memory::data_type::f32;
  case TFM_DTYPE_F16: return memory::data_type::f16;
  case TFM_DTYPE_BF16: return memory::data_type::bf16;
  case TFM_DTYPE_I32: return memory::data_type::s32;
  case TFM_DTYPE_U8: return memory::data_type::u8;
  case TFM_DTYPE_I8: return memory::data_type::s8;
  default: throw std::runtime_error("unsupported element type code " + std::to_string(dtype));
  }
}

/// Whether b's elements are contiguous in row-major order.
bool isDense(const Buffer &b) {
  int64_t stride = 1;
  for (size_t i = b.dims.size(); i-- > 0;) {
    if (b.dims[i] != 1 && b.strides[i] != stride)
      return false;
    stride *= b.dims[i];
  }
  return true;
}

/// Appends a buffer's shape, strides and type to a cache key.
void keyOf(std::string &key, const Buffer &b) {
  key += '|';
  if (!b.present())
    return;
  key += std::to_string(b.dtype) + ':';
  for (int64_t d : b.dims) key += std::to_string(d) + ',';
  key += ':';
  for (int64_t s : b.strides) key += std::to_string(s) + ',';
}

/// A copy of `b` whose dims and strides are padded with leading 1s to `rank`.
Buffer padded(const Buffer &b, size_t rank) {
  Buffer p = b;
  int64_t outer = 1;
  for (size_t i = 0; i < b.dims.size(); ++i)
    outer = std::max(outer, b.dims[i] * b.strides[i]);
  while (p.dims.size() < rank) {
    p.dims.insert(p.dims.begin(), 1);
    p.strides.insert(p.strides.begin(), outer);
  }
  return p;
}

/// Calls `f(offsetDst, offsetA, offsetB)` (element offsets) for every element
/// of `dst`, with `a` and `b` broadcast to it (plain loops for the few cases
/// oneDNN does not cover).
template <typename F>
void forEachBroadcast(const Buffer &dst, const Buffer &a, const Buffer &b, F f) {
  size_t rank = dst.dims.size();
  Buffer pa = padded(a, rank), pb = b.present() ? padded(b, rank) : Buffer{};
  std::vector<int64_t> idx(rank, 0);
  int64_t n = dst.numElements();
  for (int64_t i = 0; i < n; ++i) {
    int64_t od = 0, oa = 0, ob = 0;
    for (size_t d = 0; d < rank; ++d) {
      od += idx[d] * dst.strides[d];
      oa += (pa.dims[d] == 1 ? 0 : idx[d]) * pa.strides[d];
      if (pb.present())
        ob += (pb.dims[d] == 1 ? 0 : idx[d]) * pb.strides[d];
    }
    f(od, oa, ob);
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < dst.dims[d])
        break;
      idx[d] = 0;
    }
  }
}

/// oneDNN's algorithm for a matmul's post-op (undef: none).
algorithm activationAlgorithm(int32_t activation) {
  switch (activation) {
  case TFM_ACTIVATION_NONE: return algorithm::undef;
  case TFM_ACTIVATION_GELU_TANH: return algorithm::eltwise_gelu_tanh;
  case TFM_ACTIVATION_GELU_ERF: return algorithm::eltwise_gelu_erf;
  case TFM_ACTIVATION_RELU: return algorithm::eltwise_relu;
  }
  throw std::runtime_error("unknown activation code " + std::to_string(activation));
}

/// oneDNN's algorithm for an eltwise kind (undef for TFM_ELTWISE_ERF, which
/// oneDNN 2.6 lacks).
algorithm eltwiseAlgorithm(int32_t kind) {
  switch (kind) {
  case TFM_ELTWISE_TANH: return algorithm::eltwise_tanh;
  case TFM_ELTWISE_EXP: return algorithm::eltwise_exp;
  case TFM_ELTWISE_RELU: return algorithm::eltwise_relu;
  case TFM_ELTWISE_GELU_TANH: return algorithm::eltwise_gelu_tanh;
  case TFM_ELTWISE_GELU_ERF: return algorithm::eltwise_gelu_erf;
  case TFM_ELTWISE_SQRT: return algorithm::eltwise_sqrt;
  case TFM_ELTWISE_POW: return algorithm::eltwise_pow;
  case TFM_ELTWISE_LINEAR: return algorithm::eltwise_linear;
  case TFM_ELTWISE_ERF: return algorithm::undef;
  }
  throw std::runtime_error("unknown eltwise kind " + std::to_string(kind));
}

algorithm binaryAlgorithm(int32_t kind) {
  switch (kind) {
  case TFM_BINARY_ADD: return algorithm::binary_add;
  case TFM_BINARY_SUB: return algorithm::binary_sub;
  case TFM_BINARY_MUL: return algorithm::binary_mul;
  case TFM_BINARY_DIV: return algorithm::binary_div;
  case TFM_BINARY_MAX: return algorithm::binary_max;
  case TFM_BINARY_MIN: return algorithm::binary_min;
  }
  throw std::runtime_error("unknown binary kind " + std::to_string(kind));
}

/// x `kind` y for one pair of elements (the broadcast loop's arithmetic).
float applyBinary(int32_t kind, float x, float y) {
  switch (kind) {
  case TFM_BINARY_ADD: return x + y;
  case TFM_BINARY_SUB: return x - y;
  case TFM_BINARY_MUL: return x * y;
  case TFM_BINARY_DIV: return x / y;
  case TFM_BINARY_MAX: return std::max(x, y);
  default: return std::min(x, y);
  }
}

algorithm reductionAlgorithm(int32_t kind) {
  switch (kind) {
  case TFM_REDUCTION_MEAN: return algorithm::reduction_mean;
  case TFM_REDUCTION_MAX: return algorithm::reduction_max;
  case TFM_REDUCTION_SUM: return algorithm::reduction_sum;
  }
  throw std::runtime_error("unknown reduction kind " + std::to_string(kind));
}

void requireF32(const Buffer &b, const char *what) {
  if (b.dtype != TFM_DTYPE_F32)
    throw std::runtime_error(std::string(what) + " is implemented for f32 buffers only");
}
} // namespace

memory::desc Runtime::desc(const Buffer &b, size_t rank) const {
  Buffer p = padded(b, std::max<size_t>(rank, 1));
  return memory::desc(memory::dims(p.dims.begin(), p.dims.end()), toDnnl(b.dtype),
                      memory::dims(p.strides.begin(), p.strides.end()));
}

template <typename Prim>
dnnl::primitive &Runtime::cached(const std::string &key,
                                 const std::function<typename Prim::primitive_desc()> &make) {
  auto it = cache_.find(key);
  if (it != cache_.end())
    return it->second;
  auto pd = make();
  impls_.push_back(key.substr(0, key.find('|')) + ": " + pd.impl_info_str());
  return cache_.emplace(key, Prim(pd)).first->second;
}

void Runtime::matmul(const Buffer &a, const Buffer &b, const Buffer &bias,
                     const Buffer &residual, const Buffer &dst, int32_t activation,
                     bool transposeB) {
  size_t rank = dst.dims.size();
  std::string key = "matmul";
  for (const Buffer *x : {&a, &b, &bias, &residual, &dst})
    keyOf(key, *x);
  key += "|" + std::to_string(activation) + (transposeB ? "t" : "n");
  memory::desc aUser = desc(a, rank), dMd = desc(dst, rank);
  memory::desc aMd = aUser;
  Buffer bb = padded(b, rank);
  if (transposeB) {
    std::swap(bb.dims[rank - 1], bb.dims[rank - 2]);
    std::swap(bb.strides[rank - 1], bb.strides[rank - 2]);
  }
  memory::desc bMd = desc(bb, rank);
  // A weight is prepacked: the first primitive that uses it chooses its layout
  // (format_tag::any) and the weight is reordered into it once; later
  // primitives (other sequence lengths) are created for that same layout.
  bool prepack = weights_.count(b.data) && b.dtype != TFM_DTYPE_I32;
  auto packedIt = prepack ? packed_.find(b.data) : packed_.end();
  bool bf16 = prepack && bf16_ && a.dtype == TFM_DTYPE_F32;
  if (prepack)
    key += bf16 ? "|packed-bf16" : "|packed";
  memory::data_type weightType = bf16 ? memory::data_type::bf16 : bMd.data_type();
  memory::desc bAny = !prepack ? bMd
                      : packedIt != packed_.end()
                          ? packedIt->second.get_desc()
                          : memory::desc(bMd.dims(), weightType, memory::format_tag::any);
  if (bf16) // the activations, converted to contiguous bf16 below
    aMd = memory::desc(aUser.dims(), memory::data_type::bf16,
                       rank == 2 ? memory::format_tag::ab : memory::format_tag::abc);
  memory::desc biasMd;
  if (bias.present()) {
    Buffer bi = bias;
    bi.dims.assign(rank, 1);
    bi.dims.back() = bias.dims.back();
    bi.strides.assign(rank, bias.dims.back());
    bi.strides.back() = bias.strides.back();
    biasMd = desc(bi, rank);
  }
  memory::desc resMd = residual.present() ? desc(residual, rank) : memory::desc();
  auto &prim = cached<dnnl::matmul>(key, [&] {
    dnnl::post_ops po;
    if (activation != TFM_ACTIVATION_NONE)
      po.append_eltwise(1.f, activationAlgorithm(activation), 0.f, 0.f);
    if (residual.present())
      po.append_binary(algorithm::binary_add, resMd);
    dnnl::primitive_attr attr;
    attr.set_post_ops(po);
    auto d = bias.present() ? dnnl::matmul::desc(aMd, bAny, biasMd, dMd)
                            : dnnl::matmul::desc(aMd, bAny, dMd);
    dnnl::matmul::primitive_desc pd(d, attr, engine_);
    packedDescs_[key] = pd.weights_desc();
    return pd;
  });
  memory weights = mem(bMd, b);
  if (prepack) {
    if (packedIt == packed_.end()) {
      memory packed(packedDescs_[key], engine_,
                    hugeAlloc(packedDescs_[key].get_size()));
      dnnl::reorder(weights, packed).execute(stream_, weights, packed);
      stream_.wait();
      packedIt = packed_.emplace(b.data, packed).first;
    }
    if (!(packedIt->second.get_desc() == packedDescs_[key]))
      throw std::runtime_error("a prepacked weight's layout does not match the primitive");
    weights = packedIt->second;
  }
  memory src = mem(aUser, a);
  if (bf16) {
    size_t n = aMd.get_size() / 2;
    if (bf16Scratch_.size() < n)
      bf16Scratch_.resize(n);
    memory converted(aMd, engine_, bf16Scratch_.data());
    if (a.dtype == TFM_DTYPE_F32 && isDense(a)) {
      // Dense rows: a plain loop (a reorder primitive call costs more than
      // converting one decode row).
      kernels::toBf16(reinterpret_cast<const float *>(a.data), bf16Scratch_.data(),
                      static_cast<int64_t>(n));
    } else {
      auto &convert = cached<dnnl::reorder>("to-bf16" + key, [&] {
        return dnnl::reorder::primitive_desc(engine_, aUser, engine_, aMd);
      });
      convert.execute(stream_, {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, converted}});
    }
    src = converted;
  }
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, mem(dMd, dst)}};
  if (bias.present())
    args[DNNL_ARG_BIAS] = mem(biasMd, bias);
  if (residual.present())
    args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(activation != 0 ? 1 : 0) | DNNL_ARG_SRC_1] =
        mem(resMd, residual);
  prim.execute(stream_, args);
  stream_.wait();
}

void Runtime::batchedMatmul(const float *a, const memory::dims &aDims,
                            const memory::dims &aStrides, const float *b,
                            const memory::dims &bDims, const memory::dims &bStrides, float *dst,
                            const memory::dims &dDims, const memory::dims &dStrides) {
  std::string key = "matmul";
  for (const memory::dims *d : {&aDims, &aStrides, &bDims, &bStrides, &dDims, &dStrides}) {
    key += ' ';
    for (int64_t x : *d)
      key += std::to_string(x) + ",";
  }
  memory::desc aMd(aDims, memory::data_type::f32, aStrides);
  memory::desc bMd(bDims, memory::data_type::f32, bStrides);
  memory::desc dMd(dDims, memory::data_type::f32, dStrides);
  auto &prim = cached<dnnl::matmul>(key, [&] {
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(aMd, bMd, dMd), engine_);
  });
  prim.execute(stream_, {{DNNL_ARG_SRC, memory(aMd, engine_, const_cast<float *>(a))},
                         {DNNL_ARG_WEIGHTS, memory(bMd, engine_, const_cast<float *>(b))},
                         {DNNL_ARG_DST, memory(dMd, engine_, dst)}});
  stream_.wait();
}

void Runtime::layerNorm(const Buffer &src, const Buffer &scale, const Buffer &shift,
                        const Buffer &dst, double epsilon) {
  if (src.dims != dst.dims || src.strides != dst.strides) {
    reorder(src, dst);
    return layerNorm(dst, scale, shift, dst, epsilon);
  }
  size_t rank = src.dims.size();
  // f32 rows of contiguous elements: the runtime's own kernel (oneDNN 2.6's
  // simple_layer_normalization measured ~11 us per 768-wide row).
  bool rowsAligned = rank >= 1 && src.strides.back() == 1;
  for (size_t i = 0; rowsAligned && i + 2 < rank; ++i)
    rowsAligned = src.strides[i] == src.strides[i + 1] * src.dims[i + 1];
  if (rowsAligned && src.dtype == TFM_DTYPE_F32 &&
      (!scale.present() || (scale.dtype == TFM_DTYPE_F32 && scale.strides.back() == 1)) &&
      (!shift.present() || (shift.dtype == TFM_DTYPE_F32 && shift.strides.back() == 1))) {
    int64_t n = src.dims.back(), rows = n ? src.numElements() / n : 0;
    int64_t stride = rank >= 2 ? src.strides[rank - 2] : n;
    noteKernel("layer_norm", "rows");
    kernels::layerNorm(reinterpret_cast<const float *>(src.data), stride,
                       reinterpret_cast<float *>(dst.data), stride, rows, n,
                       scale.present() ? reinterpret_cast<const float *>(scale.data) : nullptr,
                       shift.present() ? reinterpret_cast<const float *>(shift.data) : nullptr,
                       static_cast<float>(epsilon), threads());
    return;
  }
  std::string key = "layer_norm";
  for (const Buffer *x : {&src, &scale, &shift})
    keyOf(key, *x);
  key += "|" + std::to_string(epsilon);
  memory::desc md = desc(src, rank);
  auto flags = dnnl::normalization_flags::none;
  if (scale.present()) flags |= dnnl::normalization_flags::use_scale;
  if (shift.present()) flags |= dnnl::normalization_flags::use_shift;
  auto &prim = cached<dnnl::layer_normalization_forward>(key, [&] {
    dnnl::layer_normalization_forward::desc d(dnnl::prop_kind::forward_inference, md,
                                              static_cast<float>(epsilon), flags);
    return dnnl::layer_normalization_forward::primitive_desc(d, engine_);
  });
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, mem(md, src)},
                                          {DNNL_ARG_DST, mem(md, dst)}};
  if (scale.present()) args[DNNL_ARG_SCALE] = mem(desc(scale, 1), scale);
  if (shift.present()) args[DNNL_ARG_SHIFT] = mem(desc(shift, 1), shift);
  prim.execute(stream_, args);
  stream_.wait();
}

void Runtime::eltwise(const Buffer &src, const Buffer &dst, int32_t kind, double alpha,
                      double beta) {
  if (src.strides != dst.strides) { // oneDNN eltwise keeps the layout: copy first
    reorder(src, dst);
    return eltwise(dst, dst, kind, alpha, beta);
  }
  algorithm alg = eltwiseAlgorithm(kind);
  if (kind == TFM_ELTWISE_ERF) { // no oneDNN algorithm in 2.6
    requireF32(src, "erf");
    auto *s = reinterpret_cast<const float *>(src.data);
    auto *d = reinterpret_cast<float *>(dst.data);
    forEachBroadcast(dst, src, Buffer{}, [&](int64_t od, int64_t os, int64_t) {
      d[od] = std::erf(s[os]);
    });
    return;
  }
  size_t rank = src.dims.size();
  std::string key = "eltwise";
  keyOf(key, src);
  key += "|" + std::to_string(kind) + "," + std::to_string(alpha) + "," + std::to_string(beta);
  memory::desc md = desc(src, rank);
  auto &prim = cached<dnnl::eltwise_forward>(key, [&] {
    dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, alg, md,
                                  static_cast<float>(alpha), static_cast<float>(beta));
    return dnnl::eltwise_forward::primitive_desc(d, engine_);
  });
  prim.execute(stream_, {{DNNL_ARG_SRC, mem(md, src)}, {DNNL_ARG_DST, mem(md, dst)}});
  stream_.wait();
}

void Runtime::binary(const Buffer &lhs, const Buffer &rhs, const Buffer &dst, int32_t kind) {
  algorithm alg = binaryAlgorithm(kind);
  size_t rank = dst.dims.size();
  const Buffer *a = &lhs, *b = &rhs;
  bool commutative = kind == TFM_BINARY_ADD || kind == TFM_BINARY_MUL ||
                     kind == TFM_BINARY_MAX || kind == TFM_BINARY_MIN;
  if (padded(lhs, rank).dims != dst.dims) {
    if (commutative && padded(rhs, rank).dims == dst.dims) {
      std::swap(a, b);
    } else {
      // oneDNN broadcasts only its second source: plain loop (f32).
      requireF32(dst, "binary with a broadcast first operand");
      auto *x = reinterpret_cast<const float *>(lhs.data);
      auto *y = reinterpret_cast<const float *>(rhs.data);
      auto *z = reinterpret_cast<float *>(dst.data);
      forEachBroadcast(dst, lhs, rhs, [&](int64_t od, int64_t oa, int64_t ob) {
        z[od] = applyBinary(kind, x[oa], y[ob]);
      });
      return;
    }
  }
  std::string key = "binary";
  for (const Buffer *x : {a, b, &dst})
    keyOf(key, *x);
  key += "|" + std::to_string(kind);
  memory::desc aMd = desc(*a, rank), bMd = desc(*b, rank), dMd = desc(dst, rank);
  auto &prim = cached<dnnl::binary>(key, [&] {
    dnnl::binary::desc d(alg, aMd, bMd, dMd);
    return dnnl::binary::primitive_desc(d, engine_);
  });
  prim.execute(stream_, {{DNNL_ARG_SRC_0, mem(aMd, *a)},
                         {DNNL_ARG_SRC_1, mem(bMd, *b)},
                         {DNNL_ARG_DST, mem(dMd, dst)}});
  stream_.wait();
}

void Runtime::softmax(const Buffer &src, const Buffer &dst, int64_t axis) {
  size_t rank = src.dims.size();
  std::string key = "softmax";
  keyOf(key, src);
  keyOf(key, dst);
  key += "|" + std::to_string(axis);
  memory::desc sMd = desc(src, rank), dMd = desc(dst, rank);
  auto &prim = cached<dnnl::softmax_v2_forward>(key, [&] {
    dnnl::softmax_v2_forward::desc d(dnnl::prop_kind::forward_inference,
                                     algorithm::softmax_accurate, sMd, dMd,
                                     static_cast<int>(axis));
    return dnnl::softmax_v2_forward::primitive_desc(d, engine_);
  });
  prim.execute(stream_, {{DNNL_ARG_SRC, mem(sMd, src)}, {DNNL_ARG_DST, mem(dMd, dst)}});
  stream_.wait();
}

void Runtime::reorder(const Buffer &src, const Buffer &dst) {
  size_t rank = dst.dims.size();
  std::string key = "reorder";
  keyOf(key, src);
  keyOf(key, dst);
  memory::desc sMd = desc(src, rank), dMd = desc(dst, rank);
  auto &prim = cached<dnnl::reorder>(key, [&] {
    return dnnl::reorder::primitive_desc(engine_, sMd, engine_, dMd);
  });
  prim.execute(stream_, {{DNNL_ARG_FROM, mem(sMd, src)}, {DNNL_ARG_TO, mem(dMd, dst)}});
  stream_.wait();
}

void Runtime::reduction(const Buffer &src, const Buffer &dst, int32_t kind) {
  algorithm alg = reductionAlgorithm(kind);
  size_t rank = src.dims.size();
  std::string key = "reduction";
  keyOf(key, src);
  keyOf(key, dst);
  key += "|" + std::to_string(kind);
  memory::desc sMd = desc(src, rank), dMd = desc(dst, rank);
  auto &prim = cached<dnnl::reduction>(key, [&] {
    dnnl::reduction::desc d(alg, sMd, dMd, 0.f, 0.f);
    return dnnl::reduction::primitive_desc(d, engine_);
  });
  prim.execute(stream_, {{DNNL_ARG_SRC, mem(sMd, src)}, {DNNL_ARG_DST, mem(dMd, dst)}});
  stream_.wait();
}

} // namespace tfm::runtime

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

// The weights section tfmc links into the executable (absent: null).
extern "C" {
__attribute__((weak)) extern const char tfm_weights_begin[];
__attribute__((weak)) extern const char tfm_weights_end[];
}

export namespace tfm::runtime {

/// A weight tensor as stored.
struct WeightInfo {
  std::string dtype; ///< safetensors dtype: F32, F16, BF16, ...
  std::vector<int64_t> shape;
  const char *data = nullptr;
  uint64_t begin = 0, end = 0; ///< data_offsets in the data section
};

/// The model's weights: a memory-mapped safetensors file, or deterministic
/// random tensors generated on first use.
class Weights {
public:
  /// "file:PATH", "embedded" (the section the compiler linked in),
  /// "beside:NAME" (NAME in the executable's directory) or "random:SEED";
  /// throws std::runtime_error.
  void configure(const std::string &spec);
  /// The data of `name`, checked against the shape and dtype code the
  /// compiled code expects; throws std::runtime_error.
  void *get(const std::string &name, const std::vector<int64_t> &shape, int32_t dtype);
  /// The stored tensor `name`, or null (random weights, or no such tensor).
  const WeightInfo *find(const std::string &name) const {
    auto it = index_.find(name);
    return random_ || it == index_.end() ? nullptr : &it->second;
  }
  /// Where the weights come from, for messages.
  const std::string &path() const { return path_; }
  /// Every stored tensor by name (empty for random weights).
  const std::unordered_map<std::string, WeightInfo> &tensors() const { return index_; }
  static Weights &get() {
    static Weights w;
    return w;
  }

private:
  std::string path_;
  uint64_t seed_ = 0;
  bool random_ = false;
  const char *map_ = nullptr;
  size_t mapSize_ = 0;
  std::vector<char> owned_; ///< a file's bytes (read, not mapped), or a realigned copy
  std::unordered_map<std::string, WeightInfo> index_;
  std::unordered_map<std::string, std::vector<float>> generated_;
  void index(); ///< parses the safetensors header at map_
};

} // namespace tfm::runtime

namespace tfm::runtime {
namespace {

/// A minimal JSON reader for safetensors headers: objects, arrays, strings,
/// integers, true/false/null. Throws std::runtime_error on malformed input.
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : s(text) {}

  std::unordered_map<std::string, WeightInfo> parse(const char *data, uint64_t dataSize) {
    std::unordered_map<std::string, WeightInfo> out;
    expect('{');
    if (peek() == '}') {
      ++i;
      return out;
    }
    while (true) {
      std::string name = string();
      expect(':');
      if (name == "__metadata__") {
        skipValue();
      } else {
        WeightInfo w;
        uint64_t begin = 0, end = 0;
        bool haveOffsets = false;
        expect('{');
        while (true) {
          std::string key = string();
          expect(':');
          if (key == "dtype") {
            w.dtype = string();
          } else if (key == "shape") {
            for (int64_t v : intArray())
              w.shape.push_back(v);
          } else if (key == "data_offsets") {
            auto o = intArray();
            if (o.size() != 2)
              fail("tensor '" + name + "': data_offsets must be [begin, end]");
            begin = o[0];
            end = o[1];
            haveOffsets = true;
          } else {
            skipValue();
          }
          if (peek() == ',') { ++i; continue; }
          expect('}');
          break;
        }
        if (!haveOffsets || begin > end || end > dataSize)
          fail("tensor '" + name + "': data_offsets out of the data section");
        // The byte count must be what shape x dtype says (checked
        // arithmetic: a lying header must not hand out pointers past it).
        uint64_t bytes = itemBytes(w.dtype);
        if (bytes == 0)
          fail("tensor '" + name + "': unknown dtype '" + w.dtype + "'");
        for (int64_t d : w.shape)
          if (d < 0 || (d > 0 && bytes > UINT64_MAX / static_cast<uint64_t>(d)))
            fail("tensor '" + name + "': shape overflows");
          else
            bytes *= static_cast<uint64_t>(d);
        if (bytes != end - begin)
          fail("tensor '" + name + "': data_offsets [" + std::to_string(begin) + ", " +
               std::to_string(end) + "] hold " + std::to_string(end - begin) +
               " bytes, its shape and dtype need " + std::to_string(bytes));
        if (out.count(name))
          fail("tensor '" + name + "' appears twice");
        w.data = data + begin;
        w.begin = begin;
        w.end = end;
        out[name] = w;
      }
      if (peek() == ',') { ++i; continue; }
      expect('}');
      // No two tensors may share bytes.
      std::vector<std::pair<uint64_t, const std::string *>> spans;
      for (const auto &[tensor, info] : out)
        if (info.end > info.begin)
          spans.push_back({info.begin, &tensor});
      std::sort(spans.begin(), spans.end());
      for (size_t k = 1; k < spans.size(); ++k)
        if (out[*spans[k - 1].second].end > spans[k].first)
          fail("tensors '" + *spans[k - 1].second + "' and '" + *spans[k].second + "' overlap");
      return out;
    }
  }

private:
  static uint64_t itemBytes(const std::string &dtype) {
    if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
    if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
    if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
    if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E4M3" || dtype == "F8_E5M2")
      return 1;
    return 0;
  }
  [[noreturn]] void fail(const std::string &why) { throw std::runtime_error(why); }
  char peek() {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
      ++i;
    return i < s.size() ? s[i] : '\0';
  }
  void expect(char c) {
    if (peek() != c)
      fail(std::string("malformed header: expected '") + c + "' at byte " + std::to_string(i));
    ++i;
  }
  std::string string() {
    expect('"');
    std::string r;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\' && i + 1 < s.size())
        ++i;
      r += s[i++];
    }
    expect('"');
    return r;
  }
  std::vector<int64_t> intArray() {
    std::vector<int64_t> r;
    expect('[');
    if (peek() == ']') { ++i; return r; }
    while (true) {
      peek();
      size_t start = i;
      while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '-'))
        ++i;
      if (start == i)
        fail("malformed header: expected an integer at byte " + std::to_string(i));
      r.push_back(std::stoll(s.substr(start, i - start)));
      if (peek() == ',') { ++i; continue; }
      expect(']');
      return r;
    }
  }
  void skipValue() {
    char c = peek();
    if (c == '"') { string(); return; }
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++i;
      if (peek() == close) { ++i; return; }
      while (true) {
        if (close == '}') { string(); expect(':'); }
        skipValue();
        if (peek() == ',') { ++i; continue; }
        expect(close);
        return;
      }
    }
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']')
      ++i;
  }
  const std::string &s;
  size_t i = 0;
};

/// splitmix64: the per-element generator of random weights.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
} // namespace

void Weights::configure(const std::string &spec) {
  if (spec.rfind("random:", 0) == 0) {
    random_ = true;
    seed_ = std::stoull(spec.substr(7));
    return;
  }
  if (spec == "embedded") {
    if (!tfm_weights_begin || tfm_weights_end - tfm_weights_begin < 8)
      throw std::runtime_error("the executable has no embedded weights");
    path_ = "embedded weights";
    map_ = tfm_weights_begin;
    mapSize_ = static_cast<size_t>(tfm_weights_end - tfm_weights_begin);
    index();
    return;
  }
  if (spec.rfind("beside:", 0) == 0) {
    char exe[4096];
    ssize_t len = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    std::string dir = len > 0 ? std::string(exe, static_cast<size_t>(len)) : std::string(".");
    dir = dir.substr(0, dir.rfind('/') == std::string::npos ? 0 : dir.rfind('/'));
    return configure("file:" + (dir.empty() ? std::string(".") : dir) + "/" + spec.substr(7));
  }
  if (spec.rfind("file:", 0) != 0)
    throw std::runtime_error("unknown weights source '" + spec + "'");
  path_ = spec.substr(5);
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
  int fd = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error(path_ + ": cannot open weights file: " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw std::runtime_error(path_ + ": not a regular file");
  }
  if (st.st_size < 8) {
    ::close(fd);
    throw std::runtime_error(path_ + ": not a safetensors file (" + std::to_string(st.st_size) +
                             " bytes)");
  }
  // Read, not mapped: a file truncated or rewritten while the executable runs
  // must not raise SIGBUS or change the weights mid-run. (The prepacked
  // copies the matmuls read are made once at load either way.)
  owned_.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < owned_.size()) {
    ssize_t n = ::pread(fd, owned_.data() + got, owned_.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int err = n < 0 ? errno : 0;
      ::close(fd);
      throw std::runtime_error(path_ + ": cannot read weights file: " +
                               (err ? std::strerror(err) : "it became shorter while read"));
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  map_ = owned_.data();
  mapSize_ = owned_.size();
  index();
}

void Weights::index() {
  uint64_t headerLen = 0;
  for (int b = 7; b >= 0; --b)
    headerLen = headerLen << 8 | static_cast<unsigned char>(map_[b]);
  if (headerLen > mapSize_ - 8)
    throw std::runtime_error(path_ + ": header length exceeds the file");
  // The kernels read f32/bf16 weights in place: a header whose length is not
  // a multiple of 8 (valid, if unusual) leaves the data misaligned for its
  // elements; then the bytes are copied once so that the data section starts
  // 64-byte aligned. (A file read into the heap and the embedded section are
  // at least 16-byte aligned, so an 8-byte multiple header needs no copy.)
  if (reinterpret_cast<uintptr_t>(map_ + 8 + headerLen) % 8 != 0) {
    std::vector<char> aligned(mapSize_ + 64);
    uintptr_t data = reinterpret_cast<uintptr_t>(aligned.data()) + 8 + headerLen;
    size_t shift = (64 - data % 64) % 64;
    std::memcpy(aligned.data() + shift, map_, mapSize_);
    owned_ = std::move(aligned);
    map_ = owned_.data() + shift;
  }
  std::string header(map_ + 8, headerLen);
  if (auto at = tfm::json::tooDeepAt(header))
    throw std::runtime_error(path_ + ": header JSON nests deeper than " +
                             std::to_string(tfm::json::kMaxDepth) + " levels (at byte " +
                             std::to_string(8 + *at) + ")");
  try {
    index_ = HeaderParser(header).parse(map_ + 8 + headerLen, mapSize_ - 8 - headerLen);
  } catch (const std::exception &e) {
    throw std::runtime_error(path_ + ": " + e.what());
  }
}

void *Weights::get(const std::string &name, const std::vector<int64_t> &shape, int32_t dtype) {
  static const char *names[] = {"F32", "F16", "BF16"};
  if (random_) {
    if (dtype != TFM_DTYPE_F32)
      throw std::runtime_error("random weights are f32; '" + name + "' expects another type");
    auto it = generated_.find(name);
    if (it != generated_.end())
      return it->second.data();
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    std::vector<float> data(static_cast<size_t>(n));
    // Layer norms start as the identity (weight 1, bias 0), everything else
    // ~ N(0, 0.02) as GPT-2 initializes, from a hash of the name and the seed.
    bool isNorm = name.find("ln_") != std::string::npos;
    bool isBias = name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    uint64_t h = seed_ * 0x100000001b3ull;
    for (char c : name)
      h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    for (int64_t i = 0; i < n; ++i) {
      if (isNorm) {
        data[i] = isBias ? 0.0f : 1.0f;
        continue;
      }
      // Irwin-Hall(4) approximation of a normal: sum of 4 uniforms.
      uint64_t r = mix(h + static_cast<uint64_t>(i));
      double u = 0;
      for (int k = 0; k < 4; ++k)
        u += static_cast<double>((r >> (16 * k)) & 0xffff) / 65535.0;
      data[i] = static_cast<float>((u - 2.0) * std::sqrt(3.0) * 0.02);
    }
    return generated_.emplace(name, std::move(data)).first->second.data();
  }
  if (!map_)
    throw std::runtime_error("no weights were configured (see --weights)");
  auto it = index_.find(name);
  if (it == index_.end())
    throw std::runtime_error(path_ + ": missing tensor '" + name + "'");
  const WeightInfo &w = it->second;
  if (w.shape != shape)
    throw std::runtime_error(path_ + ": tensor '" + name + "' changed shape since compilation");
  if (dtype < 0 || dtype > 2 || w.dtype != names[dtype])
    throw std::runtime_error(path_ + ": tensor '" + name + "' has dtype " + w.dtype +
                             ", the compiled code expects another");
  return const_cast<char *>(w.data);
}

//===----------------------------------------------------------------------===//
// Kernels oneDNN 2.6 does not have
//===----------------------------------------------------------------------===//

namespace {
/// Reads element i of an integer buffer (i32 or i64) of rank 1.
int64_t indexAt(const Buffer &b, int64_t i) {
  const char *p = b.data + i * b.strides[0] * (b.dtype == TFM_DTYPE_I64 ? 8 : 4);
  if (b.dtype == TFM_DTYPE_I64) {
    int64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

/// Row r of a rank-2 f32 buffer.
float *row(const Buffer &b, int64_t r) {
  return reinterpret_cast<float *>(b.data) + r * b.strides[0];
}
} // namespace

export void embedding(const Buffer &tokens, const Buffer &table, const Buffer &tableScales,
                      const Buffer &posTable, const Buffer &positions, const Buffer &dst,
                      int32_t kind, int32_t bits, int64_t group) {
  if (kind != TFM_POSITION_NONE && kind != TFM_POSITION_LEARNED && kind != TFM_POSITION_SINUSOIDAL)
    throw std::runtime_error("embedding: unknown position code " + std::to_string(kind));
  requireF32(dst, "embedding");
  if (bits == 0)
    requireF32(table, "embedding");
  // A quantized table ([V, Kp] int8 or [V, Kp/2] int4, scales [V, Kp/group])
  // is dequantized one row per token into the destination row.
  quant::Scheme scheme{bits, group};
  int64_t t = tokens.dims[0], vocab = table.dims[0], d = dst.dims[1];
  if (bits != 0 && (!quant::checkScheme(scheme).empty() || !tableScales.present() ||
                    table.dims[1] != scheme.rowBytes(d) || tableScales.dims[0] != vocab ||
                    tableScales.dims[1] != scheme.groups(d)))
    throw std::runtime_error("embedding: the quantized table does not fit rows of " +
                             std::to_string(d));
  if (bits == 0 && table.dims[1] != d)
    throw std::runtime_error("embedding: table rows of " + std::to_string(table.dims[1]) +
                             " for rows of " + std::to_string(d));
  for (int64_t i = 0; i < t; ++i) {
    int64_t id = indexAt(tokens, i);
    if (id < 0 || id >= vocab)
      throw std::runtime_error(
          (Runtime::get().isWeight(table.data) ? "token id " : "row index ") +
          std::to_string(id) + " at position " + std::to_string(i) + " is out of range [0, " +
          std::to_string(vocab) + ")");
    float *out = row(dst, i);
    const float *e = out;
    if (bits != 0)
      quant::dequantizeColumn(reinterpret_cast<const uint8_t *>(table.data),
                              reinterpret_cast<const float *>(tableScales.data), scheme, d, id,
                              out);
    else
      e = row(table, id);
    int64_t pos = positions.present() ? indexAt(positions, i) : i;
    if (kind == TFM_POSITION_LEARNED) {
      if (pos < 0 || pos >= posTable.dims[0])
        throw std::runtime_error("position " + std::to_string(pos) + " is beyond the " +
                                 std::to_string(posTable.dims[0]) + " learned positions");
      const float *p = row(posTable, pos);
      for (int64_t j = 0; j < d; ++j)
        out[j] = e[j] + p[j];
    } else if (kind == TFM_POSITION_SINUSOIDAL) {
      for (int64_t j = 0; j < d; ++j) {
        double angle = pos * std::pow(10000.0, -2.0 * (j / 2) / static_cast<double>(d));
        out[j] = e[j] + static_cast<float>(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
      }
    } else if (e != out) {
      std::memcpy(out, e, d * sizeof(float));
    }
  }
}

export void sdpa(const Buffer &q, const Buffer &k, const Buffer &v, const Buffer &pastK,
                 const Buffer &pastV, const Buffer &positions, const Buffer &dst,
                 const Buffer &presentK, const Buffer &presentV, int64_t heads, double scale,
                 bool causal, int64_t ropeDim, double ropeTheta) {
  for (const Buffer *b : {&q, &k, &v, &dst})
    requireF32(*b, "sdpa");
  for (const Buffer *b : {&q, &k, &v, &dst, &pastK, &pastV, &presentK, &presentV})
    if (b->present() && b->strides.back() != 1)
      throw std::runtime_error("sdpa: rows must be contiguous");
  Runtime &rt = Runtime::get();
  int64_t t = q.dims[0], width = q.dims[1], dh = width / heads;
  int64_t past = pastK.present() ? pastK.dims[0] : 0, s = past + t;
  // Keys and values of all S positions: past rows, then the new ones (rotated
  // keys). With a cache they go to the present buffers (in place when the
  // caller passes the cache as both past and present); without one, the new
  // rows are read where they are unless RoPE must rotate them.
  const float *qRows = reinterpret_cast<const float *>(q.data);
  int64_t qs = q.strides[0];
  float *keys, *vals;
  int64_t ks, vs;
  bool copyNew = true;
  if (presentK.present()) {
    keys = reinterpret_cast<float *>(presentK.data);
    vals = reinterpret_cast<float *>(presentV.data);
    ks = presentK.strides[0];
    vs = presentV.strides[0];
    if (presentK.data != pastK.data || ks != pastK.strides[0])
      for (int64_t r = 0; r < past; ++r)
        std::memcpy(keys + r * ks, row(pastK, r), width * sizeof(float));
    if (presentV.data != pastV.data || vs != pastV.strides[0])
      for (int64_t r = 0; r < past; ++r)
        std::memcpy(vals + r * vs, row(pastV, r), width * sizeof(float));
  } else if (past > 0 || ropeDim > 0) {
    keys = rt.scratch(0, static_cast<size_t>(s * width));
    vals = rt.scratch(1, static_cast<size_t>(s * width));
    ks = vs = width;
    for (int64_t r = 0; r < past; ++r) {
      std::memcpy(keys + r * ks, row(pastK, r), width * sizeof(float));
      std::memcpy(vals + r * vs, row(pastV, r), width * sizeof(float));
    }
  } else {
    keys = reinterpret_cast<float *>(k.data);
    vals = reinterpret_cast<float *>(v.data);
    ks = k.strides[0];
    vs = v.strides[0];
    copyNew = false;
  }
  if (copyNew)
    for (int64_t r = 0; r < t; ++r) {
      std::memcpy(keys + (past + r) * ks, row(k, r), width * sizeof(float));
      std::memcpy(vals + (past + r) * vs, row(v, r), width * sizeof(float));
    }
  if (ropeDim > 0) {
    // Rotate q (into scratch) and the new keys (in place); the angles of a
    // position are computed once for all heads.
    float *qRot = rt.scratch(2, static_cast<size_t>(t * width));
    for (int64_t r = 0; r < t; ++r)
      std::memcpy(qRot + r * width, row(q, r), width * sizeof(float));
    qRows = qRot;
    qs = width;
    int64_t half = ropeDim / 2;
    std::vector<float> cs(static_cast<size_t>(half)), sn(static_cast<size_t>(half));
    for (int64_t r = 0; r < t; ++r) {
      double pos = positions.present() ? static_cast<double>(indexAt(positions, r))
                                       : static_cast<double>(past + r);
      for (int64_t i = 0; i < half; ++i) {
        double angle = pos * std::pow(ropeTheta, -2.0 * i / ropeDim);
        cs[i] = static_cast<float>(std::cos(angle));
        sn[i] = static_cast<float>(std::sin(angle));
      }
      for (float *base : {qRot + r * width, keys + (past + r) * ks})
        for (int64_t h = 0; h < heads; ++h) {
          float *x = base + h * dh;
          for (int64_t i = 0; i < half; ++i) {
            float x1 = x[i], x2 = x[i + half];
            x[i] = x1 * cs[i] - x2 * sn[i];
            x[i + half] = x2 * cs[i] + x1 * sn[i];
          }
        }
    }
  }
  float *out = reinterpret_cast<float *>(dst.data);
  int64_t os = dst.strides[0];
  unsigned threads = rt.threads();
  // Few queries (decode): one pass over the cache per head. Many (prefill):
  // scores = Q K^T and out = P V as oneDNN batched matmuls over groups of
  // heads (scores of a group kept to a few MiB), the masked softmax between.
  if (t < 16) {
    rt.noteKernel("sdpa", "direct");
    kernels::attend({qRows, qs, keys, ks, vals, vs, out, os, t, past, heads, dh,
                     static_cast<float>(scale), causal},
                    threads);
    return;
  }
  rt.noteKernel("sdpa", "gemm+masked-softmax");
  // Causal: query block [r0, r1) sees keys [0, past + r1) only, so blocks of
  // 128 queries skip most of the masked upper triangle.
  constexpr int64_t kBlock = 128;
  for (int64_t r0 = 0; r0 < t; r0 += kBlock) {
    int64_t rows = std::min(kBlock, t - r0);
    int64_t keysSeen = causal ? past + r0 + rows : s;
    int64_t group = std::clamp<int64_t>((4 << 20) / (rows * keysSeen * 4), 1, heads);
    float *scores = rt.scratch(3, static_cast<size_t>(group * rows * keysSeen));
    const float *qBlock = qRows + r0 * qs;
    float *outBlock = out + r0 * os;
    for (int64_t h0 = 0; h0 < heads; h0 += group) {
      int64_t g = std::min(group, heads - h0);
      rt.batchedMatmul(qBlock + h0 * dh, {g, rows, dh}, {dh, qs, 1}, keys + h0 * dh,
                       {g, dh, keysSeen}, {dh, 1, ks}, scores, {g, rows, keysSeen},
                       {rows * keysSeen, keysSeen, 1});
      kernels::maskedSoftmax(scores, g, rows, keysSeen, past + r0, causal,
                             static_cast<float>(scale), threads);
      rt.batchedMatmul(scores, {g, rows, keysSeen}, {rows * keysSeen, keysSeen, 1},
                       vals + h0 * dh, {g, keysSeen, dh}, {dh, vs, 1}, outBlock + h0 * dh,
                       {g, rows, dh}, {dh, os, 1});
    }
  }
}

} // namespace tfm::runtime
