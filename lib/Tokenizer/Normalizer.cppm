//===- Normalizer.cppm - tokenizer.json normalizers ---------------*- C++ -*-===//
//
// The `tfm.tokenizer.normalizer` module: the "normalizer" of tokenizer.json,
// as Hugging Face tokenizers' normalizers/*.rs define them, applied to each
// part of the text between added tokens:
//   NFC, NFD, NFKC, NFKD      Unicode normalization (utf8proc)
//   Lowercase                 lower case
//   StripAccents              remove nonspacing marks (Mn)
//   BertNormalizer            clean_text (drop NUL, U+FFFD and controls; other
//                             white space becomes ' '), handle_chinese_chars
//                             (spaces around CJK ideographs), strip_accents
//                             (NFD, drop Mn; null = lowercase), lowercase
//   Prepend                   `prepend` before a non-empty text
//   Replace                   every match of `pattern` becomes `content`
//   Strip                     white space at the start / end
//   Sequence                  `normalizers` in order
// Precompiled (SentencePiece's charsmap) is refused with that reason.
//
//===----------------------------------------------------------------------===//

module;
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>
export module tfm.tokenizer.normalizer;
import tfm.tokenizer.component;
import tfm.tokenizer.regex;
import tfm.tokenizer.unicode;

export namespace tfm::tokenizer {

class Normalizer {
public:
  virtual ~Normalizer() = default;
  /// `text` normalized (well-formed UTF-8 in and out).
  virtual std::string apply(std::string text) const = 0;
  /// A one-line description ("Sequence[Prepend, Replace]").
  virtual std::string describe() const = 0;

  /// The normalizer of JSON object `j` at `at` (null: none).
  static std::unique_ptr<Normalizer> fromJson(const nlohmann::json &j, const Where &at);
};

} // namespace tfm::tokenizer

namespace tfm::tokenizer {
namespace {
namespace u = unicode;

struct UnicodeForm : Normalizer {
  u::Form form;
  std::string name;
  UnicodeForm(u::Form f, std::string n) : form(f), name(std::move(n)) {}
  std::string apply(std::string text) const override { return u::normalize(text, form); }
  std::string describe() const override { return name; }
};

struct Lowercase : Normalizer {
  std::string apply(std::string text) const override { return u::lowercase(text); }
  std::string describe() const override { return "Lowercase"; }
};

std::string stripMarks(std::string_view text) {
  std::string out;
  for (char32_t cp : u::codepoints(text))
    if (!u::isNonspacingMark(cp))
      u::append(out, cp);
  return out;
}

struct StripAccents : Normalizer {
  std::string apply(std::string text) const override { return stripMarks(text); }
  std::string describe() const override { return "StripAccents"; }
};

struct Bert : Normalizer {
  bool cleanText, chinese, stripAccents, lowercase;
  std::string apply(std::string text) const override {
    std::string out;
    for (char32_t cp : u::codepoints(text)) {
      if (cleanText) {
        if (cp == 0 || cp == 0xFFFD || u::isBertControl(cp))
          continue;
        if (u::isWhitespace(cp))
          cp = ' ';
      }
      if (chinese && u::isChineseChar(cp)) {
        out += ' ';
        u::append(out, cp);
        out += ' ';
      } else {
        u::append(out, cp);
      }
    }
    if (stripAccents)
      out = stripMarks(u::normalize(out, u::Form::NFD));
    if (lowercase)
      out = u::lowercase(out);
    return out;
  }
  std::string describe() const override { return "BertNormalizer"; }
};

struct Prepend : Normalizer {
  std::string prefix;
  std::string apply(std::string text) const override {
    return text.empty() ? text : prefix + text;
  }
  std::string describe() const override { return "Prepend"; }
};

struct Replace : Normalizer {
  Pattern pattern;
  std::string content;
  Replace(const nlohmann::json &j, const Where &at)
      : pattern(at.member(j, "pattern"), at / "pattern"),
        content(at.require<std::string>(j, "content")) {}
  std::string apply(std::string text) const override {
    std::string out;
    size_t last = 0;
    for (auto [b, e] : pattern.matches(text)) {
      out.append(text, last, b - last);
      out += content;
      last = e;
    }
    out.append(text, last, std::string::npos);
    return out;
  }
  std::string describe() const override { return "Replace"; }
};

struct Strip : Normalizer {
  bool left, right;
  std::string apply(std::string text) const override {
    std::vector<char32_t> cps = u::codepoints(text);
    size_t b = 0, e = cps.size();
    while (left && b < e && u::isWhitespace(cps[b]))
      ++b;
    while (right && e > b && u::isWhitespace(cps[e - 1]))
      --e;
    return u::utf8(std::vector<char32_t>(cps.begin() + b, cps.begin() + e));
  }
  std::string describe() const override { return "Strip"; }
};

struct Sequence : Normalizer {
  std::vector<std::unique_ptr<Normalizer>> items;
  std::string apply(std::string text) const override {
    for (const auto &n : items)
      text = n->apply(std::move(text));
    return text;
  }
  std::string describe() const override {
    std::string out = "Sequence[";
    for (size_t i = 0; i < items.size(); ++i)
      out += (i ? ", " : "") + items[i]->describe();
    return out + "]";
  }
};
} // namespace

std::unique_ptr<Normalizer> Normalizer::fromJson(const nlohmann::json &j, const Where &at) {
  if (j.is_null())
    return nullptr;
  std::string type = componentType(j, at);
  if (type == "NFC") return std::make_unique<UnicodeForm>(u::Form::NFC, type);
  if (type == "NFD") return std::make_unique<UnicodeForm>(u::Form::NFD, type);
  if (type == "NFKC") return std::make_unique<UnicodeForm>(u::Form::NFKC, type);
  if (type == "NFKD") return std::make_unique<UnicodeForm>(u::Form::NFKD, type);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "StripAccents") return std::make_unique<StripAccents>();
  if (type == "BertNormalizer") {
    auto n = std::make_unique<Bert>();
    n->cleanText = at.get<bool>(j, "clean_text", true);
    n->chinese = at.get<bool>(j, "handle_chinese_chars", true);
    n->lowercase = at.get<bool>(j, "lowercase", true);
    n->stripAccents = at.get<bool>(j, "strip_accents", n->lowercase);
    return n;
  }
  if (type == "Prepend") {
    auto n = std::make_unique<Prepend>();
    n->prefix = at.require<std::string>(j, "prepend");
    return n;
  }
  if (type == "Replace") return std::make_unique<Replace>(j, at);
  if (type == "Strip") {
    auto n = std::make_unique<Strip>();
    n->left = at.get<bool>(j, "strip_left", true);
    n->right = at.get<bool>(j, "strip_right", true);
    return n;
  }
  if (type == "Sequence") {
    auto n = std::make_unique<Sequence>();
    const nlohmann::json &list = at.member(j, "normalizers");
    for (size_t i = 0; i < list.size(); ++i)
      if (auto item = fromJson(list[i], at / "normalizers" / i))
        n->items.push_back(std::move(item));
    return n;
  }
  if (type == "Precompiled")
    at.fail("normalizer type 'Precompiled' (SentencePiece's precompiled charsmap) is not "
            "supported by tfm");
  (at / "type").fail("unknown normalizer type '" + type + "'");
}

} // namespace tfm::tokenizer
