//===- Decoder.cppm - tokenizer.json decoders ---------------------*- C++ -*-===//
//
// The `tfm.tokenizer.decoder` module: the "decoder" of tokenizer.json, as
// Hugging Face tokenizers' decoders/*.rs define it, turning the tokens of
// ids back into text. Each decoder maps the list of token strings:
//   ByteLevel     byte characters back to their bytes (a token with another
//                 character stays as it is)
//   Metaspace     `replacement` back to ' '; the first token loses its
//                 leading space unless prepend_scheme is never
//   Replace       every match of `pattern` in a token becomes `content`
//   ByteFallback  <0xNN> tokens become the byte NN
//   Fuse          all tokens become one
//   Strip         up to `start` leading and `stop` trailing `content`
//                 characters of each token removed
//   WordPiece     `prefix` (##) removed from continuations, a space before
//                 the others; `cleanup` joins " ." and the like
//   BPEDecoder    `suffix` (</w>) becomes a space (none after the last)
//   Sequence      `decoders` in order
// tfm's decoders yield bytes: ill-formed UTF-8 (a character split across
// tokens, as streaming meets it) is left to the caller, which replaces what
// stays ill-formed with U+FFFD as Python's errors="replace" does
// (tokenizers' ByteFallback writes one U+FFFD per byte of an invalid run:
// the counts may differ there, the valid text never does).
//
//===----------------------------------------------------------------------===//

module;
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>
export module tfm.tokenizer.decoder;
import tfm.tokenizer.component;
import tfm.tokenizer.regex;
import tfm.tokenizer.unicode;
import tfm.tokenizer.pre_tokenizer;

export namespace tfm::tokenizer {

class Decoder {
public:
  virtual ~Decoder() = default;
  /// Maps the token strings `tokens` (in order; `first`: tokens[0] begins
  /// the decoded text).
  virtual void apply(std::vector<std::string> &tokens, bool first) const = 0;
  virtual std::string describe() const = 0;

  static std::unique_ptr<Decoder> fromJson(const nlohmann::json &j, const Where &at);
};

} // namespace tfm::tokenizer

namespace tfm::tokenizer {
namespace {
namespace u = unicode;

struct ByteLevel : Decoder {
  std::unordered_map<std::string, char> charByte;
  ByteLevel() {
    const std::vector<std::string> &table = bytesToUnicode();
    for (int b = 0; b < 256; ++b)
      charByte[table[b]] = static_cast<char>(b);
  }
  void apply(std::vector<std::string> &tokens, bool) const override {
    for (std::string &t : tokens) {
      std::string bytes;
      bool all = true;
      for (size_t i = 0; i < t.size() && all;) {
        size_t n = u::sequenceLength(static_cast<unsigned char>(t[i]));
        auto it = charByte.find(t.substr(i, n));
        if (it == charByte.end())
          all = false;
        else
          bytes += it->second;
        i += n;
      }
      if (all)
        t = std::move(bytes);
    }
  }
  std::string describe() const override { return "ByteLevel"; }
};

std::string replaceAll(const std::string &s, const std::string &from, const std::string &to) {
  if (from.empty())
    return s;
  std::string out;
  size_t last = 0;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, last)) {
    out.append(s, last, at - last);
    out += to;
    last = at + from.size();
  }
  out.append(s, last, std::string::npos);
  return out;
}

struct Metaspace : Decoder {
  std::string replacement = "\xE2\x96\x81";
  bool prepend = true;
  void apply(std::vector<std::string> &tokens, bool first) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      tokens[i] = replaceAll(tokens[i], replacement, " ");
      if (i == 0 && first && prepend && !tokens[i].empty() && tokens[i][0] == ' ')
        tokens[i].erase(0, 1);
    }
  }
  std::string describe() const override { return "Metaspace"; }
};

struct Replace : Decoder {
  Pattern pattern;
  std::string content;
  Replace(const nlohmann::json &j, const Where &at)
      : pattern(at.member(j, "pattern"), at / "pattern"),
        content(at.require<std::string>(j, "content")) {}
  void apply(std::vector<std::string> &tokens, bool) const override {
    for (std::string &t : tokens) {
      std::string out;
      size_t last = 0;
      for (auto [b, e] : pattern.matches(t)) {
        out.append(t, last, b - last);
        out += content;
        last = e;
      }
      out.append(t, last, std::string::npos);
      t = std::move(out);
    }
  }
  std::string describe() const override { return "Replace"; }
};

struct ByteFallback : Decoder {
  void apply(std::vector<std::string> &tokens, bool) const override {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    for (std::string &t : tokens)
      if (t.size() == 6 && t[0] == '<' && t[1] == '0' && t[2] == 'x' && t[5] == '>' &&
          hex(t[3]) >= 0 && hex(t[4]) >= 0)
        t = std::string(1, static_cast<char>(hex(t[3]) * 16 + hex(t[4])));
  }
  std::string describe() const override { return "ByteFallback"; }
};

struct Fuse : Decoder {
  void apply(std::vector<std::string> &tokens, bool) const override {
    std::string all;
    for (const std::string &t : tokens)
      all += t;
    tokens = {all};
  }
  std::string describe() const override { return "Fuse"; }
};

struct Strip : Decoder {
  std::string content;
  size_t start = 0, stop = 0;
  void apply(std::vector<std::string> &tokens, bool first) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string &t = tokens[i];
      // Leading content at the start of the text only: a later chunk of a
      // stream keeps its spaces (the whole text is decoded as one).
      for (size_t k = 0; k < start && (first || i > 0) && t.compare(0, content.size(), content) == 0; ++k)
        t.erase(0, content.size());
      for (size_t k = 0; k < stop && t.size() >= content.size() &&
                         t.compare(t.size() - content.size(), content.size(), content) == 0;
           ++k)
        t.erase(t.size() - content.size());
    }
  }
  std::string describe() const override { return "Strip"; }
};

std::string cleanup(std::string s) {
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
           {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}})
    s = replaceAll(s, from, to);
  return s;
}

struct WordPiece : Decoder {
  std::string prefix = "##";
  bool clean = true;
  void apply(std::vector<std::string> &tokens, bool first) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string &t = tokens[i];
      if (i > 0 || !first) {
        if (t.compare(0, prefix.size(), prefix) == 0)
          t.erase(0, prefix.size());
        else
          t = " " + t;
      }
      if (clean)
        t = cleanup(t);
    }
  }
  std::string describe() const override { return "WordPiece"; }
};

struct BpeSuffix : Decoder {
  std::string suffix = "</w>";
  void apply(std::vector<std::string> &tokens, bool) const override {
    for (size_t i = 0; i < tokens.size(); ++i)
      tokens[i] = replaceAll(tokens[i], suffix, i + 1 == tokens.size() ? "" : " ");
  }
  std::string describe() const override { return "BPEDecoder"; }
};

struct Sequence : Decoder {
  std::vector<std::unique_ptr<Decoder>> items;
  void apply(std::vector<std::string> &tokens, bool first) const override {
    for (const auto &d : items)
      d->apply(tokens, first);
  }
  std::string describe() const override {
    std::string out = "Sequence[";
    for (size_t i = 0; i < items.size(); ++i)
      out += (i ? ", " : "") + items[i]->describe();
    return out + "]";
  }
};
} // namespace

std::unique_ptr<Decoder> Decoder::fromJson(const nlohmann::json &j, const Where &at) {
  if (j.is_null())
    return nullptr;
  std::string type = componentType(j, at);
  if (type == "ByteLevel") return std::make_unique<ByteLevel>();
  if (type == "Metaspace") {
    auto d = std::make_unique<Metaspace>();
    d->replacement = at.get<std::string>(j, "replacement", d->replacement);
    if (j.contains("prepend_scheme"))
      d->prepend = at.require<std::string>(j, "prepend_scheme") != "never";
    else
      d->prepend = at.get<bool>(j, "add_prefix_space", true);
    return d;
  }
  if (type == "Replace") return std::make_unique<Replace>(j, at);
  if (type == "ByteFallback") return std::make_unique<ByteFallback>();
  if (type == "Fuse") return std::make_unique<Fuse>();
  if (type == "Strip") {
    auto d = std::make_unique<Strip>();
    d->content = at.require<std::string>(j, "content");
    d->start = at.get<size_t>(j, "start", 0);
    d->stop = at.get<size_t>(j, "stop", 0);
    return d;
  }
  if (type == "WordPiece") {
    auto d = std::make_unique<WordPiece>();
    d->prefix = at.get<std::string>(j, "prefix", "##");
    d->clean = at.get<bool>(j, "cleanup", true);
    return d;
  }
  if (type == "BPEDecoder") {
    auto d = std::make_unique<BpeSuffix>();
    d->suffix = at.get<std::string>(j, "suffix", "</w>");
    return d;
  }
  if (type == "Sequence") {
    auto d = std::make_unique<Sequence>();
    const nlohmann::json &list = at.member(j, "decoders");
    for (size_t i = 0; i < list.size(); ++i)
      if (auto item = fromJson(list[i], at / "decoders" / i))
        d->items.push_back(std::move(item));
    return d;
  }
  (at / "type").fail("unknown decoder type '" + type + "'");
}

} // namespace tfm::tokenizer
