//===- tfm-count-opt.cpp - An out-of-tree pass over tfm IR -------*- C++ -*-===//
//
// tfm-opt plus one pass defined outside tfm: --tfm-count-ops prints how many
// operations of each tfm and onednn kind a module holds (as a remark on the
// module), after whatever tfm passes or pipelines ran before it. Built
// against an installed tfm with find_package(TFM) (CMakeLists.txt here).
//
//===----------------------------------------------------------------------===//

#include "tfm/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/ADT/StringMap.h"
#include <map>
#include <string>

namespace {
/// Counts the module's operations of the tfm and onednn dialects by name and
/// reports them as one remark, e.g. "tfm.attention: 2, tfm.layer_norm: 5".
struct CountOpsPass : mlir::PassWrapper<CountOpsPass, mlir::OperationPass<mlir::ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CountOpsPass)
  llvm::StringRef getArgument() const final { return "tfm-count-ops"; }
  llvm::StringRef getDescription() const final {
    return "Report how many tfm and onednn operations the module holds";
  }
  void runOnOperation() override {
    std::map<std::string, int> counts; // sorted by name
    getOperation()->walk([&](mlir::Operation *op) {
      llvm::StringRef dialect = op->getName().getDialectNamespace();
      if (dialect == "tfm" || dialect == "onednn")
        ++counts[op->getName().getStringRef().str()];
    });
    std::string text;
    for (const auto &[name, count] : counts)
      text += (text.empty() ? "" : ", ") + name + ": " + std::to_string(count);
    getOperation()->emitRemark() << (text.empty() ? "no tfm or onednn operations" : text);
  }
};
} // namespace

int main(int argc, char **argv) {
  tfm::registerTfmPassesAndPipelines();
  mlir::PassRegistration<CountOpsPass>();
  mlir::DialectRegistry registry;
  tfm::registerTfmDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "tfm-count-opt: tfm-opt with an out-of-tree pass\n", registry));
}
