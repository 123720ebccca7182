//===- InitAllDialects.h - Register the dialects tfm IR uses ------*- C++ -*-===//
//
// registerAllDialects(registry): the tfm and onednn dialects and the upstream
// ones tfm IR mixes with them (func, arith, memref, affine, LLVM), with the
// LLVM IR translations. Header-only, so that a tool links only the dialect
// libraries it uses (tfm-ref: no backend). Link TfmDialect and
// OneDNNDialect and MLIR's Func, Arith, MemRef, Affine and LLVM dialects.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_INITALLDIALECTS_H
#define TFM_INITALLDIALECTS_H

#include "tfm/Dialect/OneDNN/IR/OneDNN.h"
#include "tfm/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"

namespace tfm {

/// Registers every dialect tfm IR uses, at any stage, in `registry`.
inline void registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<TfmDialect, onednn::OneDNNDialect, mlir::func::FuncDialect,
                  mlir::arith::ArithDialect, mlir::memref::MemRefDialect,
                  mlir::affine::AffineDialect, mlir::LLVM::LLVMDialect>();
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
}

} // namespace tfm

#endif // TFM_INITALLDIALECTS_H
