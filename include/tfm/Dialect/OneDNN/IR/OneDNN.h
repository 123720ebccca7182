//===- OneDNN.h - The onednn dialect ------------------------*- C++ -*-===//
//
// Declarations of the onednn dialect and its operations (generated from
// OneDNNOps.td).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_ONEDNN_IR_ONEDNN_H
#define TFM_DIALECT_ONEDNN_IR_ONEDNN_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "tfm/Dialect/Utils/ShapeUtils.h"

#include "tfm/Dialect/OneDNN/IR/OneDNNOpsDialect.h.inc"
#include "tfm/Dialect/OneDNN/IR/OneDNNEnums.h.inc"

#define GET_OP_CLASSES
#include "tfm/Dialect/OneDNN/IR/OneDNNOps.h.inc"

#endif // TFM_DIALECT_ONEDNN_IR_ONEDNN_H
