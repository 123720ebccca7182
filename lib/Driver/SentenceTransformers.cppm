//===- SentenceTransformers.cppm - How an encoder pools, from its directory -*- C++ -*-===//
//
// The `tfm.driver.sentence_transformers` module: reads the files
// sentence-transformers saves beside a Hugging Face encoder (modules.json,
// the Pooling module's config.json, sentence_bert_config.json) into how an
// encoder executable turns the last hidden state into a sentence embedding:
// the pooling (CLS token, mean or max over the non-padding tokens), whether
// a Normalize module follows, and the length texts are truncated to.
//
// Supported pipelines are the ones embedding models ship: Transformer (the
// directory itself), Pooling with exactly one of pooling_mode_cls_token /
// mean_tokens / max_tokens, optionally Normalize. Anything else (Dense
// layers, weighted-mean or last-token pooling, several modes concatenated)
// is an error naming the file and the key, never a silent difference.
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Runtime/tfm_runtime.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include <cstdint>
#include <string>
export module tfm.driver.sentence_transformers;

import tfm.frontend.config;

export namespace tfm::driver {

/// How an encoder executable pools (tfm_settings' encoder fields).
struct Pooling {
  int32_t mode = TFM_POOLING_DEFAULT; ///< a tfm_pooling
  bool normalize = false;             ///< a Normalize module follows
  int64_t maxSeqLength = 0;           ///< sentence_bert_config.json's max_seq_length; 0: none
  std::string description;            ///< for tfmc's notes: which files said what
};

/// Reads the sentence-transformers files of model directory `dir` (an
/// encoder of hidden size `width`). Without modules.json: the default (CLS,
/// no normalization, no truncation length). Errors are one line naming the
/// file and the key.
llvm::Expected<Pooling> readSentenceTransformers(llvm::StringRef dir, int64_t width);

} // namespace tfm::driver

namespace tfm::driver {
namespace {

llvm::Error failAt(const llvm::Twine &path, const llvm::Twine &why) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), path + ": " + why);
}

/// The JSON value of the file at `path` (config.json's reader: protected as
/// an input, nesting bounded).
llvm::Expected<llvm::json::Value> readJson(const std::string &path) {
  std::string text;
  return frontend::readJsonFile(path, text);
}

std::string join(llvm::StringRef dir, llvm::StringRef a, llvm::StringRef b = "") {
  llvm::SmallString<256> p(dir);
  for (llvm::StringRef part : {a, b})
    if (!part.empty()) // an empty component would append a separator
      llvm::sys::path::append(p, part);
  return std::string(p);
}
} // namespace

llvm::Expected<Pooling> readSentenceTransformers(llvm::StringRef dir, int64_t width) {
  Pooling out;
  std::string modulesPath = join(dir, "modules.json");
  if (!llvm::sys::fs::exists(modulesPath)) {
    out.description = "no modules.json: sentence embeddings are the [CLS] token's hidden state";
    return out;
  }
  auto modules = readJson(modulesPath);
  if (!modules)
    return modules.takeError();
  const llvm::json::Array *list = modules->getAsArray();
  if (!list || list->empty())
    return failAt(modulesPath, "must be a non-empty list of modules");
  bool pooled = false;
  for (size_t i = 0; i < list->size(); ++i) {
    const llvm::json::Object *m = (*list)[i].getAsObject();
    auto type = m ? m->getString("type") : std::nullopt;
    auto path = m ? m->getString("path") : std::nullopt;
    if (!type || !path)
      return failAt(modulesPath, "entry " + llvm::Twine(i) + " needs string keys 'type' and 'path'");
    llvm::StringRef kind = type->rsplit('.').second.empty() ? *type : type->rsplit('.').second;
    if (kind == "Transformer") {
      if (i != 0 || !path->empty())
        return failAt(modulesPath, "entry " + llvm::Twine(i) + ": the Transformer module must be "
                      "first and be the directory itself (path \"\"), got path \"" + *path + "\"");
      continue;
    }
    if (kind == "Normalize") {
      if (!pooled || i + 1 != list->size())
        return failAt(modulesPath, "entry " + llvm::Twine(i) + ": tfm supports Normalize only as "
                      "the last module, after Pooling");
      out.normalize = true;
      continue;
    }
    if (kind != "Pooling" || pooled || i != 1)
      return failAt(modulesPath, "entry " + llvm::Twine(i) + ": module type '" + *type +
                    "' is not supported here (tfm supports Transformer, Pooling, Normalize in "
                    "that order)");
    pooled = true;
    std::string configPath = join(dir, *path, "config.json");
    auto config = readJson(configPath);
    if (!config)
      return config.takeError();
    const llvm::json::Object *c = config->getAsObject();
    if (!c)
      return failAt(configPath, "must be a JSON object");
    if (auto dim = c->getInteger("word_embedding_dimension"); dim && *dim != width)
      return failAt(configPath, "key 'word_embedding_dimension' is " + llvm::Twine(*dim) +
                    "; the model's hidden_size is " + llvm::Twine(width));
    int modes = 0;
    for (auto [key, mode] : {std::pair{"pooling_mode_cls_token", TFM_POOLING_CLS},
                             {"pooling_mode_mean_tokens", TFM_POOLING_MEAN},
                             {"pooling_mode_max_tokens", TFM_POOLING_MAX}}) {
      const llvm::json::Value *v = c->get(key);
      if (v && !v->getAsBoolean())
        return failAt(configPath, llvm::Twine("key '") + key + "' must be true or false");
      if (v && *v->getAsBoolean()) {
        out.mode = mode;
        ++modes;
      }
    }
    for (const char *key : {"pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens",
                            "pooling_mode_lasttoken"})
      if (const llvm::json::Value *v = c->get(key); v && v->getAsBoolean().value_or(false))
        return failAt(configPath, llvm::Twine("key '") + key +
                      "' is true; tfm pools by CLS token, mean or max only");
    if (modes != 1)
      return failAt(configPath, "exactly one of pooling_mode_cls_token, pooling_mode_mean_tokens "
                    "and pooling_mode_max_tokens must be true (got " + llvm::Twine(modes) + ")");
    if (const llvm::json::Value *v = c->get("include_prompt"); v && v->getAsBoolean() == false)
      return failAt(configPath, "key 'include_prompt' is false; tfm pools over every token");
  }
  if (!pooled)
    return failAt(modulesPath, "has no Pooling module");
  std::string sbertPath = join(dir, "sentence_bert_config.json");
  if (llvm::sys::fs::exists(sbertPath)) {
    auto sbert = readJson(sbertPath);
    if (!sbert)
      return sbert.takeError();
    const llvm::json::Object *o = sbert->getAsObject();
    if (!o)
      return failAt(sbertPath, "must be a JSON object");
    if (const llvm::json::Value *v = o->get("max_seq_length"); v && v->kind() != llvm::json::Value::Null) {
      auto n = v->getAsInteger();
      if (!n || *n < 1 || *n > (int64_t(1) << 20))
        return failAt(sbertPath, "key 'max_seq_length' must be an integer in [1, 2^20]");
      out.maxSeqLength = *n;
    }
    // sentence-transformers lower-cases texts itself before tokenizing when
    // do_lower_case is true; tfm does not (yet): refused, not ignored.
    if (const llvm::json::Value *v = o->get("do_lower_case"); v && v->getAsBoolean() == true)
      return failAt(sbertPath, "key 'do_lower_case' is true; tfm does not lower-case texts before "
                               "the tokenizer (a tokenizer.json with a Lowercase normalizer does)");
  }
  // Without max_seq_length, sentence-transformers truncates to the
  // tokenizer's model_max_length (tokenizer_config.json) where it has one
  // (the executable caps it at the context in any case).
  std::string tokenizerConfig = join(dir, "tokenizer_config.json");
  if (!out.maxSeqLength && llvm::sys::fs::exists(tokenizerConfig)) {
    auto config = readJson(tokenizerConfig);
    if (!config)
      return config.takeError();
    if (const llvm::json::Object *c = config->getAsObject())
      if (auto n = c->getInteger("model_max_length"); n && *n >= 1 && *n <= (int64_t(1) << 20))
        out.maxSeqLength = *n;
  }
  static const char *names[] = {"CLS", "CLS", "mean", "max"};
  out.description = std::string(names[out.mode]) + " pooling" +
                    (out.normalize ? ", normalized" : "") +
                    (out.maxSeqLength ? ", texts truncated to " + std::to_string(out.maxSeqLength) +
                                            " tokens"
                                      : std::string()) +
                    " (" + modulesPath + ")";
  return out;
}

} // namespace tfm::driver
