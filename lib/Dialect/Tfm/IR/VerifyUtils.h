//===- VerifyUtils.h - Shape checks shared by the tfm verifiers --*- C++ -*-===//
//
// Private to lib/Dialect/Tfm/IR: the shape helpers the op verifiers of
// TfmDialect.cpp and TfmFusedOps.cpp share.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_TFM_IR_VERIFYUTILS_H
#define TFM_DIALECT_TFM_IR_VERIFYUTILS_H

#include "tfm/Dialect/Utils/ShapeUtils.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"
#include <string>

namespace tfm::detail {
using namespace mlir;

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
