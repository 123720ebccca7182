//===- PlanMemory.cpp - Place buffers at static offsets in one arena ------===//
//
// Liveness-based memory planning for onednn functions: every `memref.alloc`
// becomes a `memref.view` into one arena, at an offset chosen so that buffers
// whose live ranges overlap never share bytes. Live ranges come from
// mlir::Liveness, joined over each alloc and the views of it.
//
//===----------------------------------------------------------------------===//

#include "tfm/Dialect/OneDNN/Transforms/Passes.h"
#include "tfm/Dialect/Utils/ShapeUtils.h"

#include "mlir/Analysis/Liveness.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "onednn-plan-memory"

namespace tfm {
#define GEN_PASS_DEF_ONEDNNPLANMEMORY
#include "tfm/Dialect/OneDNN/Transforms/Passes.h.inc"
} // namespace tfm

using namespace mlir;

namespace {
constexpr int64_t kAlignment = 64;

/// One buffer to place: its alloc, byte size, live range (op indices) and
/// offset. A dynamic buffer's size is `bytes * scale` (scale: its one dynamic
/// size, e.g. the sequence length), and so is its offset.
struct Buffer {
  memref::AllocOp alloc;
  int64_t bytes;
  size_t first, last;
  Value scale = {};
  int64_t offset = -1;
};

/// Assigns offsets: largest buffers first, each at the lowest aligned offset
/// that overlaps no placed buffer live at the same time. Returns the arena size.
int64_t assignOffsets(MutableArrayRef<Buffer> buffers) {
  SmallVector<Buffer *> order;
  for (Buffer &b : buffers)
    order.push_back(&b);
  llvm::stable_sort(order, [](Buffer *a, Buffer *b) { return a->bytes > b->bytes; });
  SmallVector<Buffer *> placed;
  int64_t arena = 0;
  for (Buffer *b : order) {
    SmallVector<std::pair<int64_t, int64_t>> busy;
    for (Buffer *p : placed)
      if (p->first <= b->last && b->first <= p->last)
        busy.push_back({p->offset, p->offset + p->bytes});
    llvm::sort(busy);
    int64_t offset = 0;
    for (auto [lo, hi] : busy) {
      if (offset + b->bytes <= lo)
        break;
      offset = std::max<int64_t>(offset, llvm::alignTo(hi, kAlignment));
    }
    b->offset = offset;
    arena = std::max(arena, offset + b->bytes);
    placed.push_back(b);
  }
  return static_cast<int64_t>(llvm::alignTo(arena, kAlignment));
}

struct PlanMemoryPass : tfm::impl::OneDNNPlanMemoryBase<PlanMemoryPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    if (!func.getBody().hasOneBlock()) {
      func.emitError() << "memory planning expects a single-block function";
      return signalPassFailure();
    }
    Block &block = func.front();

    // Map every value to the alloc it views (through view-like ops): a
    // buffer is live while any of its values is.
    DenseMap<Value, size_t> rootOf;
    DenseMap<Operation *, size_t> position; // program order in the block
    SmallVector<Buffer> buffers;
    SmallVector<SmallVector<Value>> aliases; // per buffer: the alloc and its views
    SmallVector<memref::AllocOp> unplanned;  // dynamic sizes: freed at the end
    size_t index = 0;
    for (Operation &op : block) {
      position[&op] = ++index;
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        MemRefType t = alloc.getType();
        // Planned: static shapes, and shapes with one dynamic size (their
        // bytes are a multiple of it). Anything else stays a plain alloc.
        if (!t.getLayout().isIdentity() || !alloc.getSymbolOperands().empty() ||
            alloc.getDynamicSizes().size() > 1) {
          unplanned.push_back(alloc);
          continue;
        }
        // Bytes of the static part (per unit of the dynamic size), in
        // checked arithmetic: an arena is a sum of these.
        std::optional<int64_t> bytes = tfm::boundedByteSize(t);
        if (!bytes) {
          alloc.emitOpError() << "of type " << t
                              << " has more than 2^40 bytes (1 TiB), the largest buffer tfm "
                                 "supports";
          return signalPassFailure();
        }
        Value scale = alloc.getDynamicSizes().empty() ? Value() : alloc.getDynamicSizes()[0];
        rootOf[alloc.getResult()] = buffers.size();
        buffers.push_back({alloc, std::max<int64_t>(*bytes, 1), index, index, scale});
        aliases.push_back({alloc.getResult()});
        continue;
      }
      // Views alias their source: ViewLikeOpInterface, and ops that return a
      // memref of a planned operand without implementing it (memref.transpose:
      // the transposed lm head of a tied embedding cast from F16 was reused
      // while the transpose still read it). Any memref result of an op with a
      // planned operand counts as a view of it (conservative).
      Value source;
      if (auto view = dyn_cast<ViewLikeOpInterface>(op))
        source = view.getViewSource();
      else if (llvm::any_of(op.getResultTypes(), llvm::IsaPred<BaseMemRefType>))
        for (Value operand : op.getOperands())
          if (rootOf.count(operand)) {
            source = operand;
            break;
          }
      if (source) {
        auto it = rootOf.find(source);
        if (it != rootOf.end()) {
          size_t root = it->second; // `it` dies when rootOf grows
          for (Value r : op.getResults()) {
            rootOf[r] = root;
            aliases[root].push_back(r);
          }
        }
      }
    }
    // Each buffer ends at the last use of any of its values (mlir::Liveness:
    // the end operation of each value's live range in this block).
    Liveness liveness(func);
    const LivenessBlockInfo *live = liveness.getLiveness(&block);
    for (auto [buffer, values] : llvm::zip(buffers, aliases))
      for (Value v : values)
        buffer.last = std::max(buffer.last,
                               position.lookup(live->getEndOperation(v, v.getDefiningOp())));
    OpBuilder b(func.getContext());
    for (memref::AllocOp alloc : unplanned) {
      b.setInsertionPoint(block.getTerminator());
      memref::DeallocOp::create(b, alloc.getLoc(), alloc);
    }
    if (buffers.empty())
      return;

    // One arena per size: the static one (bytes), and one per dynamic size
    // value n (bytes * n, offsets * n: the packing holds for every n).
    llvm::MapVector<Value, SmallVector<Buffer *>> groups;
    for (Buffer &buf : buffers)
      groups[buf.scale].push_back(&buf);
    Location loc = func.getLoc();
    for (auto &[scale, members] : groups) {
      SmallVector<Buffer> group;
      for (Buffer *m : members)
        group.push_back(*m);
      int64_t arenaBytes = assignOffsets(group);
      LLVM_DEBUG(llvm::dbgs() << "arena of " << arenaBytes << (scale ? " bytes per unit" : " bytes")
                              << " for " << group.size() << " buffers\n");
      // The arena comes right after its size is known.
      if (!scale)
        b.setInsertionPointToStart(&block);
      else if (Operation *def = scale.getDefiningOp())
        b.setInsertionPointAfter(def);
      else
        b.setInsertionPointToStart(&block);
      Value arena;
      if (!scale) {
        arena = memref::AllocOp::create(b, loc, MemRefType::get({arenaBytes}, b.getI8Type()),
                                        b.getI64IntegerAttr(kAlignment));
        func->setAttr("onednn.arena_bytes", b.getI64IntegerAttr(arenaBytes));
      } else {
        Value perUnit = arith::ConstantIndexOp::create(b, loc, arenaBytes);
        Value total = arith::MulIOp::create(b, loc, scale, perUnit);
        arena = memref::AllocOp::create(b, loc,
                                        MemRefType::get({ShapedType::kDynamic}, b.getI8Type()),
                                        ValueRange{total}, b.getI64IntegerAttr(kAlignment));
        auto prior = func->getAttrOfType<IntegerAttr>("onednn.arena_bytes_per_unit");
        func->setAttr("onednn.arena_bytes_per_unit",
                      b.getI64IntegerAttr(arenaBytes + (prior ? prior.getInt() : 0)));
      }
      for (Buffer &buf : group) {
        b.setInsertionPoint(buf.alloc);
        Value offset = arith::ConstantIndexOp::create(b, buf.alloc.getLoc(), buf.offset);
        if (scale)
          offset = arith::MulIOp::create(b, buf.alloc.getLoc(), scale, offset);
        Value view = memref::ViewOp::create(b, buf.alloc.getLoc(), buf.alloc.getType(), arena,
                                            offset, buf.alloc.getDynamicSizes());
        buf.alloc.replaceAllUsesWith(view);
        buf.alloc.erase();
      }
      b.setInsertionPoint(block.getTerminator());
      memref::DeallocOp::create(b, loc, arena);
    }
  }
};
} // namespace
