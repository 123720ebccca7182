//===- tfmc.cpp - The tfm compiler ---------------------------------*- C++ -*-===//
//
// Parses tfmc's command line (Boost.Program_options) and hands the work to
// the tfm.driver module. MLIR's own debugging options (--mlir-*, -debug*)
// are forwarded to LLVM's option parser.
//
//===----------------------------------------------------------------------===//

#include <boost/program_options.hpp>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

import tfm.driver;
import tfm.fatal_errors;
import tfm.program_options;

namespace po = boost::program_options;

/// Exit code after printing to standard output: a failed write (a full
/// disk, /dev/full) is an error naming it, not exit 0.
static int flushStdout() {
  std::cout.flush();
  if (std::cout)
    return 0;
  std::cerr << "tfmc: error: standard output: " << std::strerror(errno ? errno : EIO) << "\n";
  return 1;
}

/// The integer `text` given to `flag` if it is written in decimal digits
/// (an optional '-' first), lies in [lo, hi] and is a multiple of `step`;
/// otherwise prints an error naming the flag and the text as typed, "must be
/// `what`".
static std::optional<int64_t> integerOption(const char *flag, const std::string &text,
                                            int64_t lo, int64_t hi, const char *what,
                                            int64_t step = 1) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < lo ||
      value > hi || value % step != 0) {
    std::cerr << "tfmc: error: " << flag << " must be " << what << ", got '" << text << "'\n";
    return std::nullopt;
  }
  return value;
}

int main(int argc, char **argv) {
  tfm::fatal_errors::install("tfmc");
  po::options_description visible(
      "usage: tfmc MODEL [options]\n\n"
      "Compiles a model to a native executable (or stops at an earlier stage).\n"
      "MODEL is a model directory (config.json + model.safetensors), a config.json,\n"
      "or a .mlir file in the tfm dialect. MLIR's debugging options are accepted too:\n"
      "--mlir-print-ir-after-all, --mlir-print-ir-before=PASS, --mlir-timing, ...\n\n"
      "options");
  std::string emit = "exe";
  std::string opt = "2";
  visible.add_options()
      ("help,h", "print this help and exit")
      ("version", "print tfm's version and where this tfmc finds its runtime and the "
       "GPT-2 vocabulary, and exit")
      ("emit", po::value<std::string>(&emit)->default_value("exe"),
       "stage to produce:\n"
       "  tfm     the tfm graph after optimization (-O1+)\n"
       "  onednn  onednn primitives on planned buffers\n"
       "  llvm    LLVM IR for the host\n"
       "  obj     a host object file\n"
       "  exe     an executable linked with the runtime")
      ("output,o", po::value<std::string>(), "output file (default: stdout for "
       "text stages, INPUT's stem for exe, INPUT's stem + .o for obj)")
      (",O", po::value<std::string>(&opt)->default_value("2"),
       "optimization level 0-3 (-O0 ... -O3)")
      ("weights", po::value<std::string>()->default_value("embedded"),
       "executables: 'embedded' (weights inside the executable, mapped without "
       "copying) or 'external' (copied beside it as OUTPUT.safetensors)")
      ("dtype", po::value<std::string>()->default_value("f32"),
       "weights and matmul precision of executables:\n"
       "  f32   as stored\n"
       "  bf16  bf16 weights and matmuls with f32 accumulation (oneDNN picks "
       "AVX512_BF16 or AMX at run time)\n"
       "  int8  weight-only int8: symmetric, one f32 scale per group of weights along K "
       "(~4x smaller than f32)\n"
       "  int4  weight-only int4, likewise (~7x smaller)")
      ("group-size", po::value<std::string>(),
       "int8/int4: weights per scale along K, a multiple of 32 (at most 64 for int4), or 0 "
       "for one scale per output column; default 128 for int8, 64 for int4")
      ("quiet,q", "no progress lines (shown for models with 64 MiB of weights or more)")
      ("stats", "print compile time, peak memory, weights size and activation memory")
      ("tokenizer-info", "print the tokenizer the executable of a model directory would embed "
       "(which files, in the order tokenizer.json, vocab.json + merges.txt, GPT-2's; its "
       "pipeline; the ids generation starts from and stops at) and exit without compiling")
      ("fusion-remarks", "report, as remarks, what each fusion pass fused and what it "
       "refused and why")
      ("random-weights", po::value<std::string>(), "SEED: build deterministic random weights "
       "from config.json alone instead of reading model.safetensors");
  po::options_description hidden;
  hidden.add_options()("input", po::value<std::vector<std::string>>(), "input file");
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description positional;
  positional.add("input", -1);

  po::variables_map vm;
  std::vector<std::string> mlirArgs;
  try {
    auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    std::vector<std::string> words = tfm::program_options::splitEmptyValues(argc, argv, all);
    std::vector<char *> args = tfm::program_options::argvOf(words);
    auto parsed = po::command_line_parser(static_cast<int>(args.size()), args.data())
                      .options(all)
                      .positional(positional)
                      .style(style)
                      .allow_unregistered()
                      .run();
    for (const std::string &u : po::collect_unrecognized(parsed.options, po::exclude_positional)) {
      std::string name = u.substr(0, u.find('='));
      if (name.rfind("--mlir-", 0) == 0 || name.rfind("-mlir-", 0) == 0 ||
          name.rfind("--debug", 0) == 0 || name.rfind("-debug", 0) == 0) {
        mlirArgs.push_back(u);
        continue;
      }
      std::cerr << "tfmc: error: unknown option '" << u << "' (see --help)\n";
      return 2;
    }
    po::store(parsed, vm);
    po::notify(vm);
  } catch (const po::error &e) {
    std::string what = e.what();
    if (size_t at = what.find("'--O'"); at != std::string::npos) // short-only: "-O"
      what.replace(at, 5, "'-O'");
    std::cerr << "tfmc: error: " << what << " (see --help)\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << visible << "\n";
    return flushStdout();
  }
  if (vm.count("version")) {
    tfm::driver::Installation where = tfm::driver::installation();
    std::cout << "tfmc (tfm) " << tfm::driver::version() << "\n"
              << "runtime libraries: " << where.libDir << "\n"
              << "GPT-2 vocabulary: " << where.vocabularyDir << "\n";
    return flushStdout();
  }
  if (!vm.count("input") || vm["input"].as<std::vector<std::string>>().size() != 1) {
    std::cerr << "tfmc: error: expected exactly one input file (see --help)\n";
    return 2;
  }
  tfm::driver::Options options;
  options.input = vm["input"].as<std::vector<std::string>>().front();
  if (vm.count("output")) {
    options.output = vm["output"].as<std::string>();
    // An empty name is no file (it was taken as "not given": the default
    // output was written instead).
    if (options.output.empty()) {
      std::cerr << "tfmc: error: -o/--output needs a file name, got ''\n";
      return 2;
    }
  }
  std::optional<int64_t> level = integerOption("-O", opt, 0, 3, "an optimization level 0 to 3");
  if (!level)
    return 2;
  options.optLevel = static_cast<unsigned>(*level);
  options.fusionRemarks = vm.count("fusion-remarks") > 0;
  options.stats = vm.count("stats") > 0;
  options.tokenizerInfo = vm.count("tokenizer-info") > 0;
  options.quiet = vm.count("quiet") > 0;
  options.dtype = vm["dtype"].as<std::string>();
  if (options.dtype != "f32" && options.dtype != "bf16" && options.dtype != "int8" &&
      options.dtype != "int4") {
    std::cerr << "tfmc: error: unknown --dtype value '" << options.dtype
              << "' (expected f32, bf16, int8 or int4)\n";
    return 2;
  }
  if (vm.count("group-size")) {
    bool int4 = options.dtype == "int4";
    if (options.dtype != "int8" && !int4) {
      std::cerr << "tfmc: error: --group-size applies to --dtype=int8 or int4\n";
      return 2;
    }
    std::optional<int64_t> size =
        int4 ? integerOption("--group-size", vm["group-size"].as<std::string>(), 32, 64,
                             "a multiple of 32 from 32 to 64 for int4", 32)
             : integerOption("--group-size", vm["group-size"].as<std::string>(), 0, INT64_MAX,
                             "a multiple of 32, or 0 (per channel)", 32);
    if (!size)
      return 2;
    options.groupSize = *size;
  }
  std::string weightsMode = vm["weights"].as<std::string>();
  if (weightsMode != "embedded" && weightsMode != "external") {
    std::cerr << "tfmc: error: unknown --weights value '" << weightsMode
              << "' (expected embedded or external)\n";
    return 2;
  }
  options.externalWeights = weightsMode == "external";
  if (vm.count("random-weights")) {
    std::optional<int64_t> seed = integerOption("--random-weights",
                                                vm["random-weights"].as<std::string>(), 0,
                                                INT64_MAX, "a seed from 0 to 2^63 - 1");
    if (!seed)
      return 2;
    options.randomWeights = static_cast<uint64_t>(*seed);
  }
  if (emit == "tfm") options.emit = tfm::driver::Emit::Tfm;
  else if (emit == "onednn") options.emit = tfm::driver::Emit::OneDNN;
  else if (emit == "llvm") options.emit = tfm::driver::Emit::LLVM;
  else if (emit == "obj") options.emit = tfm::driver::Emit::Obj;
  else if (emit == "exe") options.emit = tfm::driver::Emit::Exe;
  else {
    std::cerr << "tfmc: error: unknown --emit value '" << emit
              << "' (expected tfm, onednn, llvm, obj or exe)\n";
    return 2;
  }
  if (!tfm::driver::parseMlirOptions(mlirArgs, argv[0]))
    return 2;
  return tfm::driver::compile(options);
}
