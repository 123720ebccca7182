//===- QuantizeWeights.cpp - Weight-only int8/int4 quantization -----------===//
//
// Rewrites matmuls by weights into onednn.quantized_matmul and quantizes
// embedding tables (onednn-quantize-weights; Passes.td has the contract).
// The integers themselves are made by tfmc (or the runtime at load) from the
// onednn.quantized_weight ops this pass creates: the IR only says which
// weight is quantized how.
//
//===----------------------------------------------------------------------===//

#include "tfm/Dialect/OneDNN/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

#define DEBUG_TYPE "onednn-quantize-weights"

namespace tfm {
#define GEN_PASS_DEF_ONEDNNQUANTIZEWEIGHTS
#include "tfm/Dialect/OneDNN/Transforms/Passes.h.inc"
} // namespace tfm

using namespace mlir;
using namespace tfm;

namespace {
struct QuantizeWeightsPass : tfm::impl::OneDNNQuantizeWeightsBase<QuantizeWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    made.clear();
    if (bits != 8 && bits != 4) {
      func.emitError() << getArgument() << ": bits must be 8 or 4, not " << static_cast<int64_t>(bits);
      return signalPassFailure();
    }
    if (groupSize == -1)
      groupSize = bits == 8 ? 128 : 64;
    if (groupSize < 0 || groupSize % 32 != 0 || (bits == 4 && groupSize > 64) ||
        (bits == 4 && groupSize == 0)) {
      func.emitError() << getArgument() << ": group-size must be a multiple of 32"
                       << (bits == 4 ? " between 32 and 64 for int4" : " (0: per-channel)")
                       << ", not " << static_cast<int64_t>(groupSize);
      return signalPassFailure();
    }
    SmallVector<Operation *> candidates;
    func.walk([&](Operation *op) {
      if (isa<onednn::MatmulOp, onednn::EmbeddingOp>(op))
        candidates.push_back(op);
    });
    for (Operation *op : candidates) {
      if (auto mm = dyn_cast<onednn::MatmulOp>(op))
        quantizeMatmul(mm);
      else
        quantizeEmbedding(cast<onednn::EmbeddingOp>(op));
    }
    // Conversions of weights no longer read, then weights no longer read.
    func.walk([&](onednn::ReorderOp r) {
      auto alloc = r.getDst().getDefiningOp<memref::AllocOp>();
      if (alloc && r.getSrc().getDefiningOp<onednn::WeightOp>() && alloc->hasOneUse()) {
        r.erase();
        alloc.erase();
      }
    });
    func.walk([&](onednn::WeightOp w) {
      if (w->use_empty())
        w.erase();
    });
  }

private:
  /// The source weight of a rank-2 float `onednn.weight`, or a reason.
  onednn::WeightOp weightOf(Value v, std::string &why) {
    auto w = v.getDefiningOp<onednn::WeightOp>();
    if (auto alloc = v.getDefiningOp<memref::AllocOp>()) {
      // A weight converted to f32 first (a model stored in f16 or bf16): a
      // buffer whose one writer is a reorder of a weight of its shape. The
      // quantized weight is made from the stored tensor itself.
      onednn::ReorderOp writer;
      int writers = 0;
      for (Operation *user : alloc->getUsers())
        if (auto r = dyn_cast<onednn::ReorderOp>(user); r && r.getDst() == v) {
          writer = r;
          ++writers;
        }
      if (writers == 1)
        if (auto source = writer.getSrc().getDefiningOp<onednn::WeightOp>();
            source && source.getType().getShape() == alloc.getType().getShape())
          w = source;
    }
    if (!w) {
      why = "the operand is not a weight (onednn.weight)";
      return {};
    }
    auto t = w.getType();
    if (t.getRank() != 2) {
      why = "the weight has rank " + std::to_string(t.getRank()) + ", not 2";
      return {};
    }
    if (!isa<FloatType>(t.getElementType()) || t.getElementType().isF64()) {
      why = "the weight is not f32, f16 or bf16";
      return {};
    }
    return w;
  }

  void refuse(Operation *op, const Twine &why) {
    if (remarks)
      op->emitRemark() << getArgument() << ": left unquantized: " << why;
  }

  /// The quantized form of `w` as a [K, N] (`transposed`) or [N, K] source,
  /// one per weight name and function; null if the name is already
  /// quantized in the other orientation.
  onednn::QuantizedWeightOp quantized(onednn::WeightOp w, bool transposed) {
    auto it = made.find(w.getName());
    if (it != made.end())
      return it->second.getTransposed() == transposed ? it->second : nullptr;
    auto t = w.getType();
    int64_t k = transposed ? t.getDimSize(0) : t.getDimSize(1);
    int64_t n = transposed ? t.getDimSize(1) : t.getDimSize(0);
    int64_t group = groupSize == 0 ? (k + 31) / 32 * 32 : groupSize;
    int64_t kp = (k + group - 1) / group * group;
    OpBuilder b(w);
    b.setInsertionPointAfter(w);
    auto i8 = b.getIntegerType(8);
    auto q = onednn::QuantizedWeightOp::create(
        b, w.getLoc(), MemRefType::get({n, bits == 8 ? kp : kp / 2}, i8),
        MemRefType::get({n, kp / group}, b.getF32Type()), w.getNameAttr(), TypeAttr::get(t),
        transposed ? b.getUnitAttr() : nullptr, b.getI64IntegerAttr(bits),
        b.getI64IntegerAttr(group));
    made[w.getName()] = q;
    return q;
  }

  void quantizeMatmul(onednn::MatmulOp mm) {
    std::string why;
    onednn::WeightOp w = weightOf(mm.getB(), why);
    if (!w)
      return refuse(mm, why);
    auto a = cast<MemRefType>(mm.getA().getType()), d = cast<MemRefType>(mm.getDst().getType());
    if (!a.getElementType().isF32() || !d.getElementType().isF32())
      return refuse(mm, "the activations are not f32");
    if (a.getRank() != d.getRank())
      return refuse(mm, "the activations are broadcast over batch dimensions");
    for (Value v : {mm.getBias(), mm.getMultiplier(), mm.getResidual()})
      if (v && !cast<MemRefType>(v.getType()).getElementType().isF32())
        return refuse(mm, "the bias, multiplier or residual is not f32");
    onednn::QuantizedWeightOp q = quantized(w, /*transposed=*/!mm.getTransposeB());
    if (!q)
      return refuse(mm, "weight '" + w.getName() + "' is quantized in the other orientation");
    OpBuilder b(mm);
    onednn::QuantizedMatmulOp::create(b, mm.getLoc(), mm.getA(), q.getQ(), q.getScales(),
                                      mm.getBias(), mm.getMultiplier(), mm.getResidual(),
                                      mm.getDst(),
                                      mm.getActivationAttr(), q.getBitsAttr(), q.getGroupAttr());
    mm.erase();
  }

  void quantizeEmbedding(onednn::EmbeddingOp e) {
    std::string why;
    onednn::WeightOp w = weightOf(e.getTable(), why);
    if (!w)
      return refuse(e, "table: " + why);
    if (!cast<MemRefType>(e.getDst().getType()).getElementType().isF32())
      return refuse(e, "the rows are not f32");
    onednn::QuantizedWeightOp q = quantized(w, /*transposed=*/false);
    if (!q)
      return refuse(e, "weight '" + w.getName() + "' is quantized in the other orientation");
    e.getTableMutable().assign(q.getQ());
    e.getTableScalesMutable().assign(q.getScales());
    e.setBitsAttr(q.getBitsAttr());
    e.setGroupAttr(q.getGroupAttr());
  }

  llvm::StringMap<onednn::QuantizedWeightOp> made;
};
} // namespace
