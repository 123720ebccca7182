//===- ExecutableWeights.cppm - The weights file an executable embeds -*- C++ -*-===//
//
// The `tfm.executable_weights` module: after onednn-quantize-weights, the
// tensors the lowered IR reads are not the model's file any more: tfmc
// writes them (each onednn.weight copied, each onednn.quantized_weight's
// integers and scales computed by tfm.quant) into one new safetensors file,
// which the executable embeds instead of the model's. Only what the IR
// reads is written, so an int8 GPT-2 embeds ~1/4 and an int4 one ~1/7 of
// the f32 bytes.
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Dialect/OneDNN/IR/OneDNN.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>
export module tfm.executable_weights;

import tfm.safetensors;
import tfm.quant;

export namespace tfm::driver {

/// Whether the lowered `module` reads quantized weights (then the model's
/// file is not what the executable can embed).
bool readsQuantizedWeights(mlir::ModuleOp module) {
  bool found = false;
  module.walk([&](onednn::QuantizedWeightOp) { found = true; });
  return found;
}

/// Writes every weight the lowered `module` reads, from `source`, into the
/// safetensors file `outPath`: onednn.weight tensors as stored, and for each
/// onednn.quantized_weight `NAME` the tensors `NAME.int<b>_g<g>[.kn]` (I8 or
/// U8) and `NAME.int<b>_g<g>[.kn].scales` (F32). f32 and other 4-byte tensors first,
/// then 2-byte, then bytes, so every tensor is aligned for its elements.
/// Errors name the file and the tensor.
llvm::Error writeExecutableWeights(mlir::ModuleOp module, const safetensors::File &source,
                                   const std::string &outPath) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), source.path() + ": " + why);
  };
  std::vector<safetensors::File::Output> out;
  std::vector<std::unique_ptr<quant::Quantized>> made;
  llvm::StringSet<> seen;
  llvm::Error error = llvm::Error::success();
  auto stored = [&](llvm::StringRef name) -> const safetensors::TensorInfo * {
    const safetensors::TensorInfo *t = source.lookup(name);
    if (!t && !error)
      error = fail("missing tensor '" + name + "'");
    return t;
  };
  module.walk([&](onednn::WeightOp w) {
    if (!seen.insert(w.getName()).second)
      return;
    if (const safetensors::TensorInfo *t = stored(w.getName()))
      out.push_back({t->name, t->dtype, t->shape, t->data, t->end - t->begin});
  });
  module.walk([&](onednn::QuantizedWeightOp w) {
    quant::Scheme scheme{static_cast<int>(w.getBits()), static_cast<int64_t>(w.getGroup())};
    std::string derived = w.getName().str() + scheme.suffix(w.getTransposed());
    if (error || !seen.insert(derived).second)
      return;
    const safetensors::TensorInfo *t = stored(w.getName());
    if (!t)
      return;
    auto type = cast<mlir::MemRefType>(w.getSource());
    if (t->shape != std::vector<int64_t>(type.getShape().begin(), type.getShape().end())) {
      error = fail("tensor '" + w.getName() + "' changed shape since the IR was made");
      return;
    }
    quant::Source kind;
    if (t->dtype == safetensors::DType::F32) kind = quant::Source::F32;
    else if (t->dtype == safetensors::DType::F16) kind = quant::Source::F16;
    else if (t->dtype == safetensors::DType::BF16) kind = quant::Source::BF16;
    else {
      error = fail("tensor '" + w.getName() + "' is " + safetensors::dtypeName(t->dtype) +
                   ": only F32, F16 and BF16 weights are quantized");
      return;
    }
    int64_t k = w.getInputs(), n = w.getOutputs();
    try {
      made.push_back(std::make_unique<quant::Quantized>(
          quant::quantize(t->name, t->data, kind, w.getTransposed(), k, n, scheme)));
    } catch (const std::exception &e) {
      error = fail(e.what());
      return;
    }
    const quant::Quantized &q = *made.back();
    out.push_back({derived + ".scales", safetensors::DType::F32, {n, scheme.groups(k)},
                   reinterpret_cast<const char *>(q.scales.data()), q.scales.size() * 4});
    out.push_back({derived, scheme.bits == 8 ? safetensors::DType::I8 : safetensors::DType::U8,
                   {n, scheme.rowBytes(k)}, reinterpret_cast<const char *>(q.q.data()),
                   q.q.size()});
  });
  if (error)
    return error;
  // Widest elements first (each tensor stays aligned to its element size);
  // a stable sort keeps every tensor, whatever its dtype.
  std::vector<safetensors::File::Output> ordered(out.begin(), out.end());
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto &a, const auto &b) {
    return safetensors::bitSize(a.dtype) > safetensors::bitSize(b.dtype);
  });
  std::string writeError;
  if (!safetensors::File::write(outPath, ordered, writeError))
    return llvm::createStringError(llvm::inconvertibleErrorCode(), writeError);
  return llvm::Error::success();
}

} // namespace tfm::driver
