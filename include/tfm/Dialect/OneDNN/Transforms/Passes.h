//===- Passes.h - onednn dialect transformations -------------*- C++ -*-===//
//
// Declarations and registration of the onednn -> onednn passes: weight-only
// quantization, result and view forwarding, memory planning.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_ONEDNN_TRANSFORMS_PASSES_H
#define TFM_DIALECT_ONEDNN_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Pass/Pass.h"
#include "tfm/Dialect/OneDNN/IR/OneDNN.h"

namespace tfm {
#define GEN_PASS_DECL
#include "tfm/Dialect/OneDNN/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tfm/Dialect/OneDNN/Transforms/Passes.h.inc"
} // namespace tfm

#endif // TFM_DIALECT_ONEDNN_TRANSFORMS_PASSES_H
