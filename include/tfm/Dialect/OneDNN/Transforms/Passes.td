//===- Passes.td - onednn dialect transformations ----------*- tablegen -*-===//
//
// The onednn -> onednn passes of the backend, between convert-tfm-to-onednn
// and convert-onednn-to-func (tfm-to-onednn runs them in this order):
// weight-only quantization (with --dtype=int8|int4), forwarding results and
// strided views instead of copies, and planning memory into arenas.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_ONEDNN_TRANSFORMS_PASSES_TD
#define TFM_DIALECT_ONEDNN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def OneDNNQuantizeWeights : Pass<"onednn-quantize-weights", "mlir::func::FuncOp"> {
  let summary = "Quantize the weights of matmuls and token embeddings to int8 or int4 (weight-only)";
  let description = [{
    Weight-only quantization (`tfmc --dtype=int8|int4`): every
    `onednn.matmul` whose right operand is a rank-2 `onednn.weight`
    (f32, f16 or bf16), with f32 activations, becomes an
    `onednn.quantized_matmul` of an `onednn.quantized_weight` (symmetric,
    one f32 scale per `group-size` weights along K of each output column;
    layout and rounding in `onednn.quantized_weight`'s documentation). The
    table of every `onednn.embedding` that is a weight is quantized too and
    dequantized one row per token: a tied GPT-2 embedding and lm head share
    one quantized table, which is what makes the executable ~4x (int8) and
    ~7x (int4) smaller than f32. Position tables, biases and layer-norm
    parameters stay as they are. K not a multiple of the group is padded
    with zero weights.

    Refused (left f32, and reported with `remarks`): matmuls by
    activations, weights of rank other than 2, non-f32 activations, and a
    weight used both as `[K, N]` and `[N, K]` (its second use).

    Before / after (`bits=8 group-size=32`; the defaults are 128 weights
    per scale for int8 and 64 for int4):
    ```mlir
    %w = onednn.weight "h.0.mlp.c_fc.weight" : memref<256x1024xf32>
    onednn.matmul %x, %w bias %b into %y activation = gelu_tanh : ...
    // =>
    %q, %s = onednn.quantized_weight "h.0.mlp.c_fc.weight" from memref<256x1024xf32>
        transposed bits = 8 group = 32 : memref<1024x256xi8>, memref<1024x8xf32>
    onednn.quantized_matmul %x, %q, %s bias %b into %y activation = gelu_tanh
        bits = 8 group = 32 : ...
    ```
  }];
  let options = [
    Option<"bits", "bits", "int64_t", /*default=*/"8",
           "bits per weight: 8 (int8) or 4 (int4)">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"-1",
           "weights per scale along K: a multiple of 32 (at most 64 for int4), 0 for one "
           "scale per output column (per-channel), or -1 for the default: 128 for int8, 64 "
           "for int4 (chosen by measurement, docs/backend.md)">,
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "emit a remark for every matmul or embedding left unquantized, with the reason">
  ];
  let dependentDialects = ["::tfm::onednn::OneDNNDialect"];
}

def OneDNNForwardResults : Pass<"onednn-forward-results", "mlir::func::FuncOp"> {
  let summary = "Let the op computing a function result write it into the result argument";
  let description = [{
    `convert-tfm-to-onednn` computes each result into a fresh buffer and then
    copies it (`onednn.reorder`) into the argument marked `onednn.result`.
    When that buffer is a `memref.alloc` of the argument's type whose only
    copy-out is that reorder, this pass makes every use of the buffer use the
    argument instead and deletes the copy: the logits and the present keys
    and values are written in place.

    Before / after:
    ```mlir
    %a = memref.alloc(%n) : memref<?x16xf32>
    onednn.sdpa ... into %o present(%a, %b) ...
    onednn.reorder %a into %out : memref<?x16xf32>, memref<?x16xf32>
    // =>
    onednn.sdpa ... into %o present(%out, %b) ...
    ```
  }];
}

def OneDNNForwardViews : Pass<"onednn-forward-views", "mlir::func::FuncOp"> {
  let summary = "Let attention read strided views instead of their contiguous copies";
  let description = [{
    `convert-tfm-to-onednn` copies every slice of a buffer into a contiguous
    one (`onednn.reorder` of a `memref.subview`). When such a copy has the
    view's element type, rows of the view are contiguous, every other use of
    the copy is a q, k or v operand of `onednn.sdpa` (the runtime reads rows
    at any stride), and nothing writes the viewed buffer after the copy, the
    uses take the view and the copy and its buffer are deleted: q, k and v
    are read straight out of the packed QKV projection.

    Before / after:
    ```mlir
    %q = memref.subview %qkv[0, 0] [%t, 768] [1, 1]
        : memref<?x2304xf32> to memref<?x768xf32, strided<[2304, 1]>>
    %b = memref.alloc(%t) : memref<?x768xf32>
    onednn.reorder %q into %b : memref<?x768xf32, strided<[2304, 1]>>, memref<?x768xf32>
    onednn.sdpa %b, ...
    // =>
    onednn.sdpa %q, ...
    ```
  }];
}

def OneDNNPlanMemory : Pass<"onednn-plan-memory", "mlir::func::FuncOp"> {
  let summary = "Place every intermediate buffer at a static offset in one arena";
  let description = [{
    Computes each `memref.alloc`'s live range (from the alloc to its last
    use, in program order of the function's single block), assigns offsets
    greedily (largest buffers first, 64-byte aligned, reusing space whose
    buffers are dead) and replaces the allocs by `memref.view`s of one `i8`
    arena allocated at function entry and freed before each return.
    The arena size is recorded in the `onednn.arena_bytes` function attribute.
    Buffers with one dynamic size n share a second arena of
    `onednn.arena_bytes_per_unit * n` bytes: the packing is done on their
    per-unit sizes, so offsets `o_i * n` never overlap for any n. Other
    dynamic buffers stay `memref.alloc`s, freed before the return.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect"];
}

#endif // TFM_DIALECT_ONEDNN_TRANSFORMS_PASSES_TD
