//===- BufferizeSignature.h - Function signatures to memrefs ------*- C++ -*-===//
//
// The first step of convert-tfm-to-onednn (BufferizeSignature.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_CONVERSION_TFMTOONEDNN_BUFFERIZESIGNATURE_H
#define TFM_CONVERSION_TFMTOONEDNN_BUFFERIZESIGNATURE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace tfm {
/// Rewrites `func(tensors) -> tensors` into `func(memrefs, out memrefs)`:
/// tensor arguments become memrefs (bridged to their tensor uses by
/// unrealized casts that the conversion folds away), and each result is
/// copied by `onednn.reorder` into a trailing argument marked
/// `onednn.result`, which takes over the result's tfm.name, tfm.role and
/// tfm.layer. Fails (after an error at the op) on a type without a memref
/// form.
mlir::LogicalResult bufferizeSignature(mlir::func::FuncOp func);
} // namespace tfm

#endif // TFM_CONVERSION_TFMTOONEDNN_BUFFERIZESIGNATURE_H
