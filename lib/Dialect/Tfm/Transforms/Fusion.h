//===- Fusion.h - Fusion patterns, their driver and remarks --*- C++ -*-===//
//
// Every fusion pass is a list of stages of OpRewritePatterns run by MLIR's
// greedy driver. A pattern that sees a candidate it cannot fuse says why with
// `notifyMatchFailure(op, reason)`; FusionRemarks, a rewrite listener, keeps
// the last reason per candidate and, when the pass ends, reports the
// candidates still refused as remarks "<pass>: not fused: <reason>". A pattern
// that returns a bare `failure()` (no reason) saw no candidate and is silent.
// Fusions report themselves at the fused op ("<pass>: fused ...").
//
//===----------------------------------------------------------------------===//

#ifndef TFM_LIB_DIALECT_TFM_TRANSFORMS_FUSION_H
#define TFM_LIB_DIALECT_TFM_TRANSFORMS_FUSION_H

#include "mlir/IR/PatternMatch.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Debug.h"
#include <string>

namespace tfm {

/// An OpRewritePattern of a fusion pass: knows the pass's name and whether
/// fusions are reported as remarks.
template <typename OpTy>
class FusionPattern : public mlir::OpRewritePattern<OpTy> {
public:
  FusionPattern(mlir::MLIRContext *context, llvm::StringRef pass, bool remarks)
      : mlir::OpRewritePattern<OpTy>(context), pass(pass), remarks(remarks) {}

protected:
  /// Reports "<pass>: <what>" at `fusedOp` if remarks are on.
  void fused(mlir::Operation *fusedOp, const llvm::Twine &what) const {
    if (remarks)
      fusedOp->emitRemark() << pass << ": " << what;
  }

  /// Refuses candidate `op` for `reason`: FusionRemarks reports it as
  /// "<pass>: not fused: <reason>" if no later attempt fuses it, and
  /// `-debug-only=<pass>` prints it at once. Returns failure.
  mlir::LogicalResult notFused(mlir::PatternRewriter &rewriter, mlir::Operation *op,
                               const std::string &reason) const {
#ifndef NDEBUG
    if (llvm::DebugFlag && llvm::isCurrentDebugType(pass.str().c_str()))
      llvm::dbgs() << pass << ": not fused: " << reason << "\n";
#endif
    return rewriter.notifyMatchFailure(op, reason);
  }

  llvm::StringRef pass;
  bool remarks;
};

/// Replaces all uses of each `from` value (the values a matched subgraph
/// produces) with the `to` value at the same position, then erases the
/// matched ops this leaves dead, walking up from the producers of `from`
/// (what replaceOp does for a single-op root), so that the greedy driver does
/// not offer the dead subgraph's root again. All uses are replaced before
/// anything is erased: one `from` may be an operand inside another's subgraph.
void replaceSubgraph(mlir::RewriterBase &rewriter, mlir::ValueRange from, mlir::ValueRange to);

/// Records the outcome of fusion patterns under the greedy driver: the number
/// of fusions, and the last refusal reason of every candidate still alive.
class FusionRemarks : public mlir::RewriterBase::Listener {
public:
  void notifyPatternBegin(const mlir::Pattern &, mlir::Operation *op) override { current = op; }
  void notifyPatternEnd(const mlir::Pattern &, mlir::LogicalResult result) override;
  void notifyMatchFailure(mlir::Location loc,
                          llvm::function_ref<void(mlir::Diagnostic &)> reason) override;
  void notifyOperationErased(mlir::Operation *op) override { refusals.erase(op); }

  /// Emits "<pass>: not fused: <reason>" at every refused candidate under
  /// `root` (in IR order) if `remarks`; returns how many there were.
  unsigned reportRefusals(mlir::Operation *root, llvm::StringRef pass, bool remarks) const;

  unsigned numFused = 0;

private:
  mlir::Operation *current = nullptr;
  llvm::DenseMap<mlir::Operation *, std::string> refusals;
};

/// Adds one stage's patterns; `remarks`: report each fusion.
using PopulateFusionPatterns = void (*)(mlir::RewritePatternSet &patterns, bool remarks);

/// One frozen pattern set per stage, in order (build once, in a pass's
/// initialize()).
llvm::SmallVector<mlir::FrozenRewritePatternSet>
freezeFusionStages(mlir::MLIRContext *context, bool remarks,
                   llvm::ArrayRef<PopulateFusionPatterns> stages);

/// What a fusion pass did: the pass adds these to its statistics.
struct FusionCounts {
  unsigned fused = 0, refused = 0;
};

/// Runs each stage's patterns greedily, in order, on `root` (top-down, no
/// folding or constant CSE: only the fusions change the IR, and ops they leave
/// dead are erased), with a FusionRemarks listener; then, if `remarks`, reports
/// the candidates still refused, as "<pass>: not fused: <reason>".
FusionCounts applyFusionStages(mlir::Operation *root,
                               llvm::ArrayRef<mlir::FrozenRewritePatternSet> stages,
                               llvm::StringRef pass, bool remarks);

/// The body every fusion pass shares. `PassBase<Derived>` is the pass's
/// ODS-generated base (tfm::impl::Fuse...Base, with the `remarks` option and
/// the `numFused`/`numRefused` statistics); `Derived::kStages` lists its
/// populate functions, one per stage. The stages are frozen once, in
/// initialize().
template <typename Derived, template <typename> class PassBase>
class FusionPass : public PassBase<Derived> {
public:
  using Generated = PassBase<Derived>;
  using Generated::Generated;

  mlir::LogicalResult initialize(mlir::MLIRContext *context) override {
    stages = freezeFusionStages(context, this->remarks, Derived::kStages);
    return mlir::success();
  }

  void runOnOperation() override {
    FusionCounts counts =
        applyFusionStages(this->getOperation(), stages, this->getArgument(), this->remarks);
    this->numFused += counts.fused;
    this->numRefused += counts.refused;
  }

private:
  llvm::SmallVector<mlir::FrozenRewritePatternSet> stages;
};

} // namespace tfm

#endif // TFM_LIB_DIALECT_TFM_TRANSFORMS_FUSION_H
