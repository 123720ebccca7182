//===- PostProcessor.cppm - tokenizer.json post-processors --------*- C++ -*-===//
//
// The `tfm.tokenizer.post_processor` module: the "post_processor" of
// tokenizer.json (Hugging Face tokenizers' processors/*.rs): the special
// tokens added around the ids of one text or a pair, with their token type
// ids (segments):
//   TemplateProcessing   `single` / `pair` templates of {"SpecialToken":
//                        {"id", "type_id"}} and {"Sequence": {"id": "A"|"B",
//                        "type_id"}} items; `special_tokens` names the ids
//   BertProcessing       [CLS] A [SEP] (B [SEP]); types 0, then 1 for B
//   RobertaProcessing    <s> A </s> (</s> B </s>); types 0
//   ByteLevel            nothing added (offsets only)
//   Sequence             `processors` in order
//
//===----------------------------------------------------------------------===//

module;
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>
export module tfm.tokenizer.post_processor;
import tfm.tokenizer.component;

export namespace tfm::tokenizer {

/// Ids with their token type ids.
struct Encoding {
  std::vector<int64_t> ids;
  std::vector<int64_t> typeIds;
};

class PostProcessor {
public:
  virtual ~PostProcessor() = default;
  /// The ids of text `a` (and of `b` when `pair`) with special tokens.
  virtual Encoding apply(const Encoding &a, const Encoding *b) const = 0;
  virtual std::string describe() const = 0;

  static std::unique_ptr<PostProcessor> fromJson(const nlohmann::json &j, const Where &at);
};

/// Joins `a` and `b` with type ids 0 and 1 (what no post-processor does).
inline Encoding concatenate(const Encoding &a, const Encoding *b) {
  Encoding out = a;
  out.typeIds.assign(a.ids.size(), 0);
  if (b) {
    out.ids.insert(out.ids.end(), b->ids.begin(), b->ids.end());
    out.typeIds.insert(out.typeIds.end(), b->ids.size(), 1);
  }
  return out;
}

/// A TemplateProcessing of `single` and `pair` items (for tfm's own
/// templates: tokenizer_config.json's add_bos_token / add_eos_token).
struct TemplateItem {
  bool special;          ///< a special token (else a sequence)
  std::vector<int64_t> ids; ///< the special token's ids
  bool second = false;   ///< the sequence is B
  int64_t typeId = 0;
};
std::unique_ptr<PostProcessor> makeTemplate(std::vector<TemplateItem> single,
                                            std::vector<TemplateItem> pair,
                                            std::string description);

} // namespace tfm::tokenizer

namespace tfm::tokenizer {
namespace {

struct Template : PostProcessor {
  std::vector<TemplateItem> single, pair;
  std::string description = "TemplateProcessing";
  Encoding apply(const Encoding &a, const Encoding *b) const override {
    Encoding out;
    for (const TemplateItem &item : b ? pair : single) {
      const std::vector<int64_t> &ids = item.special ? item.ids : (item.second ? b->ids : a.ids);
      out.ids.insert(out.ids.end(), ids.begin(), ids.end());
      out.typeIds.insert(out.typeIds.end(), ids.size(), item.typeId);
    }
    return out;
  }
  std::string describe() const override { return description; }
};

struct Identity : PostProcessor {
  Encoding apply(const Encoding &a, const Encoding *b) const override { return concatenate(a, b); }
  std::string describe() const override { return "ByteLevel"; }
};

struct Sequence : PostProcessor {
  std::vector<std::unique_ptr<PostProcessor>> items;
  Encoding apply(const Encoding &a, const Encoding *b) const override {
    // Only the last processor that adds tokens matters for ids (ByteLevel
    // adds none): apply each to the result of the previous one.
    Encoding out = concatenate(a, b);
    bool first = true;
    for (const auto &p : items) {
      if (dynamic_cast<const Identity *>(p.get()))
        continue;
      out = first ? p->apply(a, b) : p->apply(out, nullptr);
      first = false;
    }
    return out;
  }
  std::string describe() const override {
    std::string out = "Sequence[";
    for (size_t i = 0; i < items.size(); ++i)
      out += (i ? ", " : "") + items[i]->describe();
    return out + "]";
  }
};

std::vector<TemplateItem> readTemplate(const nlohmann::json &list, const Where &at,
                                       const nlohmann::json &specials, const Where &specialsAt) {
  if (!list.is_array())
    at.fail("must be an array of template items");
  std::vector<TemplateItem> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const nlohmann::json &item = list[i];
    Where here = at / i;
    if (item.is_object() && item.contains("SpecialToken")) {
      const nlohmann::json &s = item["SpecialToken"];
      std::string name = (here / "SpecialToken").require<std::string>(s, "id");
      auto it = specials.find(name);
      if (it == specials.end())
        (here / "SpecialToken" / "id").fail("'" + name + "' is not in special_tokens");
      TemplateItem t{true, (specialsAt / name).require<std::vector<int64_t>>(*it, "ids")};
      t.typeId = (here / "SpecialToken").get<int64_t>(s, "type_id", 0);
      out.push_back(t);
    } else if (item.is_object() && item.contains("Sequence")) {
      const nlohmann::json &s = item["Sequence"];
      std::string id = (here / "Sequence").require<std::string>(s, "id");
      if (id != "A" && id != "B")
        (here / "Sequence" / "id").fail("must be A or B, got '" + id + "'");
      TemplateItem t{false, {}};
      t.second = id == "B";
      t.typeId = (here / "Sequence").get<int64_t>(s, "type_id", 0);
      out.push_back(t);
    } else {
      here.fail("a template item must be {\"SpecialToken\": ...} or {\"Sequence\": ...}");
    }
  }
  return out;
}

/// [token, id] of BertProcessing and RobertaProcessing.
int64_t pairId(const nlohmann::json &j, const std::string &key, const Where &at) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array() || it->size() != 2 || !(*it)[1].is_number_integer())
    (at / key).fail("must be [token, id]");
  return (*it)[1].get<int64_t>();
}
} // namespace

std::unique_ptr<PostProcessor> makeTemplate(std::vector<TemplateItem> single,
                                            std::vector<TemplateItem> pair,
                                            std::string description) {
  auto t = std::make_unique<Template>();
  t->single = std::move(single);
  t->pair = std::move(pair);
  t->description = std::move(description);
  return t;
}

std::unique_ptr<PostProcessor> PostProcessor::fromJson(const nlohmann::json &j, const Where &at) {
  if (j.is_null())
    return nullptr;
  std::string type = componentType(j, at);
  if (type == "TemplateProcessing") {
    const nlohmann::json &specials = at.member(j, "special_tokens");
    auto t = std::make_unique<Template>();
    t->single = readTemplate(at.member(j, "single"), at / "single", specials, at / "special_tokens");
    t->pair = readTemplate(at.member(j, "pair"), at / "pair", specials, at / "special_tokens");
    return t;
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    int64_t cls = pairId(j, "cls", at), sep = pairId(j, "sep", at);
    bool bert = type == "BertProcessing";
    std::vector<TemplateItem> single = {{true, {cls}}, {false, {}}, {true, {sep}}};
    std::vector<TemplateItem> pair = single;
    if (!bert)
      pair.push_back({true, {sep}});
    TemplateItem b{false, {}};
    b.second = true;
    b.typeId = bert ? 1 : 0;
    TemplateItem end{true, {sep}};
    end.typeId = b.typeId;
    pair.push_back(b);
    pair.push_back(end);
    return makeTemplate(single, pair, type);
  }
  if (type == "ByteLevel") return std::make_unique<Identity>();
  if (type == "Sequence") {
    auto s = std::make_unique<Sequence>();
    const nlohmann::json &list = at.member(j, "processors");
    for (size_t i = 0; i < list.size(); ++i)
      if (auto item = fromJson(list[i], at / "processors" / i))
        s->items.push_back(std::move(item));
    return s;
  }
  (at / "type").fail("unknown post_processor type '" + type + "'");
}

} // namespace tfm::tokenizer
