//===- tfm-opt.cpp - The tfm optimizer driver ---------------------*- C++ -*-===//
//
// mlir-opt for tfm: the tfm and onednn dialects, every tfm pass and the named
// pipelines (tfm-optimize, tfm-to-onednn, tfm-to-llvm), plus MLIR's own
// passes.
//
//===----------------------------------------------------------------------===//

#include "tfm/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  tfm::registerTfmPassesAndPipelines();
  mlir::DialectRegistry registry;
  tfm::registerTfmDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "tfm optimizer driver\n", registry));
}
