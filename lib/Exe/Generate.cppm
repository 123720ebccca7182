//===- Generate.cppm - Text generation with the compiled model --*- C++ -*-===//
//
// The `tfm.exe.generate` module: language-model mode of a tfm executable
// (the model has a `tokens` input, as GPT-2 descriptions do). The prompt is
// prefilled in one pass, then one decode step per new token with the KV
// cache (one buffer per layer and tensor, passed as both past and present);
// sampling is temperature, top-k, then top-p (nucleus), or greedy; text is
// streamed as well-formed UTF-8. Also --perplexity (sliding windows, Hugging
// Face's definition). Talks to the runtime only through the C ABI.
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Runtime/tfm_runtime.h"
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <vector>
export module tfm.exe.generate;
import tfm.exe.console;
import tfm.exe.options;
import tfm.exe.signature;
import tfm.support;
import tfm.output_file;
import tfm.tokenizer;
import tfm.exe.text;

export namespace tfm::exe {
/// Runs language-model mode with options `o`; returns the exit status.
int generate(const GenerateOptions &o, const Signature &sig);
} // namespace tfm::exe

namespace tfm::exe {
namespace {
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
int perplexity(const std::string &path, const Text &tokenizer,
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

} // namespace

int generate(const GenerateOptions &o, const Signature &sig) {
  std::vector<int64_t> prompt = o.prompt;
  const long long n = o.n;
  const bool printIds = o.printIds, bench = o.bench, verbose = o.verbose,
             promptGiven = o.promptGiven, profile = o.profile, tokenizeOnly = o.tokenizeOnly,
             allowSpecial = o.allowSpecial, greedy = o.greedy, stopAtEos = o.stopAtEos,
             stream = o.stream, textPrompt = o.textPrompt;
  const long long threads = o.threads, topK = o.topK, pplStride = o.pplStride;
  // --perplexity's window: --ppl-context, else the model's context.
  const int64_t pplWindow = o.pplContext > 0 ? o.pplContext : sig.context;
  const double temperature = o.temperature, topP = o.topP;
  const unsigned long long seed = o.seed;
  const std::string &dumpPath = o.dumpPath, &weights = o.weights,
                    &perplexityPath = o.perplexityPath;
  std::string promptText = o.promptText;
  if (!o.promptFile.empty() &&
      !readTextFile("--prompt-file", o.promptFile, kMaxTextFile, promptText))
    return 2;
  int logitsSlot = sig.find(TFM_ROLE_LOGITS);
  if (logitsSlot < 0)
    return fail("the model has tokens but no logits output");
  int64_t vocab = sig.slots[logitsSlot].shape.back();
  // The embedded tokenizer (tfmc loaded it with the same code, so it loads).
  // Runs that take ids need none: without it they print ids, not text.
  std::unique_ptr<Text> tokenizer;
  if (sig.tokenizer) {
    try {
      tokenizer = embeddedText(sig.tokenizer);
    } catch (const std::exception &e) {
      if (textPrompt || tokenizeOnly || !perplexityPath.empty())
        return fail(e.what());
      std::fprintf(stderr, "warning: %s; generating without text\n", e.what());
    }
  }
  if (!perplexityPath.empty()) {
    if (!tokenizer)
      return fail("--perplexity needs the model's tokenizer (no tokenizer.json or "
                  "vocab.json/merges.txt in its directory and a vocabulary other than GPT-2's)");
    if (sig.context < 2)
      return fail("--perplexity needs a model with a fixed context (n_positions) of at least 2 "
                  "tokens; this one has " + std::to_string(sig.context));
    if (promptGiven || tokenizeOnly || !dumpPath.empty())
      return fail("--perplexity takes no prompt, --tokenize or --dump-logits");
  }
  if (textPrompt || tokenizeOnly) {
    if (!tokenizer)
      return fail("this model has no tokenizer (no tokenizer.json or vocab.json/merges.txt in its "
                  "directory and a vocabulary other than GPT-2's); use --prompt-ids");
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
  // The text of the ids as they come (Text::Stream: the bytes each id adds).
  std::unique_ptr<Text::Stream> textOf = tokenizer ? tokenizer->stream() : nullptr;
  // Generation stops at the configuration's eos_token_id(s)
  // (generation_config.json, else config.json: tfmc embeds them), else at the
  // tokenizer's EOS; an empty prompt starts from the configuration's
  // bos_token_id, else the tokenizer's BOS (else its end of text).
  std::vector<int64_t> eosIds = sig.eosTokenIds;
  if (eosIds.empty() && tokenizer && tokenizer->eos() >= 0)
    eosIds.push_back(tokenizer->eos());
  int64_t start = sig.bosTokenId >= 0 ? sig.bosTokenId : tokenizer ? tokenizer->start() : -1;
  if (!promptGiven)
    prompt.push_back(start >= 0 && start < vocab ? start : (vocab > 50256 ? 50256 : 0));
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
    if (sig.dtype == "bf16" && !tfm_rt_bf16_active())
      matmuls = "f32 (bf16 compiled; oneDNN has no bf16 matmul on this CPU)";
    std::fprintf(stderr, "oneDNN ISA: %s; threads: %d; matmuls: %s; malloc on huge pages: %s\n",
                 tfm_rt_isa(), tfm_rt_threads(),
                 matmuls.c_str(),
                 tunables && std::strstr(tunables, "glibc.malloc.hugetlb=1") ? "yes" : "no");
  }
  if (tfm_rt_set_weights(weights.c_str()) != 0)
    return fail(tfm_rt_last_error());
  // The output path is checked before anything is generated or printed (and
  // after the weights are open: they are never an output).
  if (!dumpPath.empty())
    if (std::string error = tfm::output::checkWritable(dumpPath); !error.empty())
      return fail("--dump-logits: " + error);
  tfm_rt_warm_up();
  double loadTime = now() - loadStart; // with --bench, the warm-up pass is added below

  // Layers: past_k.N / past_v.N inputs and present_k.N / present_v.N outputs.
  struct Layer { int pastK, pastV, presentK, presentV; };
  std::vector<Layer> layers;
  for (int l = 0;; ++l) {
    std::string s = std::to_string(l);
    Layer layer{sig.find(TFM_ROLE_PAST_KEY, l), sig.find(TFM_ROLE_PAST_VALUE, l),
                sig.find(TFM_ROLE_PRESENT_KEY, l), sig.find(TFM_ROLE_PRESENT_VALUE, l)};
    if (layer.pastK < 0)
      break;
    layers.push_back(layer);
  }
  int64_t width = layers.empty() ? 0 : sig.slots[layers[0].pastK].shape.back();
  int tokensSlot = sig.find(TFM_ROLE_TOKENS), positionsSlot = sig.find(TFM_ROLE_POSITIONS);
  if (positionsSlot < 0)
    return fail("the model has tokens but no positions input");

  // One cache buffer per layer and tensor, passed as both past and present:
  // each step appends its keys and values in place.
  // A model without a fixed context (no learned positions) grows its cache to
  // what the prompt and -n need, up to kMaxPositions.
  constexpr int64_t kMaxPositions = int64_t(1) << 20;
  if (sig.context <= 0 && positionsUsed > static_cast<unsigned long long>(kMaxPositions))
    return fail("a prompt of " + std::to_string(t0) + " tokens and " + std::to_string(n) +
                " new tokens need " + std::to_string(positionsUsed) + " positions; at most " +
                std::to_string(kMaxPositions) + " without a fixed context");
  // The cache holds what this run uses: the prompt and -n (a Llama 3.2's
  // 131,072-position context would be 8.6 GB of cache allocated up front);
  // --perplexity's windows are the context, or --ppl-context.
  int64_t capacity = static_cast<int64_t>(
      std::min<unsigned long long>(positionsUsed, static_cast<unsigned long long>(kMaxPositions)));
  if (sig.context > 0 && capacity > sig.context)
    capacity = sig.context;
  if (!perplexityPath.empty())
    capacity = pplWindow;
  if (capacity > kMaxPositions || width > (int64_t(1) << 20))
    return fail("a KV cache of " + std::to_string(capacity) + " positions x " +
                std::to_string(width) + " is beyond what the driver allocates (at most " +
                std::to_string(kMaxPositions) + " positions, width 2^20)");
  std::vector<std::vector<float>> cache(2 * layers.size(),
                                        std::vector<float>(static_cast<size_t>(capacity * width) + 1));
  std::vector<int64_t> tokens, positions, logitRows;
  std::vector<float> logits, dumped;
  int logitRowsSlot = sig.find(TFM_ROLE_LOGIT_ROWS);
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
    // Dynamic dims in argument order, each the size the compiler says it is.
    std::vector<int64_t> dims;
    for (const Slot &slot : sig.slots)
      for (size_t d = 0; d < slot.shape.size(); ++d) {
        if (slot.shape[d] >= 0)
          continue;
        switch (slot.dimSizes[d]) {
        case TFM_DIM_NEW_TOKENS: dims.push_back(t); break;
        case TFM_DIM_LOGIT_ROWS: dims.push_back(rows); break;
        case TFM_DIM_PAST: dims.push_back(past); break;
        case TFM_DIM_PAST_AND_NEW: dims.push_back(past + t); break;
        default:
          std::fprintf(stderr, "error: dimension %zu of buffer '%s' is dynamic and the model "
                               "info says no size for it\n", d, slot.name.c_str());
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
    return perplexity(perplexityPath, *tokenizer, allowSpecial, pplWindow, pplStride, vocab,
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
  std::string whole; // --no-stream: the text, printed at the end
  if (tokenizer) { // the prompt, then the continuation as it comes
    std::string text;
    for (int64_t id : prompt)
      text += textOf->push(id);
    if (!stream)
      whole += text;
    else if (!emit(utf8.push(text)))
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
    if (tokenizer) {
      std::string bytes = textOf->push(next);
      if (!stream)
        whole += bytes;
      else if (!emit(utf8.push(bytes)))
        return finishStdout(1);
    }
    if (stopAtEos && std::find(eosIds.begin(), eosIds.end(), next) != eosIds.end())
      break;
    ids = {next};
  }
  if (tokenizer) {
    std::string text;
    if (stream)
      text = utf8.finish();
    else
      text = tfm::tokenizer::Utf8Stream::sanitize(whole);
    emit(text + "\n");
  }
  if (profile && generated.size() > 1) {
    std::fprintf(stderr, "profile: %zu decode steps\n", generated.size() - 1);
    tfm_rt_profile_print(stderr, decodeTime);
  }
  if (verbose)
    tfm_rt_print_implementations(stderr);
  if (!dumpPath.empty()) {
    int64_t rows = static_cast<int64_t>(dumped.size()) / vocab;
    std::vector<double> values(dumped.begin(), dumped.end());
    std::string error;
    if (!tfm::npy::write(dumpPath, tfm::npy::fromDoubles({rows, vocab}, values), error))
      return fail(error);
  }
  // Without a tokenizer there is no text to print: the generated ids are the
  // output (dropping them made a run print nothing and exit 0).
  if (!tokenizer && !printIds)
    std::fprintf(stderr, "note: this model has no tokenizer; printing the %zu generated ids "
                 "(as --print-ids does)\n", generated.size());
  if (printIds || !tokenizer) {
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


} // namespace tfm::exe
