//===- Passes.td - tfm conversion passes -------------------*- tablegen -*-===//
//
// The backend's conversions: tfm (tensors) -> onednn (buffers), and onednn
// -> LLVM dialect (calls into the tfm runtime's C ABI). The onednn -> onednn
// passes between them (forward results and views, quantization, memory
// planning) are in include/tfm/Dialect/OneDNN/Transforms/Passes.td.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_CONVERSION_PASSES_TD
#define TFM_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTfmToOneDNN : Pass<"convert-tfm-to-onednn", "mlir::ModuleOp"> {
  let summary = "Lower tfm ops on tensors to onednn primitives on buffers";
  let description = [{
    Bufferizes every function: tensor arguments become memrefs, tensor results
    become trailing memref arguments that the function writes (marked with
    the `onednn.result` argument attribute), and every tfm op becomes onednn
    ops writing a fresh `memref.alloc`:

    * `tfm.matmul`, `tfm.linear` -> `onednn.matmul` (bias, activation and
      residual as post-ops);
    * `tfm.add/sub/mul/div` -> `onednn.binary`, or `onednn.eltwise linear`
      when one side is a scalar constant; `tfm.pow` by a scalar constant ->
      `onednn.eltwise pow`;
    * unary ops -> `onednn.eltwise`; `tfm.layer_norm` -> `onednn.layer_norm`
      (plus `onednn.binary add` for a residual); `tfm.softmax` ->
      `onednn.softmax`; reductions -> `onednn.reduction`;
    * `tfm.transpose`, `tfm.slice`, `tfm.split`, `tfm.concat` -> views
      (`memref.transpose`, `memref.subview`) copied by `onednn.reorder`;
      `tfm.reshape` -> `memref.expand_shape`/`collapse_shape` through a
      rank-1 view (no copy);
    * `tfm.constant` -> `memref.global` + `memref.get_global`;
    * `tfm.param` -> `onednn.weight`; `tfm.cast` -> `onednn.reorder`;
    * `tfm.embedding` -> `onednn.embedding`; `tfm.gather` of rows (a rank-2
      table, rank-1 indices) -> `onednn.embedding` without a positional term;
    * `tfm.attention` -> `onednn.sdpa` (present keys and values in
      `[P+T, D]` buffers).

    Dynamic sizes come from the operands a buffer follows (`memref.dim`).
    What has no lowering yet (gathers of higher rank, `tfm.select`,
    `tfm.causal_mask`, dynamic reshapes, slices and concatenations) is
    reported as an error at its location.
  }];
  let dependentDialects = [
    "::tfm::onednn::OneDNNDialect", "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect"
  ];
}

def ConvertOneDNNToFunc : Pass<"convert-onednn-to-func", "mlir::ModuleOp"> {
  let summary = "Lower onednn ops to func.calls of the tfm runtime's C interface";
  let description = [{
    Every onednn op becomes a `func.call` of `tfm_rt_<op>`, a private
    declaration with `llvm.emit_c_interface` (its C side,
    `_mlir_ciface_tfm_rt_<op>`, is in include/tfm/Runtime/tfm_runtime.h):
    each buffer operand is passed as a type-erased record, a
    `memref<20xi64>` holding a `tfm_buffer` (data address, offset, dtype,
    rank, sizes, strides; data 0 for an absent optional operand) filled with
    `memref.extract_aligned_pointer_as_index` and
    `memref.extract_strided_metadata`, followed by the op's attributes as
    scalars. A weight is a call returning its bytes (`memref<?xi8>`), typed
    with `memref.view`. Everything this pass emits is memref, arith and func,
    so MLIR's `finalize-memref-to-llvm`, `convert-arith-to-llvm`,
    `convert-func-to-llvm` and `reconcile-unrealized-casts` finish the
    lowering (the `tfm-to-llvm` pipeline runs them, then `tfm-emit-entry`).

    The entry function (`main`, or the module's only public function) is
    renamed `tfm_model_main`, and its buffer types are recorded in
    `tfm.entry_types` for `tfm-emit-entry`. The constant `tfm_model` (a
    `tfm_model_info`, include/tfm/Runtime/tfm_runtime.h) describes its
    buffers for the executables' driver: per buffer its `tfm.name`, whether
    it is an output, its `tfm.role` and `tfm.layer`, element type, rank,
    static sizes, and for each dynamic size which call size it equals
    (tokens, past or total positions), plus the module's
    `tfm.context_length`. Settings that are not IR (weights file, dtype,
    tokenizer) are not read here: tfmc emits them separately
    (`tfm_executable_settings`).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect", "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect"];
}

def TfmEmitEntry : Pass<"tfm-emit-entry", "mlir::ModuleOp"> {
  let summary = "Add the tfm_entry wrapper the executables' driver calls";
  let description = [{
    Runs after the module is in the LLVM dialect. Adds
    `void tfm_entry(void **buffers, const int64_t *dims)`: buffers[i] is the
    data pointer of `tfm_model_main`'s i-th buffer (whose memref types
    `convert-onednn-to-func` recorded in `tfm.entry_types`), `dims` the sizes
    of their dynamic dimensions in order; it builds a contiguous descriptor
    for each and calls `tfm_model_main` with the descriptors' fields (MLIR's
    default calling convention for memrefs).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // TFM_CONVERSION_PASSES_TD
