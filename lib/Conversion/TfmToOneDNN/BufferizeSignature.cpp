//===- BufferizeSignature.cpp - Function signatures to memrefs ------------===//
//
// Part of convert-tfm-to-onednn: the entry function's tensors become memrefs
// and its results become output arguments (destination-passing style).
//
//===----------------------------------------------------------------------===//

#include "BufferizeSignature.h"

#include "tfm/Dialect/OneDNN/IR/OneDNN.h"
#include "tfm/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

/// Rewrites `func(tensors) -> tensors` into `func(memrefs, out memrefs)`: tensor
/// arguments become memrefs (bridged to their tensor uses by unrealized casts
/// that the conversion folds away), and each result is copied by
/// `onednn.reorder` into a trailing argument marked `onednn.result`.
LogicalResult tfm::bufferizeSignature(func::FuncOp func) {
  if (func.isExternal())
    return success();
  if (!func.getBody().hasOneBlock())
    return func.emitError() << "the oneDNN backend expects single-block functions";
  Block &entry = func.front();
  OpBuilder b(func.getContext());
  auto toMemref = [&](Type t, Location loc) -> FailureOr<MemRefType> {
    auto rt = dyn_cast<RankedTensorType>(t);
    if (!rt)
      return emitError(loc) << "the oneDNN backend needs ranked tensors, got " << t;
    return MemRefType::get(rt.getShape(), rt.getElementType());
  };
  b.setInsertionPointToStart(&entry);
  for (BlockArgument arg : entry.getArguments()) {
    auto mt = toMemref(arg.getType(), arg.getLoc());
    if (failed(mt))
      return failure();
    Type tensorType = arg.getType();
    arg.setType(*mt);
    auto cast = UnrealizedConversionCastOp::create(b, arg.getLoc(), tensorType, arg);
    arg.replaceAllUsesExcept(cast.getResult(0), cast);
  }
  auto ret = cast<func::ReturnOp>(entry.getTerminator());
  SmallVector<Value> outs;
  for (Value r : ret.getOperands()) {
    auto mt = toMemref(r.getType(), ret.getLoc());
    if (failed(mt))
      return failure();
    outs.push_back(entry.addArgument(*mt, ret.getLoc()));
  }
  b.setInsertionPoint(ret);
  for (auto [r, out] : llvm::zip(ret.getOperands(), outs)) {
    auto cast = UnrealizedConversionCastOp::create(b, ret.getLoc(), out.getType(), r);
    onednn::ReorderOp::create(b, ret.getLoc(), cast.getResult(0), out);
  }
  unsigned numInputs = func.getNumArguments();
  func::ReturnOp::create(b, ret.getLoc());
  ret.erase();
  SmallVector<DictionaryAttr> resultAttrs;
  func.getAllResultAttrs(resultAttrs);
  auto getResultAttrOf = [&](unsigned r, StringRef name) -> Attribute {
    return r < resultAttrs.size() && resultAttrs[r] ? resultAttrs[r].get(name) : Attribute();
  };
  func.setType(b.getFunctionType(entry.getArgumentTypes(), {}));
  func.setAllResultAttrs(ArrayRef<DictionaryAttr>{});
  for (unsigned i = numInputs; i < entry.getNumArguments(); ++i) {
    func.setArgAttr(i, "onednn.result", b.getUnitAttr());
    // What the result is (tfm.name, tfm.role, tfm.layer) moves to the
    // argument that receives it.
    for (StringRef key : {"tfm.name", "tfm.role", "tfm.layer"})
      if (Attribute value = getResultAttrOf(i - numInputs, key))
        func.setArgAttr(i, key, value);
  }
  return success();
}

