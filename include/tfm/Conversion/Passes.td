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

def ConvertOneDNNToLLVM : Pass<"convert-onednn-to-llvm", "mlir::ModuleOp"> {
  let summary = "Lower onednn ops to calls of the tfm runtime, and everything to LLVM";
  let description = [{
    Every onednn op becomes an `llvm.call` of `tfm_rt_<op>` (see
    include/tfm/Runtime/tfm_runtime.h): each buffer is passed as a pointer to
    its memref descriptor, its rank and its element type code, followed by the
    op's attributes as scalars. memref, arith and func lower with MLIR's
    standard patterns (bare-pointer calling convention).

    The entry function (`main`, or the module's only public function) is
    renamed `tfm_model_main` and wrapped by
    `void tfm_entry(void **buffers, const int64_t *dims)` (data pointers, and
    the dynamic sizes in order);
    the constant `tfm_model` (a `tfm_model_info`, include/tfm/Runtime/
    tfm_runtime.h) describes its buffers for the executables' driver: per
    buffer its `tfm.name`, whether it is an output, its `tfm.role` and
    `tfm.layer`, element type, rank, static sizes, and for each dynamic size
    which call size it equals (tokens, past or total positions), plus the
    module's `tfm.context_length`. Settings that are not IR (weights file,
    dtype, tokenizer) are not read here: tfmc emits them separately
    (`tfm_executable_settings`).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // TFM_CONVERSION_PASSES_TD
