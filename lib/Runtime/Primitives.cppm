//===- Primitives.cppm - oneDNN primitives behind the tfm C ABI -*- C++ -*-===//
//
// The `tfm.runtime.primitives` module: turns buffers into oneDNN memory
// descriptors, creates the primitive for each distinct shape once, caches it
// and executes it (matmul with prepacked weights and post-ops, layer norm,
// eltwise, binary, softmax, reorder, reduction); also the process-wide
// settings the kernels share (threads, bf16, scratch memory, which kernels
// ran). Functions throw (dnnl::error or std::runtime_error); the C ABI in
// CAbi.cpp catches everything and records the first error.
//
//===----------------------------------------------------------------------===//

module;
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>
#include <oneapi/dnnl/dnnl.hpp>
#include "tfm/Runtime/tfm_runtime.h"
export module tfm.runtime.primitives;
export import tfm.runtime.buffer;
import tfm.kernels;

export namespace tfm::runtime {

/// The runtime: one CPU engine and stream, and a primitive cache keyed by
/// the primitive's kind, shapes, strides, types and attributes.
class Runtime {
public:
  Runtime() : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

  static Runtime &get() {
    static Runtime rt;
    return rt;
  }

  /// dst = activation(a x b + bias) * multiplier + residual; bias,
  /// multiplier and residual may be absent (Buffer{}).
  void matmul(const Buffer &a, const Buffer &b, const Buffer &bias,
              const Buffer &residual, const Buffer &dst, int32_t activation,
              bool transposeB, const Buffer &multiplier = Buffer{});
  void layerNorm(const Buffer &src, const Buffer &scale, const Buffer &shift,
                 const Buffer &dst, double epsilon, bool rms);
  /// dst = src with the causal (and window) mask's masked entries = fill.
  void causalFill(const Buffer &src, const Buffer &dst, double fill, int64_t window);
  /// dst = src where rows i and j of the last two dims ([T, T]) lie in one
  /// run of equal `ids` (packed sequences), else `fill`.
  void sequenceFill(const Buffer &src, const Buffer &ids, const Buffer &dst, double fill);
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
  /// `isa` names the copy that runs (default: tfm.kernels' kernelIsaName()).
  void noteKernel(const char *kind, const char *variant, const char *isa = nullptr) {
    for (const auto &[k, v] : noted_)
      if (k == kind && v == variant)
        return;
    noted_.emplace_back(kind, variant);
    impls_.push_back(std::string(kind) + ": tfm:" + variant + " (" +
                     (isa ? isa : kernels::kernelIsaName()) + ")");
  }

  /// Records that `data` is a model weight: matmuls then use it prepacked
  /// into oneDNN's preferred layout (reordered once, on first use).
  /// Records that `data` holds the weight `name` (for prepacking and for
  /// errors that name the table an index is out of).
  void markWeight(const void *data, std::string name) { weights_[data] = std::move(name); }
  bool isWeight(const void *data) const { return weights_.count(data) != 0; }
  /// The name of the weight at `data`, or null.
  const std::string *weightName(const void *data) const {
    auto it = weights_.find(data);
    return it == weights_.end() ? nullptr : &it->second;
  }

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
  std::unordered_map<const void *, std::string> weights_;
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
  case TFM_ACTIVATION_SILU: return algorithm::eltwise_swish; // x sigmoid(alpha x), alpha 1
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
  case TFM_ELTWISE_ERF:
  case TFM_ELTWISE_SIN:
  case TFM_ELTWISE_COS: return algorithm::undef;
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
                     bool transposeB, const Buffer &multiplier) {
  size_t rank = dst.dims.size();
  std::string key = "matmul";
  for (const Buffer *x : {&a, &b, &bias, &multiplier, &residual, &dst})
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
  memory::desc mulMd = multiplier.present() ? desc(multiplier, rank) : memory::desc();
  auto &prim = cached<dnnl::matmul>(key, [&] {
    dnnl::post_ops po;
    if (activation != TFM_ACTIVATION_NONE) // alpha: swish's beta (1); relu's slope (0)
      po.append_eltwise(1.f, activationAlgorithm(activation),
                        activation == TFM_ACTIVATION_SILU ? 1.f : 0.f, 0.f);
    if (multiplier.present())
      po.append_binary(algorithm::binary_mul, mulMd);
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
  int postOp = activation != TFM_ACTIVATION_NONE ? 1 : 0;
  if (multiplier.present())
    args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(postOp++) | DNNL_ARG_SRC_1] = mem(mulMd, multiplier);
  if (residual.present())
    args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(postOp) | DNNL_ARG_SRC_1] = mem(resMd, residual);
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
                        const Buffer &dst, double epsilon, bool rms) {
  if (src.dims != dst.dims || src.strides != dst.strides) {
    reorder(src, dst);
    return layerNorm(dst, scale, shift, dst, epsilon, rms);
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
                       static_cast<float>(epsilon), rms, threads());
    return;
  }
  if (rms) // oneDNN 2.6 has no RMS normalization
    throw std::runtime_error("layer_norm: RMS normalization needs f32 rows of contiguous "
                             "elements");
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
  if (kind == TFM_ELTWISE_ERF || kind == TFM_ELTWISE_SIN || kind == TFM_ELTWISE_COS) {
    // No oneDNN algorithm in 2.6: plain loops (in double, rounded once).
    requireF32(src, kind == TFM_ELTWISE_ERF ? "erf" : kind == TFM_ELTWISE_SIN ? "sin" : "cos");
    auto *s = reinterpret_cast<const float *>(src.data);
    auto *d = reinterpret_cast<float *>(dst.data);
    double (*f)(double) = kind == TFM_ELTWISE_ERF   ? static_cast<double (*)(double)>(std::erf)
                          : kind == TFM_ELTWISE_SIN ? static_cast<double (*)(double)>(std::sin)
                                                    : static_cast<double (*)(double)>(std::cos);
    forEachBroadcast(dst, src, Buffer{}, [&](int64_t od, int64_t os, int64_t) {
      d[od] = static_cast<float>(f(s[os]));
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
  if ((src.dtype == TFM_DTYPE_I64 || src.dtype == TFM_DTYPE_I32) && dst.dtype == TFM_DTYPE_F32) {
    // Integer to f32 (tfm.cast of positions): oneDNN 2.6 has no s64.
    auto *d = reinterpret_cast<float *>(dst.data);
    forEachBroadcast(dst, src, Buffer{}, [&](int64_t od, int64_t os, int64_t) {
      int64_t v;
      if (src.dtype == TFM_DTYPE_I64) {
        std::memcpy(&v, src.data + os * 8, 8);
      } else {
        int32_t w;
        std::memcpy(&w, src.data + os * 4, 4);
        v = w;
      }
      d[od] = static_cast<float>(v);
    });
    return;
  }
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

void Runtime::causalFill(const Buffer &src, const Buffer &dst, double fill, int64_t window) {
  requireF32(src, "causal_fill");
  requireF32(dst, "causal_fill");
  size_t rank = dst.dims.size();
  if (rank < 2 || src.dims != dst.dims)
    throw std::runtime_error("causal_fill: src and dst must be [..., queries, keys] of one shape");
  int64_t t = dst.dims[rank - 2], s = dst.dims[rank - 1], offset = s - t;
  auto *in = reinterpret_cast<const float *>(src.data);
  auto *out = reinterpret_cast<float *>(dst.data);
  std::vector<int64_t> idx(rank, 0);
  int64_t n = dst.numElements();
  for (int64_t e = 0; e < n; ++e) {
    int64_t os = 0, od = 0;
    for (size_t d = 0; d < rank; ++d) {
      os += idx[d] * src.strides[d];
      od += idx[d] * dst.strides[d];
    }
    int64_t i = idx[rank - 2], j = idx[rank - 1];
    bool keep = j <= i + offset && (window <= 0 || j > i + offset - window);
    out[od] = keep ? in[os] : static_cast<float>(fill);
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < dst.dims[d])
        break;
      idx[d] = 0;
    }
  }
}

void Runtime::sequenceFill(const Buffer &src, const Buffer &ids, const Buffer &dst,
                           double fill) {
  requireF32(src, "sequence_fill");
  requireF32(dst, "sequence_fill");
  size_t rank = dst.dims.size();
  if (rank < 2 || src.dims != dst.dims || dst.dims[rank - 1] != dst.dims[rank - 2])
    throw std::runtime_error("sequence_fill: src and dst must be [..., T, T] of one shape");
  int64_t t = dst.dims[rank - 1];
  std::vector<int64_t> starts = sequenceRuns(ids, t, "sequence_fill"), run(t);
  for (size_t r = 0; r + 1 < starts.size(); ++r)
    for (int64_t i = starts[r]; i < starts[r + 1]; ++i)
      run[i] = static_cast<int64_t>(r);
  auto *in = reinterpret_cast<const float *>(src.data);
  auto *out = reinterpret_cast<float *>(dst.data);
  std::vector<int64_t> idx(rank, 0);
  int64_t n = dst.numElements();
  for (int64_t e = 0; e < n; ++e) {
    int64_t os = 0, od = 0;
    for (size_t d = 0; d < rank; ++d) {
      os += idx[d] * src.strides[d];
      od += idx[d] * dst.strides[d];
    }
    out[od] = run[idx[rank - 2]] == run[idx[rank - 1]] ? in[os] : static_cast<float>(fill);
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < dst.dims[d])
        break;
      idx[d] = 0;
    }
  }
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
