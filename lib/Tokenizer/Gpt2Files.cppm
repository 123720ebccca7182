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
#include <charconv>
#include <cstdint>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
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
  bool addPrefixSpace = false, addBosToken = false;
  nlohmann::json decoderTable; // tokenizer_config.json's added_tokens_decoder, if any
  for (auto [text, name] : {std::pair{files.tokenizerConfig, &files.tokenizerConfigName},
                            std::pair{files.specialTokensMap, &files.specialTokensMapName}}) {
    if (text.empty())
      continue;
    nlohmann::json j = parseObject(text, *name);
    if (name == &files.tokenizerConfigName) {
      for (auto [key, flag] : {std::pair{"add_prefix_space", &addPrefixSpace},
                               std::pair{"add_bos_token", &addBosToken}})
        if (auto v = j.find(key); v != j.end() && !v->is_null()) {
          if (!v->is_boolean())
            fail(*name, std::string("key '") + key + "' must be true or false");
          *flag = v->get<bool>();
        }
      if (auto d = j.find("added_tokens_decoder"); d != j.end() && !d->is_null()) {
        if (!d->is_object())
          fail(*name, "key 'added_tokens_decoder' must be an object (id -> token)");
        decoderTable = *d;
      }
    }
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
  std::set<int64_t> ids;
  std::unordered_map<int64_t, std::string> vocabTokens; // id -> token of vocab.json
  for (const auto &[token, id] : vocab.items())
    if (id.is_number_integer())
      vocabTokens.emplace(id.get<int64_t>(), token);
  auto add = [&](const std::string &content, int64_t id, const nlohmann::json *flags,
                 const std::string &file) {
    // An id the vocabulary has must be the same token's; an id is given once.
    if (auto v = vocab.find(content); v != vocab.end() && v->is_number_integer() &&
                                      v->get<int64_t>() != id)
      fail(file, "added token " + nlohmann::json(content).dump(-1, ' ', true) + " has id " +
                     std::to_string(id) + " but vocab.json gives it id " +
                     std::to_string(v->get<int64_t>()));
    if (auto t = vocabTokens.find(id); t != vocabTokens.end() && t->second != content)
      fail(file, "added token " + nlohmann::json(content).dump(-1, ' ', true) + " has id " +
                     std::to_string(id) + " but vocab.json gives id " + std::to_string(id) +
                     " to another token");
    if (!ids.insert(id).second)
      fail(file, "id " + std::to_string(id) + " is given to two added tokens");
    bool isSpecial = special.count(content) != 0;
    auto flag = [&](const char *key, bool fallback) {
      if (!flags)
        return fallback;
      auto f = flags->find(key);
      if (f == flags->end() || f->is_null())
        return fallback;
      if (!f->is_boolean())
        fail(file, "added token " + std::to_string(id) + ": key '" + key +
                       "' must be true or false");
      return f->get<bool>();
    };
    isSpecial = flag("special", isSpecial);
    added.push_back({{"id", id}, {"content", content}, {"single_word", flag("single_word", false)},
                     {"lstrip", flag("lstrip", false)}, {"rstrip", flag("rstrip", false)},
                     {"normalized", flag("normalized", !isSpecial)}, {"special", isSpecial}});
    listed.insert(content);
  };
  auto checkedId = [&](const nlohmann::json &id, const std::string &key, const std::string &file) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= (int64_t(1) << 31))
      fail(file, "key " + nlohmann::json(key).dump(-1, ' ', true) +
                     ": must be a token id (an integer in [0, 2^31))");
    return id.get<int64_t>();
  };
  if (!decoderTable.is_null()) {
    // transformers >= 4.34 saves every added token with its flags in
    // tokenizer_config.json's added_tokens_decoder; then added_tokens.json
    // is not read (tokenization_utils_base: the legacy branch).
    for (const auto &[key, entry] : decoderTable.items()) {
      int64_t id = -1;
      auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
      if (ec != std::errc() || end != key.data() + key.size() || id < 0 || id >= (int64_t(1) << 31))
        fail(files.tokenizerConfigName, "added_tokens_decoder: key " +
                                            nlohmann::json(key).dump(-1, ' ', true) +
                                            " must be a token id");
      const std::string *content = entry.is_object() ? tokenText(entry) : nullptr;
      if (!content || content->empty())
        fail(files.tokenizerConfigName, "added_tokens_decoder: entry " + key +
                                            " must be an object with a non-empty \"content\"");
      add(*content, id, &entry, files.tokenizerConfigName);
    }
  } else {
    // The special tokens the vocabulary has (GPT2Converter adds them as
    // added tokens), then added_tokens.json's entries in their ids' order.
    for (const std::string &sp : special)
      if (auto v = vocab.find(sp); v != vocab.end() && v->is_number_integer())
        add(sp, v->get<int64_t>(), nullptr, files.vocabName);
    nlohmann::json entries = parseObject(files.addedTokens, files.addedTokensName);
    std::vector<std::pair<int64_t, std::string>> byId;
    for (const auto &[content, id] : entries.items()) {
      int64_t i = checkedId(id, content, files.addedTokensName);
      if (content.empty())
        fail(files.addedTokensName, "an added token must not be empty");
      byId.push_back({i, content});
    }
    std::sort(byId.begin(), byId.end());
    for (const auto &[id, content] : byId)
      if (!listed.count(content))
        add(content, id, nullptr, files.addedTokensName);
  }

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
  // GPT2Converter: add_prefix_space goes to the pre-tokenizer; with
  // add_bos_token the post-processor puts BOS first.
  nlohmann::json byteLevel = {{"type", "ByteLevel"}, {"add_prefix_space", addPrefixSpace},
                              {"trim_offsets", true}, {"use_regex", true}};
  nlohmann::json postProcessor = byteLevel;
  if (addBosToken) {
    const std::string *bos = config["bos_token"].is_null() ? nullptr : tokenText(config["bos_token"]);
    int64_t bosId = -1;
    if (bos) {
      if (auto v = vocab.find(*bos); v != vocab.end() && v->is_number_integer())
        bosId = v->get<int64_t>();
      for (const nlohmann::json &a : added)
        if (a["content"] == *bos)
          bosId = a["id"].get<int64_t>();
    }
    if (bosId < 0)
      fail(files.tokenizerConfigName, "add_bos_token is true but bos_token names no token");
    nlohmann::json b = {{"SpecialToken", {{"id", *bos}, {"type_id", 0}}}};
    auto seq = [](const char *id, int type) {
      return nlohmann::json{{"Sequence", {{"id", id}, {"type_id", type}}}};
    };
    postProcessor = {{"type", "TemplateProcessing"},
                     {"single", nlohmann::json::array({b, seq("A", 0)})},
                     {"pair", nlohmann::json::array({b, seq("A", 0), seq("B", 1)})},
                     {"special_tokens",
                      {{*bos, {{"id", *bos}, {"ids", nlohmann::json::array({bosId})},
                               {"tokens", nlohmann::json::array({*bos})}}}}}};
  }
  nlohmann::json tokenizer = {
      {"version", "1.0"},
      {"added_tokens", std::move(added)},
      {"pre_tokenizer", byteLevel},
      {"post_processor", postProcessor},
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
