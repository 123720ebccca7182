//===- fuzz-config.cpp - Fuzz config.json -> tfm IR ------------------------===//
//
// Any bytes as config.json: parseConfig fails with a message naming the file,
// or the frontend builds a module (random weights) that verifies. Configs
// whose IR would be large are skipped after parsing (the fuzzer's time is
// better spent on the parser).
//
//===----------------------------------------------------------------------===//
#include "FuzzFile.h"
#include "tfm/Pipelines/Pipelines.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/Error.h"
#include <cstdlib>
#include <string>
import tfm.frontend;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = tfm::fuzz::asFile(data, size);
  auto config = tfm::frontend::parseConfig(path);
  if (!config) {
    std::string message = llvm::toString(config.takeError());
    if (message.rfind(path, 0) != 0)
      std::abort();
    return 0;
  }
  if (config->layers > 4 || config->width > 256 || config->vocabSize > 4096 ||
      config->contextLength > 4096 || config->intermediate > 1024 ||
      config->heads * config->headDim > 1024)
    return 0;
  static mlir::MLIRContext *context = [] {
    mlir::DialectRegistry registry;
    tfm::registerTfmDialects(registry);
    auto *c = new mlir::MLIRContext(registry);
    c->loadAllAvailableDialects();
    return c;
  }();
  tfm::frontend::Weights weights;
  weights.randomSeed = 1;
  auto module = tfm::frontend::importModel(*context, *config, weights);
  if (!module) {
    llvm::consumeError(module.takeError());
    return 0;
  }
  if (mlir::failed(mlir::verify(**module)))
    std::abort(); // the frontend must build valid IR from any accepted config
  return 0;
}
