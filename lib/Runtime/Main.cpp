//===- Main.cpp - Command-line driver of tfm executables ----------*- C++ -*-===//
//
// main() of every executable tfmc links. The compiled model's buffers are
// described by the `tfm_signature` string the compiler embeds:
//   in|out DTYPE DIMS [NAME];...;ctx N;weights SPEC
// Two modes:
//  * language model (the model has a `tokens` input, as GPT-2 descriptions
//    do): prefill the prompt in one pass, then one decode step per new token
//    with the KV cache; greedy decoding;
//  * tensors: inputs from .npy files, outputs to .npy files (fixed shapes).
//
//===----------------------------------------------------------------------===//

#include "tfm/Runtime/tfm_runtime.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <cctype>
#include <random>
#include <sstream>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

import tfm.support;
import tfm.runtime;
import tfm.tokenizer;

// The vocabulary tfmc embeds (absent: null).
extern "C" {
__attribute__((weak)) extern const char tfm_vocab_encoder_begin[];
__attribute__((weak)) extern const char tfm_vocab_encoder_end[];
__attribute__((weak)) extern const char tfm_vocab_merges_begin[];
__attribute__((weak)) extern const char tfm_vocab_merges_end[];
}

namespace {

/// One buffer of the entry function.
struct Slot {
  bool output = false;
  std::string type; // MLIR element type: f32, f16, bf16, i32, i64
  std::vector<int64_t> shape; // -1: dynamic
  std::string name;
};

struct Signature {
  std::vector<Slot> slots;
  int64_t context = 0;
  std::string weights;
  std::string dtype = "f32";
  bool tokenizer = false;

  int find(const std::string &name) const {
    for (size_t i = 0; i < slots.size(); ++i)
      if (slots[i].name == name)
        return static_cast<int>(i);
    return -1;
  }
  bool isStatic() const {
    for (const Slot &s : slots)
      for (int64_t d : s.shape)
        if (d < 0)
          return false;
    return true;
  }
};

std::vector<std::string> split(const std::string &s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find(sep, pos);
    if (end == std::string::npos)
      end = s.size();
    out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

/// Decodes the %XX escapes the compiler puts in signature fields (names and
/// paths with ';', ' ' or '%'; see signatureField in OneDNNToLLVM.cpp).
std::string unescapeField(const std::string &s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

Signature parseSignature(const char *text) {
  Signature sig;
  for (const std::string &item : split(text, ';')) {
    if (item.rfind("ctx ", 0) == 0) {
      sig.context = std::stoll(item.substr(4));
      continue;
    }
    if (item.rfind("weights ", 0) == 0) {
      sig.weights = unescapeField(item.substr(8));
      continue;
    }
    if (item == "tokenizer embedded") {
      sig.tokenizer = true;
      continue;
    }
    if (item.rfind("dtype ", 0) == 0) {
      sig.dtype = item.substr(6);
      continue;
    }
    std::vector<std::string> f = split(item, ' ');
    if (f.size() < 3)
      continue;
    Slot slot;
    slot.output = f[0] == "out";
    slot.type = f[1];
    if (f[2] != "scalar")
      for (const std::string &d : split(f[2], 'x'))
        slot.shape.push_back(d == "?" ? -1 : std::stoll(d));
    if (f.size() > 3)
      slot.name = unescapeField(f[3]);
    sig.slots.push_back(slot);
  }
  return sig;
}

/// The .npy dtype that holds an MLIR element type.
std::string npyDtype(const std::string &type) {
  if (type == "f32") return "f4";
  if (type == "i32") return "i4";
  if (type == "i64") return "i8";
  if (type == "f16") return "f2";
  return "";
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return s + "]";
}

int fail(const std::string &message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

/// The errno of the first failed write to standard output (0: none yet).
int stdoutErrno = 0;

/// Writes `text` to standard output and flushes it (streamed text shows at
/// once); false once a write has failed (a full disk, a closed pipe).
bool emit(std::string_view text) {
  if (stdoutErrno)
    return false;
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    stdoutErrno = errno ? errno : EIO;
  return stdoutErrno == 0;
}

/// The exit status after everything was printed: `code`, or 1 with an error
/// naming the reason when a write to standard output failed.
int finishStdout(int code) {
  errno = 0;
  if ((std::fflush(stdout) != 0 || std::ferror(stdout)) && !stdoutErrno)
    stdoutErrno = errno ? errno : EIO;
  if (!stdoutErrno)
    return code;
  static bool reported = false; // runLanguageModel and main() both finish
  if (!reported)
    std::fprintf(stderr, "error: standard output: %s\n", std::strerror(stdoutErrno));
  reported = true;
  return code ? code : 1;
}

double now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

/// Runs the model once; false (after printing the runtime's error) on failure.
bool run(std::vector<void *> &buffers, std::vector<int64_t> &dims) {
  tfm_entry(buffers.data(), dims.data());
  if (const char *error = tfm_rt_last_error()) {
    std::fprintf(stderr, "error: %s\n", error);
    return false;
  }
  return true;
}

/// Reads the text file `path` for `flag`: at most `limit` bytes (a larger
/// file is an error, so /dev/zero cannot exhaust memory), well-formed UTF-8
/// (the error names the byte offset). False after printing an error naming
/// the flag and the file.
bool readTextFile(const char *flag, const std::string &path, size_t limit, std::string &out) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    std::fprintf(stderr, "error: %s: cannot read '%s': %s\n", flag, path.c_str(),
                 std::strerror(errno));
    return false;
  }
  out.clear();
  char buffer[1 << 16];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof(buffer), f)) > 0) {
    out.append(buffer, got);
    if (out.size() > limit) {
      std::fclose(f);
      std::fprintf(stderr, "error: %s: '%s' is larger than %zu MiB\n", flag, path.c_str(),
                   limit >> 20);
      return false;
    }
  }
  bool readError = std::ferror(f);
  int savedErrno = errno;
  std::fclose(f);
  if (readError) {
    std::fprintf(stderr, "error: %s: cannot read '%s': %s\n", flag, path.c_str(),
                 std::strerror(savedErrno));
    return false;
  }
  size_t bad = tfm::tokenizer::invalidUtf8At(out);
  if (bad != std::string_view::npos) {
    std::fprintf(stderr, "error: %s: '%s' is not valid UTF-8 (byte 0x%02X at byte offset %zu)\n",
                 flag, path.c_str(), static_cast<unsigned char>(out[bad]), bad);
    return false;
  }
  return true;
}

/// The largest text file --prompt-file and --perplexity read.
constexpr size_t kMaxTextFile = size_t(256) << 20;

/// -log p(target) in nats from one row of logits, computed in double
/// (log-sum-exp around the row's maximum). NaN when the row has a NaN or an
/// infinity.
double negativeLogLikelihood(const float *row, int64_t vocab, int64_t target) {
  double max = -INFINITY;
  for (int64_t j = 0; j < vocab; ++j) {
    if (!std::isfinite(row[j]))
      return NAN;
    max = std::max(max, static_cast<double>(row[j]));
  }
  double sum = 0;
  for (int64_t j = 0; j < vocab; ++j)
    sum += std::exp(static_cast<double>(row[j]) - max);
  return max + std::log(sum) - static_cast<double>(row[target]);
}

/// --perplexity: the perplexity of the model on a text file, as Hugging Face's
/// guide "Perplexity of fixed-length models" defines it with a sliding window:
/// windows of `context` tokens start every `stride` tokens (the last ends at
/// the end of the text); each window scores only the tokens that no earlier
/// window scored (the first window scores all of its tokens after the first),
/// each predicted from the tokens before it in the window. With a stride
/// below the context every token after the first is scored exactly once;
/// with stride == context the windows do not overlap and, as in the guide,
/// the first token of each window (which has no context) is not scored.
///   perplexity = exp(mean over scored tokens of -log p(token | window before it)).
/// `forwardRows(ids, past, firstRow)` runs one fresh window (past = 0) and
/// leaves the logits of rows firstRow.. in `logits`.
template <typename Forward>
int perplexity(const std::string &path, const tfm::tokenizer::Tokenizer &tokenizer,
               bool allowSpecial, int64_t context, int64_t stride, int64_t vocab,
               const std::vector<float> &logits, Forward &&forwardRows) {
  std::string text;
  if (!readTextFile("--perplexity", path, kMaxTextFile, text))
    return 1;
  if (text.empty())
    return fail("--perplexity: '" + path + "' is empty");
  std::vector<int64_t> ids;
  try {
    ids = tokenizer.encode(text, allowSpecial);
  } catch (const std::exception &e) {
    return fail("--perplexity: '" + path + "': " + e.what());
  }
  int64_t n = static_cast<int64_t>(ids.size());
  if (n < 2)
    return fail("--perplexity: '" + path + "' has " + std::to_string(n) +
                " token; a perplexity needs at least two");
  for (int64_t id : ids)
    if (id >= vocab)
      return fail("--perplexity: the tokenizer gives id " + std::to_string(id) +
                  ", beyond the model's vocabulary of " + std::to_string(vocab));
  if (stride <= 0)
    stride = std::max<int64_t>(1, context / 2);
  double nll = 0, lastReport = now();
  int64_t scored = 0, windows = 0, prevEnd = 0;
  for (int64_t begin = 0;; begin += stride) {
    int64_t end = std::min(begin + context, n);
    int64_t targets = end - prevEnd;                       // tokens this window scores
    int64_t firstTarget = std::max<int64_t>(end - targets - begin, 1); // in the window
    std::vector<int64_t> window(ids.begin() + begin, ids.begin() + end);
    int64_t firstRow = firstTarget - 1; // row r predicts token r + 1
    if (!forwardRows(window, 0, firstRow))
      return 1;
    for (int64_t j = firstTarget; j < end - begin; ++j) {
      const float *row = logits.data() + (j - 1 - firstRow) * vocab;
      double l = negativeLogLikelihood(row, vocab, window[j]);
      if (std::isnan(l))
        return fail("--perplexity: the logits of window " + std::to_string(windows) +
                    " (tokens " + std::to_string(begin) + ".." + std::to_string(end - 1) +
                    ") are NaN or infinite");
      nll += l;
      ++scored;
    }
    ++windows;
    prevEnd = end;
    if (now() - lastReport > 2.0) {
      std::fprintf(stderr, "perplexity: %lld/%lld tokens scored\n", static_cast<long long>(scored),
                   static_cast<long long>(n - 1));
      lastReport = now();
    }
    if (end == n)
      break;
  }
  double mean = nll / static_cast<double>(scored);
  std::printf("perplexity: %.6f\ntokens: %lld (%lld scored in %lld windows of %lld, stride %lld)\n"
              "mean negative log-likelihood: %.6f nats/token\n",
              std::exp(mean), static_cast<long long>(n), static_cast<long long>(scored),
              static_cast<long long>(windows), static_cast<long long>(context),
              static_cast<long long>(stride), mean);
  return 0;
}

//===----------------------------------------------------------------------===//
// Language-model mode
//===----------------------------------------------------------------------===//

int lmUsage(const char *argv0, const Signature &sig, FILE *to, int code) {
  std::fprintf(to,
               "usage: %s [--prompt TEXT | --prompt-file F | --prompt-ids 1,2,3] [-n N]\n"
               "          [--temperature T] [--top-k K] [--top-p P] [--seed S] [--greedy]\n"
               "          [--tokenize] [--allow-special] [--no-stop-at-eos] [--no-stream]\n"
               "          [--print-ids] [--dump-logits FILE.npy] [--weights FILE.safetensors]\n"
               "          [--perplexity FILE [--ppl-stride N]]\n"
               "          [--threads N] [--bench] [--profile] [--verbose]\n\n"
               "Runs the compiled language model: the whole prompt is prefilled in one pass,\n"
               "then one decode step per new token with the KV cache. Text is streamed as it\n"
               "is generated, never splitting a UTF-8 character.\n\n"
               "options:\n"
               "  --prompt TEXT      the prompt as text (needs the embedded tokenizer)\n"
               "  --prompt-file F    the prompt as the contents of F\n"
               "  --prompt-ids IDS   the prompt as comma-separated token ids (default:\n"
               "                     <|endoftext|> if the vocabulary has it, else 0)\n"
               "  --tokenize         print the prompt's ids as a JSON array and exit\n"
               "  --perplexity F     print the model's perplexity on the text file F: windows\n"
               "                     of the context slide by the stride, each token after the\n"
               "                     first is scored once (Hugging Face's definition)\n"
               "  --ppl-stride N     the windows' stride (default: half the context)\n"
               "  --allow-special    '<|endoftext|>' in the text is the special token\n"
               "  --temperature T    sampling temperature (default 0.8)\n"
               "  --top-k K          sample among the K most likely tokens (default 40; 0: all)\n"
               "  --top-p P          ... within cumulative probability P (default 0.95)\n"
               "  --seed S           random seed (default 0): same seed, same text\n"
               "  --greedy           always take the most likely token\n"
               "  --no-stop-at-eos   keep generating after <|endoftext|>\n"
               "  --no-stream        print the text at the end instead of token by token\n"
               "  -n N               tokens to generate (default 16)\n"
               "  --print-ids        print the generated ids, comma-separated\n"
               "  --dump-logits F    write float32 [R, vocab] logits as .npy: the prompt's T\n"
               "                     rows, then one row per decode step (R = T + n - 1)\n"
               "  --weights F        read weights from F instead of %s\n"
               "  --threads N        threads for oneDNN and the runtime's kernels\n"
               "                     (default: OMP_NUM_THREADS, else all cores)\n"
               "  --bench            print load time (with a one-token warm-up pass),\n"
               "                     prefill and decode tokens/s, and peak RSS\n"
               "  --profile          print the time spent in each kind of runtime call\n"
               "                     (matmul, sdpa, ...), for the prefill and for decoding\n"
               "  --verbose          print the oneDNN ISA and the implementation of each\n"
               "                     primitive\n"
               "  --help             this text\n\n"
               "context: %lld positions; matmuls: %s\n",
               argv0, sig.weights.c_str(), static_cast<long long>(sig.context), sig.dtype.c_str());
  return code;
}

int runLanguageModel(int argc, char **argv, const Signature &sig) {
  std::vector<int64_t> prompt;
  long long n = 16;
  bool printIds = false, bench = false, verbose = false, promptGiven = false, profile = false;
  long long threads = 0;
  bool tokenizeOnly = false, allowSpecial = false, greedy = false, stopAtEos = true,
       stream = true, textPrompt = false;
  std::string promptText;
  double temperature = 0.8, topP = 0.95;
  long long topK = 40;
  unsigned long long seed = 0;
  auto number = [&](const std::string &flag, const std::string &v, double lo, double hi,
                    double &out) -> bool {
    char *end = nullptr;
    out = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !(out >= lo && out <= hi)) {
      std::fprintf(stderr, "error: %s: '%s' is not a number in [%g, %g]\n", flag.c_str(),
                   v.c_str(), lo, hi);
      return false;
    }
    return true;
  };
  std::string dumpPath, weights = sig.weights, perplexityPath;
  long long pplStride = 0;
  int logitsSlot = sig.find("logits");
  if (logitsSlot < 0)
    return fail("the model has tokens but no logits output");
  int64_t vocab = sig.slots[logitsSlot].shape.back();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *what) -> const char * {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: %s needs %s\n", arg.c_str(), what);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h")
      return lmUsage(argv[0], sig, stdout, 0);
    if (arg == "--prompt-ids") {
      promptGiven = true;
      std::string list = value("a comma-separated list of ids");
      if (list.empty())
        continue; // an empty prompt, reported below
      for (const std::string &item : split(list, ',')) {
        char *end = nullptr;
        errno = 0;
        long long id = std::strtoll(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || errno != 0) {
          std::fprintf(stderr, "error: --prompt-ids: '%s' is not a token id\n", item.c_str());
          return 2;
        }
        if (id < 0 || id >= vocab) {
          std::fprintf(stderr, "error: --prompt-ids: id %lld is out of range [0, %lld)\n", id,
                       static_cast<long long>(vocab));
          return 2;
        }
        prompt.push_back(id);
      }
    } else if (arg == "-n") {
      std::string v = value("a number");
      char *end = nullptr;
      n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0) {
        std::fprintf(stderr, "error: -n: '%s' is not a non-negative number\n", v.c_str());
        return 2;
      }
    } else if (arg == "--print-ids") {
      printIds = true;
    } else if (arg == "--dump-logits") {
      dumpPath = value("a file name");
    } else if (arg == "--weights") {
      weights = std::string("file:") + value("a file name");
    } else if (arg == "--prompt" || arg == "--prompt-file") {
      promptGiven = textPrompt = true;
      std::string v = value(arg == "--prompt" ? "a text" : "a file name");
      if (arg == "--prompt") {
        promptText = v;
      } else if (!readTextFile("--prompt-file", v, kMaxTextFile, promptText)) {
        return 2;
      }
    } else if (arg == "--perplexity") {
      perplexityPath = value("a text file");
    } else if (arg == "--ppl-stride") {
      std::string v = value("a number");
      char *end = nullptr;
      errno = 0;
      pplStride = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || errno != 0 || pplStride < 1 ||
          (sig.context > 0 && pplStride > sig.context)) {
        std::fprintf(stderr, "error: --ppl-stride: '%s' is not a stride in [1, %lld]\n", v.c_str(),
                     static_cast<long long>(sig.context));
        return 2;
      }
    } else if (arg == "--tokenize") {
      tokenizeOnly = true;
    } else if (arg == "--allow-special") {
      allowSpecial = true;
    } else if (arg == "--greedy") {
      greedy = true;
    } else if (arg == "--no-stop-at-eos") {
      stopAtEos = false;
    } else if (arg == "--stop-at-eos") {
      stopAtEos = true;
    } else if (arg == "--no-stream") {
      stream = false;
    } else if (arg == "--temperature") {
      if (!number(arg, value("a number"), 1e-6, 1e6, temperature))
        return 2;
    } else if (arg == "--top-p") {
      if (!number(arg, value("a number"), 1e-6, 1.0, topP))
        return 2;
    } else if (arg == "--top-k") {
      double k;
      if (!number(arg, value("a number"), 0, 1e9, k))
        return 2;
      topK = static_cast<long long>(k);
    } else if (arg == "--seed") {
      double sd;
      if (!number(arg, value("a number"), 0, 1.8e19, sd))
        return 2;
      seed = static_cast<unsigned long long>(sd);
    } else if (arg == "--threads") {
      std::string v = value("a number");
      char *end = nullptr;
      threads = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || threads < 1 || threads > 1024) {
        std::fprintf(stderr, "error: --threads: '%s' is not a thread count (1-1024)\n", v.c_str());
        return 2;
      }
    } else if (arg == "--bench") {
      bench = true;
    } else if (arg == "--verbose") {
      verbose = true;
    } else if (arg == "--profile") {
      profile = true;
    } else {
      std::fprintf(stderr, "error: unknown argument '%s' (see --help)\n", arg.c_str());
      return 2;
    }
  }
  std::unique_ptr<tfm::tokenizer::Tokenizer> tokenizer;
  if (sig.tokenizer && tfm_vocab_encoder_begin) {
    try {
      tokenizer = std::make_unique<tfm::tokenizer::Tokenizer>(
          std::string_view(tfm_vocab_encoder_begin, tfm_vocab_encoder_end - tfm_vocab_encoder_begin),
          std::string_view(tfm_vocab_merges_begin, tfm_vocab_merges_end - tfm_vocab_merges_begin));
    } catch (const std::exception &e) {
      return fail(std::string("the embedded tokenizer: ") + e.what());
    }
  }
  if (!perplexityPath.empty()) {
    if (!tokenizer)
      return fail("--perplexity needs the model's tokenizer (no vocab.json/merges.txt in its "
                  "directory and a vocabulary other than GPT-2's)");
    if (sig.context < 2)
      return fail("--perplexity needs a model with a fixed context (n_positions) of at least 2 "
                  "tokens; this one has " + std::to_string(sig.context));
    if (promptGiven || tokenizeOnly || !dumpPath.empty())
      return fail("--perplexity takes no prompt, --tokenize or --dump-logits");
  }
  if (textPrompt || tokenizeOnly) {
    if (!tokenizer)
      return fail("this model has no tokenizer (no vocab.json/merges.txt in its directory and "
                  "a vocabulary other than GPT-2's); use --prompt-ids");
    if (textPrompt) {
      try {
        prompt = tokenizer->encode(promptText, allowSpecial);
      } catch (const std::exception &e) {
        return fail(std::string("--prompt: ") + e.what());
      }
    }
  }
  if (tokenizeOnly) {
    std::printf("[");
    for (size_t i = 0; i < prompt.size(); ++i)
      std::printf("%s%lld", i ? ", " : "", static_cast<long long>(prompt[i]));
    std::printf("]\n");
    return 0;
  }
  // The bytes of a generated id. A model's vocabulary may be larger than its
  // tokenizer's (nanoGPT and llm.c pad 50257 to 50304): such ids decode to
  // nothing, as Hugging Face's decode skips them.
  auto decode = [&](int64_t id) -> std::string {
    return id >= 0 && static_cast<size_t>(id) < tokenizer->size() ? tokenizer->decode(id)
                                                                  : std::string();
  };
  int64_t eos = tokenizer ? tokenizer->endOfText() : -1;
  if (!promptGiven)
    prompt.push_back(eos >= 0 ? eos : (vocab > 50256 ? 50256 : 0));
  if (prompt.empty())
    return fail("the prompt is empty (it needs at least one token)");
  int64_t t0 = static_cast<int64_t>(prompt.size());
  // Positions used: t0 + n - 1, computed unsigned (-n may be as large as a
  // long long, and both terms are below 2^63, so the sum cannot wrap).
  unsigned long long positionsUsed =
      static_cast<unsigned long long>(t0) + static_cast<unsigned long long>(n > 0 ? n - 1 : 0);
  if (sig.context > 0 && perplexityPath.empty() &&
      positionsUsed > static_cast<unsigned long long>(sig.context))
    return fail("a prompt of " + std::to_string(t0) + " tokens and " + std::to_string(n) +
                " new tokens need " + std::to_string(positionsUsed) +
                " positions; the context is " + std::to_string(sig.context));

  double loadStart = now();
  tfm_rt_set_threads(static_cast<int>(threads));
  tfm_rt_set_bf16(sig.dtype == "bf16");
  if (verbose) {
    const char *tunables = std::getenv("GLIBC_TUNABLES");
    std::string matmuls = sig.dtype;
    if (sig.dtype == "bf16" && !tfm::runtime::Runtime::get().bf16())
      matmuls = "f32 (bf16 compiled; oneDNN has no bf16 matmul on this CPU)";
    std::fprintf(stderr, "oneDNN ISA: %s; threads: %u; matmuls: %s; malloc on huge pages: %s\n",
                 tfm::runtime::Runtime::isa().c_str(), tfm::runtime::Runtime::get().threads(),
                 matmuls.c_str(),
                 tunables && std::strstr(tunables, "glibc.malloc.hugetlb=1") ? "yes" : "no");
  }
  if (tfm_rt_set_weights(weights.c_str()) != 0)
    return fail(tfm_rt_last_error());
  tfm_rt_warm_up();
  double loadTime = now() - loadStart; // with --bench, the warm-up pass is added below

  // Layers: past_k.N / past_v.N inputs and present_k.N / present_v.N outputs.
  struct Layer { int pastK, pastV, presentK, presentV; };
  std::vector<Layer> layers;
  for (int l = 0;; ++l) {
    std::string s = std::to_string(l);
    Layer layer{sig.find("past_k." + s), sig.find("past_v." + s), sig.find("present_k." + s),
                sig.find("present_v." + s)};
    if (layer.pastK < 0)
      break;
    layers.push_back(layer);
  }
  int64_t width = layers.empty() ? 0 : sig.slots[layers[0].pastK].shape.back();
  int tokensSlot = sig.find("tokens"), positionsSlot = sig.find("positions");

  // One cache buffer per layer and tensor, passed as both past and present:
  // each step appends its keys and values in place.
  // A model without a fixed context (no learned positions) grows its cache to
  // what the prompt and -n need, up to kMaxPositions.
  constexpr int64_t kMaxPositions = int64_t(1) << 20;
  if (sig.context <= 0 && positionsUsed > static_cast<unsigned long long>(kMaxPositions))
    return fail("a prompt of " + std::to_string(t0) + " tokens and " + std::to_string(n) +
                " new tokens need " + std::to_string(positionsUsed) + " positions; at most " +
                std::to_string(kMaxPositions) + " without a fixed context");
  int64_t capacity = sig.context > 0 ? sig.context : static_cast<int64_t>(positionsUsed);
  std::vector<std::vector<float>> cache(2 * layers.size(),
                                        std::vector<float>(static_cast<size_t>(capacity * width) + 1));
  std::vector<int64_t> tokens, positions, logitRows;
  std::vector<float> logits, dumped;
  int logitRowsSlot = sig.find("logit_rows");
  // One forward pass of `ids` after `past` cached positions. Logits are
  // computed for the last row only, or for every row when they are dumped
  // (a model without a logit_rows input computes every row).
  // `firstRow`: the first row whose logits are wanted (the rows from it to the
  // end are computed; a model without logit_rows computes all and sets
  // firstRow to 0).
  auto forwardRows = [&](const std::vector<int64_t> &ids, int64_t past, int64_t &firstRow) -> bool {
    int64_t t = static_cast<int64_t>(ids.size());
    tokens = ids;
    positions.resize(t);
    for (int64_t i = 0; i < t; ++i)
      positions[i] = past + i;
    if (logitRowsSlot < 0)
      firstRow = 0;
    logitRows.clear();
    for (int64_t i = firstRow; i < t; ++i)
      logitRows.push_back(i);
    int64_t rows = static_cast<int64_t>(logitRows.size());
    logits.resize(static_cast<size_t>(rows * vocab));
    std::vector<void *> buffers(sig.slots.size(), nullptr);
    buffers[tokensSlot] = tokens.data();
    buffers[positionsSlot] = positions.data();
    buffers[logitsSlot] = logits.data();
    if (logitRowsSlot >= 0)
      buffers[logitRowsSlot] = logitRows.data();
    for (size_t l = 0; l < layers.size(); ++l) {
      buffers[layers[l].pastK] = buffers[layers[l].presentK] = cache[2 * l].data();
      buffers[layers[l].pastV] = buffers[layers[l].presentV] = cache[2 * l + 1].data();
    }
    // Dynamic dims in argument order.
    std::vector<int64_t> dims;
    for (const Slot &slot : sig.slots) {
      if (slot.shape.empty() || slot.shape[0] >= 0)
        continue;
      if (slot.name == "tokens" || slot.name == "positions")
        dims.push_back(t);
      else if (slot.name == "logits" || slot.name == "logit_rows")
        dims.push_back(rows);
      else if (slot.name.rfind("past_", 0) == 0)
        dims.push_back(past);
      else if (slot.name.rfind("present_", 0) == 0)
        dims.push_back(past + t);
      else {
        std::fprintf(stderr, "error: buffer '%s' has a dynamic size the driver cannot derive\n",
                     slot.name.c_str());
        return false;
      }
    }
    return run(buffers, dims);
  };
  auto forward = [&](const std::vector<int64_t> &ids, int64_t past) -> bool {
    int64_t firstRow = dumpPath.empty() ? static_cast<int64_t>(ids.size()) - 1 : 0;
    return forwardRows(ids, past, firstRow);
  };

  if (!perplexityPath.empty())
    return perplexity(perplexityPath, *tokenizer, allowSpecial, sig.context, pplStride, vocab,
                      logits, forwardRows);

  // With --bench, a one-token warm-up pass counts as loading: it touches every
  // weight (mapping or generating it) and creates the decode primitives.
  if (bench) {
    if (!forward({prompt[0]}, 0))
      return 1;
    loadTime = now() - loadStart;
  }
  std::vector<int64_t> generated;
  std::mt19937_64 rng(seed);
  tfm::tokenizer::Utf8Stream utf8;
  if (tokenizer && stream) { // the prompt, then the continuation as it comes
    std::string text;
    for (int64_t id : prompt)
      text += decode(id);
    if (!emit(utf8.push(text)))
      return finishStdout(1);
  }
  int64_t past = 0;
  double prefillTime = 0, decodeTime = 0;
  tfm_rt_set_profile(profile);
  std::vector<int64_t> ids = prompt;
  for (long long step = 0; step < std::max<long long>(n, 1); ++step) {
    int64_t t = static_cast<int64_t>(ids.size());
    double start = now();
    if (!forward(ids, past))
      return 1;
    (step == 0 ? prefillTime : decodeTime) += now() - start;
    if (profile && step == 0) {
      std::fprintf(stderr, "profile: prefill of %lld tokens\n", static_cast<long long>(t));
      tfm_rt_profile_print(stderr, prefillTime);
    }
    if (!dumpPath.empty())
      dumped.insert(dumped.end(), logits.begin(), logits.end());
    past += t;
    if (n == 0)
      break;
    const float *last = logits.data() + logits.size() - vocab;
    // Hugging Face refuses to sample from such a row ("probability tensor
    // contains either inf, nan or element < 0"); so does tfm.
    for (int64_t j = 0; j < vocab; ++j)
      if (!std::isfinite(last[j]))
        return finishStdout(fail("the logits of step " + std::to_string(step) + " (token id " +
                                 std::to_string(j) + ") are " +
                                 (std::isnan(last[j]) ? "NaN" : "infinite") +
                                 ": the weights or the computation produced non-finite values"));
    int64_t next = greedy ? 0 : -1;
    if (greedy) {
      for (int64_t j = 1; j < vocab; ++j)
        if (last[j] > last[next])
          next = j;
    } else {
      // temperature, then top-k, then top-p (nucleus), then a draw.
      std::vector<int64_t> order(static_cast<size_t>(vocab));
      for (int64_t j = 0; j < vocab; ++j)
        order[j] = j;
      int64_t k = topK > 0 ? std::min<int64_t>(topK, vocab) : vocab;
      std::partial_sort(order.begin(), order.begin() + k, order.end(),
                        [&](int64_t x, int64_t y) { return last[x] > last[y]; });
      std::vector<double> probs(static_cast<size_t>(k));
      double sum = 0;
      for (int64_t j = 0; j < k; ++j)
        sum += probs[j] = std::exp((last[order[j]] - last[order[0]]) / temperature);
      double cumulative = 0;
      int64_t keep = k;
      for (int64_t j = 0; j < k; ++j) {
        cumulative += probs[j] / sum;
        if (cumulative >= topP) {
          keep = j + 1;
          break;
        }
      }
      std::discrete_distribution<int64_t> pick(probs.begin(), probs.begin() + keep);
      next = order[pick(rng)];
    }
    generated.push_back(next);
    if (tokenizer && stream) {
      if (!emit(utf8.push(decode(next))))
        return finishStdout(1);
    }
    if (stopAtEos && next == eos)
      break;
    ids = {next};
  }
  if (tokenizer) {
    std::string text;
    if (stream) {
      text = utf8.finish();
    } else {
      for (int64_t id : prompt)
        text += decode(id);
      for (int64_t id : generated)
        text += decode(id);
      text = tfm::tokenizer::Utf8Stream::sanitize(text);
    }
    emit(text + "\n");
  }
  if (profile && generated.size() > 1) {
    std::fprintf(stderr, "profile: %zu decode steps\n", generated.size() - 1);
    tfm_rt_profile_print(stderr, decodeTime);
  }
  if (verbose)
    for (const std::string &impl : tfm::runtime::Runtime::get().implementations())
      std::fprintf(stderr, "%s\n", impl.c_str());
  if (!dumpPath.empty()) {
    int64_t rows = static_cast<int64_t>(dumped.size()) / vocab;
    std::vector<double> values(dumped.begin(), dumped.end());
    std::string error;
    if (!tfm::npy::write(dumpPath, tfm::npy::fromDoubles({rows, vocab}, values), error))
      return fail(error);
  }
  if (printIds) {
    for (size_t i = 0; i < generated.size(); ++i)
      std::printf("%s%lld", i ? "," : "", static_cast<long long>(generated[i]));
    std::printf("\n");
  }
  if (bench) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    std::printf("load: %.3f s\nprefill: %lld tokens in %.3f s (%.1f tokens/s)\n", loadTime,
                static_cast<long long>(t0), prefillTime, t0 / std::max(prefillTime, 1e-9));
    long long steps = generated.empty() ? 0 : static_cast<long long>(generated.size()) - 1;
    if (steps > 0)
      std::printf("decode: %lld tokens in %.3f s (%.1f tokens/s)\n", steps, decodeTime,
                  steps / std::max(decodeTime, 1e-9));
    std::printf("peak RSS: %.1f MiB\n", usage.ru_maxrss / 1024.0);
  }
  return 0;
}

//===----------------------------------------------------------------------===//
// Tensor mode (.npy in, .npy out)
//===----------------------------------------------------------------------===//

std::string describe(const std::vector<Slot> &slots, bool outputs) {
  std::string s;
  int i = 0;
  for (const Slot &slot : slots) {
    if (slot.output != outputs)
      continue;
    s += "  #" + std::to_string(i++) + ": " + slot.type + " " + shapeString(slot.shape) + "\n";
  }
  return s;
}

int usage(const char *argv0, const std::vector<Slot> &slots, FILE *to, int code) {
  std::fprintf(to,
               "usage: %s --in INPUT.npy ... --out OUTPUT.npy ... [--verbose]\n\n"
               "Runs the model compiled by tfmc on inputs read from .npy files and writes\n"
               "its outputs as .npy files, in the order of the entry function's arguments\n"
               "and results.\n\n"
               "options:\n"
               "  --in FILE     next input (.npy, C order, little endian)\n"
               "  --out FILE    where the next output goes (written only on success)\n"
               "  --verbose     print the oneDNN implementation chosen for each primitive\n"
               "  --help        this text\n\n"
               "inputs:\n%soutputs:\n%s",
               argv0, describe(slots, false).c_str(), describe(slots, true).c_str());
  return code;
}

int runTensors(int argc, char **argv, const Signature &sig) {
  const std::vector<Slot> &slots = sig.slots;
  std::vector<std::string> ins, outs;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h")
      return usage(argv[0], slots, stdout, 0);
    if (arg == "--verbose") {
      verbose = true;
    } else if (arg == "--in" || arg == "--out") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: %s needs a file name\n", arg.c_str());
        return 2;
      }
      (arg == "--in" ? ins : outs).push_back(argv[++i]);
    } else {
      std::fprintf(stderr, "error: unknown argument '%s' (see --help)\n", arg.c_str());
      return 2;
    }
  }
  if (!sig.isStatic())
    return fail("this model has dynamic shapes; tensor mode needs fixed shapes");
  size_t numIn = 0, numOut = 0;
  for (const Slot &s : slots)
    (s.output ? numOut : numIn)++;
  if (ins.size() != numIn || outs.size() != numOut) {
    std::fprintf(stderr, "error: the model takes %zu inputs and %zu outputs, got %zu --in and %zu --out\n",
                 numIn, numOut, ins.size(), outs.size());
    return 2;
  }
  if (!sig.weights.empty() && tfm_rt_set_weights(sig.weights.c_str()) != 0)
    return fail(tfm_rt_last_error());

  std::vector<tfm::npy::Array> arrays(slots.size());
  std::vector<void *> buffers(slots.size());
  size_t nextIn = 0;
  for (size_t i = 0; i < slots.size(); ++i) {
    const Slot &slot = slots[i];
    std::string dtype = npyDtype(slot.type);
    if (dtype.empty())
      return fail("element type " + slot.type + " has no .npy equivalent");
    tfm::npy::Array &a = arrays[i];
    if (slot.output) {
      a.dtype = dtype;
      a.shape = slot.shape;
      a.data.assign(a.numElements() * tfm::npy::itemSize(dtype), 0);
    } else {
      const std::string &path = ins[nextIn++];
      std::string error;
      if (!tfm::npy::read(path, a, error))
        return fail(error);
      if (a.dtype != dtype || a.shape != slot.shape)
        return fail(path + ": expected " + slot.type + " " + shapeString(slot.shape) +
                    " (dtype " + dtype + "), got dtype " + a.dtype + " shape " +
                    shapeString(a.shape));
    }
    buffers[i] = a.data.data();
  }
  std::vector<int64_t> dims(1, 0);
  if (!run(buffers, dims))
    return 1;
  if (verbose)
    for (const std::string &impl : tfm::runtime::Runtime::get().implementations())
      std::fprintf(stderr, "%s\n", impl.c_str());
  size_t nextOut = 0;
  for (size_t i = 0; i < slots.size(); ++i) {
    if (!slots[i].output)
      continue;
    std::string error;
    if (!tfm::npy::write(outs[nextOut++], arrays[i], error))
      return fail(error);
  }
  return 0;
}

/// Runs this executable again, once, with glibc's malloc on transparent huge
/// pages (the glibc.malloc.hugetlb tunable, which glibc reads only at start):
/// oneDNN's buffers and the runtime's vectors then fault in 2 MiB at a time.
/// Measured on GPT-2 124M (2 cores): load 2.3 -> 0.9 s, bf16 prefill-512
/// ~2000-2380 -> ~2450-2550 tokens/s, f32 decode ~+6%. TFM_HUGEPAGES=0 opts
/// out; where the exec fails the program just goes on.
void preferHugePages(char **argv) {
  const char *optOut = std::getenv("TFM_HUGEPAGES");
  if (optOut && std::string(optOut) == "0")
    return;
  const char *tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables && std::strstr(tunables, "glibc.malloc.hugetlb"))
    return; // already set (by us or by the user)
  // Started through the dynamic loader (`ld-linux-x86-64.so.2 ./model`),
  // /proc/self/exe is the loader, which would read argv differently.
  char self[4096];
  ssize_t len = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0)
    return;
  self[len] = '\0';
  if (std::strstr(self, "/ld-linux") || std::strstr(self, "/ld.so"))
    return;
  std::string value = tunables && *tunables ? std::string(tunables) + ":glibc.malloc.hugetlb=1"
                                            : std::string("glibc.malloc.hugetlb=1");
  ::setenv("GLIBC_TUNABLES", value.c_str(), 1);
  ::execv("/proc/self/exe", argv);
}

} // namespace

int main(int argc, char **argv) {
  preferHugePages(argv);
  Signature sig = parseSignature(tfm_signature);
  if (sig.find("tokens") >= 0)
    return finishStdout(runLanguageModel(argc, argv, sig));
  return finishStdout(runTensors(argc, argv, sig));
}
