//===- ModelInfo.cpp - Emit the typed model info for the driver -----------===//
//
// Builds `tfm_model` (tfm_model_info, include/tfm/Runtime/tfm_runtime.h):
// per buffer of the entry function its name, whether it is an output, its
// role and layer, tfm_dtype, rank, static sizes and which size of a call
// each dynamic dimension equals. The executables' driver reads this
// structure instead of guessing sizes from buffer names.
//
//===----------------------------------------------------------------------===//

#include "ModelInfo.h"

#include "tfm/Dialect/Tfm/IR/Tfm.h"
#include "tfm/Runtime/tfm_runtime.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace tfm;

std::optional<int32_t> tfm::runtimeDtypeOf(Type t) {
  if (t.isF32()) return TFM_DTYPE_F32;
  if (t.isF16()) return TFM_DTYPE_F16;
  if (t.isBF16()) return TFM_DTYPE_BF16;
  if (t.isUnsignedInteger(8)) return TFM_DTYPE_U8;
  if (t.isInteger(32)) return TFM_DTYPE_I32;
  if (t.isInteger(64)) return TFM_DTYPE_I64;
  if (t.isInteger(8)) return TFM_DTYPE_I8;
  return std::nullopt;
}

namespace {
/// Which call size dimension `d` of a buffer with `role` equals.
int32_t dimSizeOf(int32_t role, int64_t d) {
  if (d != 0)
    return TFM_DIM_STATIC;
  switch (role) {
  case TFM_ROLE_TOKENS:
  case TFM_ROLE_POSITIONS:
  case TFM_ROLE_TOKEN_TYPES:
  case TFM_ROLE_SEQUENCE_IDS:
  case TFM_ROLE_HIDDEN: return TFM_DIM_NEW_TOKENS;
  case TFM_ROLE_LOGIT_ROWS:
  case TFM_ROLE_LOGITS: return TFM_DIM_LOGIT_ROWS;
  case TFM_ROLE_PAST_KEY:
  case TFM_ROLE_PAST_VALUE: return TFM_DIM_PAST;
  case TFM_ROLE_PRESENT_KEY:
  case TFM_ROLE_PRESENT_VALUE: return TFM_DIM_PAST_AND_NEW;
  default: return TFM_DIM_STATIC;
  }
}
} // namespace

ModelInfo tfm::collectModelInfo(func::FuncOp entry) {
  ModelInfo info;
  auto module = entry->getParentOfType<ModuleOp>();
  if (auto ctx = module->getAttrOfType<IntegerAttr>("tfm.context_length"))
    info.contextLength = ctx.getInt();
  for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
    auto mt = cast<MemRefType>(entry.getArgumentTypes()[i]);
    EntryBuffer buf;
    buf.output = entry.getArgAttr(i, "onednn.result") != nullptr;
    if (auto name = entry.getArgAttrOfType<StringAttr>(i, "tfm.name"))
      buf.name = name.str();
    if (auto role = entry.getArgAttrOfType<StringAttr>(i, "tfm.role"))
      buf.role = bufferRoleCode(role.getValue()).value_or(TFM_ROLE_TENSOR);
    if (auto layer = entry.getArgAttrOfType<IntegerAttr>(i, "tfm.layer"))
      buf.layer = static_cast<int32_t>(layer.getInt());
    buf.dtype = runtimeDtypeOf(mt.getElementType()).value_or(TFM_DTYPE_U8); // checked by the pass
    for (int64_t d = 0; d < mt.getRank(); ++d) {
      bool dynamic = mt.isDynamicDim(d);
      buf.dims.push_back(dynamic ? -1 : mt.getDimSize(d));
      buf.dimSizes.push_back(dynamic ? dimSizeOf(buf.role, d) : TFM_DIM_STATIC);
    }
    info.buffers.push_back(std::move(buf));
  }
  return info;
}

void tfm::emitModelInfo(OpBuilder &b, ModuleOp module, const ModelInfo &info) {
  MLIRContext *ctx = b.getContext();
  Location loc = module.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i32 = b.getI32Type(), i64 = b.getI64Type();
  b.setInsertionPointToEnd(module.getBody());
  // A private constant global holding `value` (a string or a dense array);
  // returns its name.
  auto constantGlobal = [&](Type type, Attribute value, const std::string &name) {
    LLVM::GlobalOp::create(b, loc, type, /*isConstant=*/true, LLVM::Linkage::Private, name,
                           value);
    return name;
  };
  // Globals whose initializer is a region (they hold addresses).
  auto withInitializer = [&](Type type, const std::string &name, LLVM::Linkage linkage,
                             llvm::function_ref<Value(OpBuilder &)> build) {
    auto global = LLVM::GlobalOp::create(b, loc, type, /*isConstant=*/true, linkage, name,
                                         Attribute());
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(b.createBlock(&global.getInitializerRegion()));
    LLVM::ReturnOp::create(b, loc, build(b));
  };
  auto i32Const = [&](OpBuilder &ib, int64_t v) -> Value {
    return LLVM::ConstantOp::create(ib, loc, i32, ib.getI32IntegerAttr(static_cast<int32_t>(v)));
  };
  struct Names {
    std::string name, dims, sizes;
  };
  SmallVector<Names> names;
  for (auto [i, buf] : llvm::enumerate(info.buffers)) {
    std::string base = "tfm_model.buffer" + std::to_string(i);
    Names n;
    std::string text = buf.name + '\0';
    n.name = constantGlobal(LLVM::LLVMArrayType::get(b.getI8Type(), text.size()),
                            b.getStringAttr(text), base + ".name");
    if (!buf.dims.empty()) {
      int64_t rank = static_cast<int64_t>(buf.dims.size());
      n.dims = constantGlobal(
          LLVM::LLVMArrayType::get(i64, rank),
          DenseElementsAttr::get(RankedTensorType::get({rank}, i64), ArrayRef(buf.dims)),
          base + ".dims");
      n.sizes = constantGlobal(
          LLVM::LLVMArrayType::get(i32, rank),
          DenseElementsAttr::get(RankedTensorType::get({rank}, i32), ArrayRef(buf.dimSizes)),
          base + ".dim_sizes");
    }
    names.push_back(n);
  }
  // tfm_buffer_info {name, output, role, layer, dtype, rank, dims, dim_sizes}
  auto bufferType = LLVM::LLVMStructType::getLiteral(ctx, {ptr, i32, i32, i32, i32, i32, ptr, ptr});
  int64_t count = static_cast<int64_t>(info.buffers.size());
  auto arrayType = LLVM::LLVMArrayType::get(bufferType, count);
  if (count > 0)
    withInitializer(arrayType, "tfm_model.buffers", LLVM::Linkage::Private, [&](OpBuilder &ib) {
      Value array = LLVM::UndefOp::create(ib, loc, arrayType);
      auto address = [&](const std::string &name) -> Value {
        if (name.empty())
          return LLVM::ZeroOp::create(ib, loc, ptr);
        return LLVM::AddressOfOp::create(ib, loc, ptr, name);
      };
      for (auto [i, buf] : llvm::enumerate(info.buffers)) {
        int64_t at = static_cast<int64_t>(i);
        Value fields[] = {address(names[i].name), i32Const(ib, buf.output),
                          i32Const(ib, buf.role),   i32Const(ib, buf.layer),
                          i32Const(ib, buf.dtype),  i32Const(ib, buf.dims.size()),
                          address(names[i].dims),   address(names[i].sizes)};
        for (auto [f, value] : llvm::enumerate(fields))
          array = LLVM::InsertValueOp::create(ib, loc, array, value,
                                              ArrayRef<int64_t>{at, static_cast<int64_t>(f)});
      }
      return array;
    });
  // tfm_model_info {version, num_buffers, buffers, context_length}
  auto infoType = LLVM::LLVMStructType::getLiteral(ctx, {i32, i32, ptr, i64});
  withInitializer(infoType, "tfm_model", LLVM::Linkage::External, [&](OpBuilder &ib) {
    Value s = LLVM::UndefOp::create(ib, loc, infoType);
    Value buffers = count > 0 ? Value(LLVM::AddressOfOp::create(ib, loc, ptr, "tfm_model.buffers"))
                              : Value(LLVM::ZeroOp::create(ib, loc, ptr));
    Value fields[] = {i32Const(ib, TFM_MODEL_INFO_VERSION), i32Const(ib, count), buffers,
                      LLVM::ConstantOp::create(ib, loc, i64, ib.getI64IntegerAttr(info.contextLength))};
    for (auto [f, value] : llvm::enumerate(fields))
      s = LLVM::InsertValueOp::create(ib, loc, s, value, ArrayRef<int64_t>{static_cast<int64_t>(f)});
    return s;
  });
}
