//===- TfmFusedOps.cpp - Verifiers of the fused transformer ops -----------===//
//
// tfm.embedding, tfm.layer_norm, tfm.linear and tfm.attention: what the
// fusion passes produce and the oneDNN backend consumes. Each verifier names
// the shapes involved.
//
//===----------------------------------------------------------------------===//

#include "tfm/Dialect/Tfm/IR/Tfm.h"
#include "VerifyUtils.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace tfm;
using namespace tfm::detail;

//===----------------------------------------------------------------------===//
// Fused ops
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::verify() {
  auto tokens = getTokens().getType(), table = getTable().getType();
  if (tokens.getRank() != 1)
    return emitOpError() << "expected rank-1 tokens, got rank " << tokens.getRank();
  if (table.getRank() != 2)
    return emitOpError() << "expected a rank-2 [vocab, width] table";
  int64_t width = table.getShape()[1];
  bool learned = getPosition() == PositionKind::learned;
  if (learned != (getPositionTable() != nullptr))
    return emitOpError() << (learned ? "position = learned needs a position table"
                                     : "a position table is only allowed with "
                                       "position = learned");
  if (auto pos = getPositionTable()) {
    auto pt = pos.getType();
    if (pt.getRank() != 2 || !dimsCompatible(pt.getShape()[1], width) ||
        pt.getElementType() != table.getElementType())
      return emitOpError() << "expected a position table [n, " << width
                           << "] of the table's element type";
  }
  if (auto p = getPositions()) {
    auto pt = p.getType();
    if (pt.getRank() != 1 || !dimsCompatible(pt.getShape()[0], tokens.getShape()[0]))
      return emitOpError() << "expected one position per token, got positions "
                           << shapeStr(pt.getShape()) << " for tokens "
                           << shapeStr(tokens.getShape());
  }
  if (getPosition() == PositionKind::sinusoidal && !ShapedType::isDynamic(width) &&
      width % 2 != 0)
    return emitOpError() << "sinusoidal positions need an even width, got "
                         << width;
  SmallVector<int64_t> expected = {tokens.getShape()[0], width};
  if (!shapesCompatible(expected, getType().getShape()) ||
      getType().getElementType() != table.getElementType())
    return emitOpError() << "expected result " << shapeStr(expected) << " of "
                         << table.getElementType();
  return success();
}

LogicalResult LayerNormOp::verify() {
  auto in = getInput().getType();
  if (in.getRank() < 1)
    return emitOpError() << "expected an input of rank >= 1";
  int64_t c = in.getShape().back();
  if (getEpsilon().convertToDouble() < 0)
    return emitOpError() << "epsilon must be non-negative";
  for (Value v : {getScale(), getBias()}) {
    if (!v)
      continue;
    auto t = cast<RankedTensorType>(v.getType());
    if (t.getRank() != 1 || !dimsCompatible(t.getShape()[0], c))
      return emitOpError() << "expected scale and bias of shape [" << c
                           << "], got " << shapeStr(t.getShape());
  }
  if (getResidual() && getResidual().getType() != in)
    return emitOpError() << "residual must have the input's type";
  if (getOutput().getType() != in)
    return emitOpError() << "output must have the input's type";
  if ((getResidual() != nullptr) != (getSum() != nullptr))
    return emitOpError() << "the sum result is present exactly when a residual "
                            "operand is";
  if (getSum() && getSum().getType() != in)
    return emitOpError() << "sum must have the input's type";
  return verifySameElementType(*this, getOperation()->getOperandTypes(),
                               in.getElementType());
}

LogicalResult LinearOp::verify() {
  auto in = getInput().getType(), w = getWeight().getType();
  if (failed(verifySameElementType(*this, getOperation()->getOperandTypes(),
                                   getType().getElementType())))
    return failure();
  if (in.getRank() < 1 || w.getRank() != 2)
    return emitOpError() << "expected an input of rank >= 1 and a rank-2 weight";
  int64_t k = w.getShape()[getWeightTransposed() ? 1 : 0];
  int64_t n = w.getShape()[getWeightTransposed() ? 0 : 1];
  if (!dimsCompatible(in.getShape().back(), k))
    return emitOpError() << "input " << shapeStr(in.getShape())
                         << " does not contract with weight "
                         << shapeStr(w.getShape())
                         << (getWeightTransposed() ? " (transposed)" : "");
  SmallVector<int64_t> expected(in.getShape().drop_back());
  expected.push_back(n);
  if (!shapesCompatible(expected, getType().getShape()))
    return emitOpError() << "expected result shape " << shapeStr(expected)
                         << ", got " << shapeStr(getType().getShape());
  if (auto b = getBias()) {
    auto bt = b.getType();
    if (bt.getRank() != 1 || !dimsCompatible(bt.getShape()[0], n))
      return emitOpError() << "expected bias of shape [" << n << "], got "
                           << shapeStr(bt.getShape());
  }
  if (auto m = getMultiplier(); m && m.getType() != getType())
    return emitOpError() << "multiplier must have the result's type";
  if (auto r = getResidual(); r && r.getType() != getType())
    return emitOpError() << "residual must have the result's type";
  return success();
}

LogicalResult AttentionOp::verify() {
  auto q = getQ().getType();
  SmallVector<Type> floats = {getK().getType(), getV().getType()};
  for (Value past : {getPastK(), getPastV()})
    if (past)
      floats.push_back(past.getType());
  if (failed(verifySameElementType(*this, floats, q.getElementType())) ||
      failed(verifySameElementType(*this, getOperation()->getResultTypes(),
                                   q.getElementType())))
    return failure();
  for (Value v : {getQ(), getK(), getV()})
    if (cast<RankedTensorType>(v.getType()).getRank() != 2)
      return emitOpError() << "expected rank-2 [tokens, heads*head_dim] q, k, v";
  int64_t heads = getNumHeadsAttr().getInt();
  int64_t width = q.getShape()[1];
  if (heads <= 0)
    return emitOpError() << "num_heads must be positive, got " << heads;
  int64_t kvHeads = getKvHeads();
  if (kvHeads <= 0 || heads % kvHeads != 0)
    return emitOpError() << "kv_heads must be positive and divide heads (" << heads
                         << "), got " << kvHeads;
  if (!ShapedType::isDynamic(width) && width % heads != 0)
    return emitOpError() << "width " << width << " is not divisible by "
                         << heads << " heads";
  int64_t headDim = ShapedType::isDynamic(width) ? ShapedType::kDynamic : width / heads;
  int64_t kvWidth = ShapedType::isDynamic(width) ? ShapedType::kDynamic : headDim * kvHeads;
  auto kt = getK().getType();
  if (!shapesCompatible(kt.getShape(), {q.getShape()[0], kvWidth}) || getV().getType() != kt)
    return emitOpError() << "expected k and v of one type, shape "
                         << shapeStr({q.getShape()[0], kvWidth}) << " (" << kvHeads
                         << " kv heads of " << headDim << "), got k " << shapeStr(kt.getShape())
                         << " and v " << shapeStr(getV().getType().getShape());
  if (getOutput().getType() != q)
    return emitOpError() << "output must have q's type";
  if ((getPastK() != nullptr) != (getPastV() != nullptr))
    return emitOpError() << "past_k and past_v come together";
  bool hasPast = getPastK() != nullptr;
  if (getPresent().size() != (hasPast ? 2u : 0u))
    return emitOpError() << "expected " << (hasPast ? 2 : 0)
                         << " present (key, value) results, got "
                         << getPresent().size();
  if (hasPast) {
    auto pk = getPastK().getType();
    if (pk.getRank() != 2 || !dimsCompatible(pk.getShape()[1], kvWidth) ||
        getPastV().getType() != pk)
      return emitOpError() << "expected past_k and past_v of shape [P, "
                           << kvWidth << "]";
    int64_t p = pk.getShape()[0], t = q.getShape()[0];
    int64_t total = ShapedType::isDynamic(p) || ShapedType::isDynamic(t)
                        ? ShapedType::kDynamic
                        : p + t;
    for (Value pr : getPresent()) {
      auto prt = cast<RankedTensorType>(pr.getType());
      if (!shapesCompatible(prt.getShape(), {total, kvWidth}))
        return emitOpError() << "expected present results of shape "
                             << shapeStr({total, kvWidth});
    }
  }
  if (auto w = getWindow()) {
    if (!getCausal())
      return emitOpError() << "a window needs causal attention";
    if (static_cast<int64_t>(*w) <= 0)
      return emitOpError() << "window must be positive, got " << static_cast<int64_t>(*w);
  }
  if (auto p = getPositions()) {
    if (!getInvFreq())
      return emitOpError() << "positions are only used by rope";
    if (p.getType().getRank() != 1 || !dimsCompatible(p.getType().getShape()[0], q.getShape()[0]))
      return emitOpError() << "expected one position per query, got positions "
                           << shapeStr(p.getType().getShape());
  }
  if (auto ids = getSequences()) {
    if (hasPast)
      return emitOpError() << "packed sequences take no KV cache (past_k, past_v)";
    if (ids.getType().getRank() != 1 ||
        !dimsCompatible(ids.getType().getShape()[0], q.getShape()[0]))
      return emitOpError() << "expected one sequence id per query, got sequences "
                           << shapeStr(ids.getType().getShape());
  }
  if (auto inv = getInvFreq()) {
    auto it = inv.getType();
    if (!it.getElementType().isF32())
      return emitOpError() << "expected an f32 inv_freq table";
    if (it.getRank() != 1 || ShapedType::isDynamic(it.getShape()[0]) ||
        it.getShape()[0] <= 0 ||
        (!ShapedType::isDynamic(headDim) && 2 * it.getShape()[0] > headDim))
      return emitOpError() << "expected an inv_freq table of shape [r/2] with 0 < r <= the "
                              "head dim ("
                           << headDim << "), got " << shapeStr(it.getShape());
  }
  return success();
}

#define GET_OP_CLASSES
#include "tfm/Dialect/Tfm/IR/TfmOps.cpp.inc"
