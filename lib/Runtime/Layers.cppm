//===- Layers.cppm - Embedding and attention: kernels oneDNN lacks -*- C++ -*-===//
//
// The `tfm.runtime.layers` module: the two layers oneDNN 2.6 has no
// primitive for. embedding gathers token rows (f32 or quantized tables) and
// adds learned or sinusoidal positions; sdpa is multi-head scaled dot-product
// attention with a KV cache, causal masking and RoPE, on oneDNN batched
// matmuls and tfm.kernels' masked softmax (or a direct kernel for one query
// row). Throw std::runtime_error on shapes the compiled code cannot have.
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
export module tfm.runtime.layers;
import tfm.runtime.buffer;
import tfm.runtime.primitives;
import tfm.kernels;
import tfm.quant;

namespace tfm::runtime {

namespace {
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
    if (id < 0 || id >= vocab) {
      // A weight table is indexed by ids (token ids, an encoder's token
      // types: the weight's name says which); else by rows of an activation.
      const std::string *weight = Runtime::get().weightName(table.data);
      throw std::runtime_error(
          (weight ? "id " : "row index ") + std::to_string(id) + " at position " +
          std::to_string(i) + " is out of range [0, " + std::to_string(vocab) + ")" +
          (weight ? " of the rows of '" + *weight + "'" : std::string()));
    }
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
      if (pos < 0 || pos >= posTable.dims[0]) {
        // The table's name says what the index is (a position, or the token
        // type an encoder's fused embedding adds the same way).
        const std::string *weight = Runtime::get().weightName(posTable.data);
        throw std::runtime_error(
            weight ? "id " + std::to_string(pos) + " at position " + std::to_string(i) +
                         " is out of range [0, " + std::to_string(posTable.dims[0]) +
                         ") of the rows of '" + *weight + "'"
                   : "position " + std::to_string(pos) + " is beyond the " +
                         std::to_string(posTable.dims[0]) + " learned positions");
      }
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
                 const Buffer &pastV, const Buffer &positions, const Buffer &invFreq,
                 const Buffer &sequences, const Buffer &dst, const Buffer &presentK,
                 const Buffer &presentV, int64_t heads, int64_t kvHeads, double scale,
                 bool causal, int64_t window) {
  for (const Buffer *b : {&q, &k, &v, &dst})
    requireF32(*b, "sdpa");
  if (sequences.present()) {
    // Packed sequences: each run of equal ids is attention of its own (its
    // rows of q, k, v, positions and dst), so no work is spent across
    // sequences or on padding.
    if (pastK.present() || presentK.present())
      throw std::runtime_error("sdpa: packed sequences take no KV cache");
    int64_t t = q.dims[0];
    for (const Buffer *b : {&k, &v, &dst})
      if (b->dims.size() != 2 || b->dims[0] != t)
        throw std::runtime_error("sdpa: q, k, v and dst must have " + std::to_string(t) + " rows");
    std::vector<int64_t> runs = sequenceRuns(sequences, t, "sdpa");
    auto rows = [](const Buffer &b, int64_t r0, int64_t n) {
      if (!b.present())
        return b;
      Buffer view = b;
      view.data += r0 * b.strides[0] * elementSize(b.dtype);
      view.dims[0] = n;
      return view;
    };
    Buffer none;
    for (size_t r = 0; r + 1 < runs.size(); ++r) {
      int64_t r0 = runs[r], n = runs[r + 1] - runs[r];
      sdpa(rows(q, r0, n), rows(k, r0, n), rows(v, r0, n), none, none, rows(positions, r0, n),
           invFreq, none, rows(dst, r0, n), none, none, heads, kvHeads, scale, causal, window);
    }
    return;
  }
  for (const Buffer *b : {&q, &k, &v, &dst, &pastK, &pastV, &presentK, &presentV})
    if (b->present() && b->strides.back() != 1)
      throw std::runtime_error("sdpa: rows must be contiguous");
  if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0)
    throw std::runtime_error("sdpa: " + std::to_string(kvHeads) +
                             " key/value heads do not divide " + std::to_string(heads) +
                             " heads");
  Runtime &rt = Runtime::get();
  int64_t t = q.dims[0], width = q.dims[1], dh = width / heads, kvWidth = kvHeads * dh;
  int64_t group = heads / kvHeads;
  int64_t past = pastK.present() ? pastK.dims[0] : 0, s = past + t;
  int64_t ropeHalf = invFreq.present() ? invFreq.dims[0] : 0;
  if (invFreq.present()) {
    requireF32(invFreq, "sdpa");
    if (2 * ropeHalf > dh)
      throw std::runtime_error("sdpa: a RoPE table of " + std::to_string(ropeHalf) +
                               " frequencies for heads of " + std::to_string(dh));
  }
  // Keys and values of all S positions: past rows, then the new ones (rotated
  // keys). With a cache they go to the present buffers (in place when the
  // caller passes the cache as both past and present); without one, the new
  // rows are read where they are unless RoPE must rotate them.
  const float *qRows = reinterpret_cast<const float *>(q.data);
  int64_t qs = q.strides[0];
  float *keys, *vals;
  int64_t ks, vs;
  bool copyNew = true;
  size_t rowBytes = static_cast<size_t>(kvWidth) * sizeof(float);
  if (presentK.present()) {
    keys = reinterpret_cast<float *>(presentK.data);
    vals = reinterpret_cast<float *>(presentV.data);
    ks = presentK.strides[0];
    vs = presentV.strides[0];
    if (presentK.data != pastK.data || ks != pastK.strides[0])
      for (int64_t r = 0; r < past; ++r)
        std::memcpy(keys + r * ks, row(pastK, r), rowBytes);
    if (presentV.data != pastV.data || vs != pastV.strides[0])
      for (int64_t r = 0; r < past; ++r)
        std::memcpy(vals + r * vs, row(pastV, r), rowBytes);
  } else if (past > 0 || ropeHalf > 0) {
    keys = rt.scratch(0, static_cast<size_t>(s * kvWidth));
    vals = rt.scratch(1, static_cast<size_t>(s * kvWidth));
    ks = vs = kvWidth;
    for (int64_t r = 0; r < past; ++r) {
      std::memcpy(keys + r * ks, row(pastK, r), rowBytes);
      std::memcpy(vals + r * vs, row(pastV, r), rowBytes);
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
      std::memcpy(keys + (past + r) * ks, row(k, r), rowBytes);
      std::memcpy(vals + (past + r) * vs, row(v, r), rowBytes);
    }
  if (ropeHalf > 0) {
    // Rotate q (into scratch) and the new keys (in place); the angles of a
    // position are computed once for all heads: pos * inv_freq[i], in double
    // (as the reference evaluator), rounded to f32 cos and sin.
    float *qRot = rt.scratch(2, static_cast<size_t>(t * width));
    for (int64_t r = 0; r < t; ++r)
      std::memcpy(qRot + r * width, row(q, r), width * sizeof(float));
    qRows = qRot;
    qs = width;
    std::vector<double> inv(static_cast<size_t>(ropeHalf));
    for (int64_t i = 0; i < ropeHalf; ++i)
      inv[i] = reinterpret_cast<const float *>(invFreq.data)[i * invFreq.strides[0]];
    std::vector<float> cs(static_cast<size_t>(ropeHalf)), sn(static_cast<size_t>(ropeHalf));
    for (int64_t r = 0; r < t; ++r) {
      double pos = positions.present() ? static_cast<double>(indexAt(positions, r))
                                       : static_cast<double>(past + r);
      for (int64_t i = 0; i < ropeHalf; ++i) {
        double angle = pos * inv[i];
        cs[i] = static_cast<float>(std::cos(angle));
        sn[i] = static_cast<float>(std::sin(angle));
      }
      for (auto [base, n] : {std::pair{qRot + r * width, heads},
                             std::pair{keys + (past + r) * ks, kvHeads}})
        for (int64_t h = 0; h < n; ++h) {
          float *x = base + h * dh;
          for (int64_t i = 0; i < ropeHalf; ++i) {
            float x1 = x[i], x2 = x[i + ropeHalf];
            x[i] = x1 * cs[i] - x2 * sn[i];
            x[i + ropeHalf] = x2 * cs[i] + x1 * sn[i];
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
    kernels::Attention a{qRows, qs, keys, ks, vals, vs, out, os, t, past, heads, dh,
                         static_cast<float>(scale), causal};
    a.kvHeads = kvHeads;
    a.window = window;
    kernels::attend(a, threads);
    return;
  }
  rt.noteKernel("sdpa", "gemm+masked-softmax");
  // Causal: query block [r0, r1) sees keys [0, past + r1) only, so blocks of
  // 128 queries skip most of the masked upper triangle (and, with a window,
  // keys before past + r0 + 1 - window).
  constexpr int64_t kBlock = 128;
  for (int64_t r0 = 0; r0 < t; r0 += kBlock) {
    int64_t rows = std::min(kBlock, t - r0);
    int64_t keysEnd = causal ? past + r0 + rows : s;
    int64_t keysBegin =
        causal && window > 0 ? std::max<int64_t>(0, past + r0 + 1 - window) : 0;
    int64_t keysSeen = keysEnd - keysBegin;
    // Heads of one group share their key/value head: a batch of query heads
    // against one K (a broadcast batch dimension of oneDNN's matmul).
    int64_t batch =
        std::clamp<int64_t>((4 << 20) / (rows * keysSeen * 4), 1, group == 1 ? heads : group);
    float *scores = rt.scratch(3, static_cast<size_t>(batch * rows * keysSeen));
    const float *qBlock = qRows + r0 * qs;
    float *outBlock = out + r0 * os;
    const float *kBlock0 = keys + keysBegin * ks;
    const float *vBlock0 = vals + keysBegin * vs;
    for (int64_t h0 = 0; h0 < heads;) {
      // MHA: a batch of heads with their own keys; GQA: a batch within a group.
      int64_t g = group == 1 ? std::min(batch, heads - h0)
                             : std::min(batch, group - h0 % group);
      int64_t kvh = h0 / group;
      dnnl::memory::dims kDims = group == 1 ? dnnl::memory::dims{g, dh, keysSeen} : dnnl::memory::dims{1, dh, keysSeen};
      dnnl::memory::dims vDims = group == 1 ? dnnl::memory::dims{g, keysSeen, dh} : dnnl::memory::dims{1, keysSeen, dh};
      rt.batchedMatmul(qBlock + h0 * dh, {g, rows, dh}, {dh, qs, 1}, kBlock0 + kvh * dh, kDims,
                       {dh, 1, ks}, scores, {g, rows, keysSeen},
                       {rows * keysSeen, keysSeen, 1});
      // Rows of this block: query r0 + i sees keys up to past + r0 + i, that
      // is (with keys counted from keysBegin) past + r0 - keysBegin earlier.
      kernels::maskedSoftmax(scores, g, rows, keysSeen, past + r0 - keysBegin, causal,
                             static_cast<float>(scale), threads,
                             window > 0 ? window : 0);
      rt.batchedMatmul(scores, {g, rows, keysSeen}, {rows * keysSeen, keysSeen, 1},
                       vBlock0 + kvh * dh, vDims, {dh, vs, 1}, outBlock + h0 * dh,
                       {g, rows, dh}, {dh, os, 1});
      h0 += g;
    }
  }
}

} // namespace tfm::runtime
