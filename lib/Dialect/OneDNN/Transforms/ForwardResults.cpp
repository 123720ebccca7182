//===- ForwardResults.cpp - Compute results in their result arguments -----===//
//
// Removes the final copy of each function result: the buffer a result was
// computed in is replaced by the `onednn.result` argument it was copied to.
//
//===----------------------------------------------------------------------===//

#include "tfm/Dialect/OneDNN/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#define DEBUG_TYPE "onednn-forward-results"

namespace tfm {
#define GEN_PASS_DEF_ONEDNNFORWARDRESULTS
#include "tfm/Dialect/OneDNN/Transforms/Passes.h.inc"
} // namespace tfm

using namespace mlir;
using namespace tfm;

namespace {
struct ForwardResultsPass : tfm::impl::OneDNNForwardResultsBase<ForwardResultsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    SmallVector<onednn::ReorderOp> copies;
    func.walk([&](onednn::ReorderOp r) {
      auto arg = dyn_cast<BlockArgument>(r.getDst());
      if (arg && arg.getOwner()->isEntryBlock() &&
          func.getArgAttr(arg.getArgNumber(), "onednn.result"))
        copies.push_back(r);
    });
    for (onednn::ReorderOp copy : copies) {
      auto alloc = copy.getSrc().getDefiningOp<memref::AllocOp>();
      Value arg = copy.getDst();
      if (!alloc || alloc.getType() != arg.getType())
        continue;
      // The buffer must leave the function through this copy alone.
      bool onlyCopy = llvm::all_of(alloc->getUsers(), [&](Operation *user) {
        auto r = dyn_cast<onednn::ReorderOp>(user);
        return !r || r == copy || r.getSrc() != alloc.getResult() ||
               !isa<BlockArgument>(r.getDst());
      });
      if (!onlyCopy)
        continue;
      alloc.getResult().replaceAllUsesWith(arg);
      copy.erase();
      alloc.erase();
    }
  }
};
} // namespace
