//===- tfm-ref.cpp - Run tfm IR on the reference evaluator ----------*- C++ -*-===//
//
// Evaluates a tfm function with the naive reference evaluator (tfm.reference)
// and writes or checks its results:
//
//   tfm-ref model.mlir --make-inputs=in --seed=1      writes in0.npy, in1.npy, ...
//   tfm-ref model.mlir --in a.npy --in b.npy -o ref.npy
//   tfm-ref model.mlir --in a.npy --in b.npy --compare got.npy --rtol=1e-5
//
// --compare exits 1 if any element differs by more than absTol + relTol * |ref|.
//
//===----------------------------------------------------------------------===//

#include "tfm/InitAllDialects.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include "llvm/Support/Format.h"

import tfm.reference;
import tfm.safetensors;
import tfm.fatal_errors;
import tfm.mlir_depth;
import tfm.output_file;
import tfm.support;

namespace cl = llvm::cl;
using namespace mlir;
using tfm::reference::Tensor;

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input.mlir>"), cl::Required);
static cl::list<std::string> inFiles("in", cl::desc("next input .npy"), cl::value_desc("file"));
static cl::list<std::string> outFiles("o", cl::desc("where the next result goes (.npy, float32)"),
                                      cl::value_desc("file"));
static cl::list<std::string> compareFiles("compare",
                                          cl::desc("check the next result against this .npy"),
                                          cl::value_desc("file"));
static cl::opt<double> relTol("rtol", cl::desc("relative tolerance for --compare"), cl::init(1e-5));
static cl::opt<double> absTol("atol", cl::desc("absolute tolerance for --compare"), cl::init(1e-6));
static cl::opt<std::string> makeInputs(
    "make-inputs", cl::desc("write random inputs PREFIX0.npy, PREFIX1.npy, ... and exit"),
    cl::value_desc("prefix"));
static cl::opt<unsigned> seed("seed", cl::desc("seed for --make-inputs"), cl::init(1));
static cl::opt<int64_t> dynamicSize(
    "dynamic-size", cl::desc("the size --make-inputs gives every dynamic dimension (default 4)"),
    cl::init(4));
static cl::opt<std::string> entryName("entry", cl::desc("function to run (default: main, or "
                                                        "the only public function)"));

static int fail(const llvm::Twine &message) {
  llvm::errs() << "tfm-ref: error: " << message << "\n";
  return 1;
}

static std::string dtypeFor(Type t) {
  if (t.isF32() || t.isF16() || t.isBF16()) return "f4";
  if (t.isInteger(32)) return "i4";
  if (t.isInteger(64)) return "i8";
  if (t.isInteger(1)) return "b1";
  return "";
}

static func::FuncOp findEntry(ModuleOp module) {
  if (entryName.getNumOccurrences())
    return module.lookupSymbol<func::FuncOp>(entryName);
  if (auto f = module.lookupSymbol<func::FuncOp>("main"))
    return f;
  func::FuncOp only;
  for (auto f : module.getOps<func::FuncOp>())
    if (!f.isPrivate() && !f.isExternal()) {
      if (only)
        return {};
      only = f;
    }
  return only;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  tfm::fatal_errors::install("tfm-ref");
  cl::ParseCommandLineOptions(argc, argv, "tfm reference evaluator\n");
  if (entryName.getNumOccurrences() && entryName.empty())
    return fail("--entry needs a function name, got ''");
  if (dynamicSize < 0 || dynamicSize > tfm::reference::kMaxElements)
    return fail("--dynamic-size must be in [0, 2^28], got " + llvm::Twine(dynamicSize.getValue()));
  for (auto [name, tol] : {std::pair{"--rtol", relTol.getValue()}, {"--atol", absTol.getValue()}})
    if (!(tol >= 0) || !std::isfinite(tol)) { // a NaN, negative or infinite one checks nothing
      char text[32];
      std::snprintf(text, sizeof text, "%g", tol);
      return fail(llvm::Twine(name) + " must be a finite number >= 0, got " + text);
    }

  DialectRegistry registry;
  tfm::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  std::string error;
  auto file = openInputFile(inputFile, &error);
  if (!file)
    return fail("cannot open input '" + inputFile + "': " + error);
  tfm::output::protectInput(inputFile);
  if (std::string deep = tfm::mlir_text::checkText(inputFile, file->getBuffer()); !deep.empty())
    return fail(deep);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;
  func::FuncOp entry = findEntry(*module);
  if (!entry)
    return fail("no entry function (use --entry)");

  // Given (even as the empty prefix: files 0.npy, 1.npy, ...), not "not given".
  if (makeInputs.getNumOccurrences()) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    for (auto [i, t] : llvm::enumerate(entry.getArgumentTypes())) {
      auto rt = dyn_cast<RankedTensorType>(t);
      std::string dtype = rt ? dtypeFor(rt.getElementType()) : "";
      if (dtype.empty()) {
        std::string type;
        llvm::raw_string_ostream(type) << t;
        return fail("--make-inputs: argument #" + llvm::Twine(i) + " has type " + type +
                    " (expected a ranked tensor of f32, f16, bf16, i32, i64 or i1)");
      }
      tfm::npy::Array a{"f8", {rt.getShape().begin(), rt.getShape().end()}, {}};
      int64_t elements = 1;
      for (int64_t &d : a.shape) {
        if (ShapedType::isDynamic(d))
          d = dynamicSize;
        if (llvm::MulOverflow(elements, d, elements) || elements > tfm::reference::kMaxElements)
          return fail("--make-inputs: argument #" + llvm::Twine(i) + " of shape " +
                      tfm::npy::shapeString(a.shape) + " has more than 2^28 elements, the "
                      "most tfm-ref holds in one tensor");
      }
      std::vector<double> values(elements);
      for (double &v : values)
        v = dtype == "f4" ? uniform(rng) : std::floor((uniform(rng) + 1) * 4);
      a = tfm::npy::fromDoubles(a.shape, values, dtype == "f4" ? "f4" : "f8");
      if (dtype == "i8" || dtype == "i4") { // integer inputs: store as integers
        a.dtype = dtype;
        size_t size = tfm::npy::itemSize(dtype);
        a.data.assign(values.size() * size, 0);
        for (size_t k = 0; k < values.size(); ++k) {
          int64_t v = static_cast<int64_t>(values[k]);
          std::memcpy(a.data.data() + k * size, &v, size);
        }
      }
      if (!tfm::npy::write(makeInputs + std::to_string(i) + ".npy", a, error))
        return fail(error);
    }
    return 0;
  }

  std::vector<Tensor> inputs;
  for (const std::string &path : inFiles) {
    tfm::npy::Array a;
    if (!tfm::npy::read(path, a, error))
      return fail(error);
    inputs.push_back({a.shape, tfm::npy::toDoubles(a)});
  }
  // Weights: the safetensors file the module names (tfm.weights).
  std::unique_ptr<tfm::safetensors::File> weights;
  if (auto path = (*module)->getAttrOfType<StringAttr>("tfm.weights")) {
    std::string error;
    weights = tfm::safetensors::File::open(path.str(), error);
    if (!weights)
      return fail(error);
  }
  tfm::reference::ParamLoader params = [&](llvm::StringRef name,
                                           std::string &err) -> std::optional<Tensor> {
    if (!weights) {
      err = "the module names no weights file (tfm.weights)";
      return std::nullopt;
    }
    return tfm::reference::loadTensor(*weights, name, err);
  };
  if (std::string error = tfm::output::checkOutputs(outFiles); !error.empty())
    return fail("-o: " + error); // before evaluating
  auto results = tfm::reference::evaluate(entry, inputs, params);
  if (failed(results))
    return 1;
  if (outFiles.size() > results->size() || compareFiles.size() > results->size())
    return fail("the function has only " + llvm::Twine(results->size()) + " results");
  for (auto [i, path] : llvm::enumerate(outFiles)) {
    const Tensor &r = (*results)[i];
    if (!tfm::npy::write(path, tfm::npy::fromDoubles(r.shape, r.data), error))
      return fail(error);
  }
  bool ok = true;
  for (auto [i, path] : llvm::enumerate(compareFiles)) {
    const Tensor &ref = (*results)[i];
    tfm::npy::Array a;
    if (!tfm::npy::read(path, a, error))
      return fail(error);
    if (a.shape != ref.shape)
      return fail(path + ": shape " + tfm::npy::shapeString(a.shape) + " differs from the "
                  "reference's " + tfm::npy::shapeString(ref.shape));
    std::vector<double> got = tfm::npy::toDoubles(a);
    double maxAbs = 0, maxRel = 0;
    size_t bad = 0;
    for (size_t k = 0; k < got.size(); ++k) {
      double diff = std::fabs(got[k] - ref.data[k]);
      maxAbs = std::max(maxAbs, diff);
      if (ref.data[k] != 0)
        maxRel = std::max(maxRel, diff / std::fabs(ref.data[k]));
      if (!(diff <= absTol + relTol * std::fabs(ref.data[k]))) // NaN counts as bad
        ++bad;
    }
    llvm::outs() << "result #" << i << ": " << got.size() << " elements, max abs error "
                 << llvm::format("%.3e", maxAbs) << ", max rel error "
                 << llvm::format("%.3e", maxRel) << ", " << bad << " outside atol "
                 << absTol.getValue() << " + rtol " << relTol.getValue() << "\n";
    ok &= bad == 0;
  }
  if (!ok)
    llvm::outs() << "MISMATCH\n";
  return ok ? 0 : 1;
}
