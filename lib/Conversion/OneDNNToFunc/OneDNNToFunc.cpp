//===- OneDNNToFunc.cpp - Lower onednn ops to func.calls of the runtime ---===//
//
// Turns every onednn op into a `func.call` of a declared function of the tfm
// runtime's C interface (include/tfm/Runtime/tfm_runtime.h), built from
// memref and arith ops only; MLIR's own finalize-memref-to-llvm,
// convert-arith-to-llvm, convert-func-to-llvm and reconcile-unrealized-casts
// then take the module to LLVM, and tfm-emit-entry adds the `tfm_entry`
// wrapper. Also emits the `tfm_model` info (ModelInfo.cpp) from the entry
// function, which it renames `tfm_model_main`.
//
// The runtime's functions take any buffer (f32, f16, bf16, i8, i64 of any
// rank and layout), and a func.func declaration has one type, so a buffer
// crosses as a type-erased record, a `memref<20xi64>` (tfm_buffer: data
// address, offset, dtype, rank, sizes, strides) that the call fills from
// `memref.extract_aligned_pointer_as_index` and
// `memref.extract_strided_metadata`. The declarations carry
// `llvm.emit_c_interface`, so convert-func-to-llvm calls
// `_mlir_ciface_tfm_rt_<op>` with a pointer to each record's descriptor, the
// way upstream runtimes (CRunnerUtils, the sparse tensor runtime) are called.
// A weight comes back as bytes (`memref<?xi8>`) that `memref.view` types.
//
// Expects `expand-strided-metadata` and `lower-affine` to have run (the
// `tfm-to-llvm` pipeline does that), so views are reinterpret_casts.
//
//===----------------------------------------------------------------------===//

#include "tfm/Conversion/Passes.h"
#include "tfm/Runtime/tfm_runtime.h"
#include "ModelInfo.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/DenseMap.h"

#define DEBUG_TYPE "convert-onednn-to-func"

namespace tfm {
#define GEN_PASS_DEF_CONVERTONEDNNTOFUNC
#include "tfm/Conversion/Passes.h.inc"
} // namespace tfm

using namespace mlir;
using namespace tfm;

namespace {

/// Elements of a buffer record (tfm_buffer in tfm_runtime.h).
constexpr int64_t kRecordSize = 4 + 2 * TFM_MAX_RANK;
static_assert(sizeof(tfm_buffer) == kRecordSize * sizeof(int64_t),
              "tfm_buffer is the memref<20xi64> record, field for field");

/// The records of one function: one `memref<20xi64>` per buffer position of
/// a call, allocated once in its entry block and refilled by every call (the
/// runtime reads them during the call only).
using RecordSlots = llvm::DenseMap<Operation *, SmallVector<Value>>;

/// The most buffer operands of any call in the table (onednn.sdpa).
constexpr unsigned kMaxBuffers = 11;

/// Builds the operand list of one runtime call: buffer records, then scalars.
class CallBuilder {
public:
  CallBuilder(ConversionPatternRewriter &rewriter, Location loc, ArrayRef<Value> slots)
      : b(rewriter), loc(loc), slots(slots) {}

  /// Fills the next record with `buffer` (null: an absent optional operand,
  /// data address 0) and appends it.
  void buffer(Value buffer) {
    Value record = slots[numBuffers++];
    auto store = [&](Value v, int64_t field) {
      memref::StoreOp::create(b, loc, v, record,
                              ValueRange{arith::ConstantIndexOp::create(b, loc, field)});
    };
    auto toI64 = [&](Value index) -> Value {
      return arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
    };
    if (!buffer) {
      store(constant(0), offsetof(tfm_buffer, data) / sizeof(int64_t));
      args.push_back(record);
      return;
    }
    auto type = cast<MemRefType>(buffer.getType());
    Value data = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
    auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, buffer);
    auto field = [](size_t byteOffset) { return static_cast<int64_t>(byteOffset / 8); };
    store(toI64(data), field(offsetof(tfm_buffer, data)));
    store(toI64(metadata.getOffset()), field(offsetof(tfm_buffer, offset)));
    store(constant(*runtimeDtypeOf(type.getElementType())), field(offsetof(tfm_buffer, dtype)));
    store(constant(type.getRank()), field(offsetof(tfm_buffer, rank)));
    // Static sizes as constants (readable IR); the rest from the metadata.
    for (int64_t d = 0; d < type.getRank(); ++d) {
      store(type.isDynamicDim(d) ? toI64(metadata.getSizes()[d]) : constant(type.getDimSize(d)),
            field(offsetof(tfm_buffer, sizes)) + d);
      store(toI64(metadata.getStrides()[d]), field(offsetof(tfm_buffer, strides)) + d);
    }
    args.push_back(record);
  }
  void i64(int64_t v) { args.push_back(constant(v)); }
  void i32(int32_t v) {
    args.push_back(arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v)));
  }
  void f64(double v) {
    args.push_back(arith::ConstantOp::create(b, loc, b.getF64FloatAttr(v)));
  }
  /// Appends `text` as a NUL-terminated `memref<?xi8>` (a private constant
  /// memref.global per distinct string).
  void string(Operation *op, StringRef text) {
    auto module = op->getParentOfType<ModuleOp>();
    std::string bytes = text.str() + '\0';
    auto type = MemRefType::get({static_cast<int64_t>(bytes.size())}, b.getI8Type());
    auto value = DenseElementsAttr::get(RankedTensorType::get(type.getShape(), b.getI8Type()),
                                        ArrayRef<char>(bytes.data(), bytes.size()));
    // Names are sanitized, so two strings can want one name: a suffix tells
    // them apart.
    std::string base = "__tfm_str_" + text.str();
    for (char &c : base)
      if (!llvm::isAlnum(c) && c != '_')
        c = '_';
    memref::GlobalOp global;
    for (int suffix = 0;; ++suffix) {
      std::string sym = suffix ? base + "_" + std::to_string(suffix) : base;
      Operation *existing = module.lookupSymbol(sym);
      if (!existing) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(module.getBody());
        global = memref::GlobalOp::create(b, loc, sym, b.getStringAttr("private"), type, value,
                                          /*constant=*/true, /*alignment=*/IntegerAttr());
        break;
      }
      auto found = dyn_cast<memref::GlobalOp>(existing);
      if (found && found.getType() == type && found.getInitialValue() == value) {
        global = found;
        break;
      }
    }
    Value ref = memref::GetGlobalOp::create(b, loc, type, global.getSymName());
    args.push_back(memref::CastOp::create(
        b, loc, MemRefType::get({ShapedType::kDynamic}, b.getI8Type()), ref));
  }
  /// Emits `func.call @tfm_rt_<name>(args)` returning `results`, declaring
  /// the function (private, `llvm.emit_c_interface`) at its first use.
  FailureOr<func::CallOp> call(Operation *op, StringRef name, TypeRange results = {}) {
    auto module = op->getParentOfType<ModuleOp>();
    auto type = FunctionType::get(b.getContext(), ValueRange(args).getTypes(), results);
    Operation *existing = module.lookupSymbol(name);
    auto callee = dyn_cast_or_null<func::FuncOp>(existing);
    if (existing && (!callee || callee.getFunctionType() != type))
      return op->emitError() << "the module already has a symbol '" << name
                             << "' that is not the runtime function " << type;
    if (!callee) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(module.getBody());
      callee = func::FuncOp::create(b, module.getLoc(), name, type);
      callee.setPrivate();
      callee->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(), b.getUnitAttr());
    }
    return func::CallOp::create(b, loc, callee, args);
  }

private:
  Value constant(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
  }

  ConversionPatternRewriter &b;
  Location loc;
  ArrayRef<Value> slots;
  unsigned numBuffers = 0;
  SmallVector<Value> args;
};

/// A onednn op on buffers -> `func.call @tfm_rt_<op>(records..., scalars...)`:
/// its operands in ODS order (which is the C interface's order; an absent
/// optional operand passes a record with data 0), then the op's attributes
/// as scalars. One entry of the call table in populateOneDNNToFuncPatterns
/// per op.
template <typename OpTy>
struct BufferOpToCall : OpConversionPattern<OpTy> {
  using Scalars = void (*)(OpTy, CallBuilder &);
  BufferOpToCall(MLIRContext *ctx, const RecordSlots &slots, StringRef callee,
                 unsigned numBuffers, Scalars scalars)
      : OpConversionPattern<OpTy>(ctx), slots(slots), callee(callee), numBuffers(numBuffers),
        scalars(scalars) {}

  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    unsigned operands = 0;
    for (unsigned i = 0; i < numBuffers; ++i)
      operands += op.getODSOperands(i).size();
    if (operands != op->getNumOperands() || numBuffers > kMaxBuffers)
      return rewriter.notifyMatchFailure(op, "the call table's buffer count is not the op's");
    auto it = slots.find(op->template getParentOfType<func::FuncOp>());
    if (it == slots.end())
      return rewriter.notifyMatchFailure(op, "not in a function");
    CallBuilder c(rewriter, op.getLoc(), it->second);
    for (unsigned i = 0; i < numBuffers; ++i) {
      auto operand = adaptor.getODSOperands(i);
      c.buffer(operand.empty() ? Value() : operand.front());
    }
    scalars(op, c);
    if (failed(c.call(op, callee)))
      return failure();
    rewriter.eraseOp(op);
    return success();
  }

  const RecordSlots &slots;
  StringRef callee;
  unsigned numBuffers;
  Scalars scalars;
};

/// Types the bytes a weight call returned: `memref.view` at offset 0.
Value viewAs(ConversionPatternRewriter &rewriter, Location loc, Value bytes, MemRefType type) {
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  return memref::ViewOp::create(rewriter, loc, type, bytes, zero, ValueRange{});
}

/// The result type of the weight calls: the tensor's bytes.
MemRefType bytesType(MLIRContext *ctx) {
  return MemRefType::get({ShapedType::kDynamic}, IntegerType::get(ctx, 8));
}

/// onednn.weight -> tfm_rt_weight(name, rank, d0..d3, dtype), viewed as its type.
struct WeightToCall : OpConversionPattern<onednn::WeightOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(onednn::WeightOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto type = cast<MemRefType>(op.getType());
    if (type.getRank() > 4 || !type.getLayout().isIdentity())
      return rewriter.notifyMatchFailure(op, "a weight of rank > 4 or with a layout");
    CallBuilder c(rewriter, op.getLoc(), {});
    c.string(op, op.getName());
    c.i64(type.getRank());
    for (int64_t i = 0; i < 4; ++i)
      c.i64(i < type.getRank() ? type.getDimSize(i) : 1);
    c.i32(*runtimeDtypeOf(type.getElementType()));
    auto call = c.call(op, "tfm_rt_weight", bytesType(rewriter.getContext()));
    if (failed(call))
      return failure();
    rewriter.replaceOp(op, viewAs(rewriter, op.getLoc(), (*call).getResult(0), type));
    return success();
  }
};

/// onednn.quantized_weight -> tfm_rt_quantized_weight(name, source d0, d1,
/// source dtype, transposed, bits, group, part) for part 0 (q) and 1
/// (scales), each viewed as its type.
struct QuantizedWeightToCall : OpConversionPattern<onednn::QuantizedWeightOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(onednn::QuantizedWeightOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto source = cast<MemRefType>(op.getSource());
    SmallVector<Value> results;
    for (int32_t part : {0, 1}) {
      auto type = cast<MemRefType>(op->getResult(part).getType());
      if (!type.getLayout().isIdentity())
        return rewriter.notifyMatchFailure(op, "a quantized weight with a layout");
      CallBuilder c(rewriter, op.getLoc(), {});
      c.string(op, op.getName());
      c.i64(source.getDimSize(0));
      c.i64(source.getDimSize(1));
      c.i32(*runtimeDtypeOf(source.getElementType()));
      c.i32(op.getTransposed() ? 1 : 0);
      c.i32(static_cast<int32_t>(op.getBits()));
      c.i64(op.getGroup());
      c.i32(part);
      auto call = c.call(op, "tfm_rt_quantized_weight", bytesType(rewriter.getContext()));
      if (failed(call))
        return failure();
      results.push_back(viewAs(rewriter, op.getLoc(), (*call).getResult(0), type));
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// Picks the entry function: `main`, else the only public function.
func::FuncOp findEntry(ModuleOp module) {
  if (auto f = module.lookupSymbol<func::FuncOp>("main"); f && !f.isExternal())
    return f;
  func::FuncOp only;
  for (auto f : module.getOps<func::FuncOp>()) {
    if (f.isExternal() || f.isPrivate())
      continue;
    if (only)
      return {};
    only = f;
  }
  return only;
}

struct ConvertOneDNNToFuncPass : tfm::impl::ConvertOneDNNToFuncBase<ConvertOneDNNToFuncPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    func::FuncOp entry = findEntry(module);
    if (!entry) {
      module.emitError() << "no entry function: expected a function named "
                            "'main' or exactly one public function";
      return signalPassFailure();
    }
    for (Type t : entry.getArgumentTypes()) {
      auto mt = dyn_cast<MemRefType>(t);
      if (!mt || !mt.getLayout().isIdentity()) {
        entry.emitError() << "entry arguments must be identity-layout "
                             "memrefs (run convert-tfm-to-onednn first), got "
                          << t;
        return signalPassFailure();
      }
      if (!runtimeDtypeOf(mt.getElementType())) {
        entry.emitError() << "entry argument of element type " << mt.getElementType()
                          << ", which the executables do not know (tfm_dtype)";
        return signalPassFailure();
      }
    }
    if (entry.getNumResults() != 0) {
      entry.emitError() << "the entry function must return its results through "
                           "arguments (run convert-tfm-to-onednn first)";
      return signalPassFailure();
    }
    if (module.lookupSymbol("tfm_model_main") && entry.getSymName() != "tfm_model_main") {
      module.emitError() << "the symbol 'tfm_model_main' is reserved for the entry function";
      return signalPassFailure();
    }

    // The contract with the executables' driver: the model info, and the
    // entry's buffer types for tfm-emit-entry (which runs after the
    // upstream lowering has replaced them by descriptor fields).
    ModelInfo info = collectModelInfo(entry);
    for (unsigned i = 0; i < entry.getNumArguments(); ++i) // recorded in `info` now
      for (StringRef key : {"onednn.result", "tfm.name", "tfm.role", "tfm.layer"})
        entry.removeArgAttr(i, key);
    SmallVector<Attribute> types;
    for (Type t : entry.getArgumentTypes())
      types.push_back(TypeAttr::get(t));
    entry->setAttr(kEntryTypesAttrName, ArrayAttr::get(ctx, types));
    if (failed(SymbolTable::replaceAllSymbolUses(
            entry, StringAttr::get(ctx, "tfm_model_main"), module)))
      return signalPassFailure();
    SymbolTable::setSymbolName(entry, "tfm_model_main");
    OpBuilder b(ctx);
    emitModelInfo(b, module, info);

    // What the calls cannot express, refused before anything changes.
    bool invalid = false;
    module.walk([&](Operation *op) {
      if (auto symbol = dyn_cast<SymbolOpInterface>(op);
          symbol && symbol.getName().starts_with("tfm_rt_")) {
        op->emitError() << "the symbol '" << symbol.getName()
                        << "': names beginning with 'tfm_rt_' are reserved for the "
                           "runtime's C interface";
        invalid = true;
      }
      if (!isa_and_present<onednn::OneDNNDialect>(op->getDialect()))
        return;
      if (!op->getParentOfType<func::FuncOp>()) {
        op->emitOpError() << "must be inside a func.func (the runtime is called from functions)";
        invalid = true;
        return;
      }
      for (Type t : llvm::concat<const Type>(op->getOperandTypes(), op->getResultTypes()))
        if (auto mt = dyn_cast<MemRefType>(t); mt && !runtimeDtypeOf(mt.getElementType())) {
          op->emitOpError() << "has a buffer of element type " << mt.getElementType()
                            << ", which the runtime does not know (tfm_dtype)";
          invalid = true;
          return;
        }
      // Weights are views of the bytes the runtime returns (memref.view:
      // identity layouts), of at most four dimensions (tfm_rt_weight).
      if (isa<onednn::WeightOp, onednn::QuantizedWeightOp>(op))
        for (Type t : op->getResultTypes())
          if (auto mt = cast<MemRefType>(t); mt.getRank() > 4 || !mt.getLayout().isIdentity()) {
            op->emitOpError() << "the runtime returns weights of at most 4 dimensions with "
                                 "the identity layout, not "
                              << mt;
            invalid = true;
            return;
          }
      for (Type t : llvm::concat<const Type>(op->getOperandTypes(), op->getResultTypes()))
        if (auto mt = dyn_cast<MemRefType>(t); mt && mt.getRank() > TFM_MAX_RANK) {
          op->emitOpError() << "has a buffer of rank " << mt.getRank()
                            << "; the runtime takes at most " << TFM_MAX_RANK
                            << " dimensions (TFM_MAX_RANK)";
          invalid = true;
          return;
        }
    });
    if (invalid)
      return signalPassFailure();

    // One set of buffer records per function that calls the runtime.
    RecordSlots slots;
    auto recordType = MemRefType::get({kRecordSize}, b.getI64Type());
    module.walk([&](func::FuncOp f) {
      if (f.isExternal() || !f->walk([](Operation *op) {
                                 return isa_and_present<onednn::OneDNNDialect>(op->getDialect())
                                            ? WalkResult::interrupt()
                                            : WalkResult::advance();
                               }).wasInterrupted())
        return;
      b.setInsertionPointToStart(&f.getBody().front());
      auto &records = slots[f];
      for (unsigned i = 0; i < kMaxBuffers; ++i)
        records.push_back(memref::AllocaOp::create(b, f.getLoc(), recordType));
    });

    RewritePatternSet patterns(ctx);
    populateOneDNNToFuncPatterns(patterns, slots);
    ConversionTarget target(*ctx);
    target.addIllegalDialect<onednn::OneDNNDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();
    // Records no call used (a function with fewer buffers per call).
    for (auto &[f, records] : slots)
      for (Value r : records)
        if (r.use_empty())
          r.getDefiningOp()->erase();
  }
};
} // namespace

template <typename OpTy>
static void addCall(RewritePatternSet &patterns, const RecordSlots &slots, StringRef callee,
                    unsigned numBuffers, typename BufferOpToCall<OpTy>::Scalars scalars) {
  patterns.add<BufferOpToCall<OpTy>>(patterns.getContext(), slots, callee, numBuffers, scalars);
}

void tfm::populateOneDNNToFuncPatterns(RewritePatternSet &patterns, const RecordSlots &slots) {
  using namespace onednn;
  // The call table: op, runtime function (tfm_runtime.h), number of buffer
  // operands, and the scalars that follow them.
  addCall<MatmulOp>(patterns, slots, "tfm_rt_matmul", 6, [](MatmulOp op, CallBuilder &c) {
    c.i32(static_cast<int32_t>(op.getActivation())); // a, b, bias, multiplier, residual, dst
    c.i32(op.getTransposeB() ? 1 : 0);
  });
  addCall<LayerNormOp>(patterns, slots, "tfm_rt_layer_norm", 4,
                       [](LayerNormOp op, CallBuilder &c) { // src, scale, shift, dst
                         c.f64(op.getEpsilon().convertToDouble());
                         c.i32(op.getRms() ? 1 : 0);
                       });
  addCall<CausalFillOp>(patterns, slots, "tfm_rt_causal_fill", 2,
                        [](CausalFillOp op, CallBuilder &c) { // src, dst
                          c.f64(op.getFill().convertToDouble());
                          c.i64(op.getWindowAttr().getInt());
                        });
  addCall<EltwiseOp>(patterns, slots, "tfm_rt_eltwise", 2,
                     [](EltwiseOp op, CallBuilder &c) { // src, dst
                       c.i32(static_cast<int32_t>(op.getKind()));
                       c.f64(op.getAlpha().convertToDouble());
                       c.f64(op.getBeta().convertToDouble());
                     });
  addCall<BinaryOp>(patterns, slots, "tfm_rt_binary", 3,
                    [](BinaryOp op, CallBuilder &c) { // lhs, rhs, dst
                      c.i32(static_cast<int32_t>(op.getKind()));
                    });
  addCall<SoftmaxOp>(patterns, slots, "tfm_rt_softmax", 2,
                     [](SoftmaxOp op, CallBuilder &c) { c.i64(op.getAxisAttr().getInt()); });
  addCall<ReorderOp>(patterns, slots, "tfm_rt_reorder", 2, [](ReorderOp, CallBuilder &) {});
  addCall<ReductionOp>(patterns, slots, "tfm_rt_reduction", 2,
                       [](ReductionOp op, CallBuilder &c) {
                         c.i32(static_cast<int32_t>(op.getKind()));
                       });
  addCall<QuantizedMatmulOp>(patterns, slots, "tfm_rt_quantized_matmul", 7,
                             [](QuantizedMatmulOp op, CallBuilder &c) {
                               // a, q, scales, bias, multiplier, residual, dst
                               c.i32(static_cast<int32_t>(op.getActivation()));
                               c.i32(static_cast<int32_t>(op.getBits()));
                               c.i64(op.getGroup());
                             });
  addCall<EmbeddingOp>(patterns, slots, "tfm_rt_embedding", 6,
                       [](EmbeddingOp op, CallBuilder &c) {
                         // tokens, table, table_scales, position_table, positions, dst
                         c.i32(static_cast<int32_t>(op.getPosition()));
                         c.i32(static_cast<int32_t>(op.getBits().value_or(0)));
                         c.i64(op.getGroup().value_or(0));
                       });
  addCall<SequenceFillOp>(patterns, slots, "tfm_rt_sequence_fill", 3,
                          [](SequenceFillOp op, CallBuilder &c) { // src, sequence_ids, dst
                            c.f64(op.getFill().convertToDouble());
                          });
  addCall<SdpaOp>(patterns, slots, "tfm_rt_sdpa", 11, [](SdpaOp op, CallBuilder &c) {
    // q, k, v, past_k, past_v, positions, inv_freq, sequences, dst, present_k, present_v
    c.i64(op.getNumHeadsAttr().getInt());
    c.i64(op.getNumKvHeads() ? static_cast<int64_t>(*op.getNumKvHeads())
                             : op.getNumHeadsAttr().getInt());
    c.f64(op.getScale().convertToDouble());
    c.i32(op.getCausal() ? 1 : 0);
    c.i64(op.getWindow() ? static_cast<int64_t>(*op.getWindow()) : 0);
  });
  // The weights: the bytes the runtime returns, viewed as their types.
  patterns.add<WeightToCall, QuantizedWeightToCall>(patterns.getContext());
}
