//===- VerifyUtils.h - Shape checks shared by the tfm verifiers --*- C++ -*-===//
//
// Private to lib/Dialect/Tfm/IR: the shape helpers the op verifiers of
// TfmDialect.cpp and TfmFusedOps.cpp share.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_TFM_IR_VERIFYUTILS_H
#define TFM_DIALECT_TFM_IR_VERIFYUTILS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"
#include <string>

namespace tfm::detail {
using namespace mlir;

/// Prints a shape as `[4, 16]` with `?` for dynamic dimensions.
inline std::string shapeStr(ArrayRef<int64_t> shape) {
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

/// True if two dimensions may be equal (either is dynamic, or they match).
inline bool dimsCompatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// True if two shapes have the same rank and compatible dimensions.
inline bool shapesCompatible(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  if (a.size() != b.size())
    return false;
  for (auto [x, y] : llvm::zip(a, b))
    if (!dimsCompatible(x, y))
      return false;
  return true;
}

/// Verifies that every value has `elementType` as its element type.
inline LogicalResult verifySameElementType(Operation *op, TypeRange types,
                                    Type elementType) {
  for (Type t : types) {
    Type et = cast<ShapedType>(t).getElementType();
    if (et != elementType)
      return op->emitOpError() << "expected element type " << elementType
                               << " for every float operand and result, got "
                               << et;
  }
  return success();
}

} // namespace tfm::detail

#endif // TFM_DIALECT_TFM_IR_VERIFYUTILS_H
