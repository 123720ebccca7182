//===- Passes.td - tfm fusion passes -----------------------*- tablegen -*-===//
//
// The graph passes of tfm-optimize: each recognizes one family of decomposed
// subgraphs and replaces it with a fused tfm op. Each pass is rewrite
// patterns (populate...Patterns in Passes.h) run in stages by MLIR's greedy
// driver; a pattern refuses a candidate with notifyMatchFailure(op, reason),
// and a rewrite listener turns the refusals left at the end into remarks.
// The patterns match canonical IR (tfm-optimize canonicalizes first). Every
// pass has a `remarks` option that reports, at each candidate, what it fused
// or why it refused (tfmc --fusion-remarks sets it for all), and statistics
// with the numbers of fusions (--mlir-pass-statistics; empty where LLVM is
// built without stats, as Debian's is).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_TFM_TRANSFORMS_PASSES_TD
#define TFM_DIALECT_TFM_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

class TfmFusionPass<string arg> : Pass<arg, "mlir::func::FuncOp"> {
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

def FuseLayerNorm : TfmFusionPass<"tfm-fuse-layer-norm"> {
  let summary = "Fuse layer and RMS normalization arithmetic into tfm.layer_norm";
  let description = [{
    Starting from each `tfm.rsqrt` (or `tfm.sqrt`), recognizes

    ```
    mu = reduce_mean(x, last); c = x - mu
    var = reduce_mean(c * c | c ^ 2, last)  or  reduce_mean(x * x | x ^ 2, last) - mu * mu | mu ^ 2
    y = c * rsqrt(var + eps)  or  c / sqrt(var + eps)
    [y = y * gamma] [y = y + beta]          (gamma, beta of shape [C])
    ```

    and replaces it with `tfm.layer_norm %x [scale %gamma] [bias %beta] eps`;
    and RMS normalization (transformers' LlamaRMSNorm)

    ```
    y = x * rsqrt(reduce_mean(x * x | x ^ 2, last) + eps)  or  x / sqrt(...)
    [y = y * gamma] [y = y + beta]
    ```

    with `tfm.layer_norm %x [scale %gamma] eps rms`.
    Patterns: `populateFuseLayerNormPatterns` (roots `tfm.rsqrt`, `tfm.sqrt`).
    Not fused: reductions over another axis, a centre taken from another
    tensor, a mean square of another tensor than the one normalized, a
    non-constant epsilon.

    Before:
    ```mlir
    %mu = tfm.reduce_mean %x, axis = -1 : tensor<?x16xf32> -> tensor<?x1xf32>
    %c = tfm.sub %x, %mu : tensor<?x16xf32>, tensor<?x1xf32> -> tensor<?x16xf32>
    %sq = tfm.mul %c, %c : tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x16xf32>
    %var = tfm.reduce_mean %sq, axis = -1 : tensor<?x16xf32> -> tensor<?x1xf32>
    %ve = tfm.add %var, %eps : tensor<?x1xf32>, tensor<f32> -> tensor<?x1xf32>
    %r = tfm.rsqrt %ve : tensor<?x1xf32>
    %n = tfm.mul %c, %r : tensor<?x16xf32>, tensor<?x1xf32> -> tensor<?x16xf32>
    %s = tfm.mul %n, %g : tensor<?x16xf32>, tensor<16xf32> -> tensor<?x16xf32>
    %y = tfm.add %s, %b : tensor<?x16xf32>, tensor<16xf32> -> tensor<?x16xf32>
    ```
    After:
    ```mlir
    %y = tfm.layer_norm %x scale %g bias %b eps = 9.9999997473787516E-6
        : (tensor<?x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
    ```
  }];
}

def FuseAttention : TfmFusionPass<"tfm-fuse-attention"> {
  let summary = "Fuse scaled dot-product attention into tfm.attention";
  let description = [{
    Starting from each `tfm.softmax`, recognizes multi-head scaled dot-product
    attention on [T, H*Dh] q, k, v (from one packed projection or three):
    reshape + transpose into heads, Q·Kᵀ, the scale (a multiply or divide by
    constants, also folded into Q), the causal mask (`tfm.select` with a
    `tfm.causal_mask`, or the additive form with a large negative), softmax
    over the key axis, ·V, and the head merge; keys and values may be
    concatenated after a KV cache (`tfm.concat(past, new)`). Grouped-query
    attention is recognized in transformers' repeat_kv form: each of KVH
    key/value heads reshaped to `[S, KVH, 1, Dh]`, concatenated G = H / KVH
    times along axis 2 and reshaped to `[S, H, Dh]`; a `window` on the causal
    mask is a sliding window. Replaces it with
    `tfm.attention {heads, kv_heads, scale, causal, window}` whose present
    results replace the concatenations. K is expected as one `[1, 2, 0]` transpose of the heads:
    canonicalization composes a transpose of a transpose into one. Patterns:
    `populateFuseAttentionPatterns` (root `tfm.softmax`).

    Not fused (near misses): a mask that keeps the future (select arms
    swapped), softmax over another axis, a scale applied to V, heads that do
    not line up, K and V grouped into different key/value heads.

    Before (abridged; see test/Dialect/Tfm/Transforms/fuse-attention.mlir):
    ```mlir
    %ka = tfm.concat(%pk, %k) axis = 0 : ...            // also %va
    %qh = tfm.transpose (tfm.reshape %q) [1, 0, 2]      // [H, T, Dh]
    %kh = tfm.transpose (tfm.reshape %ka) [1, 2, 0]     // [H, Dh, S]
    %s = tfm.matmul %qh, %kh ; %ss = tfm.div %s, sqrt(Dh)
    %m = tfm.causal_mask %ss ; %sm = tfm.select %m, %ss, -3.4e38
    %p = tfm.softmax %sm, axis = -1 ; %o = tfm.matmul %p, %vh
    %out = tfm.reshape (tfm.transpose %o [1, 0, 2]) : ... -> tensor<?x16xf32>
    ```
    After:
    ```mlir
    %out, %present:2 = tfm.attention %q, %k, %v past(%pk, %pk) heads = 2
        scale = 0.35355339664408242 causal : (...) -> (tensor<?x16xf32>, ...)
    ```
  }];
}

def FusePositionalEncoding : TfmFusionPass<"tfm-fuse-positional-encoding"> {
  let summary = "Fold positional encodings into tfm.embedding and tfm.attention";
  let description = [{
    * token gather + learned position gather, or + the sinusoidal table
      computed from positions (sin/cos of position x 10000^(-2i/d),
      interleaved) => `tfm.embedding {position = learned | sinusoidal}`; a
      lone token gather => `tfm.embedding {position = none}`;
    * the rotary rotation of q and k (rotate-half with cos/sin tables of
      position x a constant f32 table of inverse frequencies, the first r
      dims of each head) on the operands of a `tfm.attention` => its
      `rope %inv_freq` operand (the same constant: every RoPE scaling is a
      table; no theta is inferred back) and `positions` operand.

    Patterns, in two stages: `populateFusePositionalEmbeddingPatterns` (root
    `tfm.add`), then `populateFuseTokenEmbeddingAndRopePatterns` (roots
    `tfm.gather`, `tfm.attention`), so a token gather with a positional term
    is not taken alone.

    Before / after (learned):
    ```mlir
    %t = tfm.gather %wte[%tok] : tensor<64x16xf32>, tensor<?xi64> -> tensor<?x16xf32>
    %p = tfm.gather %wpe[%pos] : tensor<32x16xf32>, tensor<?xi64> -> tensor<?x16xf32>
    %x = tfm.add %t, %p : tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x16xf32>
    // =>
    %x = tfm.embedding %tok, %wte, %wpe position = learned positions %pos : (...) -> tensor<?x16xf32>
    ```
    and for RoPE, `tfm.attention %q', %k', %v ...` with `%q'`, `%k'` the
    rotated projections becomes
    `tfm.attention %q, %k, %v ... rope %inv_freq positions %pos`.
  }];
}

def FuseEpilogues : TfmFusionPass<"tfm-fuse-epilogues"> {
  let summary = "Fold bias, GELU/ReLU and residual adds into tfm.linear / tfm.layer_norm";
  let description = [{
    * `tfm.matmul` by a rank-2 weight (or its transpose) => `tfm.linear`, then
      its single-use consumers: `+ bias[N]`, GELU (tanh form
      0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3))) or erf form 0.5x(1+erf(x/sqrt 2)))
      or ReLU, and a residual add of the same shape => the epilogue of that
      `tfm.linear` (oneDNN post-ops: bias, eltwise, binary add);
    * a residual add feeding a `tfm.layer_norm` => the layer norm's residual
      operand (its second result is the sum).

    An activation is folded only if nothing else uses the pre-activation
    value (folding it would compute the matmul twice).

    Patterns, in two stages: `populateFuseLinearPatterns` (root `tfm.matmul`),
    then `populateFuseResidualLayerNormPatterns` (root `tfm.layer_norm`), so a
    residual add goes into a linear's epilogue where it can.

    Before / after:
    ```mlir
    %m = tfm.matmul %x, %w1 : tensor<?x8xf32>, tensor<8x32xf32> -> tensor<?x32xf32>
    %h = tfm.add %m, %b1 : tensor<?x32xf32>, tensor<32xf32> -> tensor<?x32xf32>
    %g = ... 0.5 * %h * (1 + tanh(0.7978845608 * (%h + 0.044715 * %h^3))) ...
    // =>
    %g = tfm.linear %x, %w1 bias %b1 activation = gelu_tanh
        : (tensor<?x8xf32>, tensor<8x32xf32>, tensor<32xf32>) -> tensor<?x32xf32>
    ```
  }];
}

#endif // TFM_DIALECT_TFM_TRANSFORMS_PASSES_TD
