//===- FusePositionalEncoding.cpp - Fold positional encodings -------------===//
//
// Two rewrites, one concern: where positions enter the model.
//  * token gather (+ learned position gather | + sinusoidal table) =>
//    tfm.embedding {position = learned | sinusoidal | none};
//  * the rotate-half RoPE rotation of the q and k operands of a
//    tfm.attention => its `rope %inv_freq` operand and positions.
// The sinusoidal and rotary tables are recognized from their arithmetic on
// the positions (cast, reshape, multiply by a frequency constant, sin/cos);
// sinusoidal frequencies are checked against the formula, rotary ones are
// carried as data (any RoPE scaling is a table).
//
//===----------------------------------------------------------------------===//

#include "Fusion.h"
#include "Match.h"
#include "tfm/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace tfm {
#define GEN_PASS_DEF_FUSEPOSITIONALENCODING
#include "tfm/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace tfm

using namespace mlir;
using namespace tfm;
using namespace tfm::match;

namespace {

/// Matches `reshape(cast(positions), [T, 1]) * freqs` and returns the
/// positions, the frequency constants and (if given) the constant's value.
bool matchAngles(Value v, Value &positions, SmallVectorImpl<double> &freqs,
                 Value *table = nullptr) {
  return commuted(def<MulOp>(v), [&](Value a, Value b) {
    auto r = def<ReshapeOp>(a);
    auto c = r ? def<CastOp>(r.getInput()) : CastOp();
    DenseFPElementsAttr attr;
    if (!c || shape(r).size() != 2 || shape(r)[1] != 1 ||
        !isa<IntegerType>(cast<RankedTensorType>(c.getInput().getType()).getElementType()) ||
        !matchPattern(b, m_Constant(&attr)) || attr.getType().getRank() != 1)
      return false;
    positions = c.getInput();
    if (table)
      *table = b;
    freqs.clear();
    for (APFloat f : attr.getValues<APFloat>())
      freqs.push_back(f.convertToDouble());
    return true;
  });
}

/// True if freqs[i] = base^(-2i/dim) (f32 precision).
bool frequenciesMatch(ArrayRef<double> freqs, double base, int64_t dim) {
  for (size_t i = 0; i < freqs.size(); ++i) {
    double expected = std::pow(base, -2.0 * static_cast<double>(i) / dim);
    if (std::fabs(freqs[i] - expected) > 1e-6 * std::max(1.0, expected) + 1e-7)
      return false;
  }
  return true;
}

/// Matches the interleaved sinusoidal table of width d:
/// reshape(concat(reshape(sin(A), [T,d/2,1]), reshape(cos(A), [T,d/2,1]), 2), [T, d]).
LogicalResult matchSinusoid(Value v, int64_t d, Value &positions, Refusal &refuse) {
  auto flat = def<ReshapeOp>(v);
  auto cat = flat ? def<ConcatOp>(flat.getInput()) : ConcatOp();
  if (!cat || cat.getInputs().size() != 2 || cat.getNormalizedAxis() != 2)
    return refuse("the positional term is not an interleaved sin/cos table");
  auto sinR = def<ReshapeOp>(cat.getInputs()[0]), cosR = def<ReshapeOp>(cat.getInputs()[1]);
  auto sin = sinR ? def<SinOp>(sinR.getInput()) : SinOp();
  auto cos = cosR ? def<CosOp>(cosR.getInput()) : CosOp();
  if (!sin || !cos || sin.getInput() != cos.getInput())
    return refuse("the table does not interleave sin and cos of one angle");
  SmallVector<double> freqs;
  if (!matchAngles(sin.getInput(), positions, freqs))
    return refuse("the angles are not positions times constant frequencies");
  if (static_cast<int64_t>(freqs.size()) * 2 != d || !frequenciesMatch(freqs, 10000.0, d))
    return refuse("the frequencies are not 10000^(-2i/d)");
  return success();
}

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

/// Fuses the embedding rooted at `add` (token gather + positional term), or at
/// a lone token `gather`.
FailureOr<EmbeddingOp> fuseEmbedding(Operation *root, RewriterBase &rewriter,
                                     Refusal &refuse) {
  auto isTokenGather = [](Value v) {
    auto g = def<GatherOp>(v);
    return g && g.getTable().getType().getRank() == 2 && g.getIndices().getType().getRank() == 1
               ? g
               : GatherOp();
  };
  GatherOp tok;
  Value positions, positionTable, replaced;
  PositionKind position = PositionKind::none;
  if (auto add = dyn_cast<AddOp>(root)) {
    bool ok = commuted(add, [&](Value a, Value b) {
      tok = isTokenGather(a);
      if (!tok || add.getType() != tok.getType())
        return false;
      int64_t d = shape(tok).back();
      if (auto pg = isTokenGather(b)) { // learned: wpe[positions]
        if (pg.getTable().getType() != RankedTensorType::get(
                                            {shape(pg.getTable())[0], d},
                                            tok.getType().getElementType()))
          return false;
        position = PositionKind::learned;
        positionTable = pg.getTable();
        positions = pg.getIndices();
        return true;
      }
      Refusal inner;
      if (succeeded(matchSinusoid(b, d, positions, inner))) {
        position = PositionKind::sinusoidal;
        return true;
      }
      return false;
    });
    if (!ok)
      return refuse("the add is not a token embedding plus a positional term");
    replaced = add;
  } else {
    tok = isTokenGather(root->getResult(0));
    if (!tok)
      return refuse("not a token gather");
    // A table of weights (a parameter or an argument) is a token embedding; a
    // computed one (rows of activations) is a plain gather.
    Value table = tok.getTable();
    if (!isa<BlockArgument>(table) && !def<ParamOp>(table) && !def<ConstantOp>(table))
      return refuse("the table is computed, not a weight: a row gather, not an embedding");
    replaced = tok;
  }
  if (!setInsertionAfterOperands(rewriter, root->getBlock(),
                                 {tok.getIndices(), tok.getTable(), positionTable, positions},
                                 {replaced}))
    return refuse("the embedding is used before its positions exist");
  auto emb = EmbeddingOp::create(rewriter, root->getLoc(), replaced.getType(), tok.getIndices(),
                                 tok.getTable(), positionTable, positions, position);
  replaceSubgraph(rewriter, replaced, emb.getResult());
  return emb;
}

//===----------------------------------------------------------------------===//
// RoPE
//===----------------------------------------------------------------------===//

/// A recognized rotate-half rotation of `input` ([T, H*Dh]).
struct RopeMatch {
  Value input, positions;
  int64_t dim;
  Value invFreq;  ///< the [r/2] f32 constant of inverse frequencies
  bool unitTable = false; ///< r = 2 with inv_freq [1.0]: the multiply folded away
  Value cosTable; ///< shared by q and k
};

/// Matches cos/sin(reshape(concat(A, A, 1), [T, 1, r])) with A =
/// positions x inv_freq, and returns the positions, r and the table. Any
/// table is accepted (plain, linear, Llama 3 or YaRN scaled): it is data.
bool matchTable(Value table, bool isCos, RopeMatch &m) {
  Value arg = isCos ? (def<CosOp>(table) ? def<CosOp>(table).getInput() : Value())
                    : (def<SinOp>(table) ? def<SinOp>(table).getInput() : Value());
  auto r = def<ReshapeOp>(arg);
  auto cat = r ? def<ConcatOp>(r.getInput()) : ConcatOp();
  if (!cat || cat.getInputs().size() != 2 || cat.getInputs()[0] != cat.getInputs()[1] ||
      cat.getNormalizedAxis() != 1 || shape(r).size() != 3 || shape(r)[1] != 1)
    return false;
  SmallVector<double> freqs;
  Value inv;
  // One rotated pair whose frequency is 1 (r = 2, as GPT-NeoX's rotary_pct
  // of a small head): canonicalization folded the multiply by [1.0] away, so
  // the angles are the positions themselves.
  auto pr = def<ReshapeOp>(cat.getInputs()[0]);
  auto pc = pr ? def<CastOp>(pr.getInput()) : CastOp();
  if (pc && shape(pr).size() == 2 && shape(pr)[1] == 1 &&
      isa<IntegerType>(cast<RankedTensorType>(pc.getInput().getType()).getElementType())) {
    if (m.invFreq || (m.positions && m.positions != pc.getInput()))
      return false;
    m.positions = pc.getInput();
    m.dim = 2;
    m.unitTable = true;
    if (isCos)
      m.cosTable = table;
    return true;
  }
  if (!matchAngles(cat.getInputs()[0], m.positions, freqs, &inv) || freqs.empty() ||
      !cast<RankedTensorType>(inv.getType()).getElementType().isF32())
    return false;
  if (m.unitTable)
    return false;
  if (m.invFreq && m.invFreq != inv)
    return false; // cos and sin of different angles
  m.dim = 2 * static_cast<int64_t>(freqs.size());
  m.invFreq = inv;
  if (isCos)
    m.cosTable = table;
  return true;
}

/// Matches rope(x) = reshape([concat](rot * cos + rotate_half(rot) * sin, pass), [T, D]).
LogicalResult matchRope(Value v, RopeMatch &m, Refusal &refuse) {
  auto flat = def<ReshapeOp>(v);
  if (!flat || shape(flat).size() != 2)
    return refuse("not a rotary embedding (no head merge)");
  Value y = flat.getInput(), pass;
  if (auto cat = def<ConcatOp>(y); cat && cat.getInputs().size() == 2 && cat.getNormalizedAxis() == 2) {
    y = cat.getInputs()[0];
    pass = cat.getInputs()[1];
  }
  Value rot, rotated, cosT, sinT;
  bool ok = commuted(def<AddOp>(y), [&](Value a, Value b) {
    return commuted(def<MulOp>(a), [&](Value x, Value c) {
             if (!def<CosOp>(c))
               return false;
             rot = x;
             cosT = c;
             return true;
           }) &&
           commuted(def<MulOp>(b), [&](Value x, Value s) {
             if (!def<SinOp>(s))
               return false;
             rotated = x;
             sinT = s;
             return true;
           });
  });
  if (!ok)
    return refuse("not x * cos + rotate_half(x) * sin");
  if (!matchTable(cosT, true, m) || !matchTable(sinT, false, m))
    return refuse("the cos/sin tables are not of positions times one f32 frequency table");
  // rotate_half(rot) = concat(-rot[r/2:], rot[:r/2]) along the head dim.
  auto cat = def<ConcatOp>(rotated);
  if (!cat || cat.getInputs().size() != 2 || cat.getNormalizedAxis() != 2)
    return refuse("not rotate-half (no concatenation)");
  auto neg = def<MulOp>(cat.getInputs()[0]);
  Value x2;
  if (!commuted(neg, [&](Value a, Value b) {
        if (!isSplat(b, -1.0))
          return false;
        x2 = a;
        return true;
      }))
    return refuse("not rotate-half (the second half is not negated)");
  auto halves = def<SplitOp>(x2);
  if (!halves || halves.getNumResults() != 2 || x2 != halves.getResult(1) ||
      cat.getInputs()[1] != halves.getResult(0) || halves.getInput() != rot ||
      halves.getNormalizedAxis() != 2)
    return refuse("not rotate-half (the halves are not split from the rotated part)");
  if (shape(halves.getResult(0))[2] * 2 != m.dim)
    return refuse("the table width differs from the rotated width");
  Value heads = rot;
  if (pass) {
    auto parts = def<SplitOp>(rot);
    if (!parts || parts.getNumResults() != 2 || parts.getResult(0) != rot ||
        parts.getResult(1) != pass || parts.getNormalizedAxis() != 2)
      return refuse("the pass-through part is not split from the same heads");
    heads = parts.getInput();
  }
  auto r = def<ReshapeOp>(heads);
  if (r && shape(r).size() == 3 && r.getInput().getType() == flat.getType()) {
    m.input = r.getInput();
    return success();
  }
  // Heads that never were [T, H*Dh] (a projection split per head, as
  // GPT-NeoX's fused query_key_value; canonicalization folds the reshapes
  // between): the rewrite flattens them.
  auto hs = shape(heads);
  auto fs = shape(flat);
  if (hs.size() == 3 && !ShapedType::isDynamic(hs[1]) && !ShapedType::isDynamic(hs[2]) &&
      fs[1] == hs[1] * hs[2] && !def<ReshapeOp>(heads)) {
    m.input = heads;
    return success();
  }
  return refuse("the rotation is not applied per head of a [T, H*Dh] tensor");
}

LogicalResult fuseRope(AttentionOp attn, RewriterBase &rewriter, Refusal &refuse) {
  RopeMatch qm, km;
  if (failed(matchRope(attn.getQ(), qm, refuse)) || failed(matchRope(attn.getK(), km, refuse)))
    return failure();
  DenseElementsAttr qInv, kInv;
  if (qm.positions != km.positions || qm.dim != km.dim || qm.unitTable != km.unitTable ||
      (!qm.unitTable && (!matchPattern(qm.invFreq, m_Constant(&qInv)) ||
                         !matchPattern(km.invFreq, m_Constant(&kInv)) || qInv != kInv)))
    return refuse("q and k are rotated differently");
  int64_t headDim = shape(attn.getQ())[1] / attn.getNumHeadsAttr().getInt();
  if (qm.dim > headDim)
    return refuse("the rotary width exceeds the head dim");
  rewriter.setInsertionPoint(attn);
  // Rotated inputs given per head ([T, H, Dh]) are flattened to [T, H*Dh].
  auto flatten = [&](Value x, Value like) -> Value {
    if (x.getType() == like.getType())
      return x;
    return ReshapeOp::create(rewriter, attn.getLoc(), like.getType(), x);
  };
  Value qIn = flatten(qm.input, attn.getQ()), kIn = flatten(km.input, attn.getK());
  if (qm.unitTable) {
    auto type = RankedTensorType::get({1}, rewriter.getF32Type());
    qm.invFreq = ConstantOp::create(rewriter, attn.getLoc(), type,
                                    DenseElementsAttr::get(type, 1.0f));
  }
  SmallVector<Type> results(attn->getResultTypes().begin(), attn->getResultTypes().end());
  auto fused = AttentionOp::create(
      rewriter, attn.getLoc(), results[0], ArrayRef(results).drop_front(), qIn, kIn,
      attn.getV(), attn.getPastK(), attn.getPastV(), qm.positions, qm.invFreq,
      attn.getSequences(), attn.getNumHeadsAttr(), attn.getNumKvHeadsAttr(), attn.getScaleAttr(),
      attn.getCausalAttr(), attn.getWindowAttr());
  rewriter.replaceOp(attn, fused->getResults());
  return success();
}

/// Fuses a token embedding rooted at OpTy: an add of a token gather and a
/// positional term (tfm.add), or a lone token gather (tfm.gather).
template <typename OpTy>
struct FuseEmbeddingPattern : FusionPattern<OpTy> {
  using FusionPattern<OpTy>::FusionPattern;

  LogicalResult matchAndRewrite(OpTy root, PatternRewriter &rewriter) const override {
    if constexpr (std::is_same_v<OpTy, AddOp>)
      if (!def<GatherOp>(root.getLhs()) && !def<GatherOp>(root.getRhs()))
        return failure(); // no gather: not a candidate
    Refusal refuse;
    auto emb = fuseEmbedding(root, rewriter, refuse);
    if (failed(emb))
      return this->notFused(rewriter, root, refuse.reason);
    this->fused(*emb, "fused tfm.embedding with position = " +
                          stringifyPositionKind(emb->getPosition()));
    return success();
  }
};

/// Folds the RoPE rotation of q and k into the tfm.attention they feed.
struct FuseRopePattern : FusionPattern<AttentionOp> {
  using FusionPattern::FusionPattern;

  LogicalResult matchAndRewrite(AttentionOp attn, PatternRewriter &rewriter) const override {
    if (attn.getInvFreq())
      return failure(); // already has rope
    Refusal refuse;
    Location loc = attn.getLoc();
    if (failed(fuseRope(attn, rewriter, refuse))) {
      if (refuse.reason == "not a rotary embedding (no head merge)")
        return failure(); // no rotation at all: not a candidate
      return this->notFused(rewriter, attn, refuse.reason);
    }
    if (remarks)
      emitRemark(loc) << pass << ": folded rope into tfm.attention";
    return success();
  }
};

struct FusePositionalEncodingPass
    : FusionPass<FusePositionalEncodingPass, tfm::impl::FusePositionalEncodingBase> {
  using FusionPass::FusionPass;
  static constexpr PopulateFusionPatterns kStages[] = {populateFusePositionalEmbeddingPatterns,
                                                       populateFuseTokenEmbeddingAndRopePatterns};
};
} // namespace

void tfm::populateFusePositionalEmbeddingPatterns(RewritePatternSet &patterns, bool remarks) {
  patterns.add<FuseEmbeddingPattern<AddOp>>(patterns.getContext(),
                                            "tfm-fuse-positional-encoding", remarks);
}

void tfm::populateFuseTokenEmbeddingAndRopePatterns(RewritePatternSet &patterns, bool remarks) {
  patterns.add<FuseEmbeddingPattern<GatherOp>, FuseRopePattern>(
      patterns.getContext(), "tfm-fuse-positional-encoding", remarks);
}
