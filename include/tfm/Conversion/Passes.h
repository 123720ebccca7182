//===- Passes.h - tfm conversion passes ---------------------*- C++ -*-===//
//
// Declarations and registration of the backend conversion passes.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_CONVERSION_PASSES_H
#define TFM_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "tfm/Dialect/OneDNN/IR/OneDNN.h"

namespace mlir {
class RewritePatternSet;
class TypeConverter;
class LLVMTypeConverter;
} // namespace mlir

namespace tfm {

#define GEN_PASS_DECL
#include "tfm/Conversion/Passes.h.inc"

/// Adds the patterns that lower tfm ops to onednn ops on buffers. The type
/// converter maps ranked static tensors to identity-layout memrefs.
void populateTfmToOneDNNPatterns(mlir::TypeConverter &converter,
                                 mlir::RewritePatternSet &patterns);

/// Adds the patterns that lower onednn ops to runtime calls.
void populateOneDNNToLLVMPatterns(mlir::LLVMTypeConverter &converter,
                                  mlir::RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "tfm/Conversion/Passes.h.inc"

} // namespace tfm

#endif // TFM_CONVERSION_PASSES_H
