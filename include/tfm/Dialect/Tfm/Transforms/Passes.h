//===- Passes.h - tfm fusion passes --------------------------*- C++ -*-===//
//
// Declarations and registration of the tfm graph (fusion) passes.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_TFM_TRANSFORMS_PASSES_H
#define TFM_DIALECT_TFM_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "tfm/Dialect/Tfm/IR/Tfm.h"

namespace tfm {
#define GEN_PASS_DECL
#include "tfm/Dialect/Tfm/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tfm/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace tfm

#endif // TFM_DIALECT_TFM_TRANSFORMS_PASSES_H
