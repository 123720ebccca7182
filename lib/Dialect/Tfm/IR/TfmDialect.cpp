//===- TfmDialect.cpp - The tfm dialect: registration, verifiers, folders -===//
//
// Registers the tfm dialect and implements its op verifiers and folders
// (those of the fused ops are in TfmFusedOps.cpp, the tfm.* attributes'
// in TfmAttributes.cpp). The op classes are generated from TfmOps.td.
//
//===----------------------------------------------------------------------===//

#include "tfm/Dialect/Tfm/IR/Tfm.h"
#include "VerifyUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace tfm;
using namespace tfm::detail;

#include "tfm/Dialect/Tfm/IR/TfmOpsDialect.cpp.inc"
#include "tfm/Dialect/Tfm/IR/TfmEnums.cpp.inc"

void TfmDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "tfm/Dialect/Tfm/IR/TfmOps.cpp.inc"
      >();
}

Operation *TfmDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, type, elements);
}

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

namespace {
/// Checks that `axis` lies in [-rank, rank) and returns it normalized;
/// reports at `loc` as an error of `opName` otherwise.
FailureOr<int64_t> checkAxis(std::optional<Location> loc, StringRef opName, int64_t axis,
                             int64_t rank) {
  if (axis < -rank || axis >= rank) {
    (void)emitOptionalError(loc, "'", opName, "' op axis ", axis,
                            " is out of range for rank ", rank, " (expected -", rank,
                            " <= axis < ", rank, ")");
    return failure();
  }
  return axis < 0 ? axis + rank : axis;
}
FailureOr<int64_t> checkAxis(Operation *op, int64_t axis, int64_t rank) {
  return checkAxis(op->getLoc(), op->getName().getStringRef(), axis, rank);
}

/// Infers the type of a NumPy-broadcasting elementwise op: the broadcast of
/// the `operands`' shapes (MLIR's OpTrait::util::getBroadcastedShape) with
/// the element type of `floats`, which must all share it.
LogicalResult inferBroadcast(std::optional<Location> loc, StringRef opName, TypeRange operands,
                             TypeRange floats, SmallVectorImpl<Type> &inferred) {
  SmallVector<int64_t> shape;
  for (Type t : operands) {
    auto type = dyn_cast<RankedTensorType>(t);
    if (!type)
      return emitOptionalError(loc, "'", opName, "' op expected ranked tensor operands");
    SmallVector<int64_t> next;
    if (!OpTrait::util::getBroadcastedShape(shape, type.getShape(), next))
      return emitOptionalError(loc, "'", opName, "' op operand shapes do not broadcast: ",
                               shapeStr(shape), " and ", shapeStr(type.getShape()));
    shape = std::move(next);
  }
  Type elementType = cast<RankedTensorType>(floats.front()).getElementType();
  for (Type t : floats.drop_front())
    if (Type et = cast<RankedTensorType>(t).getElementType(); et != elementType)
      return emitOptionalError(loc, "'", opName, "' op expected element type ", elementType,
                               " for every float operand and result, got ", et);
  inferred.push_back(RankedTensorType::get(shape, elementType));
  return success();
}
} // namespace

/// Result types are compatible if they are ranked tensors of one element type
/// whose dimensions agree where both are static (a written result type may be
/// more static than the inferred one).
static bool compatibleTensorTypes(TypeRange inferred, TypeRange actual) {
  if (inferred.size() != actual.size())
    return false;
  for (auto [a, b] : llvm::zip(inferred, actual)) {
    auto ta = dyn_cast<RankedTensorType>(a), tb = dyn_cast<RankedTensorType>(b);
    if (!ta || !tb || ta.getElementType() != tb.getElementType() ||
        !shapesCompatible(ta.getShape(), tb.getShape()))
      return false;
  }
  return true;
}
namespace {


/// Returns the splat float value of a constant tensor operand, if it is one.
std::optional<double> getSplatValue(Attribute attr) {
  auto dense = dyn_cast_if_present<DenseFPElementsAttr>(attr);
  if (!dense || !dense.isSplat())
    return std::nullopt;
  return dense.getSplatValue<APFloat>().convertToDouble();
}

/// Folds `x op c` to `x` when `c` is a splat of `identity` and the result
/// type equals x's (so no broadcast happens).
OpFoldResult foldRightIdentity(Value lhs, Attribute rhsAttr, Type resultType,
                               double identity) {
  if (lhs.getType() != resultType)
    return {};
  if (auto v = getSplatValue(rhsAttr); v && *v == identity)
    return lhs;
  return {};
}
} // namespace

//===----------------------------------------------------------------------===//
// ParamOp, ConstantOp
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  if (getName().empty())
    return emitOpError() << "expected a non-empty weight name";
  return success();
}

std::string tfm::resourceProblem(ElementsAttr value) {
  auto resource = dyn_cast<DenseResourceElementsAttr>(value);
  if (!resource)
    return {};
  DenseResourceElementsHandle handle = resource.getRawHandle();
  std::string name = "dense_resource blob '" + handle.getKey().str() + "'";
  auto type = cast<ShapedType>(resource.getType());
  if (!type.hasStaticShape())
    return name + ": its type " + llvm::formatv("{0}", type).str() +
           " must have a static shape (a blob holds a fixed number of elements)";
  Type et = type.getElementType();
  unsigned bits = et.isIntOrIndexOrFloat() ? et.getIntOrFloatBitWidth() : 0;
  if (!(et.isInteger(1) || (bits > 0 && bits % 8 == 0)))
    return name + ": element type " + llvm::formatv("{0}", et).str() +
           " has no byte layout tfm reads";
  AsmResourceBlob *blob = handle.getBlob();
  if (!blob)
    return name + " has no data (no entry of that name in the file's "
                  "dialect_resources: builtin section)";
  uint64_t bytes = static_cast<uint64_t>(type.getNumElements()) * (et.isInteger(1) ? 1 : bits / 8);
  if (blob->getData().size() != bytes)
    return name + " holds " + std::to_string(blob->getData().size()) + " bytes; " +
           llvm::formatv("{0}", type).str() + " needs " + std::to_string(bytes);
  return {};
}

DenseElementsAttr tfm::denseElements(ElementsAttr value) {
  if (auto dense = dyn_cast<DenseElementsAttr>(value))
    return dense;
  auto resource = dyn_cast<DenseResourceElementsAttr>(value);
  if (!resource || !resourceProblem(value).empty())
    return {};
  auto type = cast<ShapedType>(resource.getType());
  ArrayRef<char> data = resource.getRawHandle().getBlob()->getData();
  if (type.getElementType().isInteger(1)) { // one byte per element, not packed bits
    SmallVector<bool> bools;
    for (char c : data)
      bools.push_back(c != 0);
    return DenseElementsAttr::get(type, bools);
  }
  return DenseElementsAttr::getFromRawBuffer(type, data);
}

LogicalResult ConstantOp::verify() {
  if (std::string problem = resourceProblem(getValue()); !problem.empty())
    return emitOpError() << problem;
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

namespace {
/// tfm.constant dense_resource<...> -> tfm.constant dense<...>: the
/// fusions and folders match dense values.
struct DenseResourceToDense : OpRewritePattern<ConstantOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConstantOp op, PatternRewriter &rewriter) const override {
    if (!isa<DenseResourceElementsAttr>(op.getValue()))
      return rewriter.notifyMatchFailure(op, "not a dense_resource value");
    DenseElementsAttr dense = denseElements(op.getValue());
    if (!dense)
      return rewriter.notifyMatchFailure(op, "the resource's blob cannot be read");
    rewriter.replaceOpWithNewOp<ConstantOp>(op, op.getType(), dense);
    return success();
  }
};
} // namespace

void ConstantOp::getCanonicalizationPatterns(RewritePatternSet &patterns, MLIRContext *context) {
  patterns.add<DenseResourceToDense>(context);
}

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

#define TFM_BINARY_INFERENCE(OP)                                               \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location> loc,  \
                                     Adaptor adaptor, SmallVectorImpl<Type> &inferred) { \
    TypeRange operands = adaptor.getOperands().getTypes();                      \
    return inferBroadcast(loc, getOperationName(), operands, operands, inferred); \
  }                                                                              \
  bool OP::isCompatibleReturnTypes(TypeRange l, TypeRange r) {                  \
    return compatibleTensorTypes(l, r);                                          \
  }
TFM_BINARY_INFERENCE(AddOp)
TFM_BINARY_INFERENCE(SubOp)
TFM_BINARY_INFERENCE(MulOp)
TFM_BINARY_INFERENCE(DivOp)
TFM_BINARY_INFERENCE(PowOp)
#undef TFM_BINARY_INFERENCE

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  if (auto r = foldRightIdentity(getLhs(), adaptor.getRhs(), getType(), 0.0))
    return r;
  return foldRightIdentity(getRhs(), adaptor.getLhs(), getType(), 0.0);
}
OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  return foldRightIdentity(getLhs(), adaptor.getRhs(), getType(), 0.0);
}
OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  if (auto r = foldRightIdentity(getLhs(), adaptor.getRhs(), getType(), 1.0))
    return r;
  return foldRightIdentity(getRhs(), adaptor.getLhs(), getType(), 1.0);
}
OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  return foldRightIdentity(getLhs(), adaptor.getRhs(), getType(), 1.0);
}

LogicalResult SelectOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  return inferBroadcast(loc, getOperationName(), adaptor.getOperands().getTypes(),
                        {adaptor.getTrueValue().getType(), adaptor.getFalseValue().getType()},
                        inferred);
}
bool SelectOp::isCompatibleReturnTypes(TypeRange l, TypeRange r) {
  return compatibleTensorTypes(l, r);
}

LogicalResult CausalMaskOp::verify() {
  auto scores = getScores().getType();
  if (scores.getRank() < 2)
    return emitOpError() << "expected scores of rank >= 2, got rank " << scores.getRank();
  if (getType().getRank() != 2)
    return emitOpError() << "expected a rank-2 [queries, keys] mask, got rank "
                         << getType().getRank();
  auto s = scores.getShape();
  SmallVector<int64_t> expected = {s[s.size() - 2], s.back()};
  if (!shapesCompatible(expected, getType().getShape()))
    return emitOpError() << "expected a mask of shape " << shapeStr(expected)
                         << " (the last two dimensions of the scores), got "
                         << shapeStr(getType().getShape());
  if (!getOffset() && !ShapedType::isDynamic(expected[0]) &&
      !ShapedType::isDynamic(expected[1]) && expected[1] < expected[0])
    return emitOpError() << "without an offset the mask needs at least as many "
                            "keys as queries, got "
                         << shapeStr(expected);
  if (auto w = getWindow(); w && static_cast<int64_t>(*w) <= 0)
    return emitOpError() << "window must be positive, got " << static_cast<int64_t>(*w);
  return success();
}

LogicalResult SequenceMaskOp::verify() {
  auto scores = getScores().getType();
  auto ids = getSequenceIds().getType();
  if (scores.getRank() < 2)
    return emitOpError() << "expected scores of rank >= 2, got rank " << scores.getRank();
  auto s = scores.getShape();
  int64_t t = s[s.size() - 2], keys = s.back();
  if (!dimsCompatible(t, keys))
    return emitOpError() << "packed sequences have as many keys as queries, got scores "
                         << shapeStr(s);
  if (ids.getRank() != 1 || !dimsCompatible(ids.getShape()[0], t))
    return emitOpError() << "expected one sequence id per query ([" << t
                         << "]), got sequence_ids " << shapeStr(ids.getShape());
  if (getType().getRank() != 2 || !shapesCompatible({t, keys}, getType().getShape()))
    return emitOpError() << "expected a mask of shape " << shapeStr({t, keys})
                         << " (the last two dimensions of the scores), got "
                         << shapeStr(getType().getShape());
  return success();
}

LogicalResult CastOp::verify() {
  if (!shapesCompatible(getInput().getType().getShape(), getType().getShape()))
    return emitOpError() << "cannot change the shape: "
                         << shapeStr(getInput().getType().getShape()) << " to "
                         << shapeStr(getType().getShape());
  return success();
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// Reductions and softmax
//===----------------------------------------------------------------------===//

/// The input's shape with `axis` kept with size 1.
#define TFM_REDUCE_INFERENCE(OP)                                                \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location> loc,   \
                                     Adaptor adaptor, SmallVectorImpl<Type> &inferred) { \
    auto in = dyn_cast<RankedTensorType>(adaptor.getInput().getType());          \
    if (!in)                                                                      \
      return emitOptionalError(loc, "'", getOperationName(), "' op expected a ranked input"); \
    auto axis = checkAxis(loc, getOperationName(), adaptor.getAxis(), in.getRank()); \
    if (failed(axis))                                                             \
      return failure();                                                           \
    SmallVector<int64_t> shape(in.getShape());                                    \
    shape[*axis] = 1;                                                             \
    inferred.push_back(RankedTensorType::get(shape, in.getElementType()));        \
    return success();                                                             \
  }                                                                               \
  bool OP::isCompatibleReturnTypes(TypeRange l, TypeRange r) {                   \
    return compatibleTensorTypes(l, r);                                           \
  }
TFM_REDUCE_INFERENCE(ReduceMeanOp)
TFM_REDUCE_INFERENCE(ReduceMaxOp)
TFM_REDUCE_INFERENCE(ReduceSumOp)
#undef TFM_REDUCE_INFERENCE

LogicalResult SoftmaxOp::verify() {
  return checkAxis(*this, getAxisAttr().getInt(), getInput().getType().getRank());
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

/// [..., M, K] x [..., K, N] -> [broadcast(batch), M, N].
LogicalResult MatmulOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  auto lt = dyn_cast<RankedTensorType>(adaptor.getLhs().getType());
  auto rt = dyn_cast<RankedTensorType>(adaptor.getRhs().getType());
  StringRef name = getOperationName();
  if (!lt || !rt)
    return emitOptionalError(loc, "'", name, "' op expected ranked operands");
  if (lt.getElementType() != rt.getElementType())
    return emitOptionalError(loc, "'", name, "' op expected element type ", lt.getElementType(),
                             " for every float operand and result, got ", rt.getElementType());
  if (lt.getRank() < 2 || rt.getRank() < 2)
    return emitOptionalError(loc, "'", name, "' op expected operands of rank >= 2, got ranks ",
                             lt.getRank(), " and ", rt.getRank());
  auto ls = lt.getShape(), rs = rt.getShape();
  int64_t m = ls[ls.size() - 2], k = ls.back();
  int64_t k2 = rs[rs.size() - 2], n = rs.back();
  if (!dimsCompatible(k, k2))
    return emitOptionalError(loc, "'", name, "' op contraction dimensions differ: lhs ",
                             shapeStr(ls), " has K = ", k, ", rhs ", shapeStr(rs), " has K = ", k2);
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(ls.drop_back(2), rs.drop_back(2), shape))
    return emitOptionalError(loc, "'", name, "' op batch dimensions do not broadcast: ",
                             shapeStr(ls), " and ", shapeStr(rs));
  shape.push_back(m);
  shape.push_back(n);
  inferred.push_back(RankedTensorType::get(shape, lt.getElementType()));
  return success();
}
bool MatmulOp::isCompatibleReturnTypes(TypeRange l, TypeRange r) {
  return compatibleTensorTypes(l, r);
}

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::verify() {
  auto in = getInput().getType();
  ArrayRef<int64_t> perm = getPermutation();
  if ((int64_t)perm.size() != in.getRank())
    return emitOpError() << "permutation has " << perm.size()
                         << " entries for an input of rank " << in.getRank();
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> expected;
  for (int64_t p : perm) {
    if (p < 0 || p >= in.getRank() || seen[p])
      return emitOpError() << "permutation " << shapeStr(perm)
                           << " is not a permutation of [0, " << in.getRank()
                           << ")";
    seen[p] = true;
    expected.push_back(in.getShape()[p]);
  }
  if (in.getElementType() != getType().getElementType())
    return emitOpError() << "element types differ";
  if (!shapesCompatible(expected, getType().getShape()))
    return emitOpError() << "expected result shape " << shapeStr(expected)
                         << ", got " << shapeStr(getType().getShape());
  return success();
}

static bool isIdentityPermutation(ArrayRef<int64_t> perm) {
  return llvm::equal(perm, llvm::seq<int64_t>(0, perm.size()));
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  // transpose(transpose(x, p), q) = transpose(x, r) with r[i] = p[q[i]]
  // (result[i] = inner[q[i]] = x[p[q[i]]]): one canonical transpose, which
  // is what the attention matcher looks for (K as [1, 2, 0] of the heads).
  if (auto inner = getInput().getDefiningOp<TransposeOp>()) {
    ArrayRef<int64_t> p = inner.getPermutation(), q = getPermutation();
    auto x = inner.getInput().getType();
    SmallVector<int64_t> r, shape;
    for (int64_t i : q) {
      r.push_back(p[i]);
      shape.push_back(x.getShape()[p[i]]);
    }
    // Dimension compatibility is not transitive through a dynamic middle
    // (3 -> ? -> 5): compose only what verifies.
    if (!shapesCompatible(shape, getType().getShape()) ||
        x.getElementType() != getType().getElementType())
      return {};
    if (isIdentityPermutation(r) && x == getType())
      return inner.getInput();
    getInputMutable().assign(inner.getInput());
    setPermutation(r);
    return getResult();
  }
  if (isIdentityPermutation(getPermutation()) && getInput().getType() == getType())
    return getInput();
  return {};
}

LogicalResult ReshapeOp::verify() {
  auto in = getInput().getType();
  if (in.getElementType() != getType().getElementType())
    return emitOpError() << "element types differ";
  if (in.hasStaticShape() && getType().hasStaticShape() &&
      in.getNumElements() != getType().getNumElements())
    return emitOpError() << "cannot reshape " << shapeStr(in.getShape()) << " ("
                         << in.getNumElements() << " elements) into "
                         << shapeStr(getType().getShape()) << " ("
                         << getType().getNumElements() << " elements)";
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // reshape(reshape(x)) = reshape(x).
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

LogicalResult SliceOp::verify() {
  auto in = getInput().getType();
  ArrayRef<int64_t> offsets = getOffsets();
  if ((int64_t)offsets.size() != in.getRank() ||
      getType().getRank() != in.getRank())
    return emitOpError() << "expected " << in.getRank()
                         << " offsets and a result of rank " << in.getRank();
  if (in.getElementType() != getType().getElementType())
    return emitOpError() << "element types differ";
  for (int64_t i = 0; i < in.getRank(); ++i) {
    int64_t size = getType().getShape()[i], dim = in.getShape()[i];
    if (offsets[i] < 0)
      return emitOpError() << "offset " << offsets[i] << " in dimension " << i
                           << " is negative";
    if (!ShapedType::isDynamic(size) && !ShapedType::isDynamic(dim) &&
        offsets[i] + size > dim)
      return emitOpError() << "slice [" << offsets[i] << ", "
                           << offsets[i] + size << ") exceeds dimension " << i
                           << " of size " << dim;
  }
  return success();
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType() &&
      llvm::all_of(getOffsets(), [](int64_t o) { return o == 0; }))
    return getInput();
  return {};
}

LogicalResult SplitOp::verify() {
  auto in = getInput().getType();
  auto axis = checkAxis(*this, getAxisAttr().getInt(), in.getRank());
  if (failed(axis))
    return failure();
  if (getResults().empty())
    return emitOpError() << "expected at least one result";
  int64_t total = 0;
  bool dynamic = false;
  for (auto [i, r] : llvm::enumerate(getResults())) {
    auto rt = cast<RankedTensorType>(r.getType());
    if (rt.getRank() != in.getRank() || rt.getElementType() != in.getElementType())
      return emitOpError() << "result #" << i
                           << " must have the input's rank and element type";
    for (int64_t d = 0; d < in.getRank(); ++d)
      if (d != *axis && !dimsCompatible(rt.getShape()[d], in.getShape()[d]))
        return emitOpError() << "result #" << i << " differs from the input in "
                             << "dimension " << d << " (not the split axis)";
    int64_t size = rt.getShape()[*axis];
    dynamic |= ShapedType::isDynamic(size);
    total += ShapedType::isDynamic(size) ? 0 : size;
  }
  int64_t dim = in.getShape()[*axis];
  if (!dynamic && !ShapedType::isDynamic(dim) && total != dim)
    return emitOpError() << "result sizes along axis " << *axis << " add up to "
                         << total << ", but the input has " << dim;
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "expected at least one input";
  auto out = getType();
  auto axis = checkAxis(*this, getAxisAttr().getInt(), out.getRank());
  if (failed(axis))
    return failure();
  int64_t total = 0;
  bool dynamic = false;
  for (auto [i, v] : llvm::enumerate(getInputs())) {
    auto t = cast<RankedTensorType>(v.getType());
    if (t.getRank() != out.getRank() || t.getElementType() != out.getElementType())
      return emitOpError() << "input #" << i
                           << " must have the result's rank and element type";
    for (int64_t d = 0; d < out.getRank(); ++d)
      if (d != *axis && !dimsCompatible(t.getShape()[d], out.getShape()[d]))
        return emitOpError() << "input #" << i << " differs from the result in "
                             << "dimension " << d << " (not the concat axis)";
    int64_t size = t.getShape()[*axis];
    dynamic |= ShapedType::isDynamic(size);
    total += ShapedType::isDynamic(size) ? 0 : size;
  }
  int64_t dim = out.getShape()[*axis];
  if (!dynamic && !ShapedType::isDynamic(dim) && total != dim)
    return emitOpError() << "input sizes along axis " << *axis << " add up to "
                         << total << ", but the result has " << dim;
  return success();
}

LogicalResult GatherOp::verify() {
  auto table = getTable().getType(), idx = getIndices().getType();
  if (table.getRank() < 1)
    return emitOpError() << "expected a table of rank >= 1";
  if (table.getElementType() != getType().getElementType())
    return emitOpError() << "result element type differs from the table's";
  SmallVector<int64_t> expected(idx.getShape());
  llvm::append_range(expected, table.getShape().drop_front());
  if (!shapesCompatible(expected, getType().getShape()))
    return emitOpError() << "expected result shape " << shapeStr(expected)
                         << " (indices shape, then table rows), got "
                         << shapeStr(getType().getShape());
  return success();
}
