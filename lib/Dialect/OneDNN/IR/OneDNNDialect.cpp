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

/// Prints a shape as `[4, 16]` (`?` for dynamic dimensions).
std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(shape, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << "?";
    else
      os << d;
  });
  os << "]";
  return s;
}

/// Buffers may have dynamic dimensions (the runtime creates a primitive per
/// concrete shape); the verifiers check what is static.
/// Dimensions that may be equal (equal, or either dynamic).
bool same(int64_t a, int64_t b) {
  return a == b || ShapedType::isDynamic(a) || ShapedType::isDynamic(b);
}
bool same(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!same(a[i], b[i]))
      return false;
  return true;
}

/// True if `from` may broadcast (NumPy rules) to exactly `to`.
bool broadcastsTo(ArrayRef<int64_t> from, ArrayRef<int64_t> to) {
  if (from.size() > to.size())
    return false;
  size_t lead = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && !same(from[i], to[lead + i]))
      return false;
  return true;
}
} // namespace

LogicalResult MatmulOp::verify() {
  auto a = shapeOf(getA()), b = shapeOf(getB()), c = shapeOf(getDst());
  if (a.size() < 2 || b.size() < 2 || c.size() != std::max(a.size(), b.size()))
    return emitOpError() << "expected a, b of rank >= 2 and dst of the larger rank";
  int64_t m = a[a.size() - 2], k = a.back();
  int64_t kb = getTransposeB() ? b.back() : b[b.size() - 2];
  int64_t n = getTransposeB() ? b[b.size() - 2] : b.back();
  if (!same(k, kb))
    return emitOpError() << "contraction dimensions differ: a " << shapeStr(a)
                         << ", b " << shapeStr(b);
  if (!same(c[c.size() - 2], m) || !same(c.back(), n))
    return emitOpError() << "expected dst [..., " << m << ", " << n << "], got "
                         << shapeStr(c);
  if (!broadcastsTo(a.drop_back(2), c.drop_back(2)) ||
      !broadcastsTo(b.drop_back(2), c.drop_back(2)))
    return emitOpError() << "batch dimensions of a and b must broadcast to dst's";
  if (getBias() && !same(shapeOf(getBias()), ArrayRef<int64_t>{n}))
    return emitOpError() << "expected bias of shape [" << n << "]";
  if (getResidual() && !same(shapeOf(getResidual()), c))
    return emitOpError() << "expected residual of dst's shape " << shapeStr(c);
  return success();
}

LogicalResult LayerNormOp::verify() {
  auto s = shapeOf(getSrc());
  if (s.empty() || !same(s, shapeOf(getDst())))
    return emitOpError() << "expected src and dst of one shape, rank >= 1";
  for (Value v : {getScale(), getShift()})
    if (v && !same(shapeOf(v), ArrayRef<int64_t>{s.back()}))
      return emitOpError() << "expected scale and shift of shape [" << s.back()
                           << "]";
  return success();
}

LogicalResult EltwiseOp::verify() {
  if (!same(shapeOf(getSrc()), shapeOf(getDst())))
    return emitOpError() << "src " << shapeStr(shapeOf(getSrc()))
                         << " and dst " << shapeStr(shapeOf(getDst()))
                         << " differ in shape";
  return success();
}

LogicalResult BinaryOp::verify() {
  auto d = shapeOf(getDst());
  if (!broadcastsTo(shapeOf(getLhs()), d) || !broadcastsTo(shapeOf(getRhs()), d))
    return emitOpError() << "inputs " << shapeStr(shapeOf(getLhs())) << " and "
                         << shapeStr(shapeOf(getRhs()))
                         << " must broadcast to dst " << shapeStr(d);
  return success();
}

LogicalResult SoftmaxOp::verify() {
  auto s = shapeOf(getSrc());
  if (!same(s, shapeOf(getDst())))
    return emitOpError() << "src and dst differ in shape";
  int64_t axis = getAxisAttr().getInt();
  if (axis < 0 || axis >= (int64_t)s.size())
    return emitOpError() << "axis " << axis << " is out of range [0, "
                         << s.size() << ")";
  return success();
}

LogicalResult ReorderOp::verify() {
  if (!same(shapeOf(getSrc()), shapeOf(getDst())))
    return emitOpError() << "src " << shapeStr(shapeOf(getSrc())) << " and dst "
                         << shapeStr(shapeOf(getDst())) << " differ in shape";
  return success();
}

LogicalResult ReductionOp::verify() {
  auto s = shapeOf(getSrc()), d = shapeOf(getDst());
  if (s.size() != d.size())
    return emitOpError() << "src and dst must have one rank";
  for (size_t i = 0; i < s.size(); ++i)
    if (!same(d[i], s[i]) && d[i] != 1)
      return emitOpError() << "dst dimension " << i << " must be " << s[i]
                           << " or 1, got " << d[i];
  return success();
}

#define GET_OP_CLASSES
#include "tfm/Dialect/OneDNN/IR/OneDNNOps.cpp.inc"
