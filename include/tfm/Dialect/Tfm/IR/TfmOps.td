//===- TfmOps.td - tfm dialect operations ------------------*- tablegen -*-===//
//
// Primitive tensor ops and fused transformer ops of the tfm dialect. Every op
// has a summary, a description with an example, a verifier (in TfmOps.cpp) and
// a declarative assembly format.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_TFM_IR_TFMOPS_TD
#define TFM_DIALECT_TFM_IR_TFMOPS_TD

include "tfm/Dialect/Tfm/IR/TfmDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Tfm_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;
def Tfm_IndexTensor : RankedTensorOf<[I32, I64]>;
def Tfm_BoolTensor : RankedTensorOf<[I1]>;
def Tfm_AnyTensor : RankedTensorOf<[F32, F16, BF16, I32, I64, I1]>;
def Tfm_ScalarIndex : 0DTensorOf<[I64]>,
    BuildableType<"::mlir::RankedTensorType::get({}, $_builder.getI64Type())">;

//===----------------------------------------------------------------------===//
// Weights and constants
//===----------------------------------------------------------------------===//

def Tfm_ParamOp : Tfm_Op<"param", [Pure]> {
  let summary = "a named weight tensor, by reference";
  let description = [{
    Refers to the tensor called `name` in the model's weights file. The data is
    never copied into the IR; the backend maps the weights file (or the copy
    embedded in the executable) at run time.

    ```mlir
    %w = tfm.param "h.0.attn.c_attn.weight" : tensor<768x2304xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tfm_ConstantOp : Tfm_Op<"constant",
    [ConstantLike, Pure, AllTypesMatch<["value", "result"]>]> {
  let summary = "a small constant tensor";
  let description = [{
    A constant tensor held as an elements attribute: meant for scalars and small
    tables (epsilons, scales, masks), never for weights (see `tfm.param`).

    ```mlir
    %half = tfm.constant dense<5.000000e-01> : tensor<f32>
    ```

    The value may also be a `dense_resource` blob, the form torch-mlir, IREE
    and ONNX importers write: it works wherever a dense value does (the
    canonicalizer turns it into one, and the lowering and the reference
    evaluator read it). The verifier requires the blob to exist and to hold
    exactly the bytes the type needs (one byte per `i1`), little endian as
    MLIR stores them.

    ```mlir
    %w = tfm.constant dense_resource<w0> : tensor<2xf32>
    {-#
      dialect_resources: { builtin: { w0: "0x040000000000803F00000040" } }
    #-}
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Tfm_AnyTensor:$result);
  let assemblyFormat = "$value attr-dict";
  let hasFolder = 1;
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

class Tfm_BinaryOp<string mnemonic, string what, list<Trait> traits = []> :
    Tfm_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptorWithIsCompatible])> {
  let summary = "elementwise " # what # " with broadcasting";
  let description = [{
    Elementwise }] # what # [{ of two tensors of one element type, with NumPy
    broadcasting: shapes are aligned at the trailing dimension and a dimension
    of size 1 stretches to match. The result has the broadcast shape
    (inferred, by MLIR's `OpTrait::util::getBroadcastedShape`; a written
    result type may be more static than the inferred one).

    ```mlir
    %y = tfm.}] # mnemonic # [{ %x, %b : tensor<4x16xf32>, tensor<16xf32> -> tensor<4x16xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$lhs, Tfm_FloatTensor:$rhs);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
}

def Tfm_AddOp : Tfm_BinaryOp<"add", "addition", [Commutative]> { let hasFolder = 1; }
def Tfm_SubOp : Tfm_BinaryOp<"sub", "subtraction"> { let hasFolder = 1; }
def Tfm_MulOp : Tfm_BinaryOp<"mul", "multiplication", [Commutative]> { let hasFolder = 1; }
def Tfm_DivOp : Tfm_BinaryOp<"div", "division"> { let hasFolder = 1; }
def Tfm_PowOp : Tfm_BinaryOp<"pow", "power (lhs raised to rhs)">;

class Tfm_UnaryOp<string mnemonic, string what> :
    Tfm_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise " # what;
  let description = [{
    Elementwise }] # what # [{; the result has the operand's type.

    ```mlir
    %y = tfm.}] # mnemonic # [{ %x : tensor<4x16xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Tfm_RsqrtOp : Tfm_UnaryOp<"rsqrt", "reciprocal square root">;
def Tfm_SqrtOp : Tfm_UnaryOp<"sqrt", "square root">;
def Tfm_TanhOp : Tfm_UnaryOp<"tanh", "hyperbolic tangent">;
def Tfm_ExpOp : Tfm_UnaryOp<"exp", "exponential">;
def Tfm_ErfOp : Tfm_UnaryOp<"erf", "Gauss error function">;
def Tfm_ReluOp : Tfm_UnaryOp<"relu", "rectified linear unit, max(x, 0)">;
def Tfm_SinOp : Tfm_UnaryOp<"sin", "sine">;
def Tfm_CosOp : Tfm_UnaryOp<"cos", "cosine">;

def Tfm_CastOp : Tfm_Op<"cast", [Pure]> {
  let summary = "elementwise conversion to another element type";
  let description = [{
    Converts each element to the result's element type (same shape): f16 or
    bf16 weights to f32, integer positions to float, and so on. Float to
    integer conversion truncates toward zero.

    ```mlir
    %w32 = tfm.cast %w : tensor<8x16xf16> -> tensor<8x16xf32>
    ```
  }];
  let arguments = (ins Tfm_AnyTensor:$input);
  let results = (outs Tfm_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tfm_SelectOp : Tfm_Op<"select", [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "elementwise choice between two tensors by a boolean mask";
  let description = [{
    `result[i] = cond[i] ? true_value[i] : false_value[i]`, with NumPy
    broadcasting over all three operands (the result type is inferred). Used
    for causal masking.

    ```mlir
    %s = tfm.select %mask, %scores, %neginf
        : tensor<4x4xi1>, tensor<2x4x4xf32>, tensor<f32> -> tensor<2x4x4xf32>
    ```
  }];
  let arguments = (ins Tfm_BoolTensor:$cond, Tfm_FloatTensor:$true_value,
                       Tfm_FloatTensor:$false_value);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $cond `,` $true_value `,` $false_value attr-dict `:` type($cond) `,`
    type($true_value) `,` type($false_value) `->` type($result)
  }];
}

def Tfm_CausalMaskOp : Tfm_Op<"causal_mask", [Pure]> {
  let summary = "a lower-triangular boolean mask for a score tensor";
  let description = [{
    For `scores` of shape `[..., T, S]` (T queries over S keys), produces the
    `[T, S]` boolean mask `mask[i, j] = j <= i + offset`: query i may attend
    to key j. Without the optional `offset` operand (a scalar i64) the offset
    is `S - T`, which is right both for a plain prefill (S = T) and for T new
    queries that follow S - T cached keys. Only the shape of `scores` is read,
    so the mask works for any (also dynamic) sequence length.

    With `window = W` (a sliding window, as Mistral's `sliding_window`) a
    query also sees only the W most recent keys, its own included:
    `mask[i, j] = i + offset - W < j <= i + offset`.

    ```mlir
    %m = tfm.causal_mask %scores : tensor<2x4x4xf32> -> tensor<4x4xi1>
    %m2 = tfm.causal_mask %s offset %pos : tensor<2x?x?xf32> -> tensor<?x?xi1>
    %m3 = tfm.causal_mask %scores window = 3 : tensor<2x4x4xf32> -> tensor<4x4xi1>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$scores, Optional<Tfm_ScalarIndex>:$offset,
                       OptionalAttr<I64Attr>:$window);
  let results = (outs Tfm_BoolTensor:$result);
  let assemblyFormat = [{
    $scores (`offset` $offset^)? (`window` `=` $window^)? attr-dict `:` type($scores) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_SequenceMaskOp : Tfm_Op<"sequence_mask", [Pure]> {
  let summary = "a block-diagonal boolean mask for packed sequences";
  let description = [{
    A batch of sequences packed one after another into the rows of one call
    (no padding, no cache): `sequence_ids` (`[T]`, integer) gives each row's
    sequence, and a sequence is a run of consecutive rows with one id. For
    `scores` of shape `[..., T, T]`, produces the `[T, T]` boolean mask
    `mask[i, j]`: rows i and j lie in the same run (ids[i] = ids[j] and
    every id between them equal), so a query attends to the keys of its own
    sequence only. Only the shape of `scores` is read.

    ```mlir
    %m = tfm.sequence_mask %scores, %ids : tensor<2x?x?xf32>, tensor<?xi64> -> tensor<?x?xi1>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$scores, Tfm_IndexTensor:$sequence_ids);
  let results = (outs Tfm_BoolTensor:$result);
  let assemblyFormat = [{
    $scores `,` $sequence_ids attr-dict `:` type($scores) `,` type($sequence_ids) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Reductions and normalizations
//===----------------------------------------------------------------------===//

class Tfm_ReduceOp<string mnemonic, string what> :
    Tfm_Op<mnemonic, [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = what # " along one axis, keeping it with size 1";
  let description = [{
    Reduces `axis` (negative values count from the end) with }] # what # [{. The
    reduced dimension is kept with size 1, so the result broadcasts against the
    input (the result type is inferred).

    ```mlir
    %m = tfm.}] # mnemonic # [{ %x, axis = -1 : tensor<4x16xf32> -> tensor<4x1xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` `axis` `=` $axis attr-dict `:` type($input) `->` type($result)
  }];
  let extraClassDeclaration = [{
    /// The reduced axis in [0, rank).
    int64_t getNormalizedAxis() {
      int64_t rank = getInput().getType().getRank();
      return ::tfm::normalizeAxis(getAxisAttr().getInt(), rank);
    }
  }];
}

def Tfm_ReduceMeanOp : Tfm_ReduceOp<"reduce_mean", "the arithmetic mean">;
def Tfm_ReduceMaxOp : Tfm_ReduceOp<"reduce_max", "the maximum">;
def Tfm_ReduceSumOp : Tfm_ReduceOp<"reduce_sum", "the sum">;

def Tfm_SoftmaxOp : Tfm_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "softmax along one axis";
  let description = [{
    `exp(x - max(x)) / sum(exp(x - max(x)))` along `axis` (negative values
    count from the end).

    ```mlir
    %p = tfm.softmax %scores, axis = -1 : tensor<2x4x4xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$input `,` `axis` `=` $axis attr-dict `:` type($input)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The softmax axis in [0, rank).
    int64_t getNormalizedAxis() {
      int64_t rank = getInput().getType().getRank();
      return ::tfm::normalizeAxis(getAxisAttr().getInt(), rank);
    }
  }];
}

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

def Tfm_MatmulOp : Tfm_Op<"matmul", [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "batched matrix product";
  let description = [{
    `lhs[..., M, K] x rhs[..., K, N] -> result[..., M, N]`. Leading (batch)
    dimensions broadcast with NumPy rules; a rank-2 `rhs` is shared by every
    batch. The result type is inferred.

    ```mlir
    %y = tfm.matmul %x, %w : tensor<4x8xf32>, tensor<8x16xf32> -> tensor<4x16xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$lhs, Tfm_FloatTensor:$rhs);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
}

def Tfm_TransposeOp : Tfm_Op<"transpose", [Pure]> {
  let summary = "permutation of dimensions";
  let description = [{
    `result.shape[i] = input.shape[permutation[i]]`.

    ```mlir
    %t = tfm.transpose %x, permutation = [1, 0, 2]
        : tensor<4x2x8xf32> -> tensor<2x4x8xf32>
    ```
  }];
  let arguments = (ins Tfm_AnyTensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Tfm_AnyTensor:$result);
  let assemblyFormat = [{
    $input `,` `permutation` `=` $permutation attr-dict `:` type($input) `->`
    type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tfm_ReshapeOp : Tfm_Op<"reshape", [Pure]> {
  let summary = "reinterpretation of a tensor with another shape";
  let description = [{
    Same elements in row-major order, another shape; the element counts must
    agree.

    ```mlir
    %h = tfm.reshape %x : tensor<4x16xf32> -> tensor<4x2x8xf32>
    ```
  }];
  let arguments = (ins Tfm_AnyTensor:$input);
  let results = (outs Tfm_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tfm_SliceOp : Tfm_Op<"slice", [Pure]> {
  let summary = "a contiguous box of a tensor";
  let description = [{
    Takes the box that starts at `offsets` and has the result's shape (unit
    strides).

    ```mlir
    %q = tfm.slice %qkv, offsets = [0, 16] : tensor<4x48xf32> -> tensor<4x16xf32>
    ```
  }];
  let arguments = (ins Tfm_AnyTensor:$input, DenseI64ArrayAttr:$offsets);
  let results = (outs Tfm_AnyTensor:$result);
  let assemblyFormat = [{
    $input `,` `offsets` `=` $offsets attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tfm_SplitOp : Tfm_Op<"split", [Pure]> {
  let summary = "split into consecutive pieces along one axis";
  let description = [{
    Cuts `input` along `axis` into consecutive pieces whose sizes are the
    results' sizes along that axis; they must add up to the input's.

    ```mlir
    %q, %k, %v = tfm.split %qkv, axis = 1
        : tensor<4x48xf32> -> tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
    ```
  }];
  let arguments = (ins Tfm_AnyTensor:$input, I64Attr:$axis);
  let results = (outs Variadic<Tfm_AnyTensor>:$results);
  let assemblyFormat = [{
    $input `,` `axis` `=` $axis attr-dict `:` type($input) `->` type($results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The split axis in [0, rank).
    int64_t getNormalizedAxis() {
      return ::tfm::normalizeAxis(getAxisAttr().getInt(), getInput().getType().getRank());
    }
  }];
}

def Tfm_ConcatOp : Tfm_Op<"concat", [Pure]> {
  let summary = "concatenation along one axis";
  let description = [{
    Joins tensors of one element type whose shapes agree except along `axis`.

    ```mlir
    %kv = tfm.concat(%past, %k) axis = 0
        : tensor<3x16xf32>, tensor<1x16xf32> -> tensor<4x16xf32>
    ```
  }];
  let arguments = (ins Variadic<Tfm_AnyTensor>:$inputs, I64Attr:$axis);
  let results = (outs Tfm_AnyTensor:$result);
  let assemblyFormat = [{
    `(` $inputs `)` `axis` `=` $axis attr-dict `:` type($inputs) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The concatenation axis in [0, rank).
    int64_t getNormalizedAxis() {
      return ::tfm::normalizeAxis(getAxisAttr().getInt(), getType().getRank());
    }
  }];
}

def Tfm_GatherOp : Tfm_Op<"gather", [Pure]> {
  let summary = "rows of a table selected by integer indices";
  let description = [{
    `result[i..., :] = table[indices[i...], :]`: the result's shape is the
    indices' shape followed by the table's trailing dimensions. An index out of
    range is an error at run time.

    ```mlir
    %e = tfm.gather %wte[%tokens] : tensor<50257x768xf32>, tensor<4xi64> -> tensor<4x768xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$table, Tfm_IndexTensor:$indices);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $table `[` $indices `]` attr-dict `:` type($table) `,` type($indices) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Fused transformer ops
//===----------------------------------------------------------------------===//

def Tfm_EmbeddingOp : Tfm_Op<"embedding", [Pure, AttrSizedOperandSegments]> {
  let summary = "token embedding with the positional encoding folded in";
  let description = [{
    `result[t, :] = table[tokens[t], :] + pe(p_t)` where `p_t` is
    `positions[t]` (default: t) and the positional term `pe` is, by
    `position`:

    * `learned`: rows of the `position_table` (required);
    * `sinusoidal`: `pe(p, 2i) = sin(p / 10000^(2i/d))`,
      `pe(p, 2i+1) = cos(p / 10000^(2i/d))`, d the embedding width;
    * `none`: zero.

    ```mlir
    %x = tfm.embedding %tokens, %wte, %wpe position = learned positions %pos
        : (tensor<?xi64>, tensor<50257x768xf32>, tensor<1024x768xf32>, tensor<?xi64>) -> tensor<?x768xf32>
    ```
  }];
  let arguments = (ins Tfm_IndexTensor:$tokens, Tfm_FloatTensor:$table,
                       Optional<Tfm_FloatTensor>:$position_table,
                       Optional<Tfm_IndexTensor>:$positions,
                       Tfm_PositionKind:$position);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $tokens `,` $table (`,` $position_table^)? `position` `=` $position
    (`positions` $positions^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tfm_LayerNormOp : Tfm_Op<"layer_norm", [Pure, AttrSizedOperandSegments]> {
  let summary = "layer or RMS normalization over the last axis, with an optional residual add";
  let description = [{
    With `s = input + residual` (or `s = input` without a residual):
    `output = (s - mean(s)) / sqrt(var(s) + epsilon) * scale + bias` over the
    last axis, where `scale` and `bias` are optional `[C]` vectors (var is the
    biased variance, as torch.nn.LayerNorm's). With `rms` the op is RMS
    normalization (Zhang & Sennrich 2019; transformers' LlamaRMSNorm):
    `output = s / sqrt(mean(s^2) + epsilon) * scale (+ bias)`, no centring.
    With a residual operand the op has a second result, the sum `s`, which is
    the residual stream a pre-norm transformer carries on.

    ```mlir
    %y = tfm.layer_norm %x scale %g bias %b eps = 1.000000e-05
        : (tensor<4x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
    %y2, %sum = tfm.layer_norm %x residual %r scale %g bias %b eps = 1.000000e-05
        : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<16xf32>, tensor<16xf32>)
          -> (tensor<4x16xf32>, tensor<4x16xf32>)
    %z = tfm.layer_norm %x scale %g eps = 1.000000e-06 rms
        : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input,
                       Optional<Tfm_FloatTensor>:$residual,
                       Optional<Tfm_FloatTensor>:$scale,
                       Optional<Tfm_FloatTensor>:$bias,
                       Tfm_FiniteF64Attr:$epsilon,
                       UnitAttr:$rms);
  let results = (outs Tfm_FloatTensor:$output, Optional<Tfm_FloatTensor>:$sum);
  let assemblyFormat = [{
    $input (`residual` $residual^)? (`scale` $scale^)? (`bias` $bias^)?
    `eps` `=` $epsilon (`rms` $rms^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tfm_LinearOp : Tfm_Op<"linear", [Pure, AttrSizedOperandSegments]> {
  let summary = "matrix product with a bias, activation, multiplier and residual epilogue";
  let description = [{
    `result = activation(input x weight + bias) * multiplier + residual`,
    where `input` is `[..., K]`, `weight` is `[K, N]` (or `[N, K]` with
    `weight_transposed`, as for an lm head tied to the token embedding),
    `bias` is `[N]`, and `multiplier` and `residual` have the result's shape.
    Every epilogue part is optional and maps onto a oneDNN post-op. The
    activations: `gelu_tanh` (0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))),
    `gelu_erf` (0.5 x (1 + erf(x / sqrt 2))), `relu`, `silu` (x sigmoid(x)).
    The multiplier is the gated MLP's product: Llama's
    `down(silu(gate(x)) * up(x))` is a `silu` linear with `multiplier` up(x).

    ```mlir
    %h = tfm.linear %x, %w bias %b activation = gelu_tanh
        : (tensor<4x16xf32>, tensor<16x64xf32>, tensor<64xf32>) -> tensor<4x64xf32>
    %logits = tfm.linear %x, %wte weight_transposed activation = none
        : (tensor<4x16xf32>, tensor<100x16xf32>) -> tensor<4x100xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_FloatTensor:$weight,
                       Optional<Tfm_FloatTensor>:$bias,
                       Optional<Tfm_FloatTensor>:$multiplier,
                       Optional<Tfm_FloatTensor>:$residual,
                       Tfm_Activation:$activation,
                       UnitAttr:$weight_transposed);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`weight_transposed` $weight_transposed^)?
    (`bias` $bias^)? `activation` `=` $activation (`multiplier` $multiplier^)?
    (`residual` $residual^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tfm_AttentionOp : Tfm_Op<"attention", [Pure, AttrSizedOperandSegments]> {
  let summary = "multi-head scaled dot-product attention with an optional KV cache";
  let description = [{
    `q` is `[T, H*Dh]`, `k` and `v` are `[T, KVH*Dh]` (heads side by side, as
    the projections produce them), H = `heads`, KVH = `kv_heads` (default H;
    H must be a multiple of KVH: grouped-query attention, multi-query with
    KVH = 1). Query head h uses key/value head `h / (H / KVH)`:
    `out_h = softmax(scale * q_h k_{h/G}^T + mask) v_{h/G}`, and the heads
    are merged back into `[T, H*Dh]`.

    * `causal`: query t attends to keys at positions up to its own;
      `window = W` (with causal) keeps only the W most recent of them.
    * `rope %inv_freq` (`[r/2]` f32, r even and at most Dh): rotary position
      embedding of the first r dims of each q and k head before the product,
      rotate-half convention (element i pairs with i + r/2 for i < r/2),
      angle `pos * inv_freq[i]`, where pos is `positions[t]` if given, else
      P + t. The inverse frequencies are data, so every RoPE scaling
      (linear, Llama 3, YaRN, ...) is a table the frontend computes.
    * `past_k`, `past_v` (`[P, KVH*Dh]`, both or neither): keys and values of
      P earlier positions; queries then sit at positions P..P+T-1, and the op
      returns the present keys and values (`[P+T, KVH*Dh]`, rotated keys) as
      two more results.
    * `sequences %ids` (`[T]` integer; no cache): packed sequences, as
      `tfm.sequence_mask` defines them: each row attends only to the rows of
      its run of equal ids (a batch of texts of different lengths in one
      call, without padding).

    ```mlir
    %o = tfm.attention %q, %k, %v heads = 2 scale = 3.535534e-01 causal
        : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
    %g = tfm.attention %q, %k4, %v4 heads = 4 kv_heads = 1 scale = 0.5 causal rope %inv
        : (tensor<4x16xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<2xf32>) -> tensor<4x16xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$q, Tfm_FloatTensor:$k, Tfm_FloatTensor:$v,
                       Optional<Tfm_FloatTensor>:$past_k,
                       Optional<Tfm_FloatTensor>:$past_v,
                       Optional<Tfm_IndexTensor>:$positions,
                       Optional<Tfm_FloatTensor>:$inv_freq,
                       Optional<Tfm_IndexTensor>:$sequences,
                       I64Attr:$num_heads, OptionalAttr<I64Attr>:$num_kv_heads,
                       Tfm_FiniteF64Attr:$scale, UnitAttr:$causal,
                       OptionalAttr<I64Attr>:$window);
  let results = (outs Tfm_FloatTensor:$output, Variadic<Tfm_FloatTensor>:$present);
  let assemblyFormat = [{
    $q `,` $k `,` $v (`past` `(` $past_k^ `,` $past_v `)`)?
    `heads` `=` $num_heads (`kv_heads` `=` $num_kv_heads^)? `scale` `=` $scale
    (`causal` $causal^)? (`window` `=` $window^)?
    (`rope` $inv_freq^)? (`positions` $positions^)? (`sequences` $sequences^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// Key/value heads: `kv_heads`, or `heads` when absent.
    int64_t getKvHeads() {
      return getNumKvHeads() ? static_cast<int64_t>(*getNumKvHeads()) : getNumHeadsAttr().getInt();
    }
  }];
  let hasVerifier = 1;
}

#endif // TFM_DIALECT_TFM_IR_TFMOPS_TD
