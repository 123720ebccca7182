//===- fuzz-mlir.cpp - Fuzz tfm-opt's parser and the tfm/onednn verifiers --===//
//
// Any bytes as MLIR text with the tfm and onednn dialects: parsing and
// verification report diagnostics (swallowed here), never crash. Text nested
// deeper than tfm.mlir_depth allows, or with resource blobs MLIR's parser
// aborts on, is refused first, as tfm-opt, tfmc and tfm-ref do. A verified
// tfm.constant (dense or dense_resource) reads as dense elements.
//
//===----------------------------------------------------------------------===//
#include "tfm/Pipelines/Pipelines.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "tfm/Dialect/Tfm/IR/Tfm.h"
#include <cstdlib>
#include <string>

import tfm.mlir_depth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::MLIRContext *context = [] {
    mlir::DialectRegistry registry;
    tfm::registerTfmDialects(registry);
    auto *c = new mlir::MLIRContext(registry);
    c->loadAllAvailableDialects();
    c->getDiagEngine().registerHandler([](mlir::Diagnostic &) {});
    return c;
  }();
  std::string text(reinterpret_cast<const char *>(data), size);
  if (!tfm::mlir_text::checkText("input", text).empty())
    return 0;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(text, context);
  if (!module || mlir::failed(mlir::verify(*module)))
    return 0;
  // A verified tfm.constant's value is readable as dense elements, what the
  // lowering and the reference evaluator read (dense_resource blobs: their
  // size was checked by the verifier).
  module->walk([](tfm::ConstantOp c) {
    if (!tfm::denseElements(c.getValue()) &&
        (llvm::isa<mlir::DenseElementsAttr>(c.getValue()) ||
         llvm::isa<mlir::DenseResourceElementsAttr>(c.getValue())))
      std::abort();
  });
  return 0;
}
