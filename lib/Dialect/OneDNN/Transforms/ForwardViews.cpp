//===- ForwardViews.cpp - Read strided views instead of their copies ------===//
//
// convert-tfm-to-onednn gives every tensor a contiguous buffer, so a slice of
// another buffer (q, k and v out of the packed QKV projection) is copied by
// an onednn.reorder. The runtime's attention reads rows at any stride: this
// pass hands it the view itself and deletes the copy and its buffer.
//
//===----------------------------------------------------------------------===//

#include "tfm/Dialect/OneDNN/Transforms/Passes.h"
#include "tfm/Dialect/OneDNN/IR/OneDNN.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define DEBUG_TYPE "onednn-forward-views"

namespace tfm {
#define GEN_PASS_DEF_ONEDNNFORWARDVIEWS
#include "tfm/Dialect/OneDNN/Transforms/Passes.h.inc"
} // namespace tfm

using namespace mlir;
using namespace tfm;

namespace {
/// Whether `use` reads its buffer through an operand that takes any row
/// stride (contiguous rows): q, k and v of onednn.sdpa.
bool readsAnyStride(OpOperand &use) {
  auto sdpa = dyn_cast<onednn::SdpaOp>(use.getOwner());
  return sdpa && (&use == &sdpa.getQMutable() || &use == &sdpa.getKMutable() ||
                  &use == &sdpa.getVMutable());
}

/// Whether an op after `after` in its block may write `root` (or a view of it).
bool writtenAfter(Value root, Operation *after) {
  SmallVector<Value> aliases = {root};
  for (size_t i = 0; i < aliases.size(); ++i)
    for (Operation *user : aliases[i].getUsers()) {
      if (auto view = dyn_cast<ViewLikeOpInterface>(user);
          view && view.getViewSource() == aliases[i]) {
        aliases.append(user->result_begin(), user->result_end());
        continue;
      }
      if (user->getBlock() != after->getBlock() || !after->isBeforeInBlock(user))
        continue;
      auto effects = dyn_cast<MemoryEffectOpInterface>(user);
      if (!effects || effects.getEffectOnValue<MemoryEffects::Write>(aliases[i]))
        return true;
    }
  return false;
}

struct ForwardViewsPass : tfm::impl::OneDNNForwardViewsBase<ForwardViewsPass> {
  void runOnOperation() override {
    SmallVector<onednn::ReorderOp> copies;
    getOperation().walk([&](onednn::ReorderOp r) { copies.push_back(r); });
    for (onednn::ReorderOp copy : copies) {
      auto view = copy.getSrc().getDefiningOp<memref::SubViewOp>();
      auto alloc = copy.getDst().getDefiningOp<memref::AllocOp>();
      if (!view || !alloc)
        continue;
      MemRefType viewType = view.getType();
      SmallVector<int64_t> strides;
      int64_t offset;
      if (failed(viewType.getStridesAndOffset(strides, offset)) ||
          viewType.getElementType() != alloc.getType().getElementType() || strides.empty() ||
          strides.back() != 1)
        continue; // a conversion, or rows that are not contiguous
      // Every other use reads the copy through a stride-tolerant operand, and
      // the viewed buffer keeps its contents while the copy is in use.
      bool ok = true;
      for (OpOperand &use : alloc->getUses())
        if (use.getOwner() != copy && !readsAnyStride(use))
          ok = false;
      if (!ok || writtenAfter(view.getSource(), copy))
        continue;
      for (OpOperand &use : llvm::make_early_inc_range(alloc->getUses()))
        if (use.getOwner() != copy)
          use.set(view);
      copy.erase();
      alloc.erase();
    }
  }
};
} // namespace
