//===- Passes.h - tfm fusion passes --------------------------*- C++ -*-===//
//
// Declarations and registration of the tfm graph (fusion) passes, and the
// rewrite patterns they are made of. Each pass runs its pattern sets, in the
// order listed under it, with the greedy driver; out-of-tree pipelines can mix
// the same patterns into their own. A pattern that refuses a candidate says
// why through `notifyMatchFailure` (a rewrite listener sees it; the passes'
// `remarks` option prints it). `remarks` here: report each fusion as a remark
// at the fused op.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_TFM_TRANSFORMS_PASSES_H
#define TFM_DIALECT_TFM_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "tfm/Dialect/Tfm/IR/Tfm.h"

namespace tfm {
#define GEN_PASS_DECL
#include "tfm/Dialect/Tfm/Transforms/Passes.h.inc"

/// tfm-fuse-layer-norm: mean / variance / rsqrt (or sqrt) arithmetic =>
/// tfm.layer_norm (roots: tfm.rsqrt, tfm.sqrt).
void populateFuseLayerNormPatterns(mlir::RewritePatternSet &patterns, bool remarks = false);

/// tfm-fuse-attention: multi-head scaled dot-product attention =>
/// tfm.attention (root: tfm.softmax).
void populateFuseAttentionPatterns(mlir::RewritePatternSet &patterns, bool remarks = false);

/// tfm-fuse-positional-encoding, stage 1: token gather + learned or
/// sinusoidal positional term => tfm.embedding (root: tfm.add).
void populateFusePositionalEmbeddingPatterns(mlir::RewritePatternSet &patterns,
                                             bool remarks = false);
/// Stage 2: a lone token gather => tfm.embedding {position = none} (root:
/// tfm.gather); the RoPE rotation of a tfm.attention's q and k => its rope
/// attribute (root: tfm.attention). After stage 1, so that a token gather
/// with a positional term is not taken alone.
void populateFuseTokenEmbeddingAndRopePatterns(mlir::RewritePatternSet &patterns,
                                               bool remarks = false);

/// tfm-fuse-epilogues, stage 1: tfm.matmul by a rank-2 weight with its bias,
/// activation and residual consumers => tfm.linear (root: tfm.matmul).
void populateFuseLinearPatterns(mlir::RewritePatternSet &patterns, bool remarks = false);
/// Stage 2: a residual add feeding a tfm.layer_norm => its residual operand
/// (root: tfm.layer_norm). After stage 1, so that the residual adds a linear
/// can take in its epilogue go there.
void populateFuseResidualLayerNormPatterns(mlir::RewritePatternSet &patterns,
                                           bool remarks = false);

#define GEN_PASS_REGISTRATION
#include "tfm/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace tfm

#endif // TFM_DIALECT_TFM_TRANSFORMS_PASSES_H
