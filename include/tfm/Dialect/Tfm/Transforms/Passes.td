//===- Passes.td - tfm fusion passes -----------------------*- tablegen -*-===//
//
// The graph passes of tfm-optimize: each recognizes one family of decomposed
// subgraphs and replaces it with a fused tfm op. Every pass has a `remarks`
// option that reports, at each candidate, what it fused or why it refused
// (tfmc --fusion-remarks sets it for all), and statistics with the numbers of
// fusions (--mlir-pass-statistics; empty where LLVM is built without stats,
// as Debian's is).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_TFM_TRANSFORMS_PASSES_TD
#define TFM_DIALECT_TFM_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

class TfmFusionPass<string arg, string cls> : Pass<arg, "mlir::func::FuncOp"> {
  let options = [
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit a remark at every candidate: what was fused, or why not">
  ];
  let statistics = [
    Statistic<"numFused", "fused", "Number of subgraphs fused">,
    Statistic<"numRefused", "refused", "Number of candidates not fused">
  ];
  let dependentDialects = ["::tfm::TfmDialect"];
}

def FuseLayerNorm : TfmFusionPass<"tfm-fuse-layer-norm", "FuseLayerNorm"> {
  let summary = "Fuse mean/variance/rsqrt arithmetic into tfm.layer_norm";
  let description = [{
    Starting from each `tfm.rsqrt` (or `tfm.sqrt`), recognizes

    ```
    mu = reduce_mean(x, last); c = x - mu
    var = reduce_mean(c * c | c ^ 2, last)  or  reduce_mean(x * x | x ^ 2, last) - mu * mu | mu ^ 2
    y = c * rsqrt(var + eps)  or  c / sqrt(var + eps)
    [y = y * gamma] [y = y + beta]          (gamma, beta of shape [C])
    ```

    and replaces it with `tfm.layer_norm %x [scale %gamma] [bias %beta] eps`.
    Not fused: reductions over another axis, a centre taken from another
    tensor, a non-constant epsilon.
  }];
}

def FuseAttention : TfmFusionPass<"tfm-fuse-attention", "FuseAttention"> {
  let summary = "Fuse scaled dot-product attention into tfm.attention";
  let description = [{
    Starting from each `tfm.softmax`, recognizes multi-head scaled dot-product
    attention on [T, H*Dh] q, k, v (from one packed projection or three):
    reshape + transpose into heads, Q·Kᵀ, the scale (a multiply or divide by
    constants, also folded into Q), the causal mask (`tfm.select` with a
    `tfm.causal_mask`, or the additive form with a large negative), softmax
    over the key axis, ·V, and the head merge; keys and values may be
    concatenated after a KV cache (`tfm.concat(past, new)`). Replaces it with
    `tfm.attention {heads, scale, causal}` whose present results replace the
    concatenations.

    Not fused (near misses): a mask that keeps the future (select arms
    swapped), softmax over another axis, a scale applied to V, heads that do
    not line up.
  }];
}

def FusePositionalEncoding : TfmFusionPass<"tfm-fuse-positional-encoding",
                                           "FusePositionalEncoding"> {
  let summary = "Fold positional encodings into tfm.embedding and tfm.attention";
  let description = [{
    * token gather + learned position gather, or + the sinusoidal table
      computed from positions (sin/cos of position x 10000^(-2i/d),
      interleaved) => `tfm.embedding {position = learned | sinusoidal}`; a
      lone token gather => `tfm.embedding {position = none}`;
    * the rotary rotation of q and k (rotate-half with cos/sin tables of
      position x theta^(-2i/r)) on the operands of a `tfm.attention` => its
      `rope(rotary_dim, theta)` attribute and `positions` operand.
  }];
}

def FuseEpilogues : TfmFusionPass<"tfm-fuse-epilogues", "FuseEpilogues"> {
  let summary = "Fold bias, GELU/ReLU and residual adds into tfm.linear / tfm.layer_norm";
  let description = [{
    * `tfm.matmul` by a rank-2 weight (or its transpose) => `tfm.linear`, then
      its single-use consumers: `+ bias[N]`, GELU (tanh form
      0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3))) or erf form 0.5x(1+erf(x/sqrt 2)))
      or ReLU, and a residual add of the same shape => the epilogue of that
      `tfm.linear` (oneDNN post-ops: bias, eltwise, binary add);
    * a residual add feeding a `tfm.layer_norm` => the layer norm's residual
      operand (its second result is the sum).
  }];
}

#endif // TFM_DIALECT_TFM_TRANSFORMS_PASSES_TD
