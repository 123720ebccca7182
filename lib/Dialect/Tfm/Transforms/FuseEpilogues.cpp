//===- FuseEpilogues.cpp - Fold bias, activation and residual adds --------===//
//
// Turns a matmul by a rank-2 weight into tfm.linear and folds its single-use
// consumers into the epilogue: + bias, GELU (tanh or erf form), ReLU or SiLU,
// a product by a tensor of the result's shape (a gated MLP's
// act(gate(x)) * up(x)), and a residual add, in that order (the order of
// oneDNN's post-ops). A residual add that feeds a tfm.layer_norm becomes that
// layer norm's residual operand.
//
//===----------------------------------------------------------------------===//

#include "Fusion.h"
#include "Match.h"
#include "tfm/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace tfm {
#define GEN_PASS_DEF_FUSEEPILOGUES
#include "tfm/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace tfm

using namespace mlir;
using namespace tfm;
using namespace tfm::match;

namespace {

/// A recognized matmul with its epilogue.
struct LinearMatch {
  Value input, weight, bias, multiplier, residual;
  bool transposed = false;
  Activation activation = Activation::none;
  Value result;
};

/// `v` is `0.5 * h`: returns h.
Value halfOf(Value v) {
  Value h;
  commuted(def<MulOp>(v), [&](Value a, Value b) {
    if (!isSplat(b, 0.5))
      return false;
    h = a;
    return true;
  });
  return h;
}

/// `v` is `1 + f(...)` where f is OpTy: returns the OpTy.
template <typename OpTy>
OpTy onePlus(Value v) {
  OpTy f;
  commuted(def<AddOp>(v), [&](Value a, Value b) {
    if (!isSplat(b, 1.0))
      return false;
    f = def<OpTy>(a);
    return static_cast<bool>(f);
  });
  return f;
}

/// `v` is `h^3` (pow or h*h*h): true.
bool isCube(Value v, Value h) {
  if (auto p = def<PowOp>(v); p && p.getLhs() == h && isSplat(p.getRhs(), 3.0))
    return true;
  return commuted(def<MulOp>(v), [&](Value a, Value b) {
    auto sq = def<MulOp>(b);
    return a == h && sq && sq.getLhs() == h && sq.getRhs() == h;
  });
}

/// Matches the argument of tanh in the tanh GELU of h:
/// sqrt(2/pi) * (h + 0.044715 * h^3).
bool isGeluTanhArgument(Value arg, Value h) {
  constexpr double k = 0.7978845608028654, c = 0.044715;
  return commuted(def<MulOp>(arg), [&](Value a, Value b) {
    if (!isSplat(b, k, 1e-4))
      return false;
    return commuted(def<AddOp>(a), [&](Value x, Value cube) {
      if (x != h)
        return false;
      return commuted(def<MulOp>(cube), [&](Value p, Value s) {
        return isSplat(s, c, 1e-4) && isCube(p, h);
      });
    });
  });
}

/// `v` is SiLU of some h, h sigmoid(h) written as h / (1 + exp(-h)) (the
/// frontends' form; -h as h * -1 or 0 - h): returns h.
Value matchSilu(Value v) {
  auto d = def<DivOp>(v);
  if (!d)
    return {};
  Value h = d.getLhs();
  auto e = onePlus<ExpOp>(d.getRhs());
  if (!e)
    return {};
  Value arg = e.getInput();
  bool negated = commuted(def<MulOp>(arg), [&](Value a, Value b) {
    return a == h && isSplat(b, -1.0);
  });
  if (auto s = def<SubOp>(arg); !negated && s)
    negated = isSplat(s.getLhs(), 0.0) && s.getRhs() == h;
  return negated ? h : Value();
}

/// If `v` is an activation of some h, returns h and the activation:
/// 0.5 h (1 + tanh(...)), 0.5 h (1 + erf(h / sqrt 2)), relu(h), h / (1 + exp(-h)).
Value matchActivation(Value v, Activation &act) {
  if (auto r = def<ReluOp>(v)) {
    act = Activation::relu;
    return r.getInput();
  }
  if (Value h = matchSilu(v)) {
    act = Activation::silu;
    return h;
  }
  Value h;
  // 0.5 h * (1 + f) in either association: (0.5 h) (1 + f) or h (0.5 (1 + f)).
  commuted(def<MulOp>(v), [&](Value a, Value b) {
    Value half = halfOf(a);
    Value onePlusF = b;
    Value hh = half;
    if (!half) {
      // h * (0.5 * (1 + f))
      Value inner = halfOf(b);
      if (!inner)
        return false;
      hh = a;
      onePlusF = inner;
    }
    if (auto t = onePlus<TanhOp>(onePlusF); t && isGeluTanhArgument(t.getInput(), hh)) {
      act = Activation::gelu_tanh;
      h = hh;
      return true;
    }
    if (auto e = onePlus<ErfOp>(onePlusF)) {
      Value arg;
      bool ok = commuted(def<MulOp>(e.getInput()), [&](Value x, Value s) {
        return x == hh && isSplat(s, M_SQRT1_2, 1e-4);
      });
      if (!ok)
        if (auto d = def<DivOp>(e.getInput()))
          ok = d.getLhs() == hh && isSplat(d.getRhs(), M_SQRT2, 1e-4);
      (void)arg;
      if (ok) {
        act = Activation::gelu_erf;
        h = hh;
        return true;
      }
    }
    return false;
  });
  return h;
}

/// True if every use of `h` and of each value computed from it on the way to
/// `root` stays inside the activation subgraph (so folding the activation
/// leaves nothing that still needs the pre-activation value).
bool isSelfContained(Value h, Value root) {
  SmallPtrSet<Operation *, 16> inside;
  SmallVector<Operation *> stack = {root.getDefiningOp()};
  while (!stack.empty()) {
    Operation *op = stack.pop_back_val();
    if (!op || !inside.insert(op).second)
      continue;
    for (Value operand : op->getOperands())
      if (operand != h && !splat(operand))
        stack.push_back(operand.getDefiningOp());
  }
  for (Operation *user : h.getUsers())
    if (!inside.contains(user))
      return false;
  for (Operation *op : inside)
    for (Value r : op->getResults())
      if (r != root)
        for (Operation *user : r.getUsers())
          if (!inside.contains(user))
            return false;
  return true;
}

/// The activation of `v` (GELU, ReLU or SiLU, found from any user of v upwards)
/// if it is self-contained; null otherwise.
Value activationOf(Value v, Activation &act) {
  SmallVector<Operation *> frontier(v.getUsers().begin(), v.getUsers().end());
  SmallPtrSet<Operation *, 8> seen;
  for (unsigned depth = 0; depth < 6 && !frontier.empty(); ++depth) {
    SmallVector<Operation *> next;
    for (Operation *op : frontier) {
      if (!seen.insert(op).second || op->getNumResults() != 1)
        continue;
      Activation a;
      if (matchActivation(op->getResult(0), a) == v) {
        if (!isSelfContained(v, op->getResult(0)))
          return {};
        act = a;
        return op->getResult(0);
      }
      next.append(op->getUsers().begin(), op->getUsers().end());
    }
    frontier = std::move(next);
  }
  return {};
}

FailureOr<LinearMatch> matchLinear(MatmulOp mm, Refusal &refuse) {
  LinearMatch m;
  m.input = mm.getLhs();
  m.weight = mm.getRhs();
  if (auto t = def<TransposeOp>(m.weight);
      t && t.getPermutation() == ArrayRef<int64_t>{1, 0}) {
    m.weight = t.getInput();
    m.transposed = true;
  }
  if (shape(m.weight).size() != 2)
    return refuse("the right-hand side is not a rank-2 weight");
  if (shape(m.input).size() < 2)
    return refuse("the input has rank < 2");
  m.result = mm;
  int64_t n = shape(mm).back();
  // + bias[N]
  if (auto add = dyn_cast_or_null<AddOp>(singleUser(m.result)))
    commuted(add, [&](Value a, Value b) {
      if (a != m.result || shape(b) != ArrayRef<int64_t>{n} || add.getType() != mm.getType())
        return false;
      m.bias = b;
      m.result = add;
      return true;
    });
  // activation
  Activation act;
  if (Value a = activationOf(m.result, act); a && a.getType() == m.result.getType()) {
    m.activation = act;
    m.result = a;
  }
  // * multiplier (same shape, no broadcast; not the result itself: x * x)
  if (auto mul = dyn_cast_or_null<MulOp>(singleUser(m.result)))
    commuted(mul, [&](Value a, Value b) {
      if (a != m.result || b == a || b.getType() != a.getType() || mul.getType() != a.getType())
        return false;
      m.multiplier = b;
      m.result = mul;
      return true;
    });
  // + residual (same shape, no broadcast)
  if (auto add = dyn_cast_or_null<AddOp>(singleUser(m.result)))
    commuted(add, [&](Value a, Value b) {
      if (a != m.result || b.getType() != a.getType() || add.getType() != a.getType())
        return false;
      m.residual = b;
      m.result = add;
      return true;
    });
  return m;
}

struct FuseLinearPattern : FusionPattern<MatmulOp> {
  using FusionPattern::FusionPattern;

  LogicalResult matchAndRewrite(MatmulOp root, PatternRewriter &rewriter) const override {
    Refusal refuse;
    auto m = matchLinear(root, refuse);
    if (failed(m))
      return this->notFused(rewriter, root, refuse.reason);
    if (!setInsertionAfterOperands(rewriter, root->getBlock(),
                                   {m->input, m->weight, m->bias, m->multiplier, m->residual},
                                   {m->result}))
      return rewriter.notifyMatchFailure(root, "the multiplier or residual is defined too late");
    auto linear = LinearOp::create(rewriter, root.getLoc(), m->result.getType(), m->input,
                                   m->weight, m->bias, m->multiplier, m->residual,
                                   ActivationAttr::get(getContext(), m->activation),
                                   m->transposed ? rewriter.getUnitAttr() : UnitAttr());
    replaceSubgraph(rewriter, m->result, linear.getResult());
    fused(linear, Twine("fused tfm.linear") + (m->bias ? " + bias" : "") + " + activation " +
                      stringifyActivation(m->activation) +
                      (m->multiplier ? " * multiplier" : "") +
                      (m->residual ? " + residual" : ""));
    return success();
  }
};

/// A residual add feeding a layer norm becomes its residual operand.
struct FuseResidualLayerNormPattern : FusionPattern<LayerNormOp> {
  using FusionPattern::FusionPattern;

  LogicalResult matchAndRewrite(LayerNormOp ln, PatternRewriter &rewriter) const override {
    auto add = def<AddOp>(ln.getInput());
    if (ln.getResidual() || !add || add.getLhs().getType() != add.getType() ||
        add.getRhs().getType() != add.getType())
      return failure();
    auto fusedLn = LayerNormOp::create(rewriter, ln.getLoc(), ln.getType(0), add.getType(),
                                       add.getLhs(), add.getRhs(), ln.getScale(), ln.getBias(),
                                       ln.getEpsilonAttr(), ln.getRmsAttr());
    rewriter.replaceAllUsesWith(ln.getOutput(), fusedLn.getOutput());
    // Other users of the sum that come after the layer norm read its second result.
    rewriter.replaceUsesWithIf(add, fusedLn.getSum(), [&](OpOperand &use) {
      return use.getOwner() != ln && fusedLn->isBeforeInBlock(use.getOwner());
    });
    rewriter.eraseOp(ln);
    fused(fusedLn, "folded the residual add into tfm.layer_norm");
    return success();
  }
};

struct FuseEpiloguesPass : FusionPass<FuseEpiloguesPass, tfm::impl::FuseEpiloguesBase> {
  using FusionPass::FusionPass;
  static constexpr PopulateFusionPatterns kStages[] = {populateFuseLinearPatterns,
                                                       populateFuseResidualLayerNormPatterns};
};
} // namespace

void tfm::populateFuseLinearPatterns(RewritePatternSet &patterns, bool remarks) {
  patterns.add<FuseLinearPattern>(patterns.getContext(), "tfm-fuse-epilogues", remarks);
}

void tfm::populateFuseResidualLayerNormPatterns(RewritePatternSet &patterns, bool remarks) {
  patterns.add<FuseResidualLayerNormPattern>(patterns.getContext(), "tfm-fuse-epilogues",
                                             remarks);
}
