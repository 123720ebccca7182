//===- OneDNNToLLVM.cpp - Lower onednn ops to tfm runtime calls -----------===//
//
// Turns every onednn op into an `llvm.call` of the tfm runtime's C ABI
// (include/tfm/Runtime/tfm_runtime.h), lowers memref/arith/func with MLIR's
// standard patterns, and adds the `tfm_entry` wrapper and `tfm_signature`
// string that the runtime's driver uses to call the model.
//
// Expects `expand-strided-metadata` and `lower-affine` to have run (the
// `tfm-to-llvm` pipeline does that), so views are reinterpret_casts.
//
//===----------------------------------------------------------------------===//

#include "tfm/Conversion/Passes.h"
#include "tfm/Runtime/tfm_runtime.h"

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

#define DEBUG_TYPE "convert-onednn-to-llvm"

namespace tfm {
#define GEN_PASS_DEF_CONVERTONEDNNTOLLVM
#include "tfm/Conversion/Passes.h.inc"
} // namespace tfm

using namespace mlir;
using namespace tfm;

namespace {

/// The runtime's code for an element type (TFM_DTYPE_* in tfm_runtime.h).
int32_t dtypeCode(Type t) {
  if (t.isF32()) return TFM_DTYPE_F32;
  if (t.isF16()) return TFM_DTYPE_F16;
  if (t.isBF16()) return TFM_DTYPE_BF16;
  if (t.isInteger(32)) return TFM_DTYPE_I32;
  if (t.isInteger(64)) return TFM_DTYPE_I64;
  return TFM_DTYPE_U8;
}

/// Finds `name` in the module or declares it as `void name(args...)`.
LLVM::LLVMFuncOp getOrDeclare(OpBuilder &b, ModuleOp module, StringRef name,
                              TypeRange args) {
  if (auto f = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
    return f;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  auto type = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(b.getContext()),
                                          SmallVector<Type>(args));
  return LLVM::LLVMFuncOp::create(b, module.getLoc(), name, type);
}

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
    i32(dtypeCode(mt.getElementType()));
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
  /// Emits the call of `tfm_rt_<name>`.
  void call(Operation *op, StringRef name) {
    auto module = op->getParentOfType<ModuleOp>();
    auto callee = getOrDeclare(b, module, name, ValueRange(args).getTypes());
    LLVM::CallOp::create(b, loc, callee, args);
  }

private:
  ConversionPatternRewriter &b;
  Location loc;
  SmallVector<Value> args;
};

/// onednn.matmul -> tfm_rt_matmul(a, b, bias, residual, dst, activation, transpose_b).
struct MatmulToCall : ConvertOpToLLVMPattern<onednn::MatmulOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;
  LogicalResult matchAndRewrite(onednn::MatmulOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    CallBuilder c(rewriter, op.getLoc());
    c.buffer(op.getA(), adaptor.getA());
    c.buffer(op.getB(), adaptor.getB());
    c.buffer(op.getBias(), adaptor.getBias());
    c.buffer(op.getResidual(), adaptor.getResidual());
    c.buffer(op.getDst(), adaptor.getDst());
    c.i32(static_cast<int32_t>(op.getActivation()));
    c.i32(op.getTransposeB() ? 1 : 0);
    c.call(op, "tfm_rt_matmul");
    rewriter.eraseOp(op);
    return success();
  }
};

/// onednn.layer_norm -> tfm_rt_layer_norm(src, scale, shift, dst, epsilon).
struct LayerNormToCall : ConvertOpToLLVMPattern<onednn::LayerNormOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;
  LogicalResult matchAndRewrite(onednn::LayerNormOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    CallBuilder c(rewriter, op.getLoc());
    c.buffer(op.getSrc(), adaptor.getSrc());
    c.buffer(op.getScale(), adaptor.getScale());
    c.buffer(op.getShift(), adaptor.getShift());
    c.buffer(op.getDst(), adaptor.getDst());
    c.f64(op.getEpsilon().convertToDouble());
    c.call(op, "tfm_rt_layer_norm");
    rewriter.eraseOp(op);
    return success();
  }
};

/// onednn.eltwise -> tfm_rt_eltwise(src, dst, kind, alpha, beta).
struct EltwiseToCall : ConvertOpToLLVMPattern<onednn::EltwiseOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;
  LogicalResult matchAndRewrite(onednn::EltwiseOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    CallBuilder c(rewriter, op.getLoc());
    c.buffer(op.getSrc(), adaptor.getSrc());
    c.buffer(op.getDst(), adaptor.getDst());
    c.i32(static_cast<int32_t>(op.getKind()));
    c.f64(op.getAlpha().convertToDouble());
    c.f64(op.getBeta().convertToDouble());
    c.call(op, "tfm_rt_eltwise");
    rewriter.eraseOp(op);
    return success();
  }
};

/// onednn.binary -> tfm_rt_binary(lhs, rhs, dst, kind).
struct BinaryToCall : ConvertOpToLLVMPattern<onednn::BinaryOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;
  LogicalResult matchAndRewrite(onednn::BinaryOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    CallBuilder c(rewriter, op.getLoc());
    c.buffer(op.getLhs(), adaptor.getLhs());
    c.buffer(op.getRhs(), adaptor.getRhs());
    c.buffer(op.getDst(), adaptor.getDst());
    c.i32(static_cast<int32_t>(op.getKind()));
    c.call(op, "tfm_rt_binary");
    rewriter.eraseOp(op);
    return success();
  }
};

/// onednn.softmax -> tfm_rt_softmax(src, dst, axis).
struct SoftmaxToCall : ConvertOpToLLVMPattern<onednn::SoftmaxOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;
  LogicalResult matchAndRewrite(onednn::SoftmaxOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    CallBuilder c(rewriter, op.getLoc());
    c.buffer(op.getSrc(), adaptor.getSrc());
    c.buffer(op.getDst(), adaptor.getDst());
    c.i64(op.getAxisAttr().getInt());
    c.call(op, "tfm_rt_softmax");
    rewriter.eraseOp(op);
    return success();
  }
};

/// onednn.reorder -> tfm_rt_reorder(src, dst).
struct ReorderToCall : ConvertOpToLLVMPattern<onednn::ReorderOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;
  LogicalResult matchAndRewrite(onednn::ReorderOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    CallBuilder c(rewriter, op.getLoc());
    c.buffer(op.getSrc(), adaptor.getSrc());
    c.buffer(op.getDst(), adaptor.getDst());
    c.call(op, "tfm_rt_reorder");
    rewriter.eraseOp(op);
    return success();
  }
};

/// onednn.reduction -> tfm_rt_reduction(src, dst, kind).
struct ReductionToCall : ConvertOpToLLVMPattern<onednn::ReductionOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;
  LogicalResult matchAndRewrite(onednn::ReductionOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    CallBuilder c(rewriter, op.getLoc());
    c.buffer(op.getSrc(), adaptor.getSrc());
    c.buffer(op.getDst(), adaptor.getDst());
    c.i32(static_cast<int32_t>(op.getKind()));
    c.call(op, "tfm_rt_reduction");
    rewriter.eraseOp(op);
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

/// `in f32 4x8;in f32 8x16;out f32 4x16`: what the runtime's driver reads.
std::string describeSignature(func::FuncOp entry) {
  std::string s;
  llvm::raw_string_ostream os(s);
  for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
    auto mt = cast<MemRefType>(entry.getArgumentTypes()[i]);
    if (i)
      os << ";";
    os << (entry.getArgAttr(i, "onednn.result") ? "out " : "in ");
    mt.getElementType().print(os);
    os << " ";
    if (mt.getRank() == 0)
      os << "scalar";
    llvm::interleave(mt.getShape(), os, "x");
  }
  return s;
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
      if (!mt || !mt.hasStaticShape() || !mt.getLayout().isIdentity()) {
        entry.emitError() << "entry arguments must be static identity-layout "
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
    std::string signature = describeSignature(entry);
    for (unsigned i = 0; i < entry.getNumArguments(); ++i)
      entry.removeArgAttr(i, "onednn.result"); // recorded in the signature now
    SmallVector<Type> argTypes(entry.getArgumentTypes());
    if (failed(SymbolTable::replaceAllSymbolUses(
            entry, StringAttr::get(ctx, "tfm_model_main"), module)))
      return signalPassFailure();
    SymbolTable::setSymbolName(entry, "tfm_model_main");

    LowerToLLVMOptions options(ctx);
    options.useBarePtrCallConv = true;
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

    // void tfm_entry(void **buffers): unpacks the buffer array and calls the model.
    OpBuilder b(ctx);
    b.setInsertionPointToEnd(module.getBody());
    Location loc = module.getLoc();
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    auto voidType = LLVM::LLVMVoidType::get(ctx);
    auto wrapper = LLVM::LLVMFuncOp::create(
        b, loc, "tfm_entry", LLVM::LLVMFunctionType::get(voidType, {ptrType}));
    Block *body = wrapper.addEntryBlock(b);
    b.setInsertionPointToStart(body);
    SmallVector<Value> ptrs;
    for (unsigned i = 0; i < argTypes.size(); ++i) {
      Value slot = LLVM::GEPOp::create(b, loc, ptrType, ptrType, body->getArgument(0),
                                       ArrayRef<LLVM::GEPArg>{(int32_t)i});
      ptrs.push_back(LLVM::LoadOp::create(b, loc, ptrType, slot));
    }
    auto model = module.lookupSymbol<LLVM::LLVMFuncOp>("tfm_model_main");
    LLVM::CallOp::create(b, loc, model, ptrs);
    LLVM::ReturnOp::create(b, loc, ValueRange{});

    // const char tfm_signature[] = "...";
    b.setInsertionPointToEnd(module.getBody());
    std::string text = signature + '\0';
    auto arrayType = LLVM::LLVMArrayType::get(b.getI8Type(), text.size());
    LLVM::GlobalOp::create(b, loc, arrayType, /*isConstant=*/true,
                           LLVM::Linkage::External, "tfm_signature",
                           b.getStringAttr(text));
  }
};
} // namespace

void tfm::populateOneDNNToLLVMPatterns(LLVMTypeConverter &converter,
                                       RewritePatternSet &patterns) {
  patterns.add<MatmulToCall, LayerNormToCall, EltwiseToCall, BinaryToCall,
               SoftmaxToCall, ReorderToCall, ReductionToCall>(converter);
}
