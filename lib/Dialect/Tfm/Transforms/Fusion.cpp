//===- Fusion.cpp - The greedy driver of the fusion passes and its remarks -===//
//
// See Fusion.h.
//
//===----------------------------------------------------------------------===//

#include "Fusion.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

void tfm::replaceSubgraph(RewriterBase &rewriter, ValueRange from, ValueRange to) {
  SmallVector<Operation *> worklist;
  for (auto [f, t] : llvm::zip_equal(from, to)) {
    rewriter.replaceAllUsesWith(f, t);
    if (Operation *producer = f.getDefiningOp())
      worklist.push_back(producer);
  }
  SmallPtrSet<Operation *, 16> erased; // a producer can be reached twice
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    if (erased.contains(op) || !isOpTriviallyDead(op))
      continue;
    erased.insert(op);
    for (Value operand : op->getOperands())
      if (Operation *producer = operand.getDefiningOp())
        worklist.push_back(producer);
    rewriter.eraseOp(op);
  }
}

void tfm::FusionRemarks::notifyPatternEnd(const Pattern &, LogicalResult result) {
  if (succeeded(result)) {
    ++numFused;
    refusals.erase(current);
  }
  current = nullptr;
}

void tfm::FusionRemarks::notifyMatchFailure(Location loc,
                                            function_ref<void(Diagnostic &)> reason) {
  if (!current)
    return;
  Diagnostic diag(loc, DiagnosticSeverity::Remark);
  reason(diag);
  refusals[current] = diag.str(); // the latest attempt says why
}

unsigned tfm::FusionRemarks::reportRefusals(Operation *root, StringRef pass, bool remarks) const {
  unsigned count = 0;
  root->walk([&](Operation *op) {
    auto it = refusals.find(op);
    if (it == refusals.end())
      return;
    ++count;
    if (remarks)
      op->emitRemark() << pass << ": not fused: " << it->second;
  });
  return count;
}

SmallVector<FrozenRewritePatternSet>
tfm::freezeFusionStages(MLIRContext *context, bool remarks,
                        ArrayRef<PopulateFusionPatterns> stages) {
  SmallVector<FrozenRewritePatternSet> frozen;
  for (PopulateFusionPatterns populate : stages) {
    RewritePatternSet patterns(context);
    populate(patterns, remarks);
    frozen.emplace_back(std::move(patterns));
  }
  return frozen;
}

tfm::FusionCounts tfm::applyFusionStages(Operation *root, ArrayRef<FrozenRewritePatternSet> stages,
                                         StringRef pass, bool remarks) {
  FusionRemarks listener;
  GreedyRewriteConfig config;
  config.setUseTopDownTraversal(true)
      .enableFolding(false)
      .enableConstantCSE(false)
      .setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled)
      .setListener(&listener);
  for (const FrozenRewritePatternSet &stage : stages)
    // Not converging within the driver's iteration limit leaves valid IR with
    // fewer fusions; the remarks say what was fused.
    (void)applyPatternsGreedily(root, stage, config);
  return {listener.numFused, listener.reportRefusals(root, pass, remarks)};
}
