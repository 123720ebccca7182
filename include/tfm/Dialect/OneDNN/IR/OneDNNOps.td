//===- OneDNNOps.td - onednn dialect operations ------------*- tablegen -*-===//
//
// The `onednn` dialect: one op per oneDNN primitive, on memrefs in
// destination-passing style (inputs are read, `into` operands are written).
// Ops whose names say so are implemented by the tfm runtime itself where
// oneDNN 2.6 has no primitive.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_ONEDNN_IR_ONEDNNOPS_TD
#define TFM_DIALECT_ONEDNN_IR_ONEDNNOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def OneDNN_Dialect : Dialect {
  let name = "onednn";
  let cppNamespace = "::tfm::onednn";
  let summary = "oneDNN primitives on buffers";
  let description = [{
    The backend dialect of tfm. Each op stands for one oneDNN 2.6 primitive
    (matmul with post-ops, layer normalization, eltwise, binary, softmax,
    reorder, reduction) applied to memrefs: operands before `into` are read,
    the operand after `into` is written. Shapes are static; strided memrefs
    (views made by `memref.subview`, `memref.transpose`, ...) describe
    transposes, slices and concatenations, which `onednn.reorder` copies.

    `convert-onednn-to-func` turns every op into a call of the tfm runtime's C
    ABI (`include/tfm/Runtime/tfm_runtime.h`), which creates and caches the
    primitives.
  }];
}

def OneDNN_Activation : I32EnumAttr<"Activation", "matmul eltwise post-op", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"gelu_tanh", 1>,
    I32EnumAttrCase<"gelu_erf", 2>,
    I32EnumAttrCase<"relu", 3>,
    I32EnumAttrCase<"silu", 4>
  ]> {
  let cppNamespace = "::tfm::onednn";
}

def OneDNN_EltwiseKind : I32EnumAttr<"EltwiseKind", "eltwise algorithm", [
    I32EnumAttrCase<"tanh", 0>,
    I32EnumAttrCase<"exp", 1>,
    I32EnumAttrCase<"relu", 2>,
    I32EnumAttrCase<"gelu_tanh", 3>,
    I32EnumAttrCase<"gelu_erf", 4>,
    I32EnumAttrCase<"sqrt", 5>,
    I32EnumAttrCase<"pow", 6>,
    I32EnumAttrCase<"linear", 7>,
    I32EnumAttrCase<"erf", 8>,
    I32EnumAttrCase<"sin", 9>,
    I32EnumAttrCase<"cos", 10>
  ]> {
  let cppNamespace = "::tfm::onednn";
}

def OneDNN_BinaryKind : I32EnumAttr<"BinaryKind", "binary algorithm", [
    I32EnumAttrCase<"add", 0>,
    I32EnumAttrCase<"sub", 1>,
    I32EnumAttrCase<"mul", 2>,
    I32EnumAttrCase<"div", 3>,
    I32EnumAttrCase<"max", 4>,
    I32EnumAttrCase<"min", 5>
  ]> {
  let cppNamespace = "::tfm::onednn";
}

def OneDNN_ReductionKind : I32EnumAttr<"ReductionKind", "reduction algorithm", [
    I32EnumAttrCase<"mean", 0>,
    I32EnumAttrCase<"max", 1>,
    I32EnumAttrCase<"sum", 2>
  ]> {
  let cppNamespace = "::tfm::onednn";
}

def OneDNN_Buffer : MemRefOf<[F32, F16, BF16]>;
def OneDNN_IndexBuffer : MemRefOf<[I32, I64]>;
def OneDNN_QuantizedBuffer : MemRefRankOf<[I8], [2]>;
def OneDNN_ScalesBuffer : MemRefRankOf<[F32], [2]>;

def OneDNN_PositionKind : I32EnumAttr<"PositionKind", "positional encoding", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"learned", 1>,
    I32EnumAttrCase<"sinusoidal", 2>
  ]> {
  let cppNamespace = "::tfm::onednn";
}

// A float attribute that is neither NaN nor infinite: epsilons, scales and
// RoPE bases are computed with, and a NaN one made every output NaN or
// garbage without an error.
def OneDNN_FiniteF64Attr : ConfinedAttr<F64Attr, [AttrConstraint<
    CPred<"::llvm::cast<::mlir::FloatAttr>($_self).getValue().isFinite()">,
    "whose value is finite">]>;

// Every op's tensors and buffers have at most 2^40 bytes
// (include/tfm/Dialect/Utils/ShapeUtils.h).
def OneDNN_BoundedTensorSizes : NativeOpTrait<"BoundedTensorSizes"> {
  let cppNamespace = "::tfm";
}

class OneDNN_Op<string mnemonic, list<Trait> traits = []> :
    Op<OneDNN_Dialect, mnemonic, !listconcat([OneDNN_BoundedTensorSizes], traits)>;

def OneDNN_MatmulOp : OneDNN_Op<"matmul", [AttrSizedOperandSegments]> {
  let summary = "oneDNN matmul with bias, eltwise, multiplier and residual post-ops";
  let description = [{
    `dst = activation(a x b + bias) * multiplier + residual`: `a` is
    `[..., M, K]`, `b` is `[..., K, N]` (`[..., N, K]` with `transpose_b`;
    batch dims broadcast), `bias` is `[N]`, `multiplier` and `residual` have
    `dst`'s shape. The activation becomes an eltwise post-op (`silu` is
    oneDNN's `eltwise_swish` with alpha 1), the multiplier a binary-mul
    post-op (a gated MLP's `act(gate(x)) * up(x)`) and the residual a
    binary-add post-op, in that order.

    ```mlir
    onednn.matmul %a, %b bias %bias into %c activation = gelu_tanh
        : memref<4x8xf32>, memref<8x16xf32>, memref<16xf32>, memref<4x16xf32>
    ```
  }];
  let arguments = (ins Arg<OneDNN_Buffer, "", [MemRead]>:$a,
                       Arg<OneDNN_Buffer, "", [MemRead]>:$b,
                       Arg<Optional<OneDNN_Buffer>, "", [MemRead]>:$bias,
                       Arg<Optional<OneDNN_Buffer>, "", [MemRead]>:$multiplier,
                       Arg<Optional<OneDNN_Buffer>, "", [MemRead]>:$residual,
                       Arg<OneDNN_Buffer, "", [MemWrite]>:$dst,
                       DefaultValuedAttr<OneDNN_Activation, "::tfm::onednn::Activation::none">:$activation,
                       UnitAttr:$transpose_b);
  let assemblyFormat = [{
    $a `,` $b (`transpose_b` $transpose_b^)? (`bias` $bias^)?
    (`multiplier` $multiplier^)? (`residual` $residual^)? `into` $dst `activation` `=` $activation
    attr-dict `:` type(operands)
  }];
  let hasVerifier = 1;
}

def OneDNN_LayerNormOp : OneDNN_Op<"layer_norm", [AttrSizedOperandSegments]> {
  let summary = "oneDNN layer normalization over the last axis";
  let description = [{
    `dst = (src - mean) / sqrt(var + epsilon) * scale + shift` over the last
    axis, with optional `[C]` scale and shift (oneDNN's use_scale / use_shift).
    With `rms`, RMS normalization: `dst = src / sqrt(mean(src^2) + epsilon) *
    scale + shift` (oneDNN 2.6 has no RMS flag: the runtime's own kernel).

    ```mlir
    onednn.layer_norm %x scale %g shift %b into %y eps = 1.000000e-05
        : memref<4x16xf32>, memref<16xf32>, memref<16xf32>, memref<4x16xf32>
    ```
  }];
  let arguments = (ins Arg<OneDNN_Buffer, "", [MemRead]>:$src,
                       Arg<Optional<OneDNN_Buffer>, "", [MemRead]>:$scale,
                       Arg<Optional<OneDNN_Buffer>, "", [MemRead]>:$shift,
                       Arg<OneDNN_Buffer, "", [MemWrite]>:$dst,
                       OneDNN_FiniteF64Attr:$epsilon, UnitAttr:$rms);
  let assemblyFormat = [{
    $src (`scale` $scale^)? (`shift` $shift^)? `into` $dst `eps` `=` $epsilon
    (`rms` $rms^)? attr-dict `:` type(operands)
  }];
  let hasVerifier = 1;
}

def OneDNN_EltwiseOp : OneDNN_Op<"eltwise"> {
  let summary = "oneDNN eltwise primitive";
  let description = [{
    Applies `kind` elementwise with oneDNN's conventions for `alpha` and
    `beta`: `linear` is `alpha * x + beta`, `pow` is `alpha * x^beta`,
    `relu` uses `alpha` as the negative slope. `erf`, `sin` and `cos` are
    computed by the tfm runtime (oneDNN 2.6 has no such algorithm).

    ```mlir
    onednn.eltwise pow %v into %r alpha = 1.000000e+00 beta = -5.000000e-01
        : memref<4x1xf32>, memref<4x1xf32>
    ```
  }];
  let arguments = (ins OneDNN_EltwiseKind:$kind,
                       Arg<OneDNN_Buffer, "", [MemRead]>:$src,
                       Arg<OneDNN_Buffer, "", [MemWrite]>:$dst,
                       DefaultValuedAttr<OneDNN_FiniteF64Attr, "0.0">:$alpha,
                       DefaultValuedAttr<OneDNN_FiniteF64Attr, "0.0">:$beta);
  let assemblyFormat = [{
    $kind $src `into` $dst `alpha` `=` $alpha `beta` `=` $beta attr-dict `:`
    type($src) `,` type($dst)
  }];
  let hasVerifier = 1;
}

def OneDNN_BinaryOp : OneDNN_Op<"binary"> {
  let summary = "oneDNN binary primitive with broadcasting";
  let description = [{
    `dst = lhs kind rhs` elementwise, with NumPy broadcasting of both inputs
    to `dst`'s shape.

    ```mlir
    onednn.binary add %x, %bias into %y
        : memref<4x16xf32>, memref<16xf32>, memref<4x16xf32>
    ```
  }];
  let arguments = (ins OneDNN_BinaryKind:$kind,
                       Arg<OneDNN_Buffer, "", [MemRead]>:$lhs,
                       Arg<OneDNN_Buffer, "", [MemRead]>:$rhs,
                       Arg<OneDNN_Buffer, "", [MemWrite]>:$dst);
  let assemblyFormat = [{
    $kind $lhs `,` $rhs `into` $dst attr-dict `:` type($lhs) `,` type($rhs) `,`
    type($dst)
  }];
  let hasVerifier = 1;
}

def OneDNN_SoftmaxOp : OneDNN_Op<"softmax"> {
  let summary = "oneDNN softmax (softmax_v2, accurate) along one axis";
  let description = [{
    ```mlir
    onednn.softmax %s into %p axis = 2 : memref<2x4x4xf32>, memref<2x4x4xf32>
    ```
  }];
  let arguments = (ins Arg<OneDNN_Buffer, "", [MemRead]>:$src,
                       Arg<OneDNN_Buffer, "", [MemWrite]>:$dst,
                       I64Attr:$axis);
  let assemblyFormat = [{
    $src `into` $dst `axis` `=` $axis attr-dict `:` type($src) `,` type($dst)
  }];
  let hasVerifier = 1;
}

def OneDNN_ReorderOp : OneDNN_Op<"reorder"> {
  let summary = "oneDNN reorder: copy between layouts and data types";
  let description = [{
    Copies `src` into `dst` (same shape), converting the element type and
    the layout: with strided views on either side this is a transpose, a
    slice, or a piece of a concatenation.

    ```mlir
    %t = memref.transpose %x (i, j) -> (j, i)
        : memref<4x8xf32> to memref<8x4xf32, strided<[1, 8]>>
    onednn.reorder %t into %y : memref<8x4xf32, strided<[1, 8]>>, memref<8x4xf32>
    ```

    An integer `src` (i32 or i64) converts to f32 (the tfm runtime's loop:
    oneDNN 2.6 has no s64).
  }];
  let arguments = (ins Arg<AnyTypeOf<[OneDNN_Buffer, OneDNN_IndexBuffer]>, "", [MemRead]>:$src,
                       Arg<OneDNN_Buffer, "", [MemWrite]>:$dst);
  let assemblyFormat = "$src `into` $dst attr-dict `:` type($src) `,` type($dst)";
  let hasVerifier = 1;
}

def OneDNN_CausalFillOp : OneDNN_Op<"causal_fill"> {
  let summary = "causal masking of scores: masked entries set to a value (tfm runtime kernel)";
  let description = [{
    For `src` of shape `[..., T, S]` (T queries over S keys):
    `dst[..., i, j] = src[..., i, j]` where `j <= i + S - T` (and, with
    `window = W > 0`, `j > i + S - T - W`), else `fill`. The lowering of
    `tfm.select(tfm.causal_mask(...), scores, fill)`: the unfused (-O0)
    form of the mask a fused `tfm.attention` applies itself. oneDNN 2.6
    has no such primitive: the runtime implements it.

    ```mlir
    onednn.causal_fill %s into %m fill = -3.402823e+38 window = 0
        : memref<2x4x4xf32>, memref<2x4x4xf32>
    ```
  }];
  let arguments = (ins Arg<OneDNN_Buffer, "", [MemRead]>:$src,
                       Arg<OneDNN_Buffer, "", [MemWrite]>:$dst,
                       F64Attr:$fill, I64Attr:$window);
  let assemblyFormat = [{
    $src `into` $dst `fill` `=` $fill `window` `=` $window attr-dict `:` type($src) `,` type($dst)
  }];
  let hasVerifier = 1;
}

def OneDNN_SequenceFillOp : OneDNN_Op<"sequence_fill"> {
  let summary = "packed-sequence masking of scores: masked entries set to a value (tfm runtime kernel)";
  let description = [{
    For `src` of shape `[..., T, T]` and `sequence_ids` `[T]`:
    `dst[..., i, j] = src[..., i, j]` where rows i and j lie in the same run
    of equal ids (`tfm.sequence_mask`), else `fill`. The lowering of
    `tfm.select(tfm.sequence_mask(...), scores, fill)`: the unfused (-O0)
    form of the mask a fused `tfm.attention` with `sequences` applies itself.

    ```mlir
    onednn.sequence_fill %s, %ids into %m fill = -3.402823e+38
        : memref<2x4x4xf32>, memref<4xi64>, memref<2x4x4xf32>
    ```
  }];
  let arguments = (ins Arg<OneDNN_Buffer, "", [MemRead]>:$src,
                       Arg<OneDNN_IndexBuffer, "", [MemRead]>:$sequence_ids,
                       Arg<OneDNN_Buffer, "", [MemWrite]>:$dst,
                       F64Attr:$fill);
  let assemblyFormat = [{
    $src `,` $sequence_ids `into` $dst `fill` `=` $fill attr-dict `:` type($src) `,` type($sequence_ids) `,` type($dst)
  }];
  let hasVerifier = 1;
}

def OneDNN_ReductionOp : OneDNN_Op<"reduction"> {
  let summary = "oneDNN reduction";
  let description = [{
    Reduces every dimension where `dst` has size 1 and `src` does not.

    ```mlir
    onednn.reduction mean %x into %m : memref<4x16xf32>, memref<4x1xf32>
    ```
  }];
  let arguments = (ins OneDNN_ReductionKind:$kind,
                       Arg<OneDNN_Buffer, "", [MemRead]>:$src,
                       Arg<OneDNN_Buffer, "", [MemWrite]>:$dst);
  let assemblyFormat = [{
    $kind $src `into` $dst attr-dict `:` type($src) `,` type($dst)
  }];
  let hasVerifier = 1;
}

def OneDNN_WeightOp : OneDNN_Op<"weight", [Pure]> {
  let summary = "a named weight tensor of the model, as the runtime loaded it";
  let description = [{
    The buffer of the weight `name` (a tensor of the model's safetensors
    file, or a deterministic random tensor with --random-weights), in the
    element type it is stored with. The runtime maps the weights once at
    start-up; the op only looks the buffer up.

    ```mlir
    %w = onednn.weight "h.0.attn.c_attn.weight" : memref<768x2304xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs AnyStaticShapeMemRef:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
}

def OneDNN_QuantizedWeightOp : OneDNN_Op<"quantized_weight", [Pure]> {
  let summary = "a weight quantized to int8 or int4 per group along K (weight-only quantization)";
  let description = [{
    The weight `name` (of type `source`: `[N, K]`, or `[K, N]` with
    `transposed`, as Hugging Face's Conv1D stores it) quantized
    symmetrically with one f32 scale per group of `group` consecutive
    weights along K of each of the N output columns:
    `W[k, n] ~= scales[n, k / group] * q[n, k]`, `q` in [-127, 127] (`bits`
    = 8) or [-7, 7] (`bits` = 4). K is padded with zeros to Kp, a multiple
    of `group` (itself a multiple of 32; at most 64 for int4; per-channel
    scales are `group` = K rounded up to 32).

    Results: `q` is `[N, Kp]` i8 for int8, and `[N, Kp / 2]` i8 for int4
    (two weights a byte: within each block of 32, byte j holds weight j + 8
    in its low nibble and weight 16 + j + 8 in its high nibble); `scales`
    is `[N, Kp / group]` f32. The layout, the rounding and the packing are
    defined once in lib/Support/Quant.cppm (module `tfm.quant`).

    tfmc writes the quantized tensors into the executable's weights file as
    `name.int<bits>_g<group>` and `name.int<bits>_g<group>.scales` (with
    `.kn` after `<group>` for a `transposed` source); the
    runtime quantizes the source tensor at load where a weights file lacks
    them (random weights, IR compiled by hand).

    ```mlir
    %q, %s = onednn.quantized_weight "h.0.mlp.c_fc.weight" from memref<256x1024xf32>
        transposed bits = 8 group = 32 : memref<1024x256xi8>, memref<1024x8xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, TypeAttrOf<AnyStaticShapeMemRef>:$source,
                       UnitAttr:$transposed, I64Attr:$bits, I64Attr:$group);
  let results = (outs OneDNN_QuantizedBuffer:$q, OneDNN_ScalesBuffer:$scales);
  let assemblyFormat = [{
    $name `from` $source (`transposed` $transposed^)? `bits` `=` $bits `group` `=` $group
    attr-dict `:` type($q) `,` type($scales)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// K (inputs) and N (outputs) of the source weight.
    int64_t getInputs();
    int64_t getOutputs();
  }];
}

def OneDNN_QuantizedMatmulOp : OneDNN_Op<"quantized_matmul", [AttrSizedOperandSegments]> {
  let summary = "matmul by a weight-only quantized weight, with bias, eltwise, multiplier and residual epilogues (tfm runtime kernel)";
  let description = [{
    `dst = activation(a x W + bias) * multiplier + residual` where `W`
    (`[K, N]`) is the weight `q`, `scales` of an `onednn.quantized_weight`
    (`bits`, `group` as there): `a` is `[..., M, K]` f32 (rows contiguous),
    `dst` `[..., M, N]`, `bias` `[N]`, `multiplier` and `residual` dst's
    shape. oneDNN 2.6 has no
    weight-decompression matmul: the runtime runs a GEMV over the packed
    integers for a few rows (decode) and dequantizes into oneDNN's f32
    matmul for many (prefill); docs/backend.md says which kernel runs where.

    ```mlir
    onednn.quantized_matmul %x, %q, %s bias %b into %y activation = gelu_tanh bits = 8 group = 32
        : memref<?x256xf32>, memref<1024x256xi8>, memref<1024x8xf32>, memref<1024xf32>, memref<?x1024xf32>
    ```
  }];
  let arguments = (ins Arg<OneDNN_Buffer, "", [MemRead]>:$a,
                       Arg<OneDNN_QuantizedBuffer, "", [MemRead]>:$q,
                       Arg<OneDNN_ScalesBuffer, "", [MemRead]>:$scales,
                       Arg<Optional<OneDNN_Buffer>, "", [MemRead]>:$bias,
                       Arg<Optional<OneDNN_Buffer>, "", [MemRead]>:$multiplier,
                       Arg<Optional<OneDNN_Buffer>, "", [MemRead]>:$residual,
                       Arg<OneDNN_Buffer, "", [MemWrite]>:$dst,
                       DefaultValuedAttr<OneDNN_Activation, "::tfm::onednn::Activation::none">:$activation,
                       I64Attr:$bits, I64Attr:$group);
  let assemblyFormat = [{
    $a `,` $q `,` $scales (`bias` $bias^)? (`multiplier` $multiplier^)? (`residual` $residual^)?
    `into` $dst
    `activation` `=` $activation `bits` `=` $bits `group` `=` $group
    attr-dict `:` type(operands)
  }];
  let hasVerifier = 1;
}

def OneDNN_EmbeddingOp : OneDNN_Op<"embedding", [AttrSizedOperandSegments]> {
  let summary = "token gather plus positional term (tfm runtime kernel)";
  let description = [{
    `dst[t] = table[tokens[t]] + pe(positions[t])` (positions default to t),
    `pe` by `position` as in `tfm.embedding`. Token ids out of range are a
    run-time error. oneDNN 2.6 has no gather primitive: the runtime
    implements it. A quantized table (the `q` of an
    `onednn.quantized_weight` of the `[V, D]` table, with `scales`, `bits`
    and `group`) is dequantized one row per token.

    ```mlir
    onednn.embedding %tok, %wte, %wpe positions %pos into %x position = learned
        : memref<?xi64>, memref<64x16xf32>, memref<32x16xf32>, memref<?xi64>, memref<?x16xf32>
    ```
  }];
  let arguments = (ins Arg<OneDNN_IndexBuffer, "", [MemRead]>:$tokens,
                       Arg<AnyTypeOf<[OneDNN_Buffer, OneDNN_QuantizedBuffer]>, "", [MemRead]>:$table,
                       Arg<Optional<OneDNN_ScalesBuffer>, "", [MemRead]>:$table_scales,
                       Arg<Optional<OneDNN_Buffer>, "", [MemRead]>:$position_table,
                       Arg<Optional<OneDNN_IndexBuffer>, "", [MemRead]>:$positions,
                       Arg<OneDNN_Buffer, "", [MemWrite]>:$dst,
                       OneDNN_PositionKind:$position,
                       OptionalAttr<I64Attr>:$bits, OptionalAttr<I64Attr>:$group);
  let assemblyFormat = [{
    $tokens `,` $table (`scales` $table_scales^)? (`,` $position_table^)?
    (`positions` $positions^)? `into` $dst `position` `=` $position attr-dict `:` type(operands)
  }];
  let hasVerifier = 1;
}

def OneDNN_SdpaOp : OneDNN_Op<"sdpa", [AttrSizedOperandSegments]> {
  let summary = "multi-head scaled dot-product attention with a KV cache (tfm runtime kernel)";
  let description = [{
    The semantics of `tfm.attention` on buffers: `q` is `[T, H*Dh]`, `k` and
    `v` are `[T, KVH*Dh]` (KVH = `kv_heads`, default H); with
    `past_k`/`past_v` (`[P, KVH*Dh]`) the present keys and values
    (`[P+T, KVH*Dh]`, keys after RoPE) are written to `present_k` /
    `present_v`. `inv_freq` (`[r/2]` f32) turns on RoPE of the first r dims of
    every head; `window` bounds the keys a causal query sees; `sequences`
    (`[T]` integer ids, no cache) restricts each query to the keys of its run
    of equal ids (packed sequences). oneDNN 2.6 has no SDPA primitive: the
    runtime implements it.

    ```mlir
    onednn.sdpa %q, %k, %v past(%pk, %pv) into %o present(%nk, %nv) heads = 2
        scale = 3.535534e-01 causal
        : memref<?x16xf32>, memref<?x16xf32>, memref<?x16xf32>, memref<?x16xf32>,
          memref<?x16xf32>, memref<?x16xf32>, memref<?x16xf32>, memref<?x16xf32>
    ```
  }];
  let arguments = (ins Arg<OneDNN_Buffer, "", [MemRead]>:$q,
                       Arg<OneDNN_Buffer, "", [MemRead]>:$k,
                       Arg<OneDNN_Buffer, "", [MemRead]>:$v,
                       Arg<Optional<OneDNN_Buffer>, "", [MemRead]>:$past_k,
                       Arg<Optional<OneDNN_Buffer>, "", [MemRead]>:$past_v,
                       Arg<Optional<OneDNN_IndexBuffer>, "", [MemRead]>:$positions,
                       Arg<Optional<OneDNN_Buffer>, "", [MemRead]>:$inv_freq,
                       Arg<Optional<OneDNN_IndexBuffer>, "", [MemRead]>:$sequences,
                       Arg<OneDNN_Buffer, "", [MemWrite]>:$dst,
                       Arg<Optional<OneDNN_Buffer>, "", [MemWrite]>:$present_k,
                       Arg<Optional<OneDNN_Buffer>, "", [MemWrite]>:$present_v,
                       I64Attr:$num_heads, OptionalAttr<I64Attr>:$num_kv_heads,
                       OneDNN_FiniteF64Attr:$scale, UnitAttr:$causal,
                       OptionalAttr<I64Attr>:$window);
  let assemblyFormat = [{
    $q `,` $k `,` $v (`past` `(` $past_k^ `,` $past_v `)`)? (`positions` $positions^)?
    (`rope` $inv_freq^)? (`sequences` $sequences^)? `into` $dst (`present` `(` $present_k^ `,` $present_v `)`)?
    `heads` `=` $num_heads (`kv_heads` `=` $num_kv_heads^)? `scale` `=` $scale
    (`causal` $causal^)? (`window` `=` $window^)? attr-dict `:` type(operands)
  }];
}

#endif // TFM_DIALECT_ONEDNN_IR_ONEDNNOPS_TD
