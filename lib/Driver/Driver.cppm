//===- Driver.cppm - The tfm compilation driver ----------------*- C++ -*-===//
//
// The `tfm.driver` module: everything tfmc does after parsing its command
// line. It parses the input IR, runs the named pipeline for the requested
// stage, translates to LLVM IR, emits an object file with the host's
// TargetMachine and links it with the tfm runtime into an executable.
// Outputs are written atomically: a failure leaves no partial file.
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Driver/Paths.h"
#include "tfm/Runtime/tfm_runtime.h"
#include "tfm/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "tfm/Dialect/Tfm/IR/Tfm.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/AsmState.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>
export module tfm.driver;

export import tfm.driver.model_description;
import tfm.frontend;
import tfm.driver.sentence_transformers;
import tfm.safetensors;
import tfm.json_depth;
import tfm.mlir_depth;
import tfm.output_file;
import tfm.executable_weights;
import tfm.executable_settings;
import tfm.tokenizer;

export namespace tfm::driver {

/// The stage tfmc stops at.
enum class Emit { Tfm, OneDNN, LLVM, Obj, Exe };

/// What to compile and where to put it.
struct Options {
  std::string input; ///< a model directory, a config.json, or a .mlir file
  std::string output; ///< empty: stdout for text stages, derived name otherwise
  Emit emit = Emit::Exe;
  unsigned optLevel = 2;
  /// Build deterministic random weights from this seed instead of reading a
  /// weights file (model descriptions only).
  std::optional<uint64_t> randomWeights;
  /// Report what each fusion pass fused or refused (as remarks).
  bool fusionRemarks = false;
  /// Print compile time, peak memory, weights size and activation memory.
  bool stats = false;
  /// Print the tokenizer a model directory's executable would embed (files,
  /// pipeline, special ids) and stop: nothing is compiled or written.
  bool tokenizerInfo = false;
  /// No progress lines (printed for models with 64 MiB of weights or more).
  bool quiet = false;
  /// Matmul precision of executables: "f32", "bf16" (bf16 weights and
  /// matmuls with f32 accumulation; oneDNN picks AVX512_BF16 or AMX), or
  /// "int8" / "int4" (weight-only quantization, onednn-quantize-weights).
  std::string dtype = "f32";
  /// int8/int4: weights per scale along K (a multiple of 32; 0 per channel;
  /// -1: 128 for int8, 64 for int4).
  int64_t groupSize = -1;
  /// Executables: weights inside the executable (a page-aligned section
  /// mapped without copying), or copied beside it as OUTPUT.safetensors.
  bool externalWeights = false;
};

/// Registers the MLIR command-line options (--mlir-print-ir-after-all,
/// --mlir-timing, ...) and parses `args` with them. Returns false (after
/// printing why) on an unknown option.
bool parseMlirOptions(const std::vector<std::string> &args, const char *argv0);

/// Runs the compilation; returns the process exit code. Diagnostics go to
/// stderr with their locations.
int compile(const Options &options);

} // namespace tfm::driver

namespace tfm::driver {
using namespace mlir;

namespace {
/// Prints `error: message` to stderr; returns 1.
int fail(const llvm::Twine &message) {
  llvm::errs() << "tfmc: error: " << message << "\n";
  return 1;
}

/// Checks the weights file that a .mlir module names (`tfm.weights`) as the
/// executable will read it: a regular, well-formed safetensors file holding
/// every tfm.param with its shape and element type (F32, F16, BF16). A
/// model directory's weights were checked by the frontend as it built the
/// IR; without this, a FIFO or /dev/zero hung the assembler's .incbin and a
/// wrong file compiled, to fail when the executable ran. Returns 0 or the
/// exit code after an error.
int checkNamedWeights(ModuleOp module) {
  auto path = module->getAttrOfType<StringAttr>("tfm.weights");
  if (!path) // the verifier refused a non-string or empty tfm.weights
    return 0;
  std::string error;
  std::unique_ptr<safetensors::File> file = safetensors::File::open(path.str(), error);
  if (!file)
    return fail(error + " (the file the module's tfm.weights names)");
  WalkResult result = module->walk([&](ParamOp p) {
    auto type = p.getType();
    const safetensors::TensorInfo *info = file->lookup(p.getName().str());
    std::optional<safetensors::DType> dtype;
    if (type.getElementType().isF32())
      dtype = safetensors::DType::F32;
    else if (type.getElementType().isF16())
      dtype = safetensors::DType::F16;
    else if (type.getElementType().isBF16())
      dtype = safetensors::DType::BF16;
    if (!info)
      p.emitError() << path.getValue() << ": missing tensor '" << p.getName() << "'";
    else if (llvm::ArrayRef<int64_t>(info->shape) != type.getShape())
      p.emitError() << path.getValue() << ": tensor '" << p.getName() << "' has shape "
                    << tfm::shapeStr(info->shape) << ", the module's tfm.param "
                    << tfm::shapeStr(type.getShape());
    else if (info->dtype != dtype)
      p.emitError() << path.getValue() << ": tensor '" << p.getName() << "' has dtype "
                    << safetensors::dtypeName(info->dtype) << ", the module's tfm.param "
                    << type.getElementType();
    else
      return WalkResult::advance();
    return WalkResult::interrupt();
  });
  return result.wasInterrupted() ? 1 : 0;
}

/// The default output name for binary stages: the input's stem (+ ".o").
std::string defaultOutput(const Options &o) {
  llvm::StringRef in = llvm::StringRef(o.input).rtrim('/');
  if (llvm::sys::path::filename(in) == "config.json")
    in = llvm::sys::path::parent_path(in);
  llvm::SmallString<128> stem(llvm::sys::path::stem(in));
  if (stem.empty())
    stem = "a";
  if (o.emit == Emit::Obj)
    stem += ".o";
  return std::string(stem);
}

/// Translates the LLVM-dialect module and emits a host object file into `obj`.
/// `settings`: what the executable is told (tfm_executable_settings).
LogicalResult emitObject(ModuleOp module, unsigned optLevel, llvm::SmallVectorImpl<char> &obj,
                         std::string *llvmIR, const ExecutableSettings &settings) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::LLVMContext llvmContext;
  auto llvmModule = translateModuleToLLVMIR(module, llvmContext, "tfm_model");
  if (!llvmModule) {
    module.emitError() << "translation to LLVM IR failed";
    return failure();
  }
  addExecutableSettings(*llvmModule, settings);
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) {
    module.emitError() << "no LLVM target for " << triple.str() << ": " << error;
    return failure();
  }
  llvm::SubtargetFeatures features;
  for (auto &f : llvm::sys::getHostCPUFeatures())
    features.AddFeature(f.first(), f.second);
  llvm::TargetOptions targetOptions;
  auto level = optLevel == 0 ? llvm::CodeGenOptLevel::None
               : optLevel == 1 ? llvm::CodeGenOptLevel::Less
               : optLevel == 2 ? llvm::CodeGenOptLevel::Default
                               : llvm::CodeGenOptLevel::Aggressive;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, llvm::sys::getHostCPUName(), features.getString(), targetOptions,
      llvm::Reloc::PIC_, std::nullopt, level));
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(tm->createDataLayout());
  if (llvmIR) {
    llvm::raw_string_ostream os(*llvmIR);
    llvmModule->print(os, nullptr);
    return success();
  }
  llvm::raw_svector_ostream os(obj);
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile)) {
    module.emitError() << "the target cannot emit object files";
    return failure();
  }
  pm.run(*llvmModule);
  return success();
}

/// Writes `data` to `path` ("-" is stdout) through tfm::output::write: a new
/// or regular file atomically, a symbolic link's target, a pipe or device in
/// place.
int writeOutput(const std::string &path, llvm::StringRef data) {
  if (path == "-") {
    llvm::outs() << data;
    llvm::outs().flush();
    if (llvm::outs().has_error()) { // a full disk, /dev/full: not exit 0
      std::string why = llvm::outs().error().message();
      llvm::outs().clear_error();
      return fail("standard output: " + why);
    }
    return 0;
  }
  std::string error;
  if (!tfm::output::write(path, std::string_view(data.data(), data.size()), error))
    return fail(error);
  return 0;
}

/// `text` as the body of a GNU assembler string literal: '"' and '\\'
/// escaped, every byte outside printable ASCII as an octal escape (a path
/// with a quote or a newline must not end the string or start a directive).
std::string asmString(llvm::StringRef text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char octal[8];
      std::snprintf(octal, sizeof(octal), "\\%03o", c);
      out += octal;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

/// llvm::sys::fs::createTemporaryFile, with an error that says which
/// directory failed and why; "" on success.
std::string createTemporary(llvm::StringRef prefix, llvm::StringRef suffix, int *fd,
                            llvm::SmallVectorImpl<char> &path) {
  std::error_code ec = fd ? llvm::sys::fs::createTemporaryFile(prefix, suffix, *fd, path)
                          : llvm::sys::fs::createTemporaryFile(prefix, suffix, path);
  if (!ec) {
    // Removed by the fatal-error handler too (tfm.fatal_errors), which exits
    // without running FileRemover's destructor.
    llvm::sys::RemoveFileOnSignal(llvm::StringRef(path.data(), path.size()));
    return {};
  }
  if (std::string problem = tfm::output::temporaryDirectoryProblem(); !problem.empty())
    return problem;
  return "cannot create a temporary file: " + ec.message();
}

/// A file to embed in the executable, between `<symbol>_begin` and
/// `<symbol>_end` in the page-aligned section `.<symbol>`.
struct Embedded {
  std::string symbol, path;
};

/// Links `obj` with the runtime into the executable `output`, embedding `files`.
int link(llvm::StringRef obj, const std::string &output, const std::vector<Embedded> &files) {
  llvm::SmallString<128> objPath;
  int fd;
  if (std::string error = createTemporary("tfm", "o", &fd, objPath); !error.empty())
    return fail(error);
  llvm::FileRemover removeObj(objPath);
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << obj;
  }
  // Link next to where the output goes (the same file system), then rename:
  // no half-written executable; a device or pipe (-o /dev/null) gets a
  // copy of a link made in the temporary directory.
  std::string tmpExe;
  tfm::output::Destination d = tfm::output::destination(output);
  if (!d.error.empty())
    return fail(d.error);
  if (!d.inPlace) {
    // A unique name (concurrent tfmc runs to one output each link their own
    // file; the last rename wins) with room for lld's own ".tmpXXXXXXX".
    int exeFd = tfm::output::createBeside(d.target, tmpExe, /*reserve=*/16);
    if (exeFd < 0)
      return fail(output + ": cannot write file: " + std::strerror(errno));
    ::close(exeFd);
    llvm::sys::RemoveFileOnSignal(tmpExe);
  } else {
    llvm::SmallString<128> tmp;
    if (std::string error = createTemporary("tfm-link", "exe", nullptr, tmp); !error.empty())
      return fail(error);
    tmpExe = std::string(tmp);
  }
  llvm::FileRemover removeTmp(tmpExe);
  std::vector<std::string> args = {TFM_LINKER, "-fuse-ld=lld", std::string(objPath), "-o", tmpExe};
  // The runtime's archives beside tfmc (PREFIX/lib), then the system
  // libraries they use (absolute paths found when tfm was configured).
  std::string libDir = installation().libDir;
  llvm::SmallVector<llvm::StringRef> libs;
  llvm::StringRef(TFM_RUNTIME_LIBS).split(libs, ';');
  for (llvm::StringRef lib : libs) {
    llvm::SmallString<256> path(libDir);
    llvm::sys::path::append(path, lib);
    if (!llvm::sys::fs::exists(path))
      return fail("the tfm runtime library '" + path + "' is missing (tfmc links the "
                  "archives in PREFIX/lib beside its PREFIX/bin; reinstall tfm)");
    args.push_back(std::string(path));
  }
  llvm::StringRef(TFM_SYSTEM_LIBS).split(libs = {}, ';');
  for (llvm::StringRef lib : libs)
    args.push_back(lib.str());
  // Embedded files (weights, vocabulary): an assembler file that .incbin's
  // each one, page aligned, between <symbol>_begin and <symbol>_end.
  llvm::SmallString<128> asmPath;
  std::optional<llvm::FileRemover> removeAsm;
  if (!files.empty()) {
    int afd;
    if (std::string error = createTemporary("tfm-embed", "s", &afd, asmPath); !error.empty())
      return fail(error);
    removeAsm.emplace(asmPath);
    llvm::raw_fd_ostream os(afd, /*shouldClose=*/true);
    for (const Embedded &f : files)
      os << "  .section ." << f.symbol << ",\"a\",@progbits\n  .balign 4096\n"
         << "  .globl " << f.symbol << "_begin\n" << f.symbol << "_begin:\n"
         << "  .incbin \"" << asmString(f.path) << "\"\n"
         << "  .globl " << f.symbol << "_end\n" << f.symbol << "_end:\n";
    os << "  .section .note.GNU-stack,\"\",@progbits\n";
    args.push_back(std::string(asmPath));
  }
  for (const char *extra : {"-lpthread", "-lm"})
    args.push_back(extra);
  // A sanitizer build (-DTFM_SANITIZE=ON) links the sanitizers' runtimes.
  llvm::SmallVector<llvm::StringRef> linkFlags;
  llvm::StringRef(TFM_EXE_LINK_FLAGS).split(linkFlags, ' ', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef flag : linkFlags)
    args.push_back(flag.str());
  std::vector<llvm::StringRef> argRefs(args.begin(), args.end());
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(TFM_LINKER, argRefs, std::nullopt, {}, 0, 0, &error);
  if (rc != 0)
    return fail("linking '" + output + "' failed" + (error.empty() ? "" : ": " + error));
  std::string moveError;
  if (!tfm::output::moveInto(tmpExe, output, moveError))
    return fail(moveError);
  // Moved: its name is free again (another run may take it now).
  removeTmp.releaseFile();
  llvm::sys::DontRemoveFileOnSignal(tmpExe);
  return 0;
}
} // namespace

bool parseMlirOptions(const std::vector<std::string> &args, const char *argv0) {
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  registerAsmPrinterCLOptions();
  std::vector<const char *> argv = {argv0};
  for (const std::string &a : args)
    argv.push_back(a.c_str());
  return llvm::cl::ParseCommandLineOptions(static_cast<int>(argv.size()), argv.data(),
                                           "tfmc", &llvm::errs());
}

int compile(const Options &options) {
  auto start = std::chrono::steady_clock::now();
  DialectRegistry registry;
  registerTfmDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  // A model description (directory or config.json) goes through the frontend;
  // anything else is parsed as MLIR.
  llvm::SmallString<256> configPath;
  bool isDirectory = llvm::sys::fs::is_directory(options.input);
  if (isDirectory) {
    configPath = options.input;
    llvm::sys::path::append(configPath, "config.json");
    if (!llvm::sys::fs::exists(configPath))
      return fail("model directory '" + options.input + "' has no config.json");
  } else if (llvm::StringRef(options.input).ends_with(".json")) {
    configPath = options.input;
  }
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module;
  std::string vocabEncoder, vocabMerges; // GPT-2 tokenizer files to embed
  std::string tokenizerImage;            // or tokenizer.json's image
  std::vector<int64_t> eosTokenIds;      // config's stop ids (empty: the tokenizer's)
  int64_t bosTokenId = -1;               // config's start id (-1: the tokenizer's)
  Pooling pooling;                       // encoders: sentence-transformers' pooling
  std::unique_ptr<llvm::FileRemover> removeTokenizerImage;
  std::unique_ptr<llvm::FileRemover> removeMerged; // merged shards, for the whole compile
  if (!configPath.empty()) {
    ModelDescription loaded;
    if (int rc = loadModelDescription(context, std::string(configPath), options.randomWeights,
                                      options.quiet, options.emit < Emit::Obj, loaded,
                                      options.tokenizerInfo))
      return rc;
    if (options.tokenizerInfo) {
      llvm::outs() << loaded.tokenizerDescription;
      return 0;
    }
    module = std::move(loaded.module);
    vocabEncoder = loaded.vocabEncoder;
    vocabMerges = loaded.vocabMerges;
    tokenizerImage = loaded.tokenizerImage;
    eosTokenIds = loaded.eosTokenIds;
    bosTokenId = loaded.bosTokenId;
    pooling = loaded.pooling;
    removeTokenizerImage = std::move(loaded.removeTokenizerImage);
    removeMerged = std::move(loaded.removeMerged);
  } else {
    if (options.tokenizerInfo)
      return fail("--tokenizer-info needs a model directory or config.json, not '" +
                  options.input + "'");
    if (options.randomWeights)
      return fail("--random-weights applies to model descriptions (a directory or "
                  "config.json), not to '" + options.input + "'");
    std::string error;
    auto file = openInputFile(options.input, &error);
    if (!file)
      return fail("cannot open input '" + options.input + "': " + error);
    tfm::output::protectInput(options.input);
    if (std::string deep = tfm::mlir_text::checkText(options.input, file->getBuffer());
        !deep.empty())
      return fail(deep);
    sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
    module = parseSourceFile<ModuleOp>(sourceMgr, &context);
    if (!module)
      return 1;
    if (options.emit >= Emit::LLVM) // the stages that read the weights
      if (int rc = checkNamedWeights(*module))
        return rc;
  }

  // What the executable is told besides the model (not IR).
  ExecutableSettings settings;
  settings.dtype = options.dtype;
  settings.tokenizer = !tokenizerImage.empty()  ? TFM_TOKENIZER_HF_IMAGE
                       : !vocabEncoder.empty() ? TFM_TOKENIZER_GPT2_FILES
                                               : TFM_TOKENIZER_NONE;
  settings.eosTokenIds = eosTokenIds;
  settings.bosTokenId = bosTokenId;
  settings.pooling = pooling.mode;
  settings.normalize = pooling.normalize;
  settings.maxSeqLength = pooling.maxSeqLength;
  if (auto seed = (*module)->getAttrOfType<IntegerAttr>("tfm.random_weights"))
    settings.weights = "random:" + std::to_string(seed.getInt());
  int64_t contextLength = 0;
  if (auto ctx = (*module)->getAttrOfType<IntegerAttr>("tfm.context_length"))
    contextLength = ctx.getInt();
  // Where an executable finds its weights.
  std::string weightsPath;
  if (auto w = (*module)->getAttrOfType<StringAttr>("tfm.weights");
      w && options.emit >= Emit::LLVM) {
    llvm::SmallString<256> abs(w.getValue());
    (void)llvm::sys::fs::make_absolute(abs);
    weightsPath = std::string(abs);
    std::string out = options.output.empty() ? defaultOutput(options) : options.output;
    settings.weights = options.externalWeights
                           ? "beside:" + llvm::sys::path::filename(out).str() + ".safetensors"
                       : options.emit == Emit::Exe ? std::string("embedded")
                                                   : "file:" + weightsPath;
  }

  // Linking and quantized weights go through temporary files: a temporary
  // directory that cannot take them fails now, before any work.
  if (options.emit == Emit::Exe ||
      (options.emit > Emit::OneDNN && (options.dtype == "int8" || options.dtype == "int4")))
    if (std::string problem = tfm::output::temporaryDirectoryProblem(); !problem.empty())
      return fail(problem);
  PassManager pm(&context, ModuleOp::getOperationName());
  if (failed(applyPassManagerCLOptions(pm)))
    return fail("invalid pass manager options");
  DefaultTimingManager timing;
  applyDefaultTimingManagerCLOptions(timing);
  TimingScope timingRoot = timing.getRootScope();
  pm.enableTiming(timingRoot);
  PipelineOptions pipeline;
  pipeline.optLevel = options.optLevel;
  pipeline.fusionRemarks = options.fusionRemarks;
  if (options.dtype == "int8" || options.dtype == "int4") {
    pipeline.weightBits = options.dtype == "int8" ? 8 : 4;
    pipeline.groupSize = options.groupSize;
  }
  // Weights: every tfm.param, counted before lowering.
  int64_t weightBytes = 0, weightCount = 0;
  (*module)->walk([&](ParamOp p) {
    weightBytes += p.getType().getNumElements() *
                   llvm::divideCeil(p.getType().getElementTypeBitWidth(), 8);
    ++weightCount;
  });
  // Progress of each stage on large models (64 MiB of weights or more).
  bool showProgress = !options.quiet && weightBytes >= (int64_t(64) << 20);
  auto stageStart = start; // the first stage: reading and checking the model
  auto progress = [&](llvm::StringRef stage, llvm::StringRef detail = "") {
    auto t = std::chrono::steady_clock::now();
    if (showProgress)
      llvm::errs() << llvm::formatv("tfmc: {0,-8} {1,6:F2} s  {2}\n", stage,
                                    std::chrono::duration<double>(t - stageStart).count(), detail);
    stageStart = t;
  };
  progress("weights", llvm::formatv("{0} tensors, {1:F1} MiB, checked", weightCount,
                                    weightBytes / 1048576.0).str());
  switch (options.emit) {
  case Emit::Tfm:
    if (options.optLevel > 0)
      buildTfmOptimizePipeline(pm, options.fusionRemarks);
    break;
  default:
    buildTfmToOneDNNPipeline(pm, pipeline);
  }
  if (failed(pm.run(*module)))
    return 1;
  progress("passes", options.emit == Emit::Tfm ? "tfm-optimize" : "tfm-optimize, tfm-to-onednn");
  // Activations, from the planned buffers: the arena of static sizes plus the
  // arenas sized by the sequence length (bytes per token).
  int64_t arenaBytes = 0, perTokenBytes = 0;
  (*module)->walk([&](func::FuncOp f) {
    if (auto a = f->getAttrOfType<IntegerAttr>("onednn.arena_bytes"))
      arenaBytes += a.getInt();
    if (auto a = f->getAttrOfType<IntegerAttr>("onednn.arena_bytes_per_unit"))
      perTokenBytes += a.getInt();
  });
  (*module)->walk([&](memref::AllocOp a) { // buffers the planner left alone
    auto t = a.getType();
    if (t.hasStaticShape() || t.getNumDynamicDims() != 1 || t.getElementType().isInteger(8))
      return;
    int64_t bytes = llvm::divideCeil(t.getElementTypeBitWidth(), 8);
    for (int64_t d : t.getShape())
      if (!ShapedType::isDynamic(d))
        bytes *= d;
    perTokenBytes += bytes;
  });
  // Quantized weights: the executable embeds (or finds beside it) a weights
  // file tfmc writes, with the quantized tensors and the others it reads.
  // Random weights are quantized by the runtime at load instead.
  std::optional<llvm::FileRemover> removeQuantized;
  uint64_t executableWeightBytes = 0; // the quantized weights file, if any
  if (options.emit > Emit::OneDNN && !weightsPath.empty() && readsQuantizedWeights(*module)) {
    std::string error;
    auto sourceFile = safetensors::File::open(weightsPath, error);
    if (!sourceFile)
      return fail(error);
    llvm::SmallString<128> quantized;
    if (std::string error = createTemporary("tfm-quantized", "safetensors", nullptr, quantized);
        !error.empty())
      return fail(error);
    removeQuantized.emplace(quantized);
    if (llvm::Error e = writeExecutableWeights(*module, *sourceFile, std::string(quantized)))
      return fail(llvm::toString(std::move(e)));
    if (options.emit < Emit::Exe) {
      removeQuantized->releaseFile();
      llvm::sys::DontRemoveFileOnSignal(quantized);
      llvm::errs() << "tfmc: note: the quantized weights the code reads are in '" << quantized
                   << "' (kept)\n";
    }
    weightsPath = std::string(quantized);
    (*module)->setAttr("tfm.weights", StringAttr::get(&context, weightsPath));
    if (llvm::StringRef(settings.weights).starts_with("file:"))
      settings.weights = "file:" + weightsPath;
    (void)llvm::sys::fs::file_size(weightsPath, executableWeightBytes);
    progress("quantize", llvm::formatv("{0:F1} MiB of weights for the executable",
                                       executableWeightBytes / 1048576.0).str());
  }
  if (options.emit > Emit::OneDNN) {
    PassManager llvmPm(&context, ModuleOp::getOperationName());
    if (failed(applyPassManagerCLOptions(llvmPm)))
      return fail("invalid pass manager options");
    llvmPm.enableTiming(timingRoot);
    buildOneDNNToLLVMPipeline(llvmPm);
    if (failed(llvmPm.run(*module)))
      return 1;
  }

  std::string output = options.output;
  if (output.empty())
    output = options.emit <= Emit::LLVM ? "-" : defaultOutput(options);
  auto printStats = [&] {
    if (!options.stats)
      return;
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    llvm::errs() << llvm::formatv("tfmc: stats: weights: {0} tensors, {1:F1} MiB\n", weightCount,
                                  weightBytes / 1048576.0);
    if (executableWeightBytes)
      llvm::errs() << llvm::formatv("tfmc: stats: weights in the executable ({0}): {1:F1} MiB\n",
                                    options.dtype, executableWeightBytes / 1048576.0);
    llvm::errs() << llvm::formatv("tfmc: stats: activations: {0:F1} KiB planned arena + {1:F1} KiB "
                                  "per token of sequence\n",
                                  arenaBytes / 1024.0, perTokenBytes / 1024.0);
    if (auto ctx = contextLength)
      llvm::errs() << llvm::formatv("tfmc: stats: activations at the {0}-token context: {1:F1} MiB\n",
                                    ctx, (arenaBytes + perTokenBytes * ctx) / 1048576.0);
    llvm::errs() << llvm::formatv("tfmc: stats: compile time {0:F2} s, peak memory {1:F1} MiB\n",
                                  seconds, usage.ru_maxrss / 1024.0);
  };
  if (options.emit == Emit::Tfm || options.emit == Emit::OneDNN) {
    std::string text;
    llvm::raw_string_ostream os(text);
    module->print(os);
    int rc = writeOutput(output, text);
    printStats();
    return rc;
  }
  llvm::SmallVector<char, 0> obj;
  std::string llvmIR;
  if (failed(emitObject(*module, options.optLevel, obj,
                        options.emit == Emit::LLVM ? &llvmIR : nullptr, settings)))
    return 1;
  progress("codegen", options.emit == Emit::LLVM ? "LLVM IR" : "LLVM IR, host object file");
  if (options.emit == Emit::LLVM)
    return writeOutput(output, llvmIR);
  if (options.emit == Emit::Obj) {
    int rc = writeOutput(output, llvm::StringRef(obj.data(), obj.size()));
    printStats();
    return rc;
  }
  std::vector<Embedded> embed;
  if (!weightsPath.empty() && !options.externalWeights)
    embed.push_back({"tfm_weights", weightsPath});
  if (!tokenizerImage.empty())
    embed.push_back({"tfm_tokenizer", tokenizerImage});
  if (!vocabEncoder.empty()) {
    embed.push_back({"tfm_vocab_encoder", vocabEncoder});
    embed.push_back({"tfm_vocab_merges", vocabMerges});
  }
  if (int rc = link(llvm::StringRef(obj.data(), obj.size()), output, embed))
    return rc;
  progress("link", embed.empty() ? "runtime + libdnnl" : "runtime + libdnnl + embedded files");
  if (!weightsPath.empty() && options.externalWeights) {
    std::string beside = output + ".safetensors", copyError;
    tfm::output::Destination d = tfm::output::destination(beside);
    if (!d.error.empty()) {
      llvm::sys::fs::remove(output);
      return fail(d.error);
    }
    std::string tmp;
    if (d.inPlace) {
      llvm::SmallString<128> t;
      if (std::string error = createTemporary("tfm-weights", "safetensors", nullptr, t);
          !error.empty()) {
        llvm::sys::fs::remove(output);
        return fail(error);
      }
      tmp = std::string(t);
    } else {
      int copyFd = tfm::output::createBeside(d.target, tmp);
      if (copyFd < 0) {
        llvm::sys::fs::remove(output);
        return fail(beside + ": cannot write file: " + std::strerror(errno));
      }
      // mkstemp made it 0600; copy_file keeps that: give it what a plain
      // creat() would, as tfm::output::write does.
      mode_t mask = ::umask(0);
      ::umask(mask);
      (void)::fchmod(copyFd, 0666 & ~mask);
      ::close(copyFd);
      llvm::sys::RemoveFileOnSignal(tmp);
    }
    if (std::error_code ec = llvm::sys::fs::copy_file(weightsPath, tmp)) {
      llvm::sys::fs::remove(tmp);
      llvm::sys::fs::remove(output);
      return fail("cannot write '" + beside + "': " + ec.message());
    }
    if (!tfm::output::moveInto(tmp, beside, copyError)) {
      llvm::sys::fs::remove(output);
      return fail(copyError);
    }
    llvm::sys::DontRemoveFileOnSignal(tmp);
  }
  printStats();
  return 0;
}

} // namespace tfm::driver
