//===- Gpt2Files.cppm - GPT-2's tokenizer files as a tokenizer.json -*- C++ -*-===//
//
// The `tfm.tokenizer.gpt2_files` module: GPT-2's vocab.json + merges.txt
// with what a fine-tune adds to them (added_tokens.json, and the special
// tokens tokenizer_config.json and special_tokens_map.json name), turned
// into the tokenizer.json transformers' GPT2Converter builds for
// GPT2TokenizerFast: a ByteLevel pre-tokenizer (GPT-2's regex, no prefix
// space), ByteLevel decoder and post-processor, a BPE model, and the
// special tokens and added_tokens.json entries as added tokens. Loaded with
// tfm.tokenizer.hf, so such a directory tokenizes as transformers does: an
// added token splits the text wherever it occurs (`"Hi<|pad|>there"` is 3
// ids), and is special only when a *_token key names it.
//
//===----------------------------------------------------------------------===//

module;
#include <nlohmann/json.hpp>
#include <algorithm>
#include <cstdint>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
export module tfm.tokenizer.gpt2_files;
import tfm.tokenizer.hf;

export namespace tfm::tokenizer {

/// The files of a GPT-2-style tokenizer directory and their names (paths,
/// for messages). `tokenizerConfig` and `specialTokensMap` may be empty.
struct Gpt2Files {
  std::string_view vocab, merges, addedTokens, tokenizerConfig, specialTokensMap;
  std::string vocabName, mergesName, addedTokensName, tokenizerConfigName, specialTokensMapName;
};

/// Loads `files` as transformers' GPT2TokenizerFast does. vocab.json and
/// merges.txt must have been checked already (tfm.tokenizer's Tokenizer
/// names their lines); added_tokens.json must be a JSON object of token
/// text -> id (ids in [0, 2^31)). The special tokens are bos/eos/unk
/// "<|endoftext|>" (GPT2Tokenizer's defaults), replaced by
/// tokenizer_config.json's, then special_tokens_map.json's *_token keys
/// (and additional_special_tokens). Throws std::runtime_error naming the
/// file and key.
std::unique_ptr<HfTokenizer> loadGpt2Files(const Gpt2Files &files);

} // namespace tfm::tokenizer

namespace tfm::tokenizer {
namespace {

[[noreturn]] void fail(const std::string &file, const std::string &what) {
  throw std::runtime_error(file + ": " + what);
}

nlohmann::json parseObject(std::string_view text, const std::string &name) {
  nlohmann::json j = parseJson(text, name);
  if (!j.is_object())
    fail(name, "must be a JSON object");
  return j;
}

/// The token text of a *_token value: a string, or an AddedToken object's
/// "content"; null if neither.
const std::string *tokenText(const nlohmann::json &v) {
  if (v.is_string())
    return v.get_ptr<const std::string *>();
  if (v.is_object())
    if (auto c = v.find("content"); c != v.end() && c->is_string())
      return c->get_ptr<const std::string *>();
  return nullptr;
}

const char *const kRoleKeys[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                 "pad_token", "cls_token", "mask_token"};

} // namespace

std::unique_ptr<HfTokenizer> loadGpt2Files(const Gpt2Files &files) {
  // Special tokens: GPT2Tokenizer's defaults, then the two files' keys.
  nlohmann::json config = {{"bos_token", "<|endoftext|>"},
                           {"eos_token", "<|endoftext|>"},
                           {"unk_token", "<|endoftext|>"}};
  std::set<std::string> special;
  for (auto [text, name] : {std::pair{files.tokenizerConfig, &files.tokenizerConfigName},
                            std::pair{files.specialTokensMap, &files.specialTokensMapName}}) {
    if (text.empty())
      continue;
    nlohmann::json j = parseObject(text, *name);
    for (const char *key : kRoleKeys)
      if (auto v = j.find(key); v != j.end()) {
        if (!v->is_null() && !tokenText(*v))
          fail(*name, std::string("key '") + key + "' must be a token (a string or an object "
                                                    "with \"content\") or null");
        config[key] = *v;
      }
    if (auto list = j.find("additional_special_tokens"); list != j.end() && !list->is_null()) {
      if (!list->is_array())
        fail(*name, "key 'additional_special_tokens' must be an array");
      for (const nlohmann::json &v : *list) {
        const std::string *t = tokenText(v);
        if (!t)
          fail(*name, "key 'additional_special_tokens' must hold tokens (strings or objects "
                      "with \"content\")");
        special.insert(*t);
      }
    }
    if (auto c = j.find("clean_up_tokenization_spaces"); c != j.end())
      config["clean_up_tokenization_spaces"] = *c;
  }
  for (const char *key : kRoleKeys)
    if (auto v = config.find(key); v != config.end() && !v->is_null())
      special.insert(*tokenText(*v));

  nlohmann::json vocab = parseObject(files.vocab, files.vocabName);
  nlohmann::json added = nlohmann::json::array();
  std::set<std::string> listed;
  auto add = [&](const std::string &content, int64_t id) {
    bool isSpecial = special.count(content) != 0;
    added.push_back({{"id", id}, {"content", content}, {"single_word", false},
                     {"lstrip", false}, {"rstrip", false}, {"normalized", !isSpecial},
                     {"special", isSpecial}});
    listed.insert(content);
  };
  // The special tokens the vocabulary has (GPT2Converter adds them as
  // added tokens), then added_tokens.json's entries in their ids' order.
  for (const std::string &s : special)
    if (auto v = vocab.find(s); v != vocab.end() && v->is_number_integer())
      add(s, v->get<int64_t>());
  nlohmann::json entries = parseObject(files.addedTokens, files.addedTokensName);
  std::vector<std::pair<int64_t, std::string>> byId;
  for (const auto &[content, id] : entries.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= (int64_t(1) << 31))
      fail(files.addedTokensName, "key " + nlohmann::json(content).dump(-1, ' ', true) +
                                      ": must be a token id (an integer in [0, 2^31))");
    if (content.empty())
      fail(files.addedTokensName, "an added token must not be empty");
    byId.push_back({id.get<int64_t>(), content});
  }
  std::sort(byId.begin(), byId.end());
  for (const auto &[id, content] : byId)
    if (!listed.count(content))
      add(content, id);

  // merges.txt: an optional "#version" first line, then "left right" lines.
  nlohmann::json merges = nlohmann::json::array();
  std::string_view rest = files.merges;
  for (bool first = true; !rest.empty(); first = false) {
    size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty() || (first && line.starts_with("#version")))
      continue;
    merges.push_back(std::string(line));
  }
  nlohmann::json byteLevel = {{"type", "ByteLevel"}, {"add_prefix_space", false},
                              {"trim_offsets", true}, {"use_regex", true}};
  nlohmann::json tokenizer = {
      {"version", "1.0"},
      {"added_tokens", std::move(added)},
      {"pre_tokenizer", byteLevel},
      {"post_processor", byteLevel},
      {"decoder", byteLevel},
      {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr},
                 {"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""},
                 {"fuse_unk", false}, {"byte_fallback", false},
                 {"vocab", std::move(vocab)}, {"merges", std::move(merges)}}}};
  std::string name = files.vocabName + " + " + files.mergesName + " + " + files.addedTokensName;
  return std::make_unique<HfTokenizer>(tokenizer.dump(), config.dump(), name,
                                       files.tokenizerConfigName);
}

} // namespace tfm::tokenizer
