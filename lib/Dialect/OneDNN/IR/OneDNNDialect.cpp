//===- OneDNNDialect.cpp - The onednn dialect: registration, verifiers ----===//
//
// Registers the onednn dialect and verifies its ops' buffer shapes against
// what the corresponding oneDNN primitives accept.
//
//===----------------------------------------------------------------------===//

#include "tfm/Dialect/OneDNN/IR/OneDNN.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

using namespace mlir;
using namespace tfm::onednn;

#include "tfm/Dialect/OneDNN/IR/OneDNNOpsDialect.cpp.inc"
#include "tfm/Dialect/OneDNN/IR/OneDNNEnums.cpp.inc"

void OneDNNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "tfm/Dialect/OneDNN/IR/OneDNNOps.cpp.inc"
      >();
}

namespace {
/// The static shape of a memref operand.
ArrayRef<int64_t> shapeOf(Value v) { return cast<MemRefType>(v.getType()).getShape(); }

/// Prints a shape as `[4, 16]`.
std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(shape, os);
  os << "]";
  return s;
}

/// Every onednn buffer must have a static shape: primitives are created for
/// concrete shapes.
LogicalResult verifyStatic(Operation *op) {
  for (Value v : op->getOperands())
    if (!cast<MemRefType>(v.getType()).hasStaticShape())
      return op->emitOpError() << "expected statically shaped buffers, got "
                               << v.getType();
  return success();
}

/// True if `from` broadcasts (NumPy rules) to exactly `to`.
bool broadcastsTo(ArrayRef<int64_t> from, ArrayRef<int64_t> to) {
  if (from.size() > to.size())
    return false;
  size_t lead = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && from[i] != to[lead + i])
      return false;
  return true;
}
} // namespace

LogicalResult MatmulOp::verify() {
  if (failed(verifyStatic(*this)))
    return failure();
  auto a = shapeOf(getA()), b = shapeOf(getB()), c = shapeOf(getDst());
  if (a.size() < 2 || b.size() < 2 || c.size() != std::max(a.size(), b.size()))
    return emitOpError() << "expected a, b of rank >= 2 and dst of the larger rank";
  int64_t m = a[a.size() - 2], k = a.back();
  int64_t kb = getTransposeB() ? b.back() : b[b.size() - 2];
  int64_t n = getTransposeB() ? b[b.size() - 2] : b.back();
  if (k != kb)
    return emitOpError() << "contraction dimensions differ: a " << shapeStr(a)
                         << ", b " << shapeStr(b);
  if (c[c.size() - 2] != m || c.back() != n)
    return emitOpError() << "expected dst [..., " << m << ", " << n << "], got "
                         << shapeStr(c);
  if (!broadcastsTo(a.drop_back(2), c.drop_back(2)) ||
      !broadcastsTo(b.drop_back(2), c.drop_back(2)))
    return emitOpError() << "batch dimensions of a and b must broadcast to dst's";
  if (getBias() && shapeOf(getBias()) != ArrayRef<int64_t>{n})
    return emitOpError() << "expected bias of shape [" << n << "]";
  if (getResidual() && shapeOf(getResidual()) != c)
    return emitOpError() << "expected residual of dst's shape " << shapeStr(c);
  return success();
}

LogicalResult LayerNormOp::verify() {
  if (failed(verifyStatic(*this)))
    return failure();
  auto s = shapeOf(getSrc());
  if (s.empty() || s != shapeOf(getDst()))
    return emitOpError() << "expected src and dst of one shape, rank >= 1";
  for (Value v : {getScale(), getShift()})
    if (v && shapeOf(v) != ArrayRef<int64_t>{s.back()})
      return emitOpError() << "expected scale and shift of shape [" << s.back()
                           << "]";
  return success();
}

LogicalResult EltwiseOp::verify() {
  if (failed(verifyStatic(*this)))
    return failure();
  if (shapeOf(getSrc()) != shapeOf(getDst()))
    return emitOpError() << "src " << shapeStr(shapeOf(getSrc()))
                         << " and dst " << shapeStr(shapeOf(getDst()))
                         << " differ in shape";
  return success();
}

LogicalResult BinaryOp::verify() {
  if (failed(verifyStatic(*this)))
    return failure();
  auto d = shapeOf(getDst());
  if (!broadcastsTo(shapeOf(getLhs()), d) || !broadcastsTo(shapeOf(getRhs()), d))
    return emitOpError() << "inputs " << shapeStr(shapeOf(getLhs())) << " and "
                         << shapeStr(shapeOf(getRhs()))
                         << " must broadcast to dst " << shapeStr(d);
  return success();
}

LogicalResult SoftmaxOp::verify() {
  if (failed(verifyStatic(*this)))
    return failure();
  auto s = shapeOf(getSrc());
  if (s != shapeOf(getDst()))
    return emitOpError() << "src and dst differ in shape";
  int64_t axis = getAxisAttr().getInt();
  if (axis < 0 || axis >= (int64_t)s.size())
    return emitOpError() << "axis " << axis << " is out of range [0, "
                         << s.size() << ")";
  return success();
}

LogicalResult ReorderOp::verify() {
  if (failed(verifyStatic(*this)))
    return failure();
  if (shapeOf(getSrc()) != shapeOf(getDst()))
    return emitOpError() << "src " << shapeStr(shapeOf(getSrc())) << " and dst "
                         << shapeStr(shapeOf(getDst())) << " differ in shape";
  return success();
}

LogicalResult ReductionOp::verify() {
  if (failed(verifyStatic(*this)))
    return failure();
  auto s = shapeOf(getSrc()), d = shapeOf(getDst());
  if (s.size() != d.size())
    return emitOpError() << "src and dst must have one rank";
  for (size_t i = 0; i < s.size(); ++i)
    if (d[i] != s[i] && d[i] != 1)
      return emitOpError() << "dst dimension " << i << " must be " << s[i]
                           << " or 1, got " << d[i];
  return success();
}

#define GET_OP_CLASSES
#include "tfm/Dialect/OneDNN/IR/OneDNNOps.cpp.inc"
