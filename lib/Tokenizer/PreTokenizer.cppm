//===- PreTokenizer.cppm - tokenizer.json pre-tokenizers ----------*- C++ -*-===//
//
// The `tfm.tokenizer.pre_tokenizer` module: the "pre_tokenizer" of
// tokenizer.json, as Hugging Face tokenizers' pre_tokenizers/*.rs define
// them. Each one splits every piece of the (normalized) text further:
//   ByteLevel          (add_prefix_space: a ' ' before each piece that lacks
//                      one) GPT-2's regex if use_regex, then each byte as
//                      its printable "byte character" (bytesToUnicode)
//   Split              `pattern` with a `behavior` (Removed, Isolated,
//                      MergedWithPrevious, MergedWithNext, Contiguous) and
//                      `invert`; the pattern comes from the file: Llama 3's,
//                      Qwen2's and GPT-2's differ and none is special-cased
//   Whitespace         \w+|[^\w\s]+        WhitespaceSplit    on white space
//   Punctuation        each punctuation character (`behavior`)
//   Digits             digits apart (individual_digits) or in runs
//   BertPreTokenizer   white space removed, punctuation isolated
//   Metaspace          ' ' becomes `replacement` (U+2581), prepended by
//                      `prepend_scheme` (always, first, never), split
//                      before each replacement if `split`
//   CharDelimiterSplit on `delimiter`   Sequence   `pretokenizers` in order
//
//===----------------------------------------------------------------------===//

module;
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
export module tfm.tokenizer.pre_tokenizer;
import tfm.tokenizer.component;
import tfm.tokenizer.regex;
import tfm.tokenizer.unicode;

export namespace tfm::tokenizer {

/// GPT-2's byte-to-character table: the printable Latin-1 bytes stand for
/// themselves, the other 68 bytes for U+0100 onwards (as UTF-8 strings).
const std::vector<std::string> &bytesToUnicode();

/// Split behaviours of tokenizers' SplitDelimiterBehavior.
enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

class PreTokenizer {
public:
  virtual ~PreTokenizer() = default;
  /// Splits each of `pieces` further. `atStart`: the first piece begins the
  /// text (Metaspace's prepend_scheme "first").
  virtual void apply(std::vector<std::string> &pieces, bool atStart) const = 0;
  virtual std::string describe() const = 0;
  /// Whether this maps bytes to byte characters (ByteLevel).
  virtual bool byteLevel() const { return false; }

  static std::unique_ptr<PreTokenizer> fromJson(const nlohmann::json &j, const Where &at);
};

} // namespace tfm::tokenizer

namespace tfm::tokenizer {
namespace {
namespace u = unicode;

/// Splits `text` at the spans `matches` with `behavior` (spans are the
/// delimiters; `invert` makes them the content) into `out`.
void splitBy(const std::string &text, const std::vector<std::pair<size_t, size_t>> &matches,
             Behavior behavior, bool invert, std::vector<std::string> &out) {
  struct Segment {
    size_t b, e;
    bool delimiter;
  };
  std::vector<Segment> segs;
  size_t last = 0;
  for (auto [b, e] : matches) {
    if (b > last)
      segs.push_back({last, b, invert});
    segs.push_back({b, e, !invert});
    last = e;
  }
  if (last < text.size())
    segs.push_back({last, text.size(), invert});
  std::vector<std::string> pieces;
  bool mergeNext = false;
  for (size_t i = 0; i < segs.size(); ++i) {
    const Segment &s = segs[i];
    std::string piece = text.substr(s.b, s.e - s.b);
    switch (behavior) {
    case Behavior::Removed:
      if (!s.delimiter)
        pieces.push_back(piece);
      break;
    case Behavior::Isolated:
      pieces.push_back(piece);
      break;
    case Behavior::MergedWithPrevious:
      if (s.delimiter && !pieces.empty() && i > 0 && !segs[i - 1].delimiter)
        pieces.back() += piece;
      else
        pieces.push_back(piece);
      break;
    case Behavior::MergedWithNext: // a delimiter joins the next piece unless that is one too
      if (mergeNext)
        pieces.back() += piece;
      else
        pieces.push_back(piece);
      mergeNext = s.delimiter && i + 1 < segs.size() && !segs[i + 1].delimiter;
      break;
    case Behavior::Contiguous:
      if (s.delimiter && i > 0 && segs[i - 1].delimiter && !pieces.empty())
        pieces.back() += piece;
      else
        pieces.push_back(piece);
      break;
    }
  }
  for (std::string &p : pieces)
    if (!p.empty())
      out.push_back(std::move(p));
}

/// Character-class splits: each code point for which `isDelimiter` holds is
/// a delimiter of one character.
template <typename F>
void splitChars(const std::string &text, F isDelimiter, Behavior behavior,
                std::vector<std::string> &out) {
  std::vector<std::pair<size_t, size_t>> matches;
  for (size_t i = 0; i < text.size();) {
    size_t n = u::sequenceLength(static_cast<unsigned char>(text[i]));
    char32_t cp = u::codepoints(std::string_view(text).substr(i, n))[0];
    if (isDelimiter(cp))
      matches.push_back({i, i + n});
    i += n;
  }
  splitBy(text, matches, behavior, false, out);
}

Behavior parseBehavior(const nlohmann::json &j, const Where &at, Behavior fallback) {
  std::string b = at.get<std::string>(j, "behavior", "");
  if (b.empty()) return fallback;
  if (b == "Removed") return Behavior::Removed;
  if (b == "Isolated") return Behavior::Isolated;
  if (b == "MergedWithPrevious") return Behavior::MergedWithPrevious;
  if (b == "MergedWithNext") return Behavior::MergedWithNext;
  if (b == "Contiguous") return Behavior::Contiguous;
  (at / "behavior").fail("unknown split behavior '" + b + "'");
}

const char *kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct ByteLevel : PreTokenizer {
  bool addPrefixSpace = true, useRegex = true;
  std::unique_ptr<Pattern> pattern;
  void apply(std::vector<std::string> &pieces, bool) const override {
    const std::vector<std::string> &table = bytesToUnicode();
    std::vector<std::string> out;
    for (std::string &p : pieces) {
      if (addPrefixSpace && (p.empty() || p[0] != ' '))
        p = " " + p;
      std::vector<std::string> words;
      if (useRegex)
        splitBy(p, pattern->matches(p), Behavior::Isolated, false, words);
      else if (!p.empty())
        words.push_back(p);
      for (const std::string &w : words) {
        std::string mapped;
        for (unsigned char c : w)
          mapped += table[c];
        out.push_back(std::move(mapped));
      }
    }
    pieces = std::move(out);
  }
  std::string describe() const override { return useRegex ? "ByteLevel(GPT-2 regex)" : "ByteLevel"; }
  bool byteLevel() const override { return true; }
};

struct Split : PreTokenizer {
  Pattern pattern;
  Behavior behavior;
  bool invert;
  Split(const nlohmann::json &j, const Where &at)
      : pattern(at.member(j, "pattern"), at / "pattern"),
        behavior(parseBehavior(j, at, Behavior::Isolated)),
        invert(at.get<bool>(j, "invert", false)) {
    if (!j.contains("behavior"))
      (at / "behavior").fail("is missing");
  }
  void apply(std::vector<std::string> &pieces, bool) const override {
    std::vector<std::string> out;
    for (const std::string &p : pieces)
      splitBy(p, pattern.matches(p), behavior, invert, out);
    pieces = std::move(out);
  }
  std::string describe() const override { return "Split"; }
};

struct Whitespace : PreTokenizer {
  Pattern pattern{nlohmann::json{{"Regex", R"(\w+|[^\w\s]+)"}}, Where{}};
  void apply(std::vector<std::string> &pieces, bool) const override {
    std::vector<std::string> out;
    for (const std::string &p : pieces)
      splitBy(p, pattern.matches(p), Behavior::Removed, true, out);
    pieces = std::move(out);
  }
  std::string describe() const override { return "Whitespace"; }
};

struct CharSplit : PreTokenizer {
  enum Kind { Space, Punct, Digit, Char, Bert } kind;
  Behavior behavior = Behavior::Removed;
  char32_t delimiter = 0;
  std::string name;
  void apply(std::vector<std::string> &pieces, bool) const override {
    std::vector<std::string> out;
    for (const std::string &p : pieces) {
      switch (kind) {
      case Space:
        splitChars(p, u::isWhitespace, Behavior::Removed, out);
        break;
      case Punct:
        splitChars(p, u::isBertPunctuation, behavior, out);
        break;
      case Digit:
        splitChars(p, u::isNumeric, behavior, out);
        break;
      case Char:
        splitChars(p, [&](char32_t c) { return c == delimiter; }, Behavior::Removed, out);
        break;
      case Bert: {
        std::vector<std::string> words;
        splitChars(p, u::isWhitespace, Behavior::Removed, words);
        for (const std::string &w : words)
          splitChars(w, u::isBertPunctuation, Behavior::Isolated, out);
        break;
      }
      }
    }
    pieces = std::move(out);
  }
  std::string describe() const override { return name; }
};

struct Metaspace : PreTokenizer {
  std::string replacement = "\xE2\x96\x81";
  std::string scheme = "always"; // always, first, never
  bool split = true;
  void apply(std::vector<std::string> &pieces, bool atStart) const override {
    std::vector<std::string> out;
    for (size_t i = 0; i < pieces.size(); ++i) {
      std::string p;
      for (char c : pieces[i])
        if (c == ' ')
          p += replacement;
        else
          p += c;
      bool prepend = scheme == "always" || (scheme == "first" && atStart && i == 0);
      if (prepend && p.compare(0, replacement.size(), replacement) != 0)
        p = replacement + p;
      if (!split) {
        if (!p.empty())
          out.push_back(p);
        continue;
      }
      std::vector<std::pair<size_t, size_t>> matches;
      for (size_t at = p.find(replacement); at != std::string::npos;
           at = p.find(replacement, at + replacement.size()))
        matches.push_back({at, at + replacement.size()});
      splitBy(p, matches, Behavior::MergedWithNext, false, out);
    }
    pieces = std::move(out);
  }
  std::string describe() const override { return "Metaspace(prepend " + scheme + ")"; }
};

struct Sequence : PreTokenizer {
  std::vector<std::unique_ptr<PreTokenizer>> items;
  void apply(std::vector<std::string> &pieces, bool atStart) const override {
    for (const auto &p : items)
      p->apply(pieces, atStart);
  }
  std::string describe() const override {
    std::string out = "Sequence[";
    for (size_t i = 0; i < items.size(); ++i)
      out += (i ? ", " : "") + items[i]->describe();
    return out + "]";
  }
  bool byteLevel() const override {
    for (const auto &p : items)
      if (p->byteLevel())
        return true;
    return false;
  }
};
} // namespace

const std::vector<std::string> &bytesToUnicode() {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> t(256);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      u::append(t[b], static_cast<char32_t>(printable ? b : next++));
    }
    return t;
  }();
  return table;
}

std::unique_ptr<PreTokenizer> PreTokenizer::fromJson(const nlohmann::json &j, const Where &at) {
  if (j.is_null())
    return nullptr;
  std::string type = componentType(j, at);
  if (type == "ByteLevel") {
    auto p = std::make_unique<ByteLevel>();
    p->addPrefixSpace = at.get<bool>(j, "add_prefix_space", true);
    p->useRegex = at.get<bool>(j, "use_regex", true);
    if (p->useRegex)
      p->pattern = std::make_unique<Pattern>(nlohmann::json{{"Regex", kGpt2Pattern}}, at);
    return p;
  }
  if (type == "Split") return std::make_unique<Split>(j, at);
  if (type == "Whitespace") return std::make_unique<Whitespace>();
  auto chars = [&](CharSplit::Kind kind) {
    auto p = std::make_unique<CharSplit>();
    p->kind = kind;
    p->name = type;
    return p;
  };
  if (type == "WhitespaceSplit") return chars(CharSplit::Space);
  if (type == "BertPreTokenizer") return chars(CharSplit::Bert);
  if (type == "Punctuation") {
    auto p = chars(CharSplit::Punct);
    p->behavior = parseBehavior(j, at, Behavior::Isolated);
    return p;
  }
  if (type == "Digits") {
    auto p = chars(CharSplit::Digit);
    p->behavior = at.get<bool>(j, "individual_digits", false) ? Behavior::Isolated
                                                              : Behavior::Contiguous;
    return p;
  }
  if (type == "CharDelimiterSplit") {
    auto p = chars(CharSplit::Char);
    std::vector<char32_t> d = u::codepoints(at.require<std::string>(j, "delimiter"));
    if (d.size() != 1)
      (at / "delimiter").fail("must be one character");
    p->delimiter = d[0];
    return p;
  }
  if (type == "Metaspace") {
    auto p = std::make_unique<Metaspace>();
    p->replacement = at.get<std::string>(j, "replacement", p->replacement);
    if (p->replacement.empty())
      (at / "replacement").fail("must not be empty");
    if (j.contains("prepend_scheme"))
      p->scheme = at.require<std::string>(j, "prepend_scheme");
    else // tokenizers < 0.14: add_prefix_space
      p->scheme = at.get<bool>(j, "add_prefix_space", true) ? "always" : "never";
    if (p->scheme != "always" && p->scheme != "first" && p->scheme != "never")
      (at / "prepend_scheme").fail("must be always, first or never, got '" + p->scheme + "'");
    p->split = at.get<bool>(j, "split", true);
    return p;
  }
  if (type == "Sequence") {
    auto p = std::make_unique<Sequence>();
    const nlohmann::json &list = at.member(j, "pretokenizers");
    for (size_t i = 0; i < list.size(); ++i)
      if (auto item = fromJson(list[i], at / "pretokenizers" / i))
        p->items.push_back(std::move(item));
    return p;
  }
  (at / "type").fail("unknown pre_tokenizer type '" + type + "'");
}

} // namespace tfm::tokenizer
