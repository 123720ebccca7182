//===- TfmToOneDNN.cpp - Lower tfm ops to onednn primitives ---------------===//
//
// Bufferizes tfm functions and lowers every tfm op to onednn ops on memrefs.
// Each tensor value becomes one contiguous, identity-layout memref (a fresh
// `memref.alloc`); views (transposes, slices) exist only as reorder sources.
//
//===----------------------------------------------------------------------===//

#include "tfm/Conversion/Passes.h"
#include "tfm/Dialect/Tfm/IR/Tfm.h"
#include "BufferizeSignature.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/DialectConversion.h"
#include <type_traits>

#define DEBUG_TYPE "convert-tfm-to-onednn"

namespace tfm {
#define GEN_PASS_DEF_CONVERTTFMTOONEDNN
#include "tfm/Conversion/Passes.h.inc"
} // namespace tfm

using namespace mlir;
using namespace tfm;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// `memref.dim %src, d`.
Value dimOf(OpBuilder &b, Location loc, Value src, int64_t d) {
  return memref::DimOp::create(b, loc, src, d);
}

/// A fresh 64-byte aligned buffer for a tensor of `type`. Each dynamic
/// dimension i takes its size from `sizeOf(i)`; by default from the same
/// dimension of `like` (aligned at the trailing dimension), which is right for
/// elementwise, normalization and linear ops whose leading dims pass through.
Value allocFor(OpBuilder &b, Location loc, Type tensorType, Value like = {},
               llvm::function_ref<Value(int64_t)> sizeOf = nullptr) {
  auto t = cast<RankedTensorType>(tensorType);
  auto memrefType = MemRefType::get(t.getShape(), t.getElementType());
  SmallVector<Value> sizes;
  for (int64_t i = 0; i < t.getRank(); ++i) {
    if (!t.isDynamicDim(i))
      continue;
    if (sizeOf) {
      sizes.push_back(sizeOf(i));
      continue;
    }
    auto lt = cast<MemRefType>(like.getType());
    int64_t j = i - (t.getRank() - lt.getRank());
    sizes.push_back(dimOf(b, loc, like, j));
  }
  return memref::AllocOp::create(b, loc, memrefType, sizes, b.getI64IntegerAttr(64));
}

/// True if every dynamic dimension of `result` lines up (from the trailing
/// dimension) with a dynamic dimension of `like`.
bool dynamicDimsFollow(Type result, Type like) {
  auto r = cast<ShapedType>(result), l = cast<ShapedType>(like);
  for (int64_t i = 0; i < r.getRank(); ++i) {
    if (!r.isDynamicDim(i))
      continue;
    int64_t j = i - (r.getRank() - l.getRank());
    if (j < 0 || !l.isDynamicDim(j))
      return false;
  }
  return true;
}

/// The splat value of a scalar-like constant operand (`tfm.constant` whose
/// value is a splat), if it is one.
std::optional<double> splatConstant(Value v) {
  ElementsAttr value;
  if (!matchPattern(v, m_Constant(&value)))
    return std::nullopt;
  auto attr = dyn_cast_if_present<DenseFPElementsAttr>(tfm::denseElements(value));
  if (!attr || !attr.isSplat())
    return std::nullopt;
  return attr.getSplatValue<APFloat>().convertToDouble();
}

/// Emits `onednn.eltwise kind src into dst` on a fresh buffer.
Value eltwise(OpBuilder &b, Location loc, onednn::EltwiseKind kind, Value src,
              Type resultType, double alpha = 0, double beta = 0) {
  Value dst = allocFor(b, loc, resultType, src);
  onednn::EltwiseOp::create(b, loc, kind, src, dst, llvm::APFloat(alpha),
                            llvm::APFloat(beta));
  return dst;
}

//===----------------------------------------------------------------------===//
// Compute ops
//===----------------------------------------------------------------------===//

/// tfm.matmul -> onednn.matmul.
struct MatmulLowering : OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    // [..., M, K] x [..., K, N]: M from the lhs, N from the rhs, batch from the lhs.
    auto rt = op.getType();
    int64_t rank = rt.getRank(), lhsRank = op.getLhs().getType().getRank(),
            rhsRank = op.getRhs().getType().getRank();
    if (!rt.hasStaticShape() &&
        !dynamicDimsFollow(RankedTensorType::get(rt.getShape().drop_back(), rt.getElementType()),
                           RankedTensorType::get(op.getLhs().getType().getShape().drop_back(),
                                                 rt.getElementType())))
      return rewriter.notifyMatchFailure(op, "dynamic dimensions the backend cannot size yet");
    Value dst = allocFor(rewriter, op.getLoc(), op.getType(), Value(), [&](int64_t i) -> Value {
      if (i == rank - 1)
        return dimOf(rewriter, op.getLoc(), adaptor.getRhs(), rhsRank - 1);
      return dimOf(rewriter, op.getLoc(), adaptor.getLhs(), i - (rank - lhsRank));
    });
    onednn::MatmulOp::create(rewriter, op.getLoc(), adaptor.getLhs(),
                             adaptor.getRhs(), Value(), Value(), Value(), dst,
                             onednn::Activation::none, false);
    rewriter.replaceOp(op, dst);
    return success();
  }
};

/// Maps the tfm epilogue activation onto the onednn eltwise post-op.
onednn::Activation toOneDNN(Activation a) {
  switch (a) {
  case Activation::none: return onednn::Activation::none;
  case Activation::gelu_tanh: return onednn::Activation::gelu_tanh;
  case Activation::gelu_erf: return onednn::Activation::gelu_erf;
  case Activation::relu: return onednn::Activation::relu;
  case Activation::silu: return onednn::Activation::silu;
  }
  llvm_unreachable("unknown activation");
}

/// tfm.linear -> onednn.matmul with bias / eltwise / multiplier / residual post-ops.
struct LinearLowering : OpConversionPattern<LinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    // Leading dims pass through from the input; N is static.
    Value dst = allocFor(rewriter, op.getLoc(), op.getType(), adaptor.getInput());
    onednn::MatmulOp::create(rewriter, op.getLoc(), adaptor.getInput(),
                             adaptor.getWeight(), adaptor.getBias(),
                             adaptor.getMultiplier(), adaptor.getResidual(), dst,
                             toOneDNN(op.getActivation()),
                             op.getWeightTransposed());
    rewriter.replaceOp(op, dst);
    return success();
  }
};

/// Elementwise binary ops. A splat-constant operand turns the op into an
/// `eltwise linear` (or `pow`) on the other operand, which avoids
/// materializing the constant and maps to one cheap primitive.
template <typename OpTy>
struct BinaryLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  using OpAdaptor = typename OpTy::Adaptor;

  LogicalResult matchAndRewrite(OpTy op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type type = op.getType();
    using K = onednn::EltwiseKind;
    auto rhsC = splatConstant(op.getRhs());
    auto lhsC = splatConstant(op.getLhs());
    bool rhsScalar = rhsC && op.getLhs().getType() == type;
    bool lhsScalar = lhsC && op.getRhs().getType() == type;
    std::optional<Value> r;
    if constexpr (std::is_same_v<OpTy, AddOp>) {
      if (rhsScalar)
        r = eltwise(rewriter, loc, K::linear, adaptor.getLhs(), type, 1.0, *rhsC);
      else if (lhsScalar)
        r = eltwise(rewriter, loc, K::linear, adaptor.getRhs(), type, 1.0, *lhsC);
    } else if constexpr (std::is_same_v<OpTy, SubOp>) {
      if (rhsScalar)
        r = eltwise(rewriter, loc, K::linear, adaptor.getLhs(), type, 1.0, -*rhsC);
      else if (lhsScalar)
        r = eltwise(rewriter, loc, K::linear, adaptor.getRhs(), type, -1.0, *lhsC);
    } else if constexpr (std::is_same_v<OpTy, MulOp>) {
      if (rhsScalar)
        r = eltwise(rewriter, loc, K::linear, adaptor.getLhs(), type, *rhsC, 0.0);
      else if (lhsScalar)
        r = eltwise(rewriter, loc, K::linear, adaptor.getRhs(), type, *lhsC, 0.0);
    } else if constexpr (std::is_same_v<OpTy, DivOp>) {
      if (rhsScalar && *rhsC != 0.0)
        r = eltwise(rewriter, loc, K::linear, adaptor.getLhs(), type, 1.0 / *rhsC, 0.0);
    } else if constexpr (std::is_same_v<OpTy, PowOp>) {
      if (!rhsScalar)
        return rewriter.notifyMatchFailure(
            op, "the oneDNN backend needs a scalar constant exponent");
      r = eltwise(rewriter, loc, K::pow, adaptor.getLhs(), type, 1.0, *rhsC);
    }
    if (!r) {
      Value like = dynamicDimsFollow(type, op.getLhs().getType()) ? adaptor.getLhs()
                   : dynamicDimsFollow(type, op.getRhs().getType()) ? adaptor.getRhs()
                                                                    : Value();
      if (!like && !cast<RankedTensorType>(type).hasStaticShape())
        return rewriter.notifyMatchFailure(op, "dynamic dimensions the backend cannot size yet");
      onednn::BinaryKind kind;
      if constexpr (std::is_same_v<OpTy, AddOp>) kind = onednn::BinaryKind::add;
      else if constexpr (std::is_same_v<OpTy, SubOp>) kind = onednn::BinaryKind::sub;
      else if constexpr (std::is_same_v<OpTy, MulOp>) kind = onednn::BinaryKind::mul;
      else kind = onednn::BinaryKind::div;
      Value dst = allocFor(rewriter, loc, type, like);
      onednn::BinaryOp::create(rewriter, loc, kind, adaptor.getLhs(),
                               adaptor.getRhs(), dst);
      r = dst;
    }
    rewriter.replaceOp(op, *r);
    return success();
  }
};

/// Unary ops -> onednn.eltwise.
template <typename OpTy, onednn::EltwiseKind Kind>
struct UnaryLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    double alpha = 0, beta = 0;
    if constexpr (Kind == onednn::EltwiseKind::pow) {
      alpha = 1.0; // rsqrt(x) = 1 * x^-0.5
      beta = -0.5;
    }
    rewriter.replaceOp(op, eltwise(rewriter, op.getLoc(), Kind,
                                   adaptor.getInput(), op.getType(), alpha, beta));
    return success();
  }
};

/// tfm.softmax -> onednn.softmax.
struct SoftmaxLowering : OpConversionPattern<SoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(SoftmaxOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Value dst = allocFor(rewriter, op.getLoc(), op.getType(), adaptor.getInput());
    onednn::SoftmaxOp::create(rewriter, op.getLoc(), adaptor.getInput(), dst,
                              op.getNormalizedAxis());
    rewriter.replaceOp(op, dst);
    return success();
  }
};

/// tfm.reduce_* -> onednn.reduction.
template <typename OpTy, onednn::ReductionKind Kind>
struct ReduceLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Value dst = allocFor(rewriter, op.getLoc(), op.getType(), adaptor.getInput());
    onednn::ReductionOp::create(rewriter, op.getLoc(), Kind, adaptor.getInput(), dst);
    rewriter.replaceOp(op, dst);
    return success();
  }
};

/// tfm.layer_norm -> [onednn.binary add for the residual] + onednn.layer_norm.
struct LayerNormLowering : OpConversionPattern<LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(LayerNormOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value src = adaptor.getInput();
    Value sum;
    if (adaptor.getResidual()) {
      sum = allocFor(rewriter, loc, op.getInput().getType(), src);
      onednn::BinaryOp::create(rewriter, loc, onednn::BinaryKind::add, src,
                               adaptor.getResidual(), sum);
      src = sum;
    }
    Value dst = allocFor(rewriter, loc, op.getOutput().getType(), src);
    onednn::LayerNormOp::create(rewriter, loc, src, adaptor.getScale(),
                                adaptor.getBias(), dst, op.getEpsilonAttr(), op.getRmsAttr());
    if (sum)
      rewriter.replaceOp(op, ValueRange{dst, sum});
    else
      rewriter.replaceOp(op, dst);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

/// Copies `src` (any view) into a fresh buffer of `resultType`.
Value copyInto(OpBuilder &b, Location loc, Value src, Type resultType) {
  auto st = cast<MemRefType>(src.getType());
  Value dst = allocFor(b, loc, resultType, Value(), [&](int64_t i) {
    return st.isDynamicDim(i) ? dimOf(b, loc, src, i)
                              : Value(arith::ConstantIndexOp::create(b, loc, st.getDimSize(i)));
  });
  onednn::ReorderOp::create(b, loc, src, dst);
  return dst;
}

/// tfm.transpose -> memref.transpose view + onednn.reorder.
struct TransposeLowering : OpConversionPattern<TransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(TransposeOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    SmallVector<unsigned> perm(op.getPermutation().begin(), op.getPermutation().end());
    auto map = AffineMap::getPermutationMap(perm, rewriter.getContext());
    Value view = memref::TransposeOp::create(rewriter, op.getLoc(), adaptor.getInput(),
                                             AffineMapAttr::get(map));
    rewriter.replaceOp(op, copyInto(rewriter, op.getLoc(), view, op.getType()));
    return success();
  }
};

/// tfm.reshape -> memref.reinterpret_cast of the contiguous buffer (no copy).
/// A dynamic result dimension (the leading one: token counts) takes the
/// input's element count divided by the static result dimensions.
struct ReshapeLowering : OpConversionPattern<ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ReshapeOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto t = op.getType();
    for (int64_t i = 1; i < t.getRank(); ++i)
      if (t.isDynamicDim(i))
        return rewriter.notifyMatchFailure(op, "a dynamic reshape with a dynamic dimension "
                                               "other than the leading one");
    Location loc = op.getLoc();
    auto memrefType = MemRefType::get(t.getShape(), t.getElementType());
    SmallVector<int64_t> strides(t.getRank(), 1);
    for (int64_t i = t.getRank() - 2; i >= 0; --i)
      strides[i] = strides[i + 1] * t.getShape()[i + 1];
    SmallVector<OpFoldResult> sizes;
    for (int64_t d : t.getShape())
      sizes.push_back(rewriter.getIndexAttr(d));
    if (t.getRank() > 0 && t.isDynamicDim(0)) {
      // leading = (elements of the input) / (product of the static dims)
      auto in = op.getInput().getType();
      int64_t staticIn = 1;
      Value count;
      for (int64_t i = 0; i < in.getRank(); ++i) {
        if (!in.isDynamicDim(i)) {
          staticIn *= in.getDimSize(i);
          continue;
        }
        Value d = dimOf(rewriter, loc, adaptor.getInput(), i);
        count = count ? arith::MulIOp::create(rewriter, loc, count, d).getResult() : d;
      }
      int64_t staticOut = 1;
      for (int64_t i = 1; i < t.getRank(); ++i)
        staticOut *= t.getDimSize(i);
      if (!count || staticOut == 0 || staticIn % staticOut != 0)
        return rewriter.notifyMatchFailure(op, "the leading dimension is not a whole number "
                                               "of rows");
      if (staticIn != staticOut) {
        Value scale = arith::ConstantIndexOp::create(rewriter, loc, staticIn / staticOut);
        count = arith::MulIOp::create(rewriter, loc, count, scale);
      }
      sizes[0] = count;
    } else if (!op.getInput().getType().hasStaticShape()) {
      return rewriter.notifyMatchFailure(op, "a static reshape of a dynamic tensor");
    }
    SmallVector<OpFoldResult> strideAttrs;
    for (int64_t s : strides)
      strideAttrs.push_back(rewriter.getIndexAttr(s));
    Value view = memref::ReinterpretCastOp::create(rewriter, loc, memrefType, adaptor.getInput(),
                                                   rewriter.getIndexAttr(0), sizes, strideAttrs);
    rewriter.replaceOp(op, view);
    return success();
  }
};

/// A unit-stride subview of `src` at `offsets` with `sizes` (a dynamic size
/// takes the size of that dimension of `src`).
Value subview(OpBuilder &b, Location loc, Value src, ArrayRef<int64_t> offsets,
              ArrayRef<int64_t> sizes) {
  SmallVector<OpFoldResult> offs, szs, strides;
  for (size_t i = 0; i < sizes.size(); ++i) {
    offs.push_back(b.getIndexAttr(offsets[i]));
    szs.push_back(ShapedType::isDynamic(sizes[i]) ? OpFoldResult(dimOf(b, loc, src, i))
                                                  : OpFoldResult(b.getIndexAttr(sizes[i])));
    strides.push_back(b.getIndexAttr(1));
  }
  return memref::SubViewOp::create(b, loc, src, offs, szs, strides);
}

/// tfm.slice -> memref.subview + onednn.reorder.
struct SliceLowering : OpConversionPattern<SliceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(SliceOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    if (!op.getType().hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic slices are not lowered yet");
    Value view = subview(rewriter, op.getLoc(), adaptor.getInput(), op.getOffsets(),
                         op.getType().getShape());
    rewriter.replaceOp(op, copyInto(rewriter, op.getLoc(), view, op.getType()));
    return success();
  }
};

/// tfm.split -> one subview + reorder per piece.
struct SplitLowering : OpConversionPattern<SplitOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(SplitOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    int64_t rank = op.getInput().getType().getRank();
    int64_t axis = op.getNormalizedAxis();
    SmallVector<Value> pieces;
    SmallVector<int64_t> offsets(rank, 0);
    for (Value r : op.getResults()) {
      auto t = cast<RankedTensorType>(r.getType());
      Value view = subview(rewriter, op.getLoc(), adaptor.getInput(), offsets,
                           t.getShape());
      pieces.push_back(copyInto(rewriter, op.getLoc(), view, t));
      offsets[axis] += t.getShape()[axis];
    }
    rewriter.replaceOp(op, pieces);
    return success();
  }
};

/// tfm.concat -> reorders of each input into a subview of one buffer. Along
/// the axis a dynamic size is the sum of the inputs' (memref.dim), and the
/// offsets follow it; other dynamic dims take the first input's.
struct ConcatLowering : OpConversionPattern<ConcatOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t rank = op.getType().getRank();
    int64_t axis = op.getNormalizedAxis();
    auto sizeAlong = [&](Value in, int64_t d) -> OpFoldResult {
      auto t = cast<MemRefType>(in.getType());
      if (!t.isDynamicDim(d))
        return rewriter.getIndexAttr(t.getDimSize(d));
      return dimOf(rewriter, loc, in, d);
    };
    auto asValue = [&](OpFoldResult r) -> Value {
      if (auto v = dyn_cast<Value>(r))
        return v;
      return arith::ConstantIndexOp::create(rewriter, loc,
                                            cast<IntegerAttr>(cast<Attribute>(r)).getInt());
    };
    Value dst = allocFor(rewriter, loc, op.getType(), Value(), [&](int64_t d) -> Value {
      if (d != axis)
        return asValue(sizeAlong(adaptor.getInputs().front(), d));
      Value total;
      for (Value in : adaptor.getInputs()) {
        Value n = asValue(sizeAlong(in, d));
        total = total ? arith::AddIOp::create(rewriter, loc, total, n).getResult() : n;
      }
      return total;
    });
    OpFoldResult offset = rewriter.getIndexAttr(0); // static while the sizes are
    for (Value in : adaptor.getInputs()) {
      SmallVector<OpFoldResult> offs(rank, rewriter.getIndexAttr(0)), szs, strides;
      offs[axis] = offset;
      for (int64_t d = 0; d < rank; ++d) {
        szs.push_back(sizeAlong(in, d));
        strides.push_back(rewriter.getIndexAttr(1));
      }
      Value view = memref::SubViewOp::create(rewriter, loc, dst, offs, szs, strides);
      onednn::ReorderOp::create(rewriter, loc, in, view);
      auto constant = [](OpFoldResult r) -> std::optional<int64_t> {
        if (auto a = dyn_cast<Attribute>(r))
          return cast<IntegerAttr>(a).getInt();
        return std::nullopt;
      };
      if (auto o = constant(offset), n = constant(szs[axis]); o && n)
        offset = rewriter.getIndexAttr(*o + *n);
      else
        offset = arith::AddIOp::create(rewriter, loc, asValue(offset), asValue(szs[axis]))
                     .getResult();
    }
    rewriter.replaceOp(op, dst);
    return success();
  }
};

/// tfm.select(tfm.causal_mask(scores), x, fill) with a splat fill and x of
/// the scores' shape -> onednn.causal_fill (the unfused form of the mask a
/// fused tfm.attention applies itself).
struct CausalSelectLowering : OpConversionPattern<SelectOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(SelectOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto mask = op.getCond().getDefiningOp<CausalMaskOp>();
    if (!mask || mask.getOffset())
      return rewriter.notifyMatchFailure(op, "the condition is not a causal_mask without "
                                             "offset (only that select is lowered)");
    auto fill = splatConstant(op.getFalseValue());
    if (!fill || op.getTrueValue().getType() != op.getType() ||
        cast<RankedTensorType>(mask.getScores().getType()).getShape() !=
            op.getType().getShape())
      return rewriter.notifyMatchFailure(op, "not select(causal_mask(x), x-shaped, splat)");
    Value dst = allocFor(rewriter, op.getLoc(), op.getType(), adaptor.getTrueValue());
    int64_t window = mask.getWindow() ? static_cast<int64_t>(*mask.getWindow()) : 0;
    onednn::CausalFillOp::create(rewriter, op.getLoc(), adaptor.getTrueValue(), dst,
                                 rewriter.getF64FloatAttr(*fill),
                                 rewriter.getI64IntegerAttr(window));
    rewriter.replaceOp(op, dst);
    return success();
  }
};

/// tfm.select(tfm.sequence_mask(scores, ids), x, fill) with a splat fill and
/// x of the scores' shape -> onednn.sequence_fill (the unfused form of the
/// mask a fused tfm.attention with sequences applies itself).
struct SequenceSelectLowering : OpConversionPattern<SelectOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(SelectOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto mask = op.getCond().getDefiningOp<SequenceMaskOp>();
    if (!mask)
      return rewriter.notifyMatchFailure(op, "the condition is not a sequence_mask");
    auto fill = splatConstant(op.getFalseValue());
    if (!fill || op.getTrueValue().getType() != op.getType() ||
        cast<RankedTensorType>(mask.getScores().getType()).getShape() !=
            op.getType().getShape())
      return rewriter.notifyMatchFailure(op, "not select(sequence_mask(x), x-shaped, splat)");
    Value dst = allocFor(rewriter, op.getLoc(), op.getType(), adaptor.getTrueValue());
    Value ids = rewriter.getRemappedValue(mask.getSequenceIds());
    onednn::SequenceFillOp::create(rewriter, op.getLoc(), adaptor.getTrueValue(), ids, dst,
                                   rewriter.getF64FloatAttr(*fill));
    rewriter.replaceOp(op, dst);
    return success();
  }
};

/// A mask (tfm.causal_mask without offset, tfm.sequence_mask) used only by
/// selects that lower to onednn.causal_fill / onednn.sequence_fill (which
/// compute the mask themselves) -> nothing.
template <typename MaskOp>
struct MaskLowering : OpConversionPattern<MaskOp> {
  using OpConversionPattern<MaskOp>::OpConversionPattern;
  LogicalResult matchAndRewrite(MaskOp op, typename MaskOp::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    bool offset = false;
    if constexpr (std::is_same_v<MaskOp, CausalMaskOp>)
      offset = op.getOffset() != nullptr;
    if (offset || !llvm::all_of(op->getUsers(), [&](Operation *u) {
          auto s = dyn_cast<SelectOp>(u);
          return s && s.getCond() == op.getResult();
        }))
      return rewriter.notifyMatchFailure(op, "a " + MaskOp::getOperationName().drop_front(4) +
                                                 " used other than as a select's condition is "
                                                 "not lowered");
    rewriter.eraseOp(op);
    return success();
  }
};

/// tfm.constant -> a private constant memref.global and memref.get_global.
struct ConstantLowering : OpConversionPattern<ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ConstantOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto t = op.getType();
    // The executable holds the constant's every element (a 100-byte splat
    // attribute may stand for gigabytes): large tensors belong in the weights.
    constexpr int64_t kMaxConstantBytes = int64_t(256) << 20;
    if (std::optional<int64_t> bytes = tfm::boundedByteSize(t); !bytes || *bytes > kMaxConstantBytes)
      return op.emitOpError() << "of type " << t << " is larger than 256 MiB, the most tfm "
                                 "embeds in an executable (make it a weight: tfm.param)";
    // Dense values, and dense_resource blobs (importers' form) read as one.
    DenseElementsAttr dense = tfm::denseElements(op.getValue());
    if (!dense)
      return op.emitOpError() << "value cannot be read: "
                              << (tfm::resourceProblem(op.getValue()).empty()
                                      ? std::string("only dense and dense_resource values are lowered")
                                      : tfm::resourceProblem(op.getValue()));
    auto memrefType = MemRefType::get(t.getShape(), t.getElementType());
    auto module = op->getParentOfType<ModuleOp>();
    std::string name;
    unsigned counter = 0;
    do
      name = "__tfm_constant_" + std::to_string(counter++);
    while (module.lookupSymbol(name));
    memref::GlobalOp global;
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(module.getBody());
      global = memref::GlobalOp::create(
          rewriter, op.getLoc(), name,
          rewriter.getStringAttr("private"), memrefType, dense,
          /*constant=*/true, rewriter.getI64IntegerAttr(64));
    }
    rewriter.replaceOpWithNewOp<memref::GetGlobalOp>(op, memrefType,
                                                     global.getSymName());
    return success();
  }
};

/// tfm.param -> onednn.weight (the runtime's buffer of the named weight).
struct ParamLowering : OpConversionPattern<ParamOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ParamOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto t = op.getType();
    rewriter.replaceOpWithNewOp<onednn::WeightOp>(
        op, MemRefType::get(t.getShape(), t.getElementType()), op.getNameAttr());
    return success();
  }
};

/// tfm.cast between float types, or from i32/i64 to f32 -> onednn.reorder
/// (which converts).
struct CastLowering : OpConversionPattern<CastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(CastOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Type from = op.getInput().getType().getElementType(), to = op.getType().getElementType();
    bool intToF32 = from.isInteger(64) || from.isInteger(32);
    if (!isa<FloatType>(to) || (!isa<FloatType>(from) && !(intToF32 && to.isF32())))
      return rewriter.notifyMatchFailure(op, "only float-to-float and integer-to-f32 casts are "
                                             "lowered");
    Value dst = allocFor(rewriter, op.getLoc(), op.getType(), adaptor.getInput());
    onednn::ReorderOp::create(rewriter, op.getLoc(), adaptor.getInput(), dst);
    rewriter.replaceOp(op, dst);
    return success();
  }
};

/// `onednn.embedding` into a fresh buffer of `type` with one row per index.
Value gatherRows(OpBuilder &b, Location loc, Type type, Value indices, Value table,
                 Value positionTable, Value positions, onednn::PositionKind kind) {
  Value dst = allocFor(b, loc, type, Value(), [&](int64_t) { return dimOf(b, loc, indices, 0); });
  onednn::EmbeddingOp::create(b, loc, indices, table, /*table_scales=*/Value(), positionTable,
                              positions, dst, kind, /*bits=*/nullptr, /*group=*/nullptr);
  return dst;
}

/// tfm.embedding -> onednn.embedding (T rows, one per token).
struct EmbeddingLowering : OpConversionPattern<EmbeddingOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(EmbeddingOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, gatherRows(rewriter, op.getLoc(), op.getType(), adaptor.getTokens(),
                                      adaptor.getTable(), adaptor.getPositionTable(),
                                      adaptor.getPositions(),
                                      static_cast<onednn::PositionKind>(op.getPosition())));
    return success();
  }
};

/// tfm.gather of rows (a rank-2 table, rank-1 indices) -> onednn.embedding
/// without a positional term: the runtime's row gather, with range checks.
struct GatherLowering : OpConversionPattern<GatherOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(GatherOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    if (op.getTable().getType().getRank() != 2 || op.getIndices().getType().getRank() != 1)
      return rewriter.notifyMatchFailure(op, "only rows of a rank-2 table are gathered");
    rewriter.replaceOp(op, gatherRows(rewriter, op.getLoc(), op.getType(), adaptor.getIndices(),
                                      adaptor.getTable(), Value(), Value(),
                                      onednn::PositionKind::none));
    return success();
  }
};

/// tfm.attention -> onednn.sdpa (present keys/values into [P+T, KVH*Dh] buffers).
struct AttentionLowering : OpConversionPattern<AttentionOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(AttentionOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value out = allocFor(rewriter, loc, op.getOutput().getType(), adaptor.getQ());
    Value presentK, presentV;
    if (adaptor.getPastK()) {
      auto sizeOf = [&](int64_t) -> Value {
        return arith::AddIOp::create(rewriter, loc, dimOf(rewriter, loc, adaptor.getPastK(), 0),
                                     dimOf(rewriter, loc, adaptor.getK(), 0));
      };
      presentK = allocFor(rewriter, loc, op.getPresent()[0].getType(), Value(), sizeOf);
      presentV = allocFor(rewriter, loc, op.getPresent()[1].getType(), Value(), sizeOf);
    }
    onednn::SdpaOp::create(rewriter, loc, adaptor.getQ(), adaptor.getK(), adaptor.getV(),
                           adaptor.getPastK(), adaptor.getPastV(), adaptor.getPositions(),
                           adaptor.getInvFreq(), adaptor.getSequences(), out, presentK,
                           presentV, op.getNumHeadsAttr(),
                           op.getNumKvHeadsAttr(), op.getScaleAttr(), op.getCausalAttr(),
                           op.getWindowAttr());
    SmallVector<Value> results = {out};
    if (presentK)
      results.append({presentK, presentV});
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct ConvertTfmToOneDNNPass
    : tfm::impl::ConvertTfmToOneDNNBase<ConvertTfmToOneDNNPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      if (failed(bufferizeSignature(func)))
        return signalPassFailure();

    TypeConverter converter;
    converter.addConversion([](Type t) { return t; });
    converter.addConversion([](RankedTensorType t) -> std::optional<Type> {
      return MemRefType::get(t.getShape(), t.getElementType());
    });
    auto castMaterialization = [](OpBuilder &b, Type type, ValueRange inputs,
                                  Location loc) -> Value {
      return UnrealizedConversionCastOp::create(b, loc, type, inputs).getResult(0);
    };
    converter.addSourceMaterialization(castMaterialization);
    converter.addTargetMaterialization(castMaterialization);

    ConversionTarget target(getContext());
    // Everything in tfm must go; what the lowering produces is legal.
    target.addIllegalDialect<TfmDialect>();
    // onednn: the primitives themselves.
    target.addLegalDialect<onednn::OneDNNDialect>();
    // memref: buffers, views and constant globals.
    target.addLegalDialect<memref::MemRefDialect>();
    // arith and func: constants and the (already bufferized) functions.
    target.addLegalDialect<arith::ArithDialect, func::FuncDialect>();
    // Casts bridge the bufferized signatures; reconciled below.
    target.addLegalOp<UnrealizedConversionCastOp>();

    RewritePatternSet patterns(&getContext());
    populateTfmToOneDNNPatterns(converter, patterns);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();

    SmallVector<UnrealizedConversionCastOp> casts;
    module.walk([&](UnrealizedConversionCastOp c) { casts.push_back(c); });
    SmallVector<UnrealizedConversionCastOp> remaining;
    reconcileUnrealizedCasts(casts, &remaining);
    if (!remaining.empty()) {
      remaining.front()->emitError()
          << "internal error: a tensor value was left without a buffer";
      return signalPassFailure();
    }
  }
};
} // namespace

void tfm::populateTfmToOneDNNPatterns(TypeConverter &converter,
                                      RewritePatternSet &patterns) {
  using K = onednn::EltwiseKind;
  using R = onednn::ReductionKind;
  MLIRContext *ctx = patterns.getContext();
  patterns.add<ParamLowering, CastLowering, EmbeddingLowering, GatherLowering, AttentionLowering,
               MatmulLowering, LinearLowering, SoftmaxLowering,
               LayerNormLowering, TransposeLowering, ReshapeLowering,
               SliceLowering, SplitLowering, ConcatLowering, ConstantLowering,
               BinaryLowering<AddOp>, BinaryLowering<SubOp>,
               BinaryLowering<MulOp>, BinaryLowering<DivOp>,
               BinaryLowering<PowOp>, UnaryLowering<RsqrtOp, K::pow>,
               UnaryLowering<SqrtOp, K::sqrt>, UnaryLowering<TanhOp, K::tanh>,
               UnaryLowering<ExpOp, K::exp>, UnaryLowering<ErfOp, K::erf>,
               UnaryLowering<ReluOp, K::relu>, UnaryLowering<SinOp, K::sin>,
               UnaryLowering<CosOp, K::cos>, CausalSelectLowering, MaskLowering<CausalMaskOp>,
               SequenceSelectLowering, MaskLowering<SequenceMaskOp>,
               ReduceLowering<ReduceMeanOp, R::mean>,
               ReduceLowering<ReduceMaxOp, R::max>,
               ReduceLowering<ReduceSumOp, R::sum>>(converter, ctx);
}
