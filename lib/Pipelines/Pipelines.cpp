//===- Pipelines.cpp - Named pass pipelines shared by the tools -----------===//
//
// Builds tfm-optimize, tfm-to-onednn and tfm-to-llvm, and registers them (with
// every tfm pass) for tfm-opt. tfmc calls the same builders.
//
//===----------------------------------------------------------------------===//

#include "tfm/Pipelines/Pipelines.h"
#include "tfm/InitAllDialects.h"

#include "tfm/Conversion/Passes.h"
#include "tfm/Dialect/OneDNN/Transforms/Passes.h"
#include "tfm/Dialect/Tfm/Transforms/Passes.h"
#include "tfm/Dialect/OneDNN/IR/OneDNN.h"
#include "tfm/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
/// PipelineOptions as textual pipeline options, for tfm-opt:
/// `--tfm-to-onednn='weight-bits=4 group-size=64'`.
struct CliPipelineOptions : PassPipelineOptions<CliPipelineOptions> {
  Option<unsigned> optLevel{*this, "opt-level", llvm::cl::desc("0: no tfm-optimize"),
                            llvm::cl::init(2)};
  Option<int64_t> weightBits{*this, "weight-bits",
                             llvm::cl::desc("weight-only quantization: 0 (none), 8 or 4"),
                             llvm::cl::init(0)};
  Option<int64_t> groupSize{*this, "group-size",
                            llvm::cl::desc("weights per scale along K (0: per channel; -1: "
                                           "128 for int8, 64 for int4)"),
                            llvm::cl::init(-1)};
  tfm::PipelineOptions get() const {
    tfm::PipelineOptions o;
    o.optLevel = optLevel;
    o.weightBits = weightBits;
    o.groupSize = groupSize;
    return o;
  }
};
} // namespace

void tfm::buildTfmOptimizePipeline(OpPassManager &pm, bool remarks) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  OpPassManager &fn = pm.nest<func::FuncOp>();
  fn.addPass(createFuseLayerNorm(FuseLayerNormOptions{remarks}));
  fn.addPass(createFuseAttention(FuseAttentionOptions{remarks}));
  fn.addPass(createFusePositionalEncoding(FusePositionalEncodingOptions{remarks}));
  fn.addPass(createFuseEpilogues(FuseEpiloguesOptions{remarks}));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void tfm::buildTfmToOneDNNPipeline(OpPassManager &pm, const PipelineOptions &options) {
  if (options.optLevel > 0)
    buildTfmOptimizePipeline(pm, options.fusionRemarks);
  pm.addPass(createConvertTfmToOneDNN());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createSymbolDCEPass());
  if (options.weightBits != 0)
    pm.addNestedPass<func::FuncOp>(createOneDNNQuantizeWeights(OneDNNQuantizeWeightsOptions{
        options.weightBits, options.groupSize, options.fusionRemarks}));
  pm.addNestedPass<func::FuncOp>(createOneDNNForwardResults());
  pm.addNestedPass<func::FuncOp>(createOneDNNForwardViews());
  pm.addNestedPass<func::FuncOp>(createOneDNNPlanMemory());
}

void tfm::buildTfmToLLVMPipeline(OpPassManager &pm, const PipelineOptions &options) {
  buildTfmToOneDNNPipeline(pm, options);
  buildOneDNNToLLVMPipeline(pm);
}

void tfm::buildOneDNNToLLVMPipeline(OpPassManager &pm) {
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertOneDNNToFunc());
  // MLIR's own lowering of what convert-onednn-to-func leaves.
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createTfmEmitEntry());
  pm.addPass(createCanonicalizerPass());
}

void tfm::registerTfmDialects(DialectRegistry &registry) { registerAllDialects(registry); }

void tfm::registerTfmPassesAndPipelines() {
  registerTfmConversionPasses();
  registerTfmTransformsPasses();
  registerOneDNNTransformsPasses();
  // The upstream passes the pipelines use, so each stage can be run alone.
  registerPass([] { return memref::createExpandStridedMetadataPass(); });
  registerPass([] { return createLowerAffinePass(); });
  registerPass([] { return createReconcileUnrealizedCastsPass(); });
  registerPass([] { return createFinalizeMemRefToLLVMConversionPass(); });
  registerPass([] { return createArithToLLVMConversionPass(); });
  registerPass([] { return createConvertControlFlowToLLVMPass(); });
  registerPass([] { return createConvertFuncToLLVMPass(); });
  PassPipelineRegistration<>(
      "tfm-optimize",
      "Canonicalize and CSE, then fuse layer norm, attention, positional encodings and epilogues",
      [](OpPassManager &pm) { buildTfmOptimizePipeline(pm); });
  PassPipelineRegistration<CliPipelineOptions>(
      "tfm-to-onednn",
      "tfm-optimize, then lower to onednn primitives (weight-only quantization with "
      "weight-bits=8|4) and plan memory",
      [](OpPassManager &pm, const CliPipelineOptions &o) {
        buildTfmToOneDNNPipeline(pm, o.get());
      });
  PassPipelineRegistration<CliPipelineOptions>(
      "tfm-to-llvm", "tfm-to-onednn, then lower to the LLVM dialect (runtime calls)",
      [](OpPassManager &pm, const CliPipelineOptions &o) {
        buildTfmToLLVMPipeline(pm, o.get());
      });
}
