//===- ModelInfo.h - The model info convert-onednn-to-func emits -*- C++ -*-===//
//
// What the compiler tells the executables' driver about the entry function's
// buffers (tfm_model_info in tfm_runtime.h): collected from the entry's
// types and tfm.* argument attributes, emitted as LLVM dialect globals
// (which the lowering of the rest leaves as they are).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_CONVERSION_ONEDNNTOFUNC_MODELINFO_H
#define TFM_CONVERSION_ONEDNNTOFUNC_MODELINFO_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallVector.h"
#include <optional>
#include <string>

namespace tfm {

/// One buffer of the entry function (tfm_buffer_info).
struct EntryBuffer {
  std::string name;
  bool output = false;
  int32_t role = 0;  ///< tfm_buffer_role
  int32_t layer = -1;
  int32_t dtype = 0; ///< tfm_dtype
  llvm::SmallVector<int64_t> dims;     ///< -1: dynamic
  llvm::SmallVector<int32_t> dimSizes; ///< tfm_dim_size per dimension
};

/// The whole contract (tfm_model_info).
struct ModelInfo {
  llvm::SmallVector<EntryBuffer> buffers;
  int64_t contextLength = 0;
};

/// The tfm_dtype of an element type (what every runtime call passes), or
/// none for a type the runtime does not know.
std::optional<int32_t> runtimeDtypeOf(mlir::Type t);

/// Reads the entry function (memref arguments, outputs marked
/// `onednn.result`) and its module's `tfm.context_length`. A role's dynamic
/// dimensions get the size the role defines (tokens and positions: the
/// pass's tokens; logits and logit_rows: the rows computed; past: the cached
/// positions; present: past + new), others stay TFM_DIM_STATIC with size -1
/// (the driver refuses to run them).
ModelInfo collectModelInfo(mlir::func::FuncOp entry);

/// Emits `const tfm_model_info tfm_model` (and the arrays it points to) as
/// LLVM dialect globals at the end of `module`.
void emitModelInfo(mlir::OpBuilder &b, mlir::ModuleOp module, const ModelInfo &info);

} // namespace tfm

#endif // TFM_CONVERSION_ONEDNNTOFUNC_MODELINFO_H
