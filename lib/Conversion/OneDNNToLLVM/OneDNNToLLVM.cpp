//===- OneDNNToLLVM.cpp - Lower onednn ops to tfm runtime calls -----------===//
//
// Turns every onednn op into an `llvm.call` of the tfm runtime's C ABI
// (include/tfm/Runtime/tfm_runtime.h), lowers memref/arith/func with MLIR's
// standard patterns, and adds the `tfm_entry` wrapper and the `tfm_model`
// info (ModelInfo.cpp) that the executables' driver uses to call the model.
//
// Expects `expand-strided-metadata` and `lower-affine` to have run (the
// `tfm-to-llvm` pipeline does that), so views are reinterpret_casts.
//
//===----------------------------------------------------------------------===//

#include "tfm/Conversion/Passes.h"
#include "tfm/Runtime/tfm_runtime.h"
#include "ModelInfo.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/Pattern.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/Support/raw_ostream.h"
#include <cstdio>

#define DEBUG_TYPE "convert-onednn-to-llvm"

namespace tfm {
#define GEN_PASS_DEF_CONVERTONEDNNTOLLVM
#include "tfm/Conversion/Passes.h.inc"
} // namespace tfm

using namespace mlir;
using namespace tfm;

namespace {

/// Builds the argument list of one runtime call: buffers as (descriptor
/// pointer, rank, dtype), then scalars.
class CallBuilder {
public:
  CallBuilder(ConversionPatternRewriter &rewriter, Location loc)
      : b(rewriter), loc(loc) {}

  /// Appends a buffer: `converted` is the LLVM descriptor of `original`, which
  /// is stored into a stack slot in the function's entry block.
  void buffer(Value original, Value converted) {
    auto ptrType = LLVM::LLVMPointerType::get(b.getContext());
    if (!original) {
      args.push_back(LLVM::ZeroOp::create(b, loc, ptrType));
      i64(0);
      i32(0);
      return;
    }
    auto mt = cast<MemRefType>(original.getType());
    Value slot;
    {
      OpBuilder::InsertionGuard guard(b);
      auto func = b.getInsertionBlock()->getParent()->getParentOfType<LLVM::LLVMFuncOp>();
      if (func)
        b.setInsertionPointToStart(&func.getBody().front());
      Value one = LLVM::ConstantOp::create(b, loc, b.getI64Type(), b.getI64IntegerAttr(1));
      slot = LLVM::AllocaOp::create(b, loc, ptrType, converted.getType(), one, 8);
    }
    LLVM::StoreOp::create(b, loc, converted, slot);
    args.push_back(slot);
    i64(mt.getRank());
    i32(runtimeDtype(mt.getElementType()));
  }
  void i64(int64_t v) {
    args.push_back(LLVM::ConstantOp::create(b, loc, b.getI64Type(), b.getI64IntegerAttr(v)));
  }
  void i32(int32_t v) {
    args.push_back(LLVM::ConstantOp::create(b, loc, b.getI32Type(), b.getI32IntegerAttr(v)));
  }
  void f64(double v) {
    args.push_back(LLVM::ConstantOp::create(b, loc, b.getF64Type(), b.getF64FloatAttr(v)));
  }
  /// Appends a pointer to a NUL-terminated global copy of `text`.
  void string(Operation *op, StringRef text) {
    auto module = op->getParentOfType<ModuleOp>();
    std::string sym = ("__tfm_str_" + text).str();
    for (char &c : sym)
      if (!llvm::isAlnum(c) && c != '_')
        c = '_';
    auto global = module.lookupSymbol<LLVM::GlobalOp>(sym);
    if (!global) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(module.getBody());
      std::string bytes = text.str() + '\0';
      global = LLVM::GlobalOp::create(b, loc, LLVM::LLVMArrayType::get(b.getI8Type(), bytes.size()),
                                      /*isConstant=*/true, LLVM::Linkage::Internal, sym,
                                      b.getStringAttr(bytes));
    }
    args.push_back(LLVM::AddressOfOp::create(b, loc, global));
  }
  /// Emits the call of `tfm_rt_<name>`; returns its result if `result` is set.
  Value call(Operation *op, StringRef name, Type result = {}) {
    auto module = op->getParentOfType<ModuleOp>();
    LLVM::LLVMFuncOp callee = module.lookupSymbol<LLVM::LLVMFuncOp>(name);
    if (!callee) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(module.getBody());
      Type ret = result ? result : LLVM::LLVMVoidType::get(b.getContext());
      callee = LLVM::LLVMFuncOp::create(
          b, module.getLoc(), name,
          LLVM::LLVMFunctionType::get(ret, SmallVector<Type>(ValueRange(args).getTypes())));
    }
    auto c = LLVM::CallOp::create(b, loc, callee, args);
    return result ? c.getResult() : Value();
  }

private:
  ConversionPatternRewriter &b;
  Location loc;
  SmallVector<Value> args;
};

/// A onednn op on buffers -> `tfm_rt_<op>(buffers..., scalars...)`: its
/// operands in ODS order (which is the C ABI's order; an absent optional
/// operand passes a null buffer), then the op's attributes as scalars. One
/// entry of the call table in populateOneDNNToLLVMPatterns per op.
template <typename OpTy>
struct BufferOpToCall : ConvertOpToLLVMPattern<OpTy> {
  using Scalars = void (*)(OpTy, CallBuilder &);
  BufferOpToCall(const LLVMTypeConverter &converter, StringRef callee, unsigned numBuffers,
                 Scalars scalars)
      : ConvertOpToLLVMPattern<OpTy>(converter), callee(callee), numBuffers(numBuffers),
        scalars(scalars) {}

  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    unsigned operands = 0;
    for (unsigned i = 0; i < numBuffers; ++i)
      operands += op.getODSOperands(i).size();
    if (operands != op->getNumOperands())
      return rewriter.notifyMatchFailure(op, "the call table's buffer count is not the op's");
    CallBuilder c(rewriter, op.getLoc());
    for (unsigned i = 0; i < numBuffers; ++i) {
      auto original = op.getODSOperands(i);
      auto converted = adaptor.getODSOperands(i);
      c.buffer(original.empty() ? Value() : original.front(),
               converted.empty() ? Value() : converted.front());
    }
    scalars(op, c);
    c.call(op, callee);
    rewriter.eraseOp(op);
    return success();
  }

  StringRef callee;
  unsigned numBuffers;
  Scalars scalars;
};

/// onednn.weight -> tfm_rt_weight(name, rank, d0..d3, dtype), as a static descriptor.
struct WeightToCall : ConvertOpToLLVMPattern<onednn::WeightOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;
  LogicalResult matchAndRewrite(onednn::WeightOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto type = op.getType();
    if (type.getRank() > 4)
      return rewriter.notifyMatchFailure(op, "weights of rank > 4");
    CallBuilder c(rewriter, op.getLoc());
    c.string(op, op.getName());
    c.i64(type.getRank());
    for (int64_t i = 0; i < 4; ++i)
      c.i64(i < type.getRank() ? type.getDimSize(i) : 1);
    c.i32(runtimeDtype(type.getElementType()));
    Value ptr = c.call(op, "tfm_rt_weight", LLVM::LLVMPointerType::get(rewriter.getContext()));
    Value desc = MemRefDescriptor::fromStaticShape(rewriter, op.getLoc(), *getTypeConverter(),
                                                   type, ptr);
    rewriter.replaceOp(op, desc);
    return success();
  }
};

/// onednn.quantized_weight -> tfm_rt_quantized_weight(name, source d0, d1, source dtype,
/// transposed, bits, group, part) for part 0 (q) and 1 (scales), as static descriptors.
struct QuantizedWeightToCall : ConvertOpToLLVMPattern<onednn::QuantizedWeightOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;
  LogicalResult matchAndRewrite(onednn::QuantizedWeightOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto source = cast<MemRefType>(op.getSource());
    SmallVector<Value> results;
    for (int32_t part : {0, 1}) {
      CallBuilder c(rewriter, op.getLoc());
      c.string(op, op.getName());
      c.i64(source.getDimSize(0));
      c.i64(source.getDimSize(1));
      c.i32(runtimeDtype(source.getElementType()));
      c.i32(op.getTransposed() ? 1 : 0);
      c.i32(static_cast<int32_t>(op.getBits()));
      c.i64(op.getGroup());
      c.i32(part);
      Value ptr = c.call(op, "tfm_rt_quantized_weight",
                         LLVM::LLVMPointerType::get(rewriter.getContext()));
      results.push_back(MemRefDescriptor::fromStaticShape(
          rewriter, op.getLoc(), *getTypeConverter(),
          cast<MemRefType>(op->getResult(part).getType()), ptr));
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

struct ConvertOneDNNToLLVMPass
    : tfm::impl::ConvertOneDNNToLLVMBase<ConvertOneDNNToLLVMPass> {
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
    }
    if (entry.getNumResults() != 0) {
      entry.emitError() << "the entry function must return its results through "
                           "arguments (run convert-tfm-to-onednn first)";
      return signalPassFailure();
    }
    ModelInfo info = collectModelInfo(entry);
    for (unsigned i = 0; i < entry.getNumArguments(); ++i) // recorded in `info` now
      for (StringRef key : {"onednn.result", "tfm.name", "tfm.role", "tfm.layer"})
        entry.removeArgAttr(i, key);
    SmallVector<Type> argTypes(entry.getArgumentTypes());
    if (failed(SymbolTable::replaceAllSymbolUses(
            entry, StringAttr::get(ctx, "tfm_model_main"), module)))
      return signalPassFailure();
    SymbolTable::setSymbolName(entry, "tfm_model_main");

    LowerToLLVMOptions options(ctx);
    LLVMTypeConverter converter(ctx, options);
    RewritePatternSet patterns(ctx);
    populateOneDNNToLLVMPatterns(converter, patterns);
    populateFinalizeMemRefToLLVMConversionPatterns(converter, patterns);
    populateFuncToLLVMConversionPatterns(converter, patterns);
    arith::populateArithToLLVMConversionPatterns(converter, patterns);
    cf::populateControlFlowToLLVMConversionPatterns(converter, patterns);
    LLVMConversionTarget target(*ctx);
    target.addLegalOp<ModuleOp>();
    if (failed(applyFullConversion(module, target, std::move(patterns))))
      return signalPassFailure();

    // void tfm_entry(void **buffers, const int64_t *dims): builds a contiguous
    // descriptor for each buffer (dynamic sizes read in order from `dims`) and
    // calls the model with the descriptors' fields.
    OpBuilder b(ctx);
    b.setInsertionPointToEnd(module.getBody());
    Location loc = module.getLoc();
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    auto voidType = LLVM::LLVMVoidType::get(ctx);
    auto i64 = b.getI64Type();
    auto wrapper = LLVM::LLVMFuncOp::create(
        b, loc, "tfm_entry", LLVM::LLVMFunctionType::get(voidType, {ptrType, ptrType}));
    Block *body = wrapper.addEntryBlock(b);
    b.setInsertionPointToStart(body);
    SmallVector<Value> callArgs;
    int32_t nextDim = 0;
    auto constant = [&](int64_t v) {
      return LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v));
    };
    for (unsigned i = 0; i < argTypes.size(); ++i) {
      auto mt = cast<MemRefType>(argTypes[i]);
      Value slot = LLVM::GEPOp::create(b, loc, ptrType, ptrType, body->getArgument(0),
                                       ArrayRef<LLVM::GEPArg>{(int32_t)i});
      Value ptr = LLVM::LoadOp::create(b, loc, ptrType, slot);
      SmallVector<Value> sizes(mt.getRank()), strides(mt.getRank());
      for (int64_t d = 0; d < mt.getRank(); ++d) {
        if (mt.isDynamicDim(d)) {
          Value dslot = LLVM::GEPOp::create(b, loc, ptrType, i64, body->getArgument(1),
                                            ArrayRef<LLVM::GEPArg>{nextDim++});
          sizes[d] = LLVM::LoadOp::create(b, loc, i64, dslot);
        } else {
          sizes[d] = constant(mt.getDimSize(d));
        }
      }
      Value stride = constant(1);
      for (int64_t d = mt.getRank() - 1; d >= 0; --d) {
        strides[d] = stride;
        stride = LLVM::MulOp::create(b, loc, stride, sizes[d]);
      }
      callArgs.append({ptr, ptr, constant(0)});
      callArgs.append(sizes);
      callArgs.append(strides);
    }
    auto model = module.lookupSymbol<LLVM::LLVMFuncOp>("tfm_model_main");
    LLVM::CallOp::create(b, loc, model, callArgs);
    LLVM::ReturnOp::create(b, loc, ValueRange{});

    // const tfm_model_info tfm_model = {...};
    emitModelInfo(b, module, info);
  }
};
} // namespace

template <typename OpTy>
static void addCall(RewritePatternSet &patterns, LLVMTypeConverter &converter, StringRef callee,
                    unsigned numBuffers, typename BufferOpToCall<OpTy>::Scalars scalars) {
  patterns.add<BufferOpToCall<OpTy>>(converter, callee, numBuffers, scalars);
}

void tfm::populateOneDNNToLLVMPatterns(LLVMTypeConverter &converter,
                                       RewritePatternSet &patterns) {
  using namespace onednn;
  // The call table: op, runtime function (tfm_runtime.h), number of buffer
  // operands, and the scalars that follow them.
  addCall<MatmulOp>(patterns, converter, "tfm_rt_matmul", 5, [](MatmulOp op, CallBuilder &c) {
    c.i32(static_cast<int32_t>(op.getActivation())); // a, b, bias, residual, dst
    c.i32(op.getTransposeB() ? 1 : 0);
  });
  addCall<LayerNormOp>(patterns, converter, "tfm_rt_layer_norm", 4,
                       [](LayerNormOp op, CallBuilder &c) { // src, scale, shift, dst
                         c.f64(op.getEpsilon().convertToDouble());
                       });
  addCall<EltwiseOp>(patterns, converter, "tfm_rt_eltwise", 2,
                     [](EltwiseOp op, CallBuilder &c) { // src, dst
                       c.i32(static_cast<int32_t>(op.getKind()));
                       c.f64(op.getAlpha().convertToDouble());
                       c.f64(op.getBeta().convertToDouble());
                     });
  addCall<BinaryOp>(patterns, converter, "tfm_rt_binary", 3,
                    [](BinaryOp op, CallBuilder &c) { // lhs, rhs, dst
                      c.i32(static_cast<int32_t>(op.getKind()));
                    });
  addCall<SoftmaxOp>(patterns, converter, "tfm_rt_softmax", 2,
                     [](SoftmaxOp op, CallBuilder &c) { c.i64(op.getAxisAttr().getInt()); });
  addCall<ReorderOp>(patterns, converter, "tfm_rt_reorder", 2, [](ReorderOp, CallBuilder &) {});
  addCall<ReductionOp>(patterns, converter, "tfm_rt_reduction", 2,
                       [](ReductionOp op, CallBuilder &c) {
                         c.i32(static_cast<int32_t>(op.getKind()));
                       });
  addCall<QuantizedMatmulOp>(patterns, converter, "tfm_rt_quantized_matmul", 6,
                             [](QuantizedMatmulOp op, CallBuilder &c) {
                               // a, q, scales, bias, residual, dst
                               c.i32(static_cast<int32_t>(op.getActivation()));
                               c.i32(static_cast<int32_t>(op.getBits()));
                               c.i64(op.getGroup());
                             });
  addCall<EmbeddingOp>(patterns, converter, "tfm_rt_embedding", 6,
                       [](EmbeddingOp op, CallBuilder &c) {
                         // tokens, table, table_scales, position_table, positions, dst
                         c.i32(static_cast<int32_t>(op.getPosition()));
                         c.i32(static_cast<int32_t>(op.getBits().value_or(0)));
                         c.i64(op.getGroup().value_or(0));
                       });
  addCall<SdpaOp>(patterns, converter, "tfm_rt_sdpa", 9, [](SdpaOp op, CallBuilder &c) {
    // q, k, v, past_k, past_v, positions, dst, present_k, present_v
    c.i64(op.getNumHeadsAttr().getInt());
    c.f64(op.getScale().convertToDouble());
    c.i32(op.getCausal() ? 1 : 0);
    c.i64(op.getRopeDimAttr().getInt());
    c.f64(op.getRopeTheta().convertToDouble());
  });
  // The weights become static descriptors of the pointers the runtime returns.
  patterns.add<WeightToCall, QuantizedWeightToCall>(converter);
}
