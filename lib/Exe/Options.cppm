//===- Options.cppm - The command lines of tfm executables -----*- C++ -*-===//
//
// The `tfm.exe.options` module: the options of the two modes of a tfm
// executable, parsed with Boost.Program_options as tfmc's are: `--flag=value`
// and `--flag value` both work, `-n5` and `-n 5` too, `--` ends the options,
// abbreviations are not guessed, and `--help` is generated from the same
// descriptions. Values are checked here, with errors naming the option and
// the value (exit status 2).
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Runtime/tfm_runtime.h"
#include <boost/program_options.hpp>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>
export module tfm.exe.options;
import tfm.exe.signature;
import tfm.program_options;

export namespace tfm::exe {

/// Language-model mode: what to generate and how.
struct GenerateOptions {
  std::vector<int64_t> prompt; ///< --prompt-ids
  bool promptGiven = false;    ///< any of --prompt, --prompt-file, --prompt-ids
  bool textPrompt = false;     ///< --prompt or --prompt-file (tokenized later)
  std::string promptText;
  std::string promptFile;      ///< --prompt-file (read by the generator)
  long long n = 16;
  bool printIds = false, bench = false, verbose = false, profile = false;
  long long threads = 0;       ///< 0: OpenMP's default
  bool tokenizeOnly = false, allowSpecial = false, greedy = false, stopAtEos = true,
       stream = true;
  double temperature = 0.8, topP = 0.95;
  long long topK = 40;
  unsigned long long seed = 0;
  std::string dumpPath, perplexityPath;
  std::string weights;         ///< a tfm_rt_set_weights spec
  long long pplStride = 0;     ///< 0: half the window
  long long pplContext = 0;    ///< --perplexity's window; 0: the model's context
};

/// Parses a language model's command line (`vocab`: ids must be below it).
/// Returns nothing to go on, or the exit status to end with: 0 after
/// --help, 2 after a usage error (printed).
std::optional<int> parseGenerateOptions(int argc, char **argv, const Signature &sig,
                                        int64_t vocab, GenerateOptions &o);

/// Encoder mode: what to embed and what to print or write.
struct EncodeOptions {
  bool textGiven = false;        ///< --prompt or --prompt-file
  std::string promptFile;        ///< --prompt-file (read by the encoder)
  std::string text, pair;        ///< --prompt, --prompt-pair
  bool pairGiven = false;
  std::vector<int64_t> ids, typeIds; ///< --prompt-ids, --token-type-ids
  bool idsGiven = false, typesGiven = false;
  bool tokenize = false, embed = false, verbose = false, bench = false;
  std::string dumpHidden, dumpEmbedding, dumpLogits; ///< .npy paths
  std::string fillMask;          ///< --fill-mask TEXT
  long long topK = 5;            ///< --fill-mask's candidates per mask
  std::string embedFile, output; ///< --embed-file TEXTS, -o EMB.npy
  long long batchTokens = 4096;  ///< --embed-file's tokens per call
  long long threads = 0;
  std::string weights;           ///< a tfm_rt_set_weights spec
};

/// Parses an encoder's command line (`vocab`: ids must be below it;
/// `types`: token type ids below it; `maskedLm`: the model has logits).
std::optional<int> parseEncodeOptions(int argc, char **argv, const Signature &sig, int64_t vocab,
                                      int64_t types, bool maskedLm, EncodeOptions &o);

/// Tensor mode: .npy inputs and outputs in argument order.
struct TensorOptions {
  std::vector<std::string> inputs, outputs;
  bool verbose = false;
};

/// Parses a tensor-mode command line, as parseGenerateOptions.
std::optional<int> parseTensorOptions(int argc, char **argv, const Signature &sig,
                                      TensorOptions &o);

} // namespace tfm::exe

namespace tfm::exe {
namespace po = boost::program_options;
namespace {

int usageError(const std::string &message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 2;
}

/// Runs the parser; on a Boost error prints it as tfm does (what each
/// option's value is, from `needs`) and returns the exit status.
std::optional<int> parse(int argc, char **argv, const po::options_description &options,
                         const std::map<std::string, std::string> &needs, po::variables_map &vm) {
  try {
    auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    // `--prompt=` is the empty string, as in GNU syntax (Boost refuses it).
    std::vector<std::string> words = tfm::program_options::splitEmptyValues(argc, argv, options);
    std::vector<char *> args = tfm::program_options::argvOf(words);
    po::parsed_options parsed = po::command_line_parser(static_cast<int>(args.size()), args.data())
                                    .options(options)
                                    .style(style)
                                    .run();
    // Words that are not options (after `--`, or where no option takes them).
    for (const std::string &word : po::collect_unrecognized(parsed.options, po::include_positional))
      return usageError("unexpected argument '" + word + "' (the executable takes options only; "
                        "see --help)");
    po::store(parsed, vm);
    po::notify(vm);
  } catch (const po::unknown_option &e) {
    return usageError("unknown argument '" + e.get_option_name() + "' (see --help)");
  } catch (const po::invalid_command_line_syntax &e) {
    std::string name = e.get_option_name();
    std::string bare = name.substr(name.find_first_not_of('-'));
    if (bare == "n") // a short-only option: Boost names it "--n"
      name = "-n";
    if (e.kind() == po::invalid_syntax::missing_parameter && needs.count(bare))
      return usageError(name + " needs " + needs.at(bare));
    return usageError(std::string(e.what()) + " (see --help)");
  } catch (const po::error &e) {
    std::string what = e.what();
    if (size_t at = what.find("'--n'"); at != std::string::npos) // short-only: "-n"
      what.replace(at, 5, "'-n'");
    return usageError(what + " (see --help)");
  }
  return std::nullopt;
}

/// A number in [lo, hi] for `flag`, or an error naming it.
std::optional<double> number(const std::string &flag, const std::string &v, double lo, double hi) {
  char *end = nullptr;
  double out = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(out >= lo && out <= hi)) {
    std::fprintf(stderr, "error: %s: '%s' is not a number in [%g, %g]\n", flag.c_str(), v.c_str(),
                 lo, hi);
    return std::nullopt;
  }
  return out;
}

/// An integer in [lo, hi] for `flag`; `what` describes it in the error.
std::optional<long long> integer(const std::string &flag, const std::string &v, long long lo,
                                 long long hi, const std::string &what) {
  char *end = nullptr;
  errno = 0;
  long long out = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || out < lo || out > hi) {
    std::fprintf(stderr, "error: %s: '%s' is not %s\n", flag.c_str(), v.c_str(), what.c_str());
    return std::nullopt;
  }
  return out;
}

/// A seed: any unsigned 64-bit integer, written in decimal digits only (no
/// sign, no exponent: a seed is used exactly as given, never rounded).
std::optional<unsigned long long> seedValue(const std::string &flag, const std::string &v) {
  unsigned long long out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out, 10);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size()) {
    std::fprintf(stderr, "error: %s: '%s' is not an integer in [0, 18446744073709551615]\n",
                 flag.c_str(), v.c_str());
    return std::nullopt;
  }
  return out;
}
} // namespace

std::optional<int> parseGenerateOptions(int argc, char **argv, const Signature &sig,
                                        int64_t vocab, GenerateOptions &o) {
  std::ostringstream caption;
  caption << "usage: " << argv[0]
          << " [--prompt TEXT | --prompt-file F | --prompt-ids 1,2,3] [-n N]\n"
             "          [--temperature T] [--top-k K] [--top-p P] [--seed S] [--greedy]\n"
             "          [--tokenize] [--allow-special] [--no-stop-at-eos] [--no-stream]\n"
             "          [--print-ids] [--dump-logits FILE.npy] [--weights FILE.safetensors]\n"
             "          [--perplexity FILE [--ppl-context N] [--ppl-stride N]]\n"
             "          [--threads N] [--bench] [--profile] [--verbose]\n\n"
             "Runs the compiled language model: the whole prompt is prefilled in one pass,\n"
             "then one decode step per new token with the KV cache. Text is streamed as it\n"
             "is generated, never splitting a UTF-8 character.\n\n"
             "options";
  po::options_description options(caption.str(), 90, 45);
  auto text = [] { return po::value<std::string>(); };
  options.add_options()
      ("prompt", text()->value_name("TEXT"), "the prompt as text (needs the embedded tokenizer)")
      ("prompt-file", text()->value_name("F"), "the prompt as the contents of F")
      ("prompt-ids", text()->value_name("IDS"), "the prompt as comma-separated token ids "
       "(default: <|endoftext|> if the vocabulary has it, else 0)")
      ("tokenize", "print the prompt's ids as a JSON array and exit")
      ("perplexity", text()->value_name("F"), "print the model's perplexity on the text file F: "
       "windows of the context slide by the stride, each token after the first is scored once "
       "(Hugging Face's definition)")
      ("ppl-context", text()->value_name("N"), "the windows' length, 2 to the context (default: "
       "the context; a shorter window bounds the KV cache and the time of models whose context "
       "is long)")
      ("ppl-stride", text()->value_name("N"), "the windows' stride, 1 to the window (default: half "
       "the window)")
      ("allow-special", "'<|endoftext|>' in the text is the special token")
      ("temperature", text()->value_name("T"), "sampling temperature (default 0.8)")
      ("top-k", text()->value_name("K"), "sample among the K most likely tokens (default 40; 0: all)")
      ("top-p", text()->value_name("P"), "... within cumulative probability P (default 0.95)")
      ("seed", text()->value_name("S"), "random seed (default 0): same seed, same text")
      ("greedy", "always take the most likely token")
      ("no-stop-at-eos", "keep generating after an end-of-text id (generation_config.json's or "
                         "config.json's eos_token_id, else the tokenizer's EOS)")
      ("stop-at-eos", "stop at an end-of-text id (the default)")
      ("no-stream", "print the text at the end instead of token by token")
      (",n", text()->value_name("N"), "tokens to generate (default 16)")
      ("print-ids", "print the generated ids, comma-separated (a model without a tokenizer "
       "always does)")
      ("dump-logits", text()->value_name("F"), "write float32 [R, vocab] logits as .npy: the "
       "prompt's T rows, then one row per decode step (R = T + n - 1)")
      ("weights", text()->value_name("F"), ("read weights from F instead of " + sig.weights).c_str())
      ("threads", text()->value_name("N"), "threads for oneDNN and the runtime's kernels "
       "(default: OMP_NUM_THREADS, else all cores)")
      ("bench", "print load time (with a one-token warm-up pass), prefill and decode tokens/s, "
       "and peak RSS")
      ("profile", "print the time spent in each kind of runtime call (matmul, sdpa, ...), for "
       "the prefill and for decoding")
      ("verbose", "print the oneDNN ISA and the implementation of each primitive")
      ("help,h", "this text");
  static const std::map<std::string, std::string> needs = {
      {"prompt", "a text"}, {"prompt-file", "a file name"},
      {"prompt-ids", "a comma-separated list of ids"}, {"perplexity", "a text file"},
      {"ppl-stride", "a number"}, {"ppl-context", "a number"}, {"temperature", "a number"},
      {"top-k", "a number"},
      {"top-p", "a number"}, {"seed", "a number"}, {"n", "a number"},
      {"dump-logits", "a file name"}, {"weights", "a file name"}, {"threads", "a number"}};
  po::variables_map vm;
  if (auto code = parse(argc, argv, options, needs, vm))
    return code;
  if (vm.count("help")) {
    std::cout << options << "\ncontext: " << sig.context << " positions; matmuls: " << sig.dtype
              << "\n";
    return 0;
  }
  auto has = [&](const char *name) { return vm.count(name) != 0; };
  auto get = [&](const char *name) { return vm[name].as<std::string>(); };
  o.weights = sig.weights;
  if (has("prompt-ids")) {
    o.promptGiven = true;
    std::string list = get("prompt-ids");
    if (!list.empty()) // an empty prompt is reported by the generator
      for (const std::string &item : split(list, ',')) {
        char *end = nullptr;
        errno = 0;
        long long id = std::strtoll(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || errno != 0)
          return usageError("--prompt-ids: '" + item + "' is not a token id");
        if (id < 0 || id >= vocab)
          return usageError("--prompt-ids: id " + std::to_string(id) + " is out of range [0, " +
                            std::to_string(vocab) + ")");
        o.prompt.push_back(id);
      }
  }
  if (has("stop-at-eos") && has("no-stop-at-eos"))
    return usageError("give one of --stop-at-eos and --no-stop-at-eos");
  if (has("prompt") + has("prompt-file") + has("prompt-ids") > 1)
    return usageError("give one of --prompt, --prompt-file and --prompt-ids");
  // An empty file name (`--perplexity ""`, `--prompt-file=`) names no file:
  // it was read as "not given" (a generation instead of a perplexity).
  for (const char *fileOption : {"prompt-file", "dump-logits", "weights", "perplexity"})
    if (has(fileOption) && get(fileOption).empty())
      return usageError(std::string("--") + fileOption + " needs a file name, got ''");
  if (has("prompt")) {
    o.promptGiven = o.textPrompt = true;
    o.promptText = get("prompt");
  }
  if (has("prompt-file")) {
    o.promptGiven = o.textPrompt = true;
    o.promptFile = get("prompt-file");
  }
  if (has("-n")) { // a short-only option's key keeps its dash
    auto n = integer("-n", get("-n"), 0, INT64_MAX, "a non-negative number");
    if (!n)
      return 2;
    o.n = *n;
  }
  if (has("ppl-context")) {
    long long hi = sig.context > 0 ? sig.context : INT64_MAX;
    auto c = integer("--ppl-context", get("ppl-context"), 2, hi,
                     "a window in [2, " + std::to_string(sig.context) + "]");
    if (!c)
      return 2;
    o.pplContext = *c;
  }
  if (has("ppl-stride")) {
    long long window = o.pplContext > 0 ? o.pplContext : sig.context;
    long long hi = window > 0 ? window : INT64_MAX;
    auto s = integer("--ppl-stride", get("ppl-stride"), 1, hi,
                     "a stride in [1, " + std::to_string(window) + "] (the window)");
    if (!s)
      return 2;
    o.pplStride = *s;
  }
  if (has("threads")) {
    auto t = integer("--threads", get("threads"), 1, 1024, "a thread count (1-1024)");
    if (!t)
      return 2;
    o.threads = *t;
  }
  if (has("temperature")) {
    auto t = number("--temperature", get("temperature"), 1e-6, 1e6);
    if (!t)
      return 2;
    o.temperature = *t;
  }
  if (has("top-p")) {
    auto p = number("--top-p", get("top-p"), 1e-6, 1.0);
    if (!p)
      return 2;
    o.topP = *p;
  }
  if (has("top-k")) {
    auto k = integer("--top-k", get("top-k"), 0, 1000000000, "an integer in [0, 1000000000]");
    if (!k)
      return 2;
    o.topK = *k;
  }
  if (has("seed")) {
    auto s = seedValue("--seed", get("seed"));
    if (!s)
      return 2;
    o.seed = *s;
  }
  if (has("dump-logits")) {
    o.dumpPath = get("dump-logits");
  }
  if (has("weights"))
    o.weights = "file:" + get("weights");
  if (has("perplexity"))
    o.perplexityPath = get("perplexity");
  o.printIds = has("print-ids");
  o.tokenizeOnly = has("tokenize");
  o.allowSpecial = has("allow-special");
  o.greedy = has("greedy");
  o.stopAtEos = !has("no-stop-at-eos");
  o.stream = !has("no-stream");
  o.bench = has("bench");
  o.verbose = has("verbose");
  o.profile = has("profile");
  return std::nullopt;
}

namespace {
/// Comma-separated integers in [0, limit) for `flag` (`what`: "id", "type").
std::optional<int> integerList(const std::string &flag, const std::string &list, int64_t limit,
                               const char *what, std::vector<int64_t> &out) {
  if (list.empty())
    return std::nullopt; // an empty input is reported where it is used
  for (const std::string &item : split(list, ',')) {
    char *end = nullptr;
    errno = 0;
    long long id = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || errno != 0)
      return usageError(flag + ": '" + item + "' is not a token " + what);
    if (id < 0 || id >= limit)
      return usageError(flag + ": " + what + " " + std::to_string(id) + " is out of range [0, " +
                        std::to_string(limit) + ")");
    out.push_back(id);
  }
  return std::nullopt;
}
} // namespace

std::optional<int> parseEncodeOptions(int argc, char **argv, const Signature &sig, int64_t vocab,
                                      int64_t types, bool maskedLm, EncodeOptions &o) {
  std::ostringstream caption;
  caption << "usage: " << argv[0]
          << " [--prompt TEXT | --prompt-file F] [--prompt-pair TEXT2]\n"
             "          [--prompt-ids IDS [--token-type-ids IDS]]\n"
             "          [--embed] [--dump-embedding F.npy] [--dump-hidden F.npy] [--tokenize]\n"
          << (maskedLm ? "          [--fill-mask TEXT [--top-k K]] [--dump-logits F.npy]\n" : "")
          << "          [--embed-file TEXTS -o EMB.npy [--batch-tokens N]] [--weights F]\n"
             "          [--threads N] [--bench] [--verbose]\n\n"
             "Runs the compiled encoder on one text (or a pair, with token types as\n"
             "transformers gives them) and prints its sentence embedding (--embed, the\n"
             "default), pooled as the model directory's sentence-transformers files say\n"
             "(pooling: "
          << (sig.pooling == TFM_POOLING_MEAN  ? "mean"
              : sig.pooling == TFM_POOLING_MAX ? "max"
              : sig.pooling == TFM_POOLING_CLS ? "CLS"
                                               : "CLS, no modules.json")
          << (sig.normalize ? ", normalized" : "") << ").\n\noptions";
  po::options_description options(caption.str(), 90, 45);
  auto text = [] { return po::value<std::string>(); };
  options.add_options()
      ("prompt", text()->value_name("TEXT"), "the text (needs the embedded tokenizer); [CLS] and "
       "[SEP] are added as the tokenizer's post-processor says")
      ("prompt-file", text()->value_name("F"), "the text as the contents of F")
      ("prompt-pair", text()->value_name("TEXT2"), "a second text: the pair gets token types 0 "
       "and 1")
      ("prompt-ids", text()->value_name("IDS"), "the input as comma-separated token ids, used as "
       "given (no special tokens added)")
      ("token-type-ids", text()->value_name("IDS"), "with --prompt-ids: a token type per id "
       "(default: all 0)")
      ("tokenize", "print the input's ids and token types as JSON and exit")
      ("embed", "print the sentence embedding as a JSON array (the default)")
      ("dump-embedding", text()->value_name("F"), "write the sentence embedding as float32 "
       "[hidden] .npy")
      ("dump-hidden", text()->value_name("F"), "write the last hidden state as float32 [T, hidden] "
       ".npy")
      ("embed-file", text()->value_name("TEXTS"), "embed every line of TEXTS (one text a line) into "
       "-o as float32 [N, hidden] .npy; progress and sentences/s on stderr")
      ("output,o", text()->value_name("F"), "where --embed-file writes")
      ("batch-tokens", text()->value_name("N"), "--embed-file packs texts into calls of up to N "
       "tokens (default 4096; no padding)")
      ("weights", text()->value_name("F"), ("read weights from F instead of " + sig.weights).c_str())
      ("threads", text()->value_name("N"), "threads for oneDNN and the runtime's kernels "
       "(default: OMP_NUM_THREADS, else all cores)")
      ("bench", "print load time, tokens/s and peak RSS on stderr")
      ("verbose", "print the oneDNN ISA and the implementation of each primitive")
      ("help,h", "this text");
  // Masked-LM models only (the options are not offered to the others).
  if (maskedLm)
    options.add_options()
        ("fill-mask", text()->value_name("TEXT"), "print the most likely tokens for each mask "
         "token in TEXT as JSON lines, as transformers' fill-mask pipeline")
        ("top-k", text()->value_name("K"), "--fill-mask's candidates per mask (default 5)")
        ("dump-logits", text()->value_name("F"), "write the masked-LM head's float32 [T, vocab] "
         "logits of every row as .npy");
  static const std::map<std::string, std::string> needs = {
      {"prompt", "a text"}, {"prompt-file", "a file name"}, {"prompt-pair", "a text"},
      {"prompt-ids", "a comma-separated list of ids"},
      {"token-type-ids", "a comma-separated list of token types"}, {"dump-embedding", "a file name"},
      {"dump-hidden", "a file name"}, {"embed-file", "a file name"}, {"output", "a file name"},
      {"fill-mask", "a text"}, {"top-k", "a number"}, {"weights", "a file name"},
      {"batch-tokens", "a number"}, {"dump-logits", "a file name"},
      {"threads", "a number"}};
  if (!maskedLm)
    for (int i = 1; i < argc; ++i) {
      std::string word = argv[i];
      if (word == "--")
        break;
      for (const char *flag : {"--fill-mask", "--top-k", "--dump-logits"})
        if (word == flag || word.rfind(std::string(flag) + "=", 0) == 0)
          return usageError(std::string(flag) + " needs a masked-LM head (BertForMaskedLM "
                            "weights); this model has none");
    }
  po::variables_map vm;
  if (auto code = parse(argc, argv, options, needs, vm))
    return code;
  if (vm.count("help")) {
    std::cout << options << "\ncontext: " << sig.context << " positions; matmuls: " << sig.dtype
              << "\n";
    return 0;
  }
  auto has = [&](const char *name) { return vm.count(name) != 0; };
  auto get = [&](const char *name) { return vm[name].as<std::string>(); };
  for (const char *fileOption :
       {"dump-embedding", "dump-hidden", "dump-logits", "embed-file", "output", "weights",
        "prompt-file"})
    if (has(fileOption) && get(fileOption).empty())
      return usageError(std::string("--") + fileOption + " needs a file name, got ''");
  int inputs = has("prompt") + has("prompt-file") + has("prompt-ids") + has("fill-mask") +
               has("embed-file");
  if (inputs > 1)
    return usageError("give one of --prompt, --prompt-file, --prompt-ids, --fill-mask and "
                      "--embed-file");
  if (has("prompt-pair") && !has("prompt") && !has("prompt-file"))
    return usageError("--prompt-pair goes with --prompt or --prompt-file");
  if (has("token-type-ids") && !has("prompt-ids"))
    return usageError("--token-type-ids goes with --prompt-ids");
  if (inputs == 0)
    return usageError("give the input: --prompt TEXT, --prompt-ids IDS, --fill-mask TEXT or "
                      "--embed-file TEXTS (see --help)");
  if (has("top-k") && !has("fill-mask"))
    return usageError("--top-k goes with --fill-mask");
  if (has("embed-file") != has("output"))
    return usageError("--embed-file and -o go together");
  if (has("embed-file") && (has("tokenize") || has("dump-hidden") || has("dump-embedding") ||
                            has("dump-logits") || has("embed")))
    return usageError("--embed-file writes -o only; it takes no --tokenize, --embed or --dump-*");
  if (has("fill-mask") && (has("dump-embedding") || has("embed")))
    return usageError("--fill-mask prints tokens; it takes no --embed or --dump-embedding");
  o.textGiven = has("prompt") || has("prompt-file");
  if (has("prompt"))
    o.text = get("prompt");
  if (has("prompt-file"))
    o.promptFile = get("prompt-file");
  o.pairGiven = has("prompt-pair");
  if (o.pairGiven)
    o.pair = get("prompt-pair");
  if (has("prompt-ids")) {
    o.idsGiven = true;
    if (auto code = integerList("--prompt-ids", get("prompt-ids"), vocab, "id", o.ids))
      return code;
  }
  if (has("token-type-ids")) {
    o.typesGiven = true;
    if (auto code = integerList("--token-type-ids", get("token-type-ids"), types, "type", o.typeIds))
      return code;
    if (o.typeIds.size() != o.ids.size())
      return usageError("--token-type-ids has " + std::to_string(o.typeIds.size()) +
                        " types for " + std::to_string(o.ids.size()) + " ids");
  }
  if (has("fill-mask"))
    o.fillMask = get("fill-mask");
  if (has("top-k")) {
    auto k = integer("--top-k", get("top-k"), 1, 1000000, "an integer in [1, 1000000]");
    if (!k)
      return 2;
    o.topK = *k;
  }
  if (has("embed-file")) {
    o.embedFile = get("embed-file");
    o.output = get("output");
  }
  if (has("batch-tokens")) {
    if (!has("embed-file"))
      return usageError("--batch-tokens goes with --embed-file");
    auto n = integer("--batch-tokens", get("batch-tokens"), 1, int64_t(1) << 24,
                     "a token count in [1, 16777216]");
    if (!n)
      return 2;
    o.batchTokens = *n;
  }
  if (has("threads")) {
    auto t = integer("--threads", get("threads"), 1, 1024, "a thread count (1-1024)");
    if (!t)
      return 2;
    o.threads = *t;
  }
  o.weights = has("weights") ? "file:" + get("weights") : sig.weights;
  if (has("dump-embedding"))
    o.dumpEmbedding = get("dump-embedding");
  if (has("dump-hidden"))
    o.dumpHidden = get("dump-hidden");
  if (has("dump-logits"))
    o.dumpLogits = get("dump-logits");
  o.tokenize = has("tokenize");
  o.bench = has("bench");
  o.verbose = has("verbose");
  o.embed = has("embed") || (o.fillMask.empty() && o.embedFile.empty() && !o.tokenize &&
                             o.dumpHidden.empty() && o.dumpEmbedding.empty() &&
                             o.dumpLogits.empty());
  return std::nullopt;
}

std::optional<int> parseTensorOptions(int argc, char **argv, const Signature &sig,
                                      TensorOptions &o) {
  std::string describe[2];
  int count[2] = {0, 0};
  for (const Slot &slot : sig.slots)
    describe[slot.output] += "  #" + std::to_string(count[slot.output]++) + ": " + slot.type +
                             " " + shapeString(slot.shape) + "\n";
  std::string caption = std::string("usage: ") + argv[0] +
                        " --in INPUT.npy ... --out OUTPUT.npy ... [--verbose]\n\n"
                        "Runs the model compiled by tfmc on inputs read from .npy files and writes\n"
                        "its outputs as .npy files, in the order of the entry function's arguments\n"
                        "and results.\n\noptions";
  po::options_description options(caption, 90, 45);
  options.add_options()
      ("in", po::value<std::vector<std::string>>(&o.inputs)->value_name("FILE"),
       "next input (.npy, C order, little endian)")
      ("out", po::value<std::vector<std::string>>(&o.outputs)->value_name("FILE"),
       "where the next output goes (written only on success)")
      ("verbose", "print the oneDNN implementation chosen for each primitive")
      ("help,h", "this text");
  po::variables_map vm;
  if (auto code = parse(argc, argv, options, {{"in", "a file name"}, {"out", "a file name"}}, vm))
    return code;
  if (vm.count("help")) {
    std::cout << options << "\ninputs:\n" << describe[0] << "outputs:\n" << describe[1];
    return 0;
  }
  o.verbose = vm.count("verbose") != 0;
  return std::nullopt;
}

} // namespace tfm::exe
