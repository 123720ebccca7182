//===- FuseAttention.cpp - Fuse multi-head self-attention -----------------===//
//
// Recognizes multi-head scaled dot-product attention, starting at each
// tfm.softmax, and replaces it with tfm.attention. Near misses (mask in the
// wrong direction, softmax over the wrong axis, a scale applied to V) are
// refused with a reason. See Passes.td for the accepted forms.
//
//===----------------------------------------------------------------------===//

#include "Fusion.h"
#include "Match.h"
#include "tfm/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace tfm {
#define GEN_PASS_DEF_FUSEATTENTION
#include "tfm/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace tfm

using namespace mlir;
using namespace tfm;
using namespace tfm::match;

namespace {

/// A recognized attention subgraph.
struct AttentionMatch {
  Value q, k, v;            ///< [T, H*Dh] new queries, keys, values
  Value pastK, pastV;       ///< [P, H*Dh] or null
  Value keysAll, valuesAll; ///< concat(past, new) values the presents replace
  int64_t heads = 0, kvHeads = 0, headDim = 0;
  double scale = 1.0;
  bool causal = false;
  IntegerAttr window;       ///< the causal mask's sliding window, or null
  Value sequences;          ///< a sequence_mask's ids (packed sequences), or null
  Value output;             ///< the [T, H*Dh] head-merged result
};

/// A value at least this negative masks a score out.
bool isMaskingValue(Value v) {
  auto s = splat(v);
  return s && *s <= -1e9;
}

/// Matches `transpose(reshape(x, [N, H, Dh]), perm)` and returns x, H, Dh.
/// `perm` is [1, 0, 2] (heads first) or [1, 2, 0] (heads first, transposed).
/// With `kvHeads`, keys and values may also come grouped (transformers'
/// repeat_kv): x is [N, KVH*Dh], reshaped to [N, KVH, 1, Dh], concatenated
/// G = H / KVH times along axis 2 and reshaped to [N, H, Dh]; *kvHeads is
/// KVH (H when not grouped).
bool matchHeads(Value v, ArrayRef<int64_t> perm, Value &x, int64_t &heads, int64_t &headDim,
                int64_t *kvHeads = nullptr) {
  auto t = def<TransposeOp>(v);
  if (!t)
    return false;
  // A transpose of a transpose is one transpose after canonicalization (the
  // folder composes them), which tfm-optimize runs first.
  if (t.getPermutation() != perm)
    return false;
  Value in = t.getInput();
  auto hs = shape(in);
  if (hs.size() != 3 || ShapedType::isDynamic(hs[1]) || ShapedType::isDynamic(hs[2]))
    return false;
  heads = hs[1];
  headDim = hs[2];
  if (kvHeads)
    *kvHeads = heads;
  // Usually reshape([T, H*Dh] -> [T, H, Dh]); canonicalization may have folded
  // that reshape into the producer, leaving the [T, H, Dh] value itself (the
  // rewrite flattens it again).
  if (auto r = def<ReshapeOp>(in)) {
    auto xs = shape(r.getInput());
    if (xs.size() == 2 && xs[1] == heads * headDim) {
      x = r.getInput();
      return true;
    }
    auto cat = def<ConcatOp>(r.getInput());
    if (kvHeads && cat && xs.size() == 4 && xs[3] == headDim && xs[1] * xs[2] == heads &&
        cat.getNormalizedAxis() == 2 &&
        static_cast<int64_t>(cat.getInputs().size()) == xs[2] &&
        llvm::all_equal(cat.getInputs())) {
      auto one = def<ReshapeOp>(cat.getInputs()[0]);
      if (one && shape(one).size() == 4 && shape(one)[2] == 1 &&
          shape(one.getInput()).size() == 2 && shape(one.getInput())[1] == xs[1] * headDim) {
        x = one.getInput();
        *kvHeads = xs[1];
        return true;
      }
    }
  }
  x = in;
  return true;
}

/// Peels multiplications and divisions by splat constants off `v`,
/// accumulating them into `scale`.
Value peelScale(Value v, double &scale) {
  while (true) {
    if (auto d = def<DivOp>(v); d && splat(d.getRhs())) {
      scale /= *splat(d.getRhs());
      v = d.getLhs();
      continue;
    }
    Value rest;
    if (commuted(def<MulOp>(v), [&](Value a, Value b) {
          if (auto s = splat(b)) {
            scale *= *s;
            rest = a;
            return true;
          }
          return false;
        })) {
      v = rest;
      continue;
    }
    return v;
  }
}

/// Splits `all` into (past, new) if it is concat(past, new) along axis 0.
void splitCache(Value all, Value &past, Value &fresh) {
  auto c = def<ConcatOp>(all);
  if (c && c.getInputs().size() == 2 && c.getNormalizedAxis() == 0) {
    past = c.getInputs()[0];
    fresh = c.getInputs()[1];
  } else {
    past = {};
    fresh = all;
  }
}

FailureOr<AttentionMatch> matchAttention(SoftmaxOp softmax, Refusal &refuse) {
  AttentionMatch m;
  auto st = softmax.getInput().getType();
  if (st.getRank() != 3)
    return refuse("the scores are not [heads, queries, keys]");
  if (!overLastAxis(softmax))
    return refuse("softmax is over axis " + llvm::Twine(softmax.getNormalizedAxis()) +
                  ", not the key axis");
  // The mask.
  Value scores = softmax.getInput();
  if (auto sel = def<SelectOp>(scores)) {
    auto cm = def<CausalMaskOp>(sel.getCond());
    auto sm = def<SequenceMaskOp>(sel.getCond());
    if (!sm && (!cm || cm.getOffset()))
      return refuse("the select condition is not a causal_mask without offset or a "
                    "sequence_mask");
    if (isMaskingValue(sel.getTrueValue()) && !isMaskingValue(sel.getFalseValue()))
      return refuse(sm ? "the mask keeps other sequences' keys (select arms are swapped)"
                       : "the mask keeps future positions (select arms are swapped)");
    if (!isMaskingValue(sel.getFalseValue()))
      return refuse("masked scores are not set to a large negative value");
    scores = sel.getTrueValue();
    if (sm) {
      if (sm.getScores() != scores)
        return refuse("the sequence_mask is shaped by other scores than it masks");
      m.sequences = sm.getSequenceIds();
    } else {
      m.window = cm.getWindowAttr();
      m.causal = true;
    }
  } else if (auto add = def<AddOp>(scores)) {
    // Additive mask: scores + select(causal_mask, 0, -inf).
    Value raw;
    bool ok = commuted(add, [&](Value a, Value b) {
      auto sel = def<SelectOp>(b);
      auto cm = sel ? def<CausalMaskOp>(sel.getCond()) : CausalMaskOp();
      if (!cm || cm.getOffset())
        return false;
      if (!isSplat(sel.getTrueValue(), 0.0) || !isMaskingValue(sel.getFalseValue()))
        return false;
      m.window = cm.getWindowAttr();
      raw = a;
      return true;
    });
    if (!ok)
      return refuse("the scores are added to something other than a causal mask");
    scores = raw;
    m.causal = true;
  }
  scores = peelScale(scores, m.scale);
  auto qk = def<MatmulOp>(scores);
  if (!qk)
    return refuse("the softmax input is not a (scaled, masked) matmul");
  Value qAll, kAll, vAll;
  int64_t hq, dq, hk, dk, hv, dv, kvk, kvv;
  Value qh = peelScale(qk.getLhs(), m.scale);
  if (!matchHeads(qh, {1, 0, 2}, qAll, hq, dq))
    return refuse("Q is not reshaped and transposed into [heads, queries, head_dim]");
  if (!matchHeads(qk.getRhs(), {1, 2, 0}, kAll, hk, dk, &kvk))
    return refuse("K is not reshaped and transposed into [heads, head_dim, keys]");
  qAll = peelScale(qAll, m.scale);
  // The weighted sum and the head merge.
  auto pv = dyn_cast_or_null<MatmulOp>(singleUser(softmax));
  if (!pv || pv.getLhs() != softmax.getResult())
    return refuse("the probabilities are not multiplied with V");
  double vScale = 1.0;
  Value vh = peelScale(pv.getRhs(), vScale);
  if (!matchHeads(vh, {1, 0, 2}, vAll, hv, dv, &kvv))
    return refuse("V is not reshaped and transposed into [heads, keys, head_dim]");
  if (vScale != 1.0 || peelScale(vAll, vScale) != vAll)
    return refuse("a scale is applied to V");
  if (hq != hk || hq != hv || dq != dk || dq != dv)
    return refuse("Q, K and V are split into different heads");
  if (kvk != kvv)
    return refuse("K and V are grouped into different key/value heads");
  auto merge = dyn_cast_or_null<TransposeOp>(singleUser(pv));
  if (!merge || merge.getPermutation() != ArrayRef<int64_t>{1, 0, 2})
    return refuse("the context is not transposed back to [queries, heads, head_dim]");
  auto flat = dyn_cast_or_null<ReshapeOp>(singleUser(merge));
  if (!flat || shape(flat).size() != 2 || shape(flat)[1] != hq * dq)
    return refuse("the heads are not merged back into [queries, heads * head_dim]");
  m.heads = hq;
  m.kvHeads = kvk;
  m.headDim = dq;
  m.output = flat;
  m.q = qAll;
  splitCache(kAll, m.pastK, m.k);
  splitCache(vAll, m.pastV, m.v);
  if ((m.pastK != nullptr) != (m.pastV != nullptr))
    return refuse("only one of K and V is concatenated with a cache");
  m.keysAll = kAll;
  m.valuesAll = vAll;
  for (Value x : {m.q, m.k, m.v})
    if (shape(x).size() == 3 && x != m.q)
      return refuse("K or V reach the head split without a [T, H*Dh] form");
  if (shape(m.k) != shape(m.v) || cast<RankedTensorType>(m.k.getType()).getElementType() !=
                                      cast<RankedTensorType>(m.q.getType()).getElementType())
    return refuse("Q, K and V differ in type");
  if (m.window && !m.causal)
    return refuse("a sliding window without a causal mask");
  if (m.sequences && m.pastK)
    return refuse("packed sequences (a sequence_mask) with a KV cache");
  return m;
}

/// The type of `x` as [T, H*Dh] (flattening a [T, H, Dh] value).
Type flatType(Value x) {
  auto t = cast<RankedTensorType>(x.getType());
  if (t.getRank() == 2)
    return t;
  return RankedTensorType::get({t.getShape()[0], t.getShape()[1] * t.getShape()[2]},
                               t.getElementType());
}

struct FuseAttentionPattern : FusionPattern<SoftmaxOp> {
  using FusionPattern::FusionPattern;

  LogicalResult matchAndRewrite(SoftmaxOp root, PatternRewriter &rewriter) const override {
    Refusal refuse;
    auto m = matchAttention(root, refuse);
    if (failed(m))
      return this->notFused(rewriter, root, refuse.reason);
    auto qFlat = cast<RankedTensorType>(flatType(m->q));
    auto kType = cast<RankedTensorType>(m->k.getType());
    if (qFlat.getElementType() != kType.getElementType() ||
        qFlat.getShape()[0] != kType.getShape()[0] ||
        qFlat.getShape()[1] != m->heads * m->headDim ||
        kType.getShape()[1] != m->kvHeads * m->headDim)
      return rewriter.notifyMatchFailure(root, "Q, K and V differ in type");
    SmallVector<Value> replaced = {m->output};
    if (m->pastK)
      replaced.append({m->keysAll, m->valuesAll});
    if (!setInsertionAfterOperands(rewriter, root->getBlock(),
                                   {m->q, m->k, m->v, m->pastK, m->pastV, m->sequences},
                                   replaced))
      return rewriter.notifyMatchFailure(
          root, "the cache concatenation is used before all of Q, K and V exist");
    Value q = m->q;
    if (q.getType() != qFlat)
      q = ReshapeOp::create(rewriter, root.getLoc(), qFlat, q);
    SmallVector<Type> presents;
    if (m->pastK)
      presents = {m->keysAll.getType(), m->valuesAll.getType()};
    auto attn = AttentionOp::create(
        rewriter, root.getLoc(), m->output.getType(), presents, q, m->k, m->v, m->pastK,
        m->pastV, /*positions=*/Value(), /*inv_freq=*/Value(), m->sequences,
        rewriter.getI64IntegerAttr(m->heads),
        m->kvHeads != m->heads ? rewriter.getI64IntegerAttr(m->kvHeads) : IntegerAttr(),
        rewriter.getF64FloatAttr(m->scale), m->causal ? rewriter.getUnitAttr() : nullptr,
        m->window);
    SmallVector<Value> results = {attn.getOutput()};
    if (m->pastK)
      results.append({attn.getPresent()[0], attn.getPresent()[1]});
    replaceSubgraph(rewriter, replaced, results);
    fused(attn, "fused " + Twine(m->heads) + " heads of " + Twine(m->headDim) +
                    (m->kvHeads != m->heads ? " on " + Twine(m->kvHeads) + " key/value heads"
                                            : Twine()) +
                    (m->causal ? ", causal" : ", bidirectional") +
                    (m->sequences ? ", packed sequences" : "") +
                    (m->window ? ", window " + Twine(m->window.getInt()) : Twine()) +
                    (m->pastK ? ", with a KV cache" : ""));
    return success();
  }
};

struct FuseAttentionPass : FusionPass<FuseAttentionPass, tfm::impl::FuseAttentionBase> {
  using FusionPass::FusionPass;
  static constexpr PopulateFusionPatterns kStages[] = {populateFuseAttentionPatterns};
};
} // namespace

void tfm::populateFuseAttentionPatterns(RewritePatternSet &patterns, bool remarks) {
  patterns.add<FuseAttentionPattern>(patterns.getContext(), "tfm-fuse-attention", remarks);
}
