//===- Pipelines.h - Named pass pipelines shared by the tools -*- C++ -*-===//
//
// The pipelines tfmc runs and tfm-opt exposes under the same names, built by
// one function each so that both tools always agree.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_PIPELINES_PIPELINES_H
#define TFM_PIPELINES_PIPELINES_H

#include <cstdint>

namespace mlir {
class DialectRegistry;
class OpPassManager;
} // namespace mlir

namespace tfm {

/// Options of the pipelines (tfmc's -O level).
struct PipelineOptions {
  /// 0: no graph optimization; 1 and above: tfm-optimize first.
  unsigned optLevel = 2;
  /// Emit a remark at every fusion candidate (what was fused, or why not).
  bool fusionRemarks = false;
  /// Weight-only quantization (onednn-quantize-weights): 0 none, 8 or 4 bits.
  int64_t weightBits = 0;
  /// Weights per scale along K (a multiple of 32; 0: per output column;
  /// -1: 128 for int8, 64 for int4).
  int64_t groupSize = -1;
};

/// `tfm-optimize`: canonicalize, CSE, then tfm-fuse-layer-norm,
/// tfm-fuse-attention, tfm-fuse-positional-encoding (embeddings, and RoPE into
/// the fused attention), tfm-fuse-epilogues, and canonicalize + CSE again.
void buildTfmOptimizePipeline(mlir::OpPassManager &pm, bool remarks = false);

/// `tfm-to-onednn`: [tfm-optimize], convert-tfm-to-onednn, canonicalize,
/// symbol-dce, onednn-forward-results, onednn-plan-memory.
void buildTfmToOneDNNPipeline(mlir::OpPassManager &pm, const PipelineOptions &options = {});

/// `tfm-to-llvm`: tfm-to-onednn, then buildOneDNNToLLVMPipeline.
void buildTfmToLLVMPipeline(mlir::OpPassManager &pm, const PipelineOptions &options = {});

/// The second half of tfm-to-llvm: expand-strided-metadata, lower-affine,
/// convert-onednn-to-func (runtime calls), then MLIR's finalize-memref-to-llvm,
/// convert-arith-to-llvm, convert-cf-to-llvm, convert-func-to-llvm and
/// reconcile-unrealized-casts, then tfm-emit-entry and canonicalize.
void buildOneDNNToLLVMPipeline(mlir::OpPassManager &pm);

/// Registers the dialects the pipelines use.
void registerTfmDialects(mlir::DialectRegistry &registry);

/// Registers every tfm pass and the named pipelines with the pass registry.
void registerTfmPassesAndPipelines();

} // namespace tfm

#endif // TFM_PIPELINES_PIPELINES_H
