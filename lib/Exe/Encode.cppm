//===- Encode.cppm - Encoder mode: hidden states, embeddings, fill-mask -*- C++ -*-===//
//
// The `tfm.exe.encode` module: encoder mode of a tfm executable (the model
// has a `hidden` output, as BERT descriptions do). One pass over the whole
// input (no KV cache); from the last hidden state it prints or writes:
//  * the sentence embedding, pooled as sentence-transformers' Pooling module
//    says (CLS token, mean or max over the tokens) and L2-normalized where a
//    Normalize module follows (tfmc read them from the model directory);
//  * the hidden state itself (--dump-hidden);
//  * for a masked-LM head, the most likely tokens at each mask, with
//    probabilities, as transformers' fill-mask pipeline;
//  * --embed-file: a file of texts, one a line, into an [N, hidden] .npy.
// Talks to the runtime only through the C ABI.
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Runtime/tfm_runtime.h"
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <numeric>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <vector>
export module tfm.exe.encode;
import tfm.exe.console;
import tfm.exe.options;
import tfm.exe.signature;
import tfm.exe.text;
import tfm.support;
import tfm.output_file;
import tfm.tokenizer;
import tfm.tokenizer.hf;

export namespace tfm::exe {
/// Runs encoder mode with options `o`; returns the exit status.
int encode(const EncodeOptions &o, const Signature &sig);

/// The sentence embedding of hidden states `hidden` ([t, width], row-major)
/// as sentence-transformers' Pooling computes it for one unpadded text
/// (`pooling`: a tfm_pooling; CLS: row 0; mean and max over the t rows),
/// then divided by its L2 norm (at least 1e-12, torch's F.normalize) when
/// `normalize`. Sums in double.
std::vector<float> poolEmbedding(const float *hidden, int64_t t, int64_t width, int32_t pooling,
                                 bool normalize);
} // namespace tfm::exe

namespace tfm::exe {

std::vector<float> poolEmbedding(const float *hidden, int64_t t, int64_t width, int32_t pooling,
                                 bool normalize) {
  std::vector<double> acc(static_cast<size_t>(width), 0.0);
  if (pooling == TFM_POOLING_MEAN) {
    for (int64_t i = 0; i < t; ++i)
      for (int64_t j = 0; j < width; ++j)
        acc[j] += hidden[i * width + j];
    for (double &v : acc)
      v /= static_cast<double>(std::max<int64_t>(t, 1));
  } else if (pooling == TFM_POOLING_MAX) {
    for (int64_t j = 0; j < width; ++j) {
      double m = -INFINITY;
      for (int64_t i = 0; i < t; ++i)
        m = std::max(m, static_cast<double>(hidden[i * width + j]));
      acc[j] = m;
    }
  } else { // CLS (and the default without sentence-transformers files)
    for (int64_t j = 0; j < width; ++j)
      acc[j] = hidden[j];
  }
  if (normalize) {
    double norm = 0;
    for (double v : acc)
      norm += v * v;
    norm = std::max(std::sqrt(norm), 1e-12);
    for (double &v : acc)
      v /= norm;
  }
  return std::vector<float>(acc.begin(), acc.end());
}

namespace {
/// `text` as a JSON string (UTF-8 kept; ill-formed bytes replaced by U+FFFD).
std::string jsonString(const std::string &text) {
  std::string clean = tfm::tokenizer::Utf8Stream::sanitize(text), out = "\"";
  for (char c : clean) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string jsonFloats(const float *v, size_t n) {
  std::string out = "[";
  char buf[32];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%s%.9g", i ? ", " : "", static_cast<double>(v[i]));
    out += buf;
  }
  return out + "]";
}

/// The compiled encoder: one pass over the ids and token types of one text,
/// or of a batch of texts packed one after another (sequence ids 0, 1, ...;
/// positions restart in each).
class Encoder {
public:
  explicit Encoder(const Signature &sig)
      : sig(sig), tokens(sig.find(TFM_ROLE_TOKENS)), positions(sig.find(TFM_ROLE_POSITIONS)),
        types(sig.find(TFM_ROLE_TOKEN_TYPES)), sequences(sig.find(TFM_ROLE_SEQUENCE_IDS)),
        hiddenSlot(sig.find(TFM_ROLE_HIDDEN)),
        rowsSlot(sig.find(TFM_ROLE_LOGIT_ROWS)), logitsSlot(sig.find(TFM_ROLE_LOGITS)),
        width(sig.slots[hiddenSlot].shape[1]),
        vocab(logitsSlot >= 0 ? sig.slots[logitsSlot].shape[1] : 0) {}

  /// One pass over one text: hidden ([t, width]) and, for `rows`, logits
  /// ([rows, vocab]). False after printing the runtime's error.
  bool run(const std::vector<int64_t> &ids, const std::vector<int64_t> &typeIds,
           const std::vector<int64_t> &rows) {
    tokenIds = ids;
    tokenTypes = typeIds;
    pos.resize(ids.size());
    std::iota(pos.begin(), pos.end(), int64_t(0));
    sequenceIds.assign(ids.size(), 0);
    return pass(rows);
  }

  /// One pass over a batch of texts packed into one call; hidden holds
  /// their rows one after another (text b from row starts[b]). With
  /// `padTo` above the batch's tokens, rows of id 0 follow up to padTo, each
  /// a one-row sequence of its own (their outputs are not used): every batch
  /// of a file then has one of a few row counts, and oneDNN's primitives,
  /// made per shape, are made once.
  bool runBatch(const std::vector<const tfm::tokenizer::Encoding *> &batch,
                std::vector<int64_t> &starts, size_t padTo = 0) {
    tokenIds.clear();
    tokenTypes.clear();
    pos.clear();
    sequenceIds.clear();
    starts.clear();
    for (size_t b = 0; b < batch.size(); ++b) {
      starts.push_back(static_cast<int64_t>(tokenIds.size()));
      const tfm::tokenizer::Encoding &e = *batch[b];
      tokenIds.insert(tokenIds.end(), e.ids.begin(), e.ids.end());
      tokenTypes.insert(tokenTypes.end(), e.typeIds.begin(), e.typeIds.end());
      for (size_t i = 0; i < e.ids.size(); ++i) {
        pos.push_back(static_cast<int64_t>(i));
        sequenceIds.push_back(static_cast<int64_t>(b));
      }
    }
    starts.push_back(static_cast<int64_t>(tokenIds.size()));
    for (int64_t id = static_cast<int64_t>(batch.size()); tokenIds.size() < padTo; ++id) {
      tokenIds.push_back(0);
      tokenTypes.push_back(0);
      pos.push_back(0);
      sequenceIds.push_back(id);
    }
    return pass({});
  }

private:
  bool pass(const std::vector<int64_t> &rows) {
    int64_t t = static_cast<int64_t>(tokenIds.size());
    logitRows = rows;
    // A masked-LM head always computes at least one row (zero-row
    // primitives are not something the backend promises to run).
    if (rowsSlot >= 0 && logitRows.empty())
      logitRows.push_back(0);
    hidden.assign(static_cast<size_t>(t * width), 0.0f);
    logits.assign(static_cast<size_t>(logitRows.size()) * vocab, 0.0f);
    std::vector<void *> buffers(sig.slots.size(), nullptr);
    buffers[tokens] = tokenIds.data();
    buffers[positions] = pos.data();
    buffers[types] = tokenTypes.data();
    buffers[sequences] = sequenceIds.data();
    buffers[hiddenSlot] = hidden.data();
    if (rowsSlot >= 0) {
      buffers[rowsSlot] = logitRows.data();
      buffers[logitsSlot] = logits.data();
    }
    std::vector<int64_t> dims;
    for (const Slot &slot : sig.slots)
      for (size_t d = 0; d < slot.shape.size(); ++d)
        if (slot.shape[d] < 0)
          dims.push_back(slot.dimSizes[d] == TFM_DIM_LOGIT_ROWS
                             ? static_cast<int64_t>(logitRows.size())
                             : t);
    return tfm::exe::run(buffers, dims);
  }

public:
  const Signature &sig;
  int tokens, positions, types, sequences, hiddenSlot, rowsSlot, logitsSlot;
  int64_t width, vocab;
  std::vector<int64_t> tokenIds, tokenTypes, pos, sequenceIds, logitRows;
  std::vector<float> hidden, logits;
};

/// The lines of `text` (\n or \r\n), views into it; a final newline ends
/// the last line rather than starting an empty one.
std::vector<std::string_view> linesOf(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos)
      end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}
} // namespace

int encode(const EncodeOptions &o, const Signature &sig) {
  Encoder model(sig);
  std::unique_ptr<Text> tokenizer;
  bool needsText = o.textGiven || !o.fillMask.empty() || !o.embedFile.empty();
  if (sig.tokenizer) {
    try {
      tokenizer = embeddedText(sig.tokenizer);
    } catch (const std::exception &e) {
      if (needsText)
        return fail(e.what());
    }
  }
  if (needsText && !tokenizer)
    return fail("this model has no tokenizer (no tokenizer.json in its directory); use "
                "--prompt-ids");
  // Texts are truncated as sentence-transformers does (max_seq_length), and
  // never beyond the positions the model has.
  size_t limit = static_cast<size_t>(sig.context > 0 ? sig.context : INT64_MAX);
  size_t truncateTo = sig.maxSeqLength > 0 ? std::min<size_t>(sig.maxSeqLength, limit) : 0;
  // Special tokens written in a text ([SEP], [MASK]) are those tokens, as
  // transformers' tokenizers (and so sentence-transformers) read them.
  auto inputOf = [&](const std::string &text, const std::string *pair, const char *flag,
                     size_t maxLength, tfm::tokenizer::Encoding &out) -> bool {
    try {
      std::string_view second = pair ? std::string_view(*pair) : std::string_view();
      out = tokenizer->encodeInput(text, pair ? &second : nullptr, /*allowSpecial=*/true,
                                   maxLength);
    } catch (const std::exception &e) {
      fail(std::string(flag) + ": " + e.what());
      return false;
    }
    return true; // ids beyond the model's tables are the runtime's error (naming them)
  };

  std::string text = o.text, fileText;
  if (!o.promptFile.empty() && !readTextFile("--prompt-file", o.promptFile, kMaxTextFile, text))
    return 2;
  if (!o.embedFile.empty() && !readTextFile("--embed-file", o.embedFile, kMaxTextFile, fileText))
    return 2;
  std::vector<int64_t> ids = o.ids, typeIds = o.typeIds;
  if (o.idsGiven && !o.typesGiven)
    typeIds.assign(ids.size(), 0);
  if (o.textGiven) {
    // Truncated as sentence-transformers truncates (max_seq_length), else
    // to the context, said when the context is what cuts it (--tokenize
    // then shows the whole text).
    tfm::tokenizer::Encoding e;
    size_t cut = truncateTo ? truncateTo : o.tokenize ? 0 : limit;
    if (!inputOf(text, o.pairGiven ? &o.pair : nullptr, "--prompt", cut, e))
      return 1;
    if (!truncateTo && !o.tokenize && e.ids.size() == limit) {
      tfm::tokenizer::Encoding whole;
      if (inputOf(text, o.pairGiven ? &o.pair : nullptr, "--prompt", 0, whole) &&
          whole.ids.size() > limit)
        std::fprintf(stderr, "note: the input has %zu tokens; truncated to the context of %zu\n",
                     whole.ids.size(), limit);
    }
    ids = e.ids;
    typeIds = e.typeIds;
  }
  std::vector<int64_t> masks; // --fill-mask: the rows of mask tokens
  if (!o.fillMask.empty()) {
    int64_t mask = tokenizer->mask();
    if (mask < 0)
      return fail("--fill-mask: the tokenizer names no mask token (tokenizer_config.json's "
                  "mask_token)");
    tfm::tokenizer::Encoding e;
    if (!inputOf(o.fillMask, nullptr, "--fill-mask", 0, e))
      return 1;
    ids = e.ids;
    typeIds = e.typeIds;
    for (size_t i = 0; i < ids.size(); ++i)
      if (ids[i] == mask)
        masks.push_back(static_cast<int64_t>(i));
    if (masks.empty())
      return fail("--fill-mask: the text has no mask token " + tokenizer->decode({mask}, false));
  }
  if (o.tokenize) {
    std::string line = "{\"input_ids\": [";
    for (size_t i = 0; i < ids.size(); ++i)
      line += (i ? ", " : "") + std::to_string(ids[i]);
    line += "], \"token_type_ids\": [";
    for (size_t i = 0; i < typeIds.size(); ++i)
      line += (i ? ", " : "") + std::to_string(typeIds[i]);
    emit(line + "]}\n");
    return 0;
  }
  if (o.embedFile.empty()) {
    if (ids.empty())
      return fail("the input is empty (it needs at least one token)");
    if (ids.size() > limit)
      return fail("the input has " + std::to_string(ids.size()) + " tokens; the context is " +
                  std::to_string(sig.context));
  }

  double loadStart = now();
  tfm_rt_set_threads(static_cast<int>(o.threads));
  tfm_rt_set_bf16(sig.dtype == "bf16");
  if (o.verbose)
    std::fprintf(stderr, "oneDNN ISA: %s; threads: %d; matmuls: %s\n", tfm_rt_isa(),
                 tfm_rt_threads(), sig.dtype.c_str());
  if (tfm_rt_set_weights(o.weights.c_str()) != 0)
    return fail(tfm_rt_last_error());
  // Output paths are checked before any work (after the weights and the
  // input files are open: they are never an output), together: two naming
  // one file are an error.
  std::vector<std::string> outputs;
  for (const std::string *path : {&o.dumpHidden, &o.dumpEmbedding, &o.dumpLogits, &o.output})
    if (!path->empty())
      outputs.push_back(*path);
  if (std::string error = tfm::output::checkOutputs(outputs); !error.empty())
    return fail(error);
  tfm_rt_warm_up();
  double loadTime = now() - loadStart;
  if (sig.pooling == TFM_POOLING_DEFAULT && (o.embed || !o.dumpEmbedding.empty() ||
                                             !o.embedFile.empty()))
    std::fprintf(stderr, "note: the model directory had no sentence-transformers modules.json: "
                         "the sentence embedding is the first ([CLS]) token's hidden state\n");

  if (!o.embedFile.empty()) {
    // The embeddings, [N, width] f32, are what stays in memory (texts are
    // tokenized a batch at a time): at most 2^31 numbers (8 GiB).
    size_t maxLines = (size_t(1) << 31) / static_cast<size_t>(model.width);
    size_t count = static_cast<size_t>(std::count(fileText.begin(), fileText.end(), '\n')) +
                   (!fileText.empty() && fileText.back() != '\n');
    if (count > maxLines)
      return fail("--embed-file: '" + o.embedFile + "' has " + std::to_string(count) +
                  " lines; at most " + std::to_string(maxLines) + " embeddings of " +
                  std::to_string(model.width) + " fit in 8 GiB");
    std::vector<std::string_view> lines = linesOf(fileText);
    if (lines.empty())
      return fail("--embed-file: '" + o.embedFile + "' has no lines");
    // Texts are packed into calls of up to --batch-tokens tokens each
    // (attention within each text, no padding between them; a text longer
    // than that is a call of its own).
    double start = now(), lastReport = start;
    std::vector<float> rows(lines.size() * static_cast<size_t>(model.width));
    std::vector<int64_t> starts;
    long long tokensSeen = 0;
    tfm::tokenizer::Encoding next;
    bool haveNext = false;
    for (size_t first = 0, last = 0; first < lines.size(); first = last) {
      std::vector<tfm::tokenizer::Encoding> inputs;
      size_t tokensInBatch = 0;
      while (last < lines.size()) {
        if (!haveNext) {
          std::string where = "--embed-file: line " + std::to_string(last + 1);
          if (!inputOf(std::string(lines[last]), nullptr, where.c_str(),
                       truncateTo ? truncateTo : limit, next))
            return 1;
          if (next.ids.empty()) // a tokenizer without [CLS]/[SEP] on an empty line
            return fail(where + " gives no tokens");
          haveNext = true;
        }
        if (!inputs.empty() &&
            tokensInBatch + next.ids.size() > static_cast<size_t>(o.batchTokens))
          break;
        tokensInBatch += next.ids.size();
        inputs.push_back(std::move(next));
        haveNext = false;
        ++last;
      }
      tokensSeen += static_cast<long long>(tokensInBatch);
      std::vector<const tfm::tokenizer::Encoding *> batch;
      for (const auto &e : inputs)
        batch.push_back(&e);
      // Padded to a power of two (a full batch: to --batch-tokens).
      size_t padTo = tokensInBatch >= static_cast<size_t>(o.batchTokens)
                         ? 0
                         : std::min<size_t>(std::bit_ceil(tokensInBatch),
                                            static_cast<size_t>(o.batchTokens));
      if (!model.runBatch(batch, starts, padTo))
        return 1;
      for (size_t b = 0; b < batch.size(); ++b) {
        const float *h = model.hidden.data() + starts[b] * model.width;
        for (int64_t e = 0; e < (starts[b + 1] - starts[b]) * model.width; ++e)
          if (!std::isfinite(h[e]))
            return fail("--embed-file: the hidden state of line " +
                        std::to_string(first + b + 1) + " has NaN or infinite values");
        std::vector<float> v = poolEmbedding(h, starts[b + 1] - starts[b], model.width,
                                             sig.pooling, sig.normalize);
        std::copy(v.begin(), v.end(), rows.begin() + (first + b) * model.width);
      }
      if (now() - lastReport > 2.0) {
        std::fprintf(stderr, "embed: %zu/%zu texts, %.1f sentences/s\n", last, lines.size(),
                     static_cast<double>(last) / (now() - start));
        lastReport = now();
      }
    }
    double seconds = now() - start;
    std::fprintf(stderr, "embedded %zu texts (%lld tokens) in %.3f s: %.1f sentences/s\n",
                 lines.size(), tokensSeen, seconds,
                 static_cast<double>(lines.size()) / std::max(seconds, 1e-9));
    std::string error;
    if (!tfm::npy::write(o.output,
                         tfm::npy::fromFloats({static_cast<int64_t>(lines.size()), model.width},
                                              rows.data()),
                         error))
      return fail(error);
    return 0;
  }

  // --dump-logits asks for every row's logits (--fill-mask for the masks').
  std::vector<int64_t> rows = masks;
  if (!o.dumpLogits.empty()) {
    rows.resize(ids.size());
    std::iota(rows.begin(), rows.end(), int64_t(0));
  }
  double runStart = now();
  if (!model.run(ids, typeIds, rows))
    return 1;
  double runTime = now() - runStart;
  int64_t t = static_cast<int64_t>(ids.size());
  for (float v : model.hidden)
    if (!std::isfinite(v))
      return fail("the hidden state has NaN or infinite values: the weights or the computation "
                  "produced non-finite values");
  if (!o.dumpLogits.empty()) {
    std::string error;
    if (!tfm::npy::write(o.dumpLogits,
                         tfm::npy::fromFloats({t, model.vocab}, model.logits.data()),
                         error))
      return fail(error);
  }
  if (!o.dumpHidden.empty()) {
    std::string error;
    if (!tfm::npy::write(o.dumpHidden,
                         tfm::npy::fromFloats({t, model.width}, model.hidden.data()),
                         error))
      return fail(error);
  }
  std::vector<float> embedding =
      poolEmbedding(model.hidden.data(), t, model.width, sig.pooling, sig.normalize);
  if (!o.dumpEmbedding.empty()) {
    std::string error;
    if (!tfm::npy::write(o.dumpEmbedding,
                         tfm::npy::fromFloats({model.width}, embedding.data()),
                         error))
      return fail(error);
  }
  if (o.embed && !emit(jsonFloats(embedding.data(), embedding.size()) + "\n"))
    return 1;
  if (!masks.empty()) {
    // transformers' FillMaskPipeline: softmax over the vocabulary at each
    // mask, the top k; `sequence` is the text with that token in the mask.
    int64_t vocab = model.vocab;
    int64_t k = std::min<int64_t>(o.topK, vocab);
    for (size_t m = 0; m < masks.size(); ++m) {
      // Row masks[m] of the logits (all rows are there with --dump-logits).
      const float *row = model.logits.data() + (rows.size() == masks.size() ? m : masks[m]) * vocab;
      double max = -INFINITY;
      for (int64_t j = 0; j < vocab; ++j) {
        if (!std::isfinite(row[j]))
          return fail("the logits at the mask are NaN or infinite");
        max = std::max(max, static_cast<double>(row[j]));
      }
      double sum = 0;
      for (int64_t j = 0; j < vocab; ++j)
        sum += std::exp(row[j] - max);
      std::vector<int64_t> order(static_cast<size_t>(vocab));
      std::iota(order.begin(), order.end(), int64_t(0));
      std::partial_sort(order.begin(), order.begin() + k, order.end(),
                        [&](int64_t a, int64_t b) { return row[a] > row[b]; });
      for (int64_t c = 0; c < k; ++c) {
        int64_t id = order[c];
        std::vector<int64_t> filled = ids;
        filled[masks[m]] = id;
        char score[32];
        std::snprintf(score, sizeof score, "%.6g", std::exp(row[id] - max) / sum);
        std::string line = "{";
        if (masks.size() > 1)
          line += "\"mask\": " + std::to_string(m) + ", ";
        line += "\"score\": " + std::string(score) + ", \"token\": " + std::to_string(id) +
                ", \"token_str\": " + jsonString(tokenizer->decode({id}, false)) +
                // the pipeline's decode skips special tokens for one mask only
                ", \"sequence\": " + jsonString(tokenizer->decode(filled, masks.size() == 1)) +
                "}\n";
        if (!emit(line))
          return 1;
      }
    }
  }
  if (o.verbose)
    tfm_rt_print_implementations(stderr);
  if (o.bench) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    std::fprintf(stderr, "load: %.3f s\nencode: %lld tokens in %.4f s (%.1f tokens/s)\npeak RSS: "
                         "%.1f MiB\n",
                 loadTime, static_cast<long long>(t), runTime, t / std::max(runTime, 1e-9),
                 usage.ru_maxrss / 1024.0);
  }
  return 0;
}

} // namespace tfm::exe
