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
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
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

/// The buffer records of each function that calls the runtime (func.func ->
/// its `memref<20xi64>` allocas, one per buffer position of a call):
/// convert-onednn-to-func allocates them in each entry block and every call
/// refills them.
using RuntimeCallRecords = llvm::DenseMap<mlir::Operation *, llvm::SmallVector<mlir::Value>>;

/// Adds the patterns that lower onednn ops to func.calls of the runtime's C
/// interface (the call table), filling the records of `records`, which the
/// patterns keep by reference: it must outlive them and hold the records of
/// every function with onednn ops (at least as many as the op's buffers).
void populateOneDNNToFuncPatterns(mlir::RewritePatternSet &patterns,
                                  const RuntimeCallRecords &records);

/// The attribute convert-onednn-to-func puts on `tfm_model_main`: its buffer
/// types (an array of memref TypeAttrs), which tfm-emit-entry reads after
/// the lowering to LLVM has replaced them by descriptor fields.
inline constexpr llvm::StringLiteral kEntryTypesAttrName = "tfm.entry_types";

#define GEN_PASS_REGISTRATION
#include "tfm/Conversion/Passes.h.inc"

} // namespace tfm

#endif // TFM_CONVERSION_PASSES_H
