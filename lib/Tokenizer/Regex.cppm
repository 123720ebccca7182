//===- Regex.cppm - The patterns of tokenizer.json (PCRE2) --------*- C++ -*-===//
//
// The `tfm.tokenizer.regex` module: a tokenizer.json pattern, `{"String": s}`
// (matched literally) or `{"Regex": r}` (tokenizers' Rust regex syntax, which
// the patterns real tokenizers ship use in its PCRE2-compatible subset:
// \p{L}, \p{N}, (?i:...), classes, lookahead), compiled by PCRE2 with UTF and
// Unicode properties (\s, \w, \d and case folding by Unicode, as Rust's
// regex crate has them), and every non-overlapping match found left to right.
//
//===----------------------------------------------------------------------===//

module;
#define PCRE2_CODE_UNIT_WIDTH 8
#include <memory>
#include <nlohmann/json.hpp>
#include <pcre2.h>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
export module tfm.tokenizer.regex;
import tfm.tokenizer.component;
import tfm.tokenizer; // invalidUtf8At

export namespace tfm::tokenizer {

class Pattern {
public:
  /// Compiles the pattern object `j` (at `at`): an error names the JSON path
  /// and PCRE2's reason with its offset in the pattern.
  Pattern(const nlohmann::json &j, const Where &at) {
    if (!j.is_object())
      at.fail("a pattern must be an object {\"String\": ...} or {\"Regex\": ...}");
    uint32_t options = PCRE2_UTF | PCRE2_UCP;
    std::string text;
    if (j.contains("String")) {
      text = at.require<std::string>(j, "String");
      options = PCRE2_UTF | PCRE2_LITERAL; // (PCRE2 refuses UCP with LITERAL)
      literal_ = text;
    } else if (j.contains("Regex")) {
      text = at.require<std::string>(j, "Regex");
    } else {
      at.fail("a pattern must be an object {\"String\": ...} or {\"Regex\": ...}");
    }
    if (text.empty())
      at.fail("the pattern is empty");
    int code = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code *compiled = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                                         options, &code, &offset, nullptr);
    if (!compiled) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(code, message, sizeof message);
      at.fail("cannot compile the pattern at offset " + std::to_string(offset) + ": " +
              reinterpret_cast<char *>(message));
    }
    code_.reset(compiled);
    pcre2_jit_compile(compiled, PCRE2_JIT_COMPLETE); // a speed-up where available
  }

  /// Every non-overlapping match in `text` (byte offsets [begin, end)),
  /// left to right; an empty match advances by one character. Text that is
  /// not well-formed UTF-8 (a decoder's bytes) has no match: PCRE2 is told
  /// the subject is valid, so it is checked here, once.
  std::vector<std::pair<size_t, size_t>> matches(std::string_view text) const {
    std::vector<std::pair<size_t, size_t>> out;
    if (invalidUtf8At(text) != std::string_view::npos)
      return out;
    std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data *)> data(
        pcre2_match_data_create_from_pattern(code_.get(), nullptr), pcre2_match_data_free);
    size_t start = 0;
    while (start <= text.size()) {
      int rc = pcre2_match(code_.get(), reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                           start, PCRE2_NO_UTF_CHECK, data.get(), nullptr);
      if (rc < 0)
        break;
      PCRE2_SIZE *v = pcre2_get_ovector_pointer(data.get());
      size_t b = v[0], e = v[1];
      if (e == b) { // empty: skip one character
        if (b >= text.size())
          break;
        size_t step = 1;
        while (b + step < text.size() && (static_cast<unsigned char>(text[b + step]) & 0xC0) == 0x80)
          ++step;
        start = b + step;
        continue;
      }
      out.push_back({b, e});
      start = e;
    }
    return out;
  }

  /// The literal text of a {"String": ...} pattern, or "" for a regex.
  const std::string &literal() const { return literal_; }

private:
  struct Free {
    void operator()(pcre2_code *c) const { pcre2_code_free(c); }
  };
  std::unique_ptr<pcre2_code, Free> code_;
  std::string literal_;
};

} // namespace tfm::tokenizer
