//===- TfmDialect.td - The tfm transformer dialect ---------*- tablegen -*-===//
//
// The `tfm` dialect: a transformer graph on ranked tensors with value
// semantics. It has two levels: primitive tensor ops (the vocabulary a model is
// first written in) and fused transformer ops (what the fusion passes produce
// and the backend consumes).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_TFM_IR_TFMDIALECT_TD
#define TFM_DIALECT_TFM_IR_TFMDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"

def Tfm_Dialect : Dialect {
  let name = "tfm";
  let cppNamespace = "::tfm";
  let summary = "A transformer graph dialect on ranked tensors";
  let description = [{
    The `tfm` dialect describes transformer models as a dataflow graph of
    operations on ranked tensors with value semantics.

    It holds two levels of abstraction in one dialect:

    * **primitive tensor ops** (`tfm.matmul`, `tfm.add`, `tfm.reduce_mean`,
      `tfm.softmax`, `tfm.transpose`, `tfm.gather`, ...): the vocabulary in
      which a model is first written, one mathematical step per op;
    * **fused transformer ops** (`tfm.embedding`, `tfm.layer_norm`,
      `tfm.linear`, `tfm.attention`): what the fusion passes produce and what
      the oneDNN backend consumes.

    Weights are never inlined: `tfm.param "h.0.attn.c_attn.weight"` names a
    tensor of the model's weights file, so textual IR stays small.

    Elementwise binary ops broadcast with NumPy rules: shapes are aligned at
    the trailing dimension, and a dimension of size 1 stretches to match.

    Discardable attributes, verified by the dialect:

    * on a module: `tfm.context_length` (i64 >= 0: positions the model has),
      `tfm.weights` (string: the safetensors file `tfm.param` names refer
      to), `tfm.random_weights` (i64 seed, instead of a file), `tfm.config`
      (string: the model description it came from);
    * on an entry function's arguments and results: `tfm.name` (string),
      `tfm.role` (what the executables' driver passes: `tokens`,
      `positions`, `logit_rows`, `logits`, `past_key`, `past_value`,
      `present_key`, `present_value`, and for encoders `token_types`,
      `sequence_ids` and `hidden`; see `tfm_buffer_role` in
      tfm_runtime.h) and `tfm.layer` (i64 >= 0, required by the past and
      present roles).
  }];
  let hasConstantMaterializer = 1;
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
}

def Tfm_Activation : I32EnumAttr<"Activation", "epilogue activation function", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"gelu_tanh", 1>,
    I32EnumAttrCase<"gelu_erf", 2>,
    I32EnumAttrCase<"relu", 3>,
    I32EnumAttrCase<"silu", 4>
  ]> {
  let cppNamespace = "::tfm";
}

def Tfm_PositionKind : I32EnumAttr<"PositionKind", "positional encoding kind", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"learned", 1>,
    I32EnumAttrCase<"sinusoidal", 2>
  ]> {
  let cppNamespace = "::tfm";
}

// A float attribute that is neither NaN nor infinite: epsilons, scales and
// RoPE bases are computed with, and a NaN one made every output NaN or
// garbage without an error.
def Tfm_FiniteF64Attr : ConfinedAttr<F64Attr, [AttrConstraint<
    CPred<"::llvm::cast<::mlir::FloatAttr>($_self).getValue().isFinite()">,
    "whose value is finite">]>;

// Every op's tensors and buffers have at most 2^40 bytes
// (include/tfm/Dialect/Utils/ShapeUtils.h).
def Tfm_BoundedTensorSizes : NativeOpTrait<"BoundedTensorSizes"> {
  let cppNamespace = "::tfm";
}

class Tfm_Op<string mnemonic, list<Trait> traits = []> :
    Op<Tfm_Dialect, mnemonic, !listconcat([Tfm_BoundedTensorSizes], traits)>;

#endif // TFM_DIALECT_TFM_IR_TFMDIALECT_TD
