//===- tfm-opt.cpp - The tfm optimizer driver ---------------------*- C++ -*-===//
//
// mlir-opt for tfm: the tfm and onednn dialects, every tfm pass and the named
// pipelines (tfm-optimize, tfm-to-onednn, tfm-to-llvm), plus MLIR's own
// passes.
//
// MlirOptMain's own file handling, with three checks mlir-opt lacks: the
// input is refused before parsing when it nests deeper than the parser's
// recursion can take (tfm.mlir_depth), the output may not be the input
// (tfm.output_file), and a failed write of the output (a full disk,
// /dev/full) is an error naming the output, not an abort.
//
//===----------------------------------------------------------------------===//

#include "tfm/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

import tfm.fatal_errors;
import tfm.mlir_depth;
import tfm.output_file;

static int fail(const llvm::Twine &message) {
  llvm::errs() << "tfm-opt: error: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  tfm::fatal_errors::install("tfm-opt");
  mlir::registerTransformsPasses();
  tfm::registerTfmPassesAndPipelines();
  mlir::DialectRegistry registry;
  tfm::registerTfmDialects(registry);
  auto [inputFilename, outputFilename] =
      mlir::registerAndParseCLIOptions(argc, argv, "tfm optimizer driver\n", registry);
  mlir::MlirOptMainConfig config = mlir::MlirOptMainConfig::createFromCLOptions();
  if (config.shouldShowDialects() || config.shouldListPasses()) // no input to read
    return mlir::asMainReturnCode(
        mlir::MlirOptMain(argc, argv, inputFilename, outputFilename, registry));

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> file = mlir::openInputFile(inputFilename, &error);
  if (!file)
    return fail(error);
  // Written over its own input, the output truncated the file the parser was
  // reading (memory-mapped: SIGBUS, and the input was gone).
  if (inputFilename != "-")
    tfm::output::protectInput(inputFilename);
  if (outputFilename != "-")
    if (std::string refused = tfm::output::checkWritable(outputFilename); !refused.empty())
      return fail(refused);
  std::string name = inputFilename == "-" ? "<stdin>" : inputFilename;
  if (std::string deep = tfm::mlir_text::checkText(name, file->getBuffer()); !deep.empty())
    return fail(deep);
  std::unique_ptr<llvm::ToolOutputFile> output = mlir::openOutputFile(outputFilename, &error);
  if (!output)
    return fail(error);
  if (mlir::failed(mlir::MlirOptMain(output->os(), std::move(file), registry, config)))
    return 1;
  output->os().flush();
  if (output->os().has_error()) {
    std::string what = output->os().error().message();
    output->os().clear_error();
    return fail((outputFilename == "-" ? std::string("standard output") : outputFilename) +
                ": " + what);
  }
  output->keep();
  return 0;
}
