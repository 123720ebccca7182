//===- TokenizerJson.cppm - Hugging Face tokenizer.json ------------*- C++ -*-===//
//
// The `tfm.tokenizer.hf` module: a tokenizer.json (the `tokenizers` library's
// serialization) as one pipeline, encoding exactly as transformers'
// tokenizer(text)["input_ids"] does:
//   1. added tokens (`added_tokens`) split the text first, leftmost longest,
//      as tokenizers' AddedVocabulary does: those with normalized=false on
//      the raw text, the others on each normalized part; single_word, lstrip
//      and rstrip honoured. Special ones (special=true) only when special
//      tokens are allowed: otherwise their text is plain text (tfm's policy
//      for user text, --allow-special).
//   2. each other part: normalizer, pre_tokenizer, model;
//   3. post_processor (BOS/EOS, [CLS]/[SEP], token types), or for Llama-
//      and Gemma-style tokenizer classes the template tokenizer_config.json's
//      add_bos_token / add_eos_token make (transformers' update_post_processor).
// Decoding maps ids to tokens (skipping special ones if asked), runs the
// decoder and, where tokenizer_config.json asks (clean_up_tokenization_spaces),
// transformers' clean-up. Special tokens by role (bos, eos, unk, pad, cls,
// sep, mask) come from tokenizer_config.json, never from their spelling.
// Every malformed or unsupported part is an error naming the file and the
// JSON path.
//
//===----------------------------------------------------------------------===//

module;
#include <algorithm>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utf8proc.h>
#include <vector>
export module tfm.tokenizer.hf;
import tfm.json_depth;
import tfm.tokenizer; // invalidUtf8At (the UTF-8 rules of GPT-2's tokenizer)
import tfm.tokenizer.component;
import tfm.tokenizer.decoder;
import tfm.tokenizer.model;
import tfm.tokenizer.normalizer;
import tfm.tokenizer.post_processor;
import tfm.tokenizer.pre_tokenizer;
import tfm.tokenizer.unicode;
export import tfm.tokenizer.post_processor;

export namespace tfm::tokenizer {

/// An entry of tokenizer.json's added_tokens.
struct AddedToken {
  int64_t id = 0;
  std::string content;
  bool singleWord = false, lstrip = false, rstrip = false, normalized = false, special = false;
};

/// Parses the JSON text of file `name`; throws std::runtime_error
/// "NAME: malformed JSON: ..." (or nested too deep, with the byte offset).
nlohmann::json parseJson(std::string_view text, const std::string &name);

/// Special-token roles (tokenizer_config.json's *_token keys).
enum class Role { Bos, Eos, Unk, Pad, Cls, Sep, Mask };

class HfTokenizer {
public:
  /// Loads the text of tokenizer.json (`json`, called `name` in messages)
  /// and of tokenizer_config.json (`config`, may be empty). Throws
  /// std::runtime_error "FILE: /JSON/PATH: what" on anything malformed or
  /// unsupported.
  HfTokenizer(std::string_view json, std::string_view config, const std::string &name,
              const std::string &configName = "tokenizer_config.json");
  ~HfTokenizer();
  HfTokenizer(const HfTokenizer &) = delete;

  /// The tokenizer as an image that loads fast (what tfmc embeds in an
  /// executable): "TFMTOK01", the pipeline as JSON without the model's
  /// vocabulary and merges (u64 length + bytes), then the vocabulary (u64
  /// count; u32 id, u32 length, bytes each) and the merges in rank order
  /// (u64 count; u32 left, right and merged id each), little endian.
  std::string image() const;
  /// Loads an image (from image(); `name` for messages). Throws
  /// std::runtime_error on a malformed one.
  static std::unique_ptr<HfTokenizer> fromImage(std::string_view image, const std::string &name);
  HfTokenizer &operator=(const HfTokenizer &) = delete;

  /// The ids (and token types) of well-formed UTF-8 `text` (and `pair`),
  /// with the post-processor's special tokens when `addSpecialTokens`.
  /// `maxLength` > 0 truncates as transformers' truncation="longest_first"
  /// does: tokens are dropped from the end of the longer text (of the first
  /// on a tie) until the ids, special tokens included, number at most
  /// maxLength. Throws on invalid UTF-8, naming the byte offset, and when
  /// the special tokens alone are more than maxLength.
  Encoding encode(std::string_view text, bool allowSpecial, bool addSpecialTokens = true,
                  const std::string_view *pair = nullptr, size_t maxLength = 0) const;
  /// The text of `ids` as bytes (ill-formed UTF-8 possible where a
  /// character is split across ids); ids no token has are skipped.
  std::string decode(const std::vector<int64_t> &ids, bool skipSpecial = false) const;
  /// The token of `id`, if any.
  const std::string *token(int64_t id) const;
  /// The id of token text `token` (added tokens first), if any.
  std::optional<int64_t> id(std::string_view token) const;
  /// The id of a special-token role, if tokenizer_config.json names one
  /// that exists.
  std::optional<int64_t> role(Role r) const;
  /// Whether `id` is a special added token.
  bool isSpecial(int64_t id) const;
  /// The largest id + 1.
  size_t size() const { return size_; }
  /// The pipeline, one component a line ("normalizer: NFC", ...).
  std::string describe() const;

private:
  HfTokenizer() = default;
  void init(nlohmann::json j, nlohmann::json config, const std::string &configName,
            ModelTables *tables);
  struct Part {
    std::string text;
    int64_t added = -1; ///< index into added_, or -1 for text
    size_t offset = 0;  ///< where the part starts in the text
  };
  void splitAdded(std::vector<Part> &parts, bool allowSpecial, bool normalizedPass) const;
  std::vector<int64_t> encodeText(std::string_view text, bool allowSpecial) const;

  std::string name_;
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> preTokenizer_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<PostProcessor> postProcessor_;
  std::unique_ptr<Decoder> decoder_;
  std::vector<AddedToken> added_;
  std::unordered_map<std::string, size_t> addedByContent_;
  // id -> token (model, then added): a table indexed by id where the ids
  // are dense (every real vocabulary), a hash map where they are not (a
  // hostile id of 2^31 - 1 must not allocate 2^31 entries).
  // Pointers to the model's vocabulary keys and added_ (both stable once
  // loaded), not copies: loading stays fast.
  std::vector<const std::string *> denseTokens_;
  std::unordered_map<int64_t, const std::string *> sparseTokens_;
  void setToken(int64_t id, const std::string &token);
  std::unordered_map<int64_t, bool> special_;
  std::unordered_map<int, int64_t> roles_;
  bool cleanup_ = false;
  size_t size_ = 0;
  nlohmann::json spec_, config_; ///< for image(): the pipeline without the model's tables
};

} // namespace tfm::tokenizer

namespace tfm::tokenizer {
namespace {
namespace u = unicode;

bool isWordChar(char32_t cp) {
  utf8proc_category_t c = u::category(cp);
  return cp == '_' || (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
         (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
}

/// The code point that ends `text[0, at)`, or 0.
char32_t lastCodepoint(std::string_view text, size_t at) {
  if (at == 0)
    return 0;
  size_t b = at - 1;
  while (b > 0 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80)
    --b;
  return u::codepoints(text.substr(b, at - b))[0];
}
char32_t nextCodepoint(std::string_view text, size_t at) {
  if (at >= text.size())
    return 0;
  return u::codepoints(text.substr(at, u::sequenceLength(static_cast<unsigned char>(text[at]))))[0];
}

/// tokenizer_config.json's value of a *_token key: a string or an
/// AddedToken object {"content": ...}.
std::optional<std::string> tokenName(const nlohmann::json &config, const std::string &key) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null())
    return std::nullopt;
  if (it->is_string())
    return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  return std::nullopt;
}

} // namespace

nlohmann::json parseJson(std::string_view text, const std::string &name) {
  if (auto at = tfm::json::tooDeepAt(text))
    throw std::runtime_error(name + ": JSON nested deeper than " +
                             std::to_string(tfm::json::kMaxDepth) + " levels at byte " +
                             std::to_string(*at));
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception &e) {
    throw std::runtime_error(name + ": malformed JSON: " + tfm::json::parseErrorMessage(e.what()));
  }
}

HfTokenizer::~HfTokenizer() = default;

HfTokenizer::HfTokenizer(std::string_view json, std::string_view configText,
                         const std::string &name, const std::string &configName)
    : name_(name) {
  nlohmann::json config = configText.empty() ? nlohmann::json::object()
                                             : parseJson(configText, configName);
  init(parseJson(json, name), std::move(config), configName, nullptr);
}

void HfTokenizer::init(nlohmann::json j, nlohmann::json config, const std::string &configName,
                       ModelTables *tables) {
  const std::string &name = name_;
  Where at{name, ""};
  if (!j.is_object())
    at.fail("tokenizer.json must be a JSON object");
  if (auto t = j.find("truncation"); t != j.end() && !t->is_null())
    (at / "truncation").fail("truncation is not supported by tfm (the executables refuse a "
                             "prompt longer than the context instead)");
  normalizer_ = Normalizer::fromJson(j.value("normalizer", nlohmann::json()), at / "normalizer");
  preTokenizer_ =
      PreTokenizer::fromJson(j.value("pre_tokenizer", nlohmann::json()), at / "pre_tokenizer");
  model_ = Model::fromJson(at.member(j, "model"), at / "model", tables);
  postProcessor_ =
      PostProcessor::fromJson(j.value("post_processor", nlohmann::json()), at / "post_processor");
  decoder_ = Decoder::fromJson(j.value("decoder", nlohmann::json()), at / "decoder");
  for (const auto &[token, id] : model_->vocab())
    size_ = std::max<size_t>(size_, static_cast<size_t>(id) + 1);
  if (auto list = j.find("added_tokens"); list != j.end() && !list->is_null()) {
    if (!list->is_array())
      (at / "added_tokens").fail("must be an array");
    for (size_t i = 0; i < list->size(); ++i) {
      const nlohmann::json &t = (*list)[i];
      Where here = at / "added_tokens" / i;
      if (!t.is_object())
        here.fail("must be an object");
      AddedToken a;
      a.id = here.require<int64_t>(t, "id");
      if (a.id < 0 || a.id >= (int64_t(1) << 31))
        (here / "id").fail("must be in [0, 2^31)");
      a.content = here.require<std::string>(t, "content");
      if (a.content.empty())
        (here / "content").fail("must not be empty");
      a.singleWord = here.get<bool>(t, "single_word", false);
      a.lstrip = here.get<bool>(t, "lstrip", false);
      a.rstrip = here.get<bool>(t, "rstrip", false);
      a.special = here.get<bool>(t, "special", false);
      a.normalized = here.get<bool>(t, "normalized", !a.special);
      special_[a.id] = a.special;
      size_ = std::max<size_t>(size_, static_cast<size_t>(a.id) + 1);
      addedByContent_[a.content] = added_.size();
      added_.push_back(std::move(a));
    }
  }
  // id -> token: the model's, then the added tokens' (which win).
  if (size_ < 4 * (model_->vocab().size() + added_.size()) + 4096)
    denseTokens_.assign(size_, nullptr);
  for (const auto &[token, id] : model_->vocab())
    setToken(id, token);
  for (const AddedToken &a : added_)
    setToken(a.id, a.content);
  // tokenizer_config.json: roles, BOS/EOS of Llama-style classes, clean-up.
  if (!config.is_object())
    Where{configName, ""}.fail("tokenizer_config.json must be a JSON object");
  const std::pair<Role, const char *> keys[] = {
      {Role::Bos, "bos_token"}, {Role::Eos, "eos_token"}, {Role::Unk, "unk_token"},
      {Role::Pad, "pad_token"}, {Role::Cls, "cls_token"}, {Role::Sep, "sep_token"},
      {Role::Mask, "mask_token"}};
  for (auto [role, key] : keys)
    if (auto n = tokenName(config, key))
      if (auto i = id(*n))
        roles_[static_cast<int>(role)] = *i;
  cleanup_ = config.value("clean_up_tokenization_spaces", false) == true;
  std::string cls = config.value("tokenizer_class", "");
  static const char *bosEosClasses[] = {"LlamaTokenizer", "LlamaTokenizerFast",
                                        "CodeLlamaTokenizer", "CodeLlamaTokenizerFast",
                                        "GemmaTokenizer", "GemmaTokenizerFast"};
  if (std::find(std::begin(bosEosClasses), std::end(bosEosClasses), cls) !=
          std::end(bosEosClasses) &&
      (config.contains("add_bos_token") || config.contains("add_eos_token"))) {
    bool addBos = config.value("add_bos_token", true) == true;
    bool addEos = config.value("add_eos_token", false) == true;
    std::optional<int64_t> bos = role(Role::Bos), eos = role(Role::Eos);
    if (addBos && !bos)
      Where{configName, "/add_bos_token"}.fail("is true but bos_token names no token");
    if (addEos && !eos)
      Where{configName, "/add_eos_token"}.fail("is true but eos_token names no token");
    std::vector<TemplateItem> single, pair;
    for (int second = 0; second < 2; ++second) {
      std::vector<TemplateItem> &list = second ? pair : single;
      if (second)
        list = single;
      TemplateItem b{true, {addBos ? *bos : 0}}, seq{false, {}}, e{true, {addEos ? *eos : 0}};
      b.typeId = seq.typeId = e.typeId = second;
      seq.second = second;
      if (addBos) list.push_back(b);
      list.push_back(seq);
      if (addEos) list.push_back(e);
    }
    postProcessor_ = makeTemplate(single, pair, std::string("Template from ") + configName +
                                                    " (add_bos_token " + (addBos ? "true" : "false") +
                                                    ", add_eos_token " + (addEos ? "true" : "false") + ")");
  }
  // What image() writes besides the model's tables.
  nlohmann::json &model = j["model"];
  model["vocab"] = nlohmann::json::object();
  if (model.contains("merges"))
    model["merges"] = nlohmann::json::array();
  spec_ = std::move(j);
  config.erase("chat_template");
  config.erase("added_tokens_decoder");
  config_ = std::move(config);
}

namespace {
void putU64(std::string &out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void putU32(std::string &out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
/// Reads little-endian integers from an image, failing past its end.
struct Reader {
  std::string_view data;
  size_t at = 0;
  const std::string &name;
  uint64_t get(int bytes) {
    if (data.size() - at < static_cast<size_t>(bytes))
      throw std::runtime_error(name + ": truncated tokenizer image at byte " + std::to_string(at));
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v |= static_cast<uint64_t>(static_cast<unsigned char>(data[at + i])) << (8 * i);
    at += bytes;
    return v;
  }
  std::string_view bytes(uint64_t n) {
    if (data.size() - at < n)
      throw std::runtime_error(name + ": truncated tokenizer image at byte " + std::to_string(at));
    std::string_view v = data.substr(at, n);
    at += n;
    return v;
  }
};
constexpr std::string_view kImageMagic = "TFMTOK01";
} // namespace

std::string HfTokenizer::image() const {
  std::string out(kImageMagic);
  std::string spec = nlohmann::json{{"tokenizer", spec_}, {"config", config_}}.dump();
  putU64(out, spec.size());
  out += spec;
  ModelTables t = model_->tables();
  putU64(out, t.vocab.size());
  for (const auto &[token, id] : t.vocab) {
    putU32(out, static_cast<uint32_t>(id));
    putU32(out, static_cast<uint32_t>(token.size()));
    out += token;
  }
  putU64(out, t.merges.size());
  for (const auto &m : t.merges)
    for (int64_t v : m)
      putU32(out, static_cast<uint32_t>(v));
  return out;
}

std::unique_ptr<HfTokenizer> HfTokenizer::fromImage(std::string_view image,
                                                    const std::string &name) {
  if (image.substr(0, kImageMagic.size()) != kImageMagic)
    throw std::runtime_error(name + ": not a tfm tokenizer image");
  Reader r{image, kImageMagic.size(), name};
  nlohmann::json spec = parseJson(r.bytes(r.get(8)), name);
  ModelTables tables;
  uint64_t vocab = r.get(8);
  if (vocab > image.size())
    throw std::runtime_error(name + ": malformed tokenizer image");
  tables.vocab.reserve(vocab);
  for (uint64_t i = 0; i < vocab; ++i) {
    int64_t id = static_cast<int64_t>(r.get(4));
    std::string_view token = r.bytes(r.get(4));
    tables.vocab.emplace_back(std::string(token), id);
  }
  uint64_t merges = r.get(8);
  if (merges > image.size())
    throw std::runtime_error(name + ": malformed tokenizer image");
  tables.merges.reserve(merges);
  for (uint64_t i = 0; i < merges; ++i) {
    int64_t a = static_cast<int64_t>(r.get(4)), b = static_cast<int64_t>(r.get(4)),
            c = static_cast<int64_t>(r.get(4));
    tables.merges.push_back({a, b, c});
  }
  if (!spec.is_object() || !spec.contains("tokenizer") || !spec.contains("config"))
    throw std::runtime_error(name + ": malformed tokenizer image");
  std::unique_ptr<HfTokenizer> t(new HfTokenizer());
  t->name_ = name;
  t->init(std::move(spec["tokenizer"]), std::move(spec["config"]), name, &tables);
  return t;
}

std::optional<int64_t> HfTokenizer::id(std::string_view token) const {
  if (auto it = addedByContent_.find(std::string(token)); it != addedByContent_.end())
    return added_[it->second].id;
  if (auto it = model_->vocab().find(std::string(token)); it != model_->vocab().end())
    return it->second;
  return std::nullopt;
}

void HfTokenizer::setToken(int64_t id, const std::string &token) {
  if (static_cast<uint64_t>(id) < denseTokens_.size())
    denseTokens_[id] = &token;
  else
    sparseTokens_[id] = &token;
}

const std::string *HfTokenizer::token(int64_t id) const {
  if (id >= 0 && static_cast<uint64_t>(id) < denseTokens_.size())
    return denseTokens_[id];
  auto it = sparseTokens_.find(id);
  return it == sparseTokens_.end() ? nullptr : it->second;
}

std::optional<int64_t> HfTokenizer::role(Role r) const {
  auto it = roles_.find(static_cast<int>(r));
  return it == roles_.end() ? std::nullopt : std::optional<int64_t>(it->second);
}

bool HfTokenizer::isSpecial(int64_t id) const {
  auto it = special_.find(id);
  return it != special_.end() && it->second;
}

void HfTokenizer::splitAdded(std::vector<Part> &parts, bool allowSpecial,
                             bool normalizedPass) const {
  // Candidates by first byte, longest first (leftmost longest).
  std::vector<std::vector<size_t>> byFirst(256);
  for (size_t i = 0; i < added_.size(); ++i) {
    const AddedToken &a = added_[i];
    if (a.normalized != normalizedPass || (a.special && !allowSpecial))
      continue;
    byFirst[static_cast<unsigned char>(a.content[0])].push_back(i);
  }
  for (auto &list : byFirst)
    std::sort(list.begin(), list.end(), [&](size_t x, size_t y) {
      size_t a = added_[x].content.size(), b = added_[y].content.size();
      return a != b ? a > b : x < y;
    });
  std::vector<Part> out;
  for (Part &part : parts) {
    if (part.added >= 0) {
      out.push_back(std::move(part));
      continue;
    }
    const std::string &s = part.text;
    size_t last = 0; // end of the previous match
    std::vector<Part> pieces;
    for (size_t i = 0; i < s.size();) {
      size_t found = SIZE_MAX;
      for (size_t k : byFirst[static_cast<unsigned char>(s[i])]) {
        const AddedToken &a = added_[k];
        if (s.compare(i, a.content.size(), a.content) != 0)
          continue;
        if (a.singleWord && (isWordChar(lastCodepoint(s, i)) ||
                             isWordChar(nextCodepoint(s, i + a.content.size()))))
          continue;
        found = k;
        break;
      }
      if (found == SIZE_MAX) {
        ++i;
        continue;
      }
      const AddedToken &a = added_[found];
      size_t begin = i, end = i + a.content.size();
      if (a.lstrip)
        while (begin > last && u::isWhitespace(lastCodepoint(s, begin)))
          begin -= [&] { size_t b = begin - 1; while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) --b; return begin - b; }();
      if (a.rstrip)
        while (end < s.size() && u::isWhitespace(nextCodepoint(s, end)))
          end += u::sequenceLength(static_cast<unsigned char>(s[end]));
      if (begin > last)
        pieces.push_back({s.substr(last, begin - last), -1, part.offset + last});
      pieces.push_back({a.content, static_cast<int64_t>(found), part.offset + begin});
      last = end;
      i = end;
    }
    if (last < s.size())
      pieces.push_back({s.substr(last), -1, part.offset + last});
    for (Part &p : pieces)
      out.push_back(std::move(p));
  }
  parts = std::move(out);
}

std::vector<int64_t> HfTokenizer::encodeText(std::string_view text, bool allowSpecial) const {
  std::vector<Part> parts = {{std::string(text), -1, 0}};
  splitAdded(parts, allowSpecial, /*normalizedPass=*/false);
  if (normalizer_)
    for (Part &p : parts)
      if (p.added < 0)
        p.text = normalizer_->apply(std::move(p.text));
  splitAdded(parts, allowSpecial, /*normalizedPass=*/true);
  std::vector<int64_t> ids;
  for (const Part &p : parts) {
    if (p.added >= 0) {
      ids.push_back(added_[p.added].id);
      continue;
    }
    if (p.text.empty())
      continue;
    std::vector<std::string> pieces = {p.text};
    if (preTokenizer_)
      preTokenizer_->apply(pieces, p.offset == 0);
    for (const std::string &piece : pieces)
      model_->tokenize(piece, ids);
  }
  return ids;
}

Encoding HfTokenizer::encode(std::string_view text, bool allowSpecial, bool addSpecialTokens,
                             const std::string_view *pair, size_t maxLength) const {
  for (std::string_view t : {text, pair ? *pair : std::string_view()})
    if (size_t bad = invalidUtf8At(t); bad != std::string_view::npos)
      throw std::runtime_error("invalid UTF-8 at byte offset " + std::to_string(bad));
  Encoding a{encodeText(text, allowSpecial), {}};
  a.typeIds.assign(a.ids.size(), 0);
  std::optional<Encoding> b;
  if (pair) {
    b = Encoding{encodeText(*pair, allowSpecial), {}};
    b->typeIds.assign(b->ids.size(), 1);
  }
  if (maxLength > 0) {
    bool specials = addSpecialTokens && postProcessor_;
    Encoding none;
    size_t added = specials ? postProcessor_->apply(none, b ? &none : nullptr).ids.size() : 0;
    if (added > maxLength)
      throw std::runtime_error("cannot truncate to " + std::to_string(maxLength) +
                               " tokens: the special tokens alone are " + std::to_string(added));
    size_t budget = maxLength - added, na = a.ids.size(), nb = b ? b->ids.size() : 0;
    if (!b) {
      na = std::min(na, budget);
    } else if (na + nb > budget) {
      // tokenizers' TruncationStrategy::LongestFirst (utils/truncation.rs):
      // the shorter text is kept whole when the longer one can give up the
      // rest; otherwise each gets half the budget, the odd token going to
      // the longer one (to the pair when they are as long).
      bool aLonger = na > nb;
      size_t shorter = std::min(na, nb);
      size_t longer = shorter > budget ? shorter : std::max(shorter, budget - shorter);
      if (shorter + longer > budget) {
        shorter = budget / 2;
        longer = shorter + budget % 2;
      }
      na = aLonger ? longer : shorter;
      nb = aLonger ? shorter : longer;
    }
    a.ids.resize(na);
    a.typeIds.resize(na);
    if (b) {
      b->ids.resize(nb);
      b->typeIds.resize(nb);
    }
  }
  if (!addSpecialTokens || !postProcessor_)
    return concatenate(a, b ? &*b : nullptr);
  return postProcessor_->apply(a, b ? &*b : nullptr);
}

std::string HfTokenizer::decode(const std::vector<int64_t> &ids, bool skipSpecial) const {
  std::vector<std::string> tokens;
  for (int64_t i : ids) {
    const std::string *t = token(i);
    if (!t || (skipSpecial && isSpecial(i)))
      continue;
    tokens.push_back(*t);
  }
  std::string text;
  if (decoder_) {
    decoder_->apply(tokens, /*first=*/true);
    for (const std::string &t : tokens)
      text += t;
  } else {
    for (size_t i = 0; i < tokens.size(); ++i)
      text += (i ? " " : "") + tokens[i];
  }
  if (cleanup_) // transformers' clean_up_tokenization
    for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
             {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
             {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}}) {
      std::string out;
      size_t last = 0;
      for (size_t p = text.find(from); p != std::string::npos; p = text.find(from, last)) {
        out.append(text, last, p - last);
        out += to;
        last = p + from.size();
      }
      out.append(text, last, std::string::npos);
      text = std::move(out);
    }
  return text;
}

std::string HfTokenizer::describe() const {
  auto line = [](const char *what, const std::string &d) { return std::string(what) + ": " + d + "\n"; };
  std::string out;
  out += line("normalizer", normalizer_ ? normalizer_->describe() : "none");
  out += line("pre_tokenizer", preTokenizer_ ? preTokenizer_->describe() : "none");
  out += line("model", model_->describe());
  out += line("post_processor", postProcessor_ ? postProcessor_->describe() : "none");
  out += line("decoder", decoder_ ? decoder_->describe() : "none");
  size_t specials = 0;
  for (const AddedToken &a : added_)
    specials += a.special;
  out += line("added_tokens", std::to_string(added_.size()) + " (" + std::to_string(specials) +
                                  " special)");
  return out;
}

} // namespace tfm::tokenizer
