//===- Tfm.h - The tfm dialect ------------------------------*- C++ -*-===//
//
// Declarations of the tfm dialect, its enums and its operations (generated
// from TfmOps.td).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_TFM_IR_TFM_H
#define TFM_DIALECT_TFM_IR_TFM_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "tfm/Dialect/Utils/ShapeUtils.h"

namespace tfm {
/// Maps an axis in [-rank, rank) to [0, rank).
inline int64_t normalizeAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}
} // namespace tfm

#include "tfm/Dialect/Tfm/IR/TfmOpsDialect.h.inc"
#include "tfm/Dialect/Tfm/IR/TfmEnums.h.inc"

#define GET_OP_CLASSES
#include "tfm/Dialect/Tfm/IR/TfmOps.h.inc"

namespace tfm {
/// The elements of a constant's `value` as a DenseElementsAttr: `value`
/// itself when it is dense, or a `dense_resource` blob's bytes (importers'
/// form) copied into one. Null for a resource whose blob is missing or does
/// not hold exactly the bytes its type needs (why: resourceProblem), and for
/// other ElementsAttr kinds.
mlir::DenseElementsAttr denseElements(mlir::ElementsAttr value);

/// Why the `dense_resource` `value` cannot be read ("" when it can, or when
/// `value` is no resource): its blob is missing, or holds another number of
/// bytes than its type needs, or its element type has no byte layout.
std::string resourceProblem(mlir::ElementsAttr value);

/// The C ABI's code (tfm_buffer_role in tfm_runtime.h) of a `tfm.role`
/// value, or nothing for a value the dialect does not define.
std::optional<int32_t> bufferRoleCode(llvm::StringRef role);
} // namespace tfm

#endif // TFM_DIALECT_TFM_IR_TFM_H
