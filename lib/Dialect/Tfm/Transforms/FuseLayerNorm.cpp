//===- FuseLayerNorm.cpp - Fuse layer normalization arithmetic ------------===//
//
// Recognizes layer normalization written as mean / centre / variance /
// epsilon / rsqrt (or sqrt) / scale / shift, and RMS normalization (mean of
// squares / epsilon / rsqrt / scale), and replaces it with one
// tfm.layer_norm (`rms` for the latter). The match starts at each tfm.rsqrt or tfm.sqrt and walks
// outwards; see Passes.td for the accepted forms.
//
//===----------------------------------------------------------------------===//

#include "Fusion.h"
#include "Match.h"
#include "tfm/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace tfm {
#define GEN_PASS_DEF_FUSELAYERNORM
#include "tfm/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace tfm

using namespace mlir;
using namespace tfm;
using namespace tfm::match;

namespace {

/// A recognized layer norm: y = (x - mean) / sqrt(var + eps) [* scale] [+ bias],
/// or RMS norm: y = x / sqrt(mean(x^2) + eps) [* scale] [+ bias].
struct LayerNormMatch {
  Value input, scale, bias;
  double epsilon;
  Value result; ///< the value the fused op replaces
  bool rms = false;
};

/// `v` is the mean over the last axis of `x`: returns x.
Value meanOf(Value v) {
  auto mean = def<ReduceMeanOp>(v);
  return mean && overLastAxis(mean) ? mean.getInput() : Value();
}

/// `v` is `a * a` or `a ^ 2`: returns a.
Value squareOf(Value v) {
  if (auto m = def<MulOp>(v); m && m.getLhs() == m.getRhs())
    return m.getLhs();
  if (auto p = def<PowOp>(v); p && isSplat(p.getRhs(), 2.0))
    return p.getLhs();
  return {};
}

/// Matches the variance of `x` with mean `mu` and centred value `centred`:
/// mean((x - mu)^2) or mean(x^2) - mu^2.
LogicalResult matchVariance(Value var, Value x, Value mu, Value centred, Refusal &refuse) {
  Value inner = meanOf(var);
  if (inner) {
    Value sq = squareOf(inner);
    if (!sq)
      return refuse("the variance is not a mean of squares");
    if (sq != centred)
      return refuse("the variance squares another tensor than the centred input");
    return success();
  }
  if (auto sub = def<SubOp>(var)) {
    Value ex2 = meanOf(sub.getLhs());
    Value mu2 = squareOf(sub.getRhs());
    if (ex2 && squareOf(ex2) == x && mu2 && meanOf(mu2) == x)
      return success();
    (void)mu;
  }
  if (auto mean = def<ReduceMeanOp>(var); mean && !overLastAxis(mean))
    return refuse("the variance is reduced over axis " + llvm::Twine(mean.getNormalizedAxis()) +
                  ", not the last axis");
  return refuse("the variance is neither mean((x - mean)^2) nor mean(x^2) - mean^2");
}

/// Matches from `root` (a tfm.rsqrt or tfm.sqrt).
FailureOr<LayerNormMatch> matchLayerNorm(Operation *root, Refusal &refuse) {
  bool isRsqrt = isa<RsqrtOp>(root);
  Value r = root->getResult(0);
  // var + eps
  Value var;
  double eps = 0;
  auto addEps = def<AddOp>(root->getOperand(0));
  if (!commuted(addEps, [&](Value a, Value b) {
        auto e = splat(b);
        if (!e)
          return false;
        var = a;
        eps = *e;
        return true;
      }))
    return refuse("the rsqrt/sqrt operand is not `variance + constant epsilon`");
  if (eps < 0)
    return refuse("epsilon is negative");
  // normalized = centred * rsqrt(...)  or  centred / sqrt(...)
  Operation *user = singleUser(r);
  if (!user)
    return refuse("the rsqrt/sqrt result has more than one use");
  Value centred, normalized;
  if (isRsqrt) {
    auto mul = dyn_cast<MulOp>(user);
    if (!commuted(mul, [&](Value a, Value b) {
          if (b != r)
            return false;
          centred = a;
          return true;
        }))
      return refuse("rsqrt(variance + eps) is not multiplied with the centred input");
    normalized = mul;
  } else {
    auto div = dyn_cast<DivOp>(user);
    if (!div || div.getRhs() != r)
      return refuse("the centred input is not divided by sqrt(variance + eps)");
    centred = div.getLhs();
    normalized = div;
  }
  auto sub = def<SubOp>(centred);
  LayerNormMatch m{centred, {}, {}, eps, normalized};
  if (!sub) {
    // RMS norm: x * rsqrt(mean(x^2) + eps), the mean of squares of x itself.
    Value sq = meanOf(var);
    if (!sq || squareOf(sq) != centred)
      return refuse("the normalized value is neither `x - mean(x)` (layer norm) nor the "
                    "tensor whose mean square is taken (RMS norm)");
    if (normalized.getType() != centred.getType())
      return refuse("the normalized value broadcasts to another shape than the input");
    m.rms = true;
  } else {
    Value x = sub.getLhs(), mu = sub.getRhs();
    auto mean = def<ReduceMeanOp>(mu);
    if (!mean)
      return refuse("the centre is not a reduce_mean");
    if (!overLastAxis(mean))
      return refuse("the mean is over axis " + llvm::Twine(mean.getNormalizedAxis()) +
                    ", not the last axis");
    if (mean.getInput() != x)
      return refuse("the mean is taken of another tensor than the one centred");
    if (normalized.getType() != x.getType())
      return refuse("the normalized value broadcasts to another shape than the input");
    if (failed(matchVariance(var, x, mu, centred, refuse)))
      return failure();
    m.input = x;
  }
  Value x = m.input;
  int64_t c = shape(x).back();
  auto isChannelVector = [&](Value v) {
    auto s = shape(v);
    return s.size() == 1 && s[0] == c;
  };
  // [* gamma] [+ beta]
  if (auto mul = dyn_cast_or_null<MulOp>(singleUser(m.result)))
    commuted(mul, [&](Value a, Value b) {
      if (a != m.result || !isChannelVector(b))
        return false;
      m.scale = b;
      m.result = mul;
      return true;
    });
  if (auto add = dyn_cast_or_null<AddOp>(singleUser(m.result)))
    commuted(add, [&](Value a, Value b) {
      if (a != m.result || !isChannelVector(b))
        return false;
      m.bias = b;
      m.result = add;
      return true;
    });
  return m;
}

/// Fuses the layer norm around one tfm.rsqrt or tfm.sqrt (OpTy).
template <typename OpTy>
struct FuseLayerNormPattern : FusionPattern<OpTy> {
  using FusionPattern<OpTy>::FusionPattern;

  LogicalResult matchAndRewrite(OpTy root, PatternRewriter &rewriter) const override {
    Refusal refuse;
    auto m = matchLayerNorm(root, refuse);
    if (failed(m))
      return this->notFused(rewriter, root, refuse.reason);
    if (!setInsertionAfterOperands(rewriter, root->getBlock(), {m->input, m->scale, m->bias},
                                   {m->result}))
      return failure(); // cannot happen: the operands dominate the matched result
    auto ln = LayerNormOp::create(rewriter, m->result.getLoc(), m->input.getType(), Type(),
                                  m->input, Value(), m->scale, m->bias,
                                  rewriter.getF64FloatAttr(m->epsilon),
                                  m->rms ? rewriter.getUnitAttr() : nullptr);
    replaceSubgraph(rewriter, m->result, ln.getOutput());
    this->fused(ln, Twine("fused into tfm.layer_norm") + (m->rms ? " (rms)" : "") +
                        (m->scale ? " with scale" : "") + (m->bias ? " with bias" : ""));
    return success();
  }
};

struct FuseLayerNormPass : FusionPass<FuseLayerNormPass, tfm::impl::FuseLayerNormBase> {
  using FusionPass::FusionPass;
  static constexpr PopulateFusionPatterns kStages[] = {populateFuseLayerNormPatterns};
};
} // namespace

void tfm::populateFuseLayerNormPatterns(RewritePatternSet &patterns, bool remarks) {
  patterns.add<FuseLayerNormPattern<RsqrtOp>, FuseLayerNormPattern<SqrtOp>>(
      patterns.getContext(), "tfm-fuse-layer-norm", remarks);
}
