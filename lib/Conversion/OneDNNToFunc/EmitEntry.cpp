//===- EmitEntry.cpp - The tfm_entry wrapper of the lowered model ---------===//
//
// After the upstream lowering to LLVM, adds
// `void tfm_entry(void **buffers, const int64_t *dims)`, the one function
// the executables' driver calls: for each buffer of `tfm_model_main` (whose
// memref types convert-onednn-to-func recorded in `tfm.entry_types`) it
// builds a contiguous descriptor from the data pointer and the dynamic
// sizes, read in order from `dims`, and calls the model with the
// descriptors' fields (MLIR's default calling convention for memrefs).
//
//===----------------------------------------------------------------------===//

#include "tfm/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace tfm {
#define GEN_PASS_DEF_TFMEMITENTRY
#include "tfm/Conversion/Passes.h.inc"
} // namespace tfm

using namespace mlir;
using namespace tfm;

namespace {
struct EmitEntryPass : tfm::impl::TfmEmitEntryBase<EmitEntryPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    auto model = module.lookupSymbol<LLVM::LLVMFuncOp>("tfm_model_main");
    auto types = model ? model->getAttrOfType<ArrayAttr>(kEntryTypesAttrName) : ArrayAttr();
    if (!types) {
      module.emitError() << "no LLVM function 'tfm_model_main' with '" << kEntryTypesAttrName
                         << "': run convert-onednn-to-func and the lowering to LLVM first";
      return signalPassFailure();
    }
    if (module.lookupSymbol("tfm_entry")) {
      module.emitError() << "the module already has a symbol 'tfm_entry'";
      return signalPassFailure();
    }
    model->removeAttr(kEntryTypesAttrName);

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
    for (auto [i, attr] : llvm::enumerate(types)) {
      auto typeAttr = dyn_cast<TypeAttr>(attr);
      auto mt = typeAttr ? dyn_cast<MemRefType>(typeAttr.getValue()) : MemRefType();
      if (!mt) {
        module.emitError() << "'" << kEntryTypesAttrName << "' must list memref types, got "
                           << attr;
        return signalPassFailure();
      }
      Value slot = LLVM::GEPOp::create(b, loc, ptrType, ptrType, body->getArgument(0),
                                       ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
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
    if (callArgs.size() != model.getNumArguments()) {
      model.emitError() << "takes " << model.getNumArguments() << " arguments, but the "
                        << types.size() << " buffers of '" << kEntryTypesAttrName
                        << "' are passed as " << callArgs.size()
                        << " (expected MLIR's default calling convention for memrefs)";
      return signalPassFailure();
    }
    LLVM::CallOp::create(b, loc, model, callArgs);
    LLVM::ReturnOp::create(b, loc, ValueRange{});
  }
};
} // namespace
