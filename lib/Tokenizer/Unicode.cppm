//===- Unicode.cppm - Unicode text operations of HF tokenizers ---*- C++ -*-===//
//
// The `tfm.tokenizer.unicode` module: code points from and to UTF-8, and the
// Unicode operations Hugging Face's tokenizers pipeline uses, with the data
// from utf8proc (Debian's libutf8proc, Unicode 15): normalization forms
// (NFC, NFD, NFKC, NFKD), lower-casing, general categories, and the
// character classes of BERT's normalizer and pre-tokenizer as tokenizers'
// bert.rs defines them. Input is well-formed UTF-8 (callers check first).
//
//===----------------------------------------------------------------------===//

module;
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utf8proc.h>
#include <vector>
export module tfm.tokenizer.unicode;

export namespace tfm::tokenizer::unicode {

/// The code points of well-formed UTF-8 `text`.
inline std::vector<char32_t> codepoints(std::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (int k = 1; k < n && i + k < text.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}

/// Appends the UTF-8 encoding of `cp` to `out`.
inline void append(std::string &out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// UTF-8 of code points `cps`.
inline std::string utf8(const std::vector<char32_t> &cps) {
  std::string out;
  for (char32_t cp : cps)
    append(out, cp);
  return out;
}

/// The byte length of the UTF-8 sequence led by `c`.
inline size_t sequenceLength(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

/// Unicode normalization forms.
enum class Form { NFC, NFD, NFKC, NFKD };

/// `text` in normalization form `form` (utf8proc_map with UTF8PROC_STABLE).
inline std::string normalize(std::string_view text, Form form) {
  int options = UTF8PROC_STABLE;
  switch (form) {
  case Form::NFC: options |= UTF8PROC_COMPOSE; break;
  case Form::NFD: options |= UTF8PROC_DECOMPOSE; break;
  case Form::NFKC: options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
  case Form::NFKD: options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
  }
  utf8proc_uint8_t *result = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t *>(text.data()),
                                    static_cast<utf8proc_ssize_t>(text.size()), &result,
                                    static_cast<utf8proc_option_t>(options));
  if (n < 0)
    throw std::runtime_error(std::string("Unicode normalization failed: ") +
                             utf8proc_errmsg(n));
  std::string out(reinterpret_cast<char *>(result), static_cast<size_t>(n));
  std::free(result);
  return out;
}

/// `text` lower-cased code point by code point (Unicode's simple mapping).
inline std::string lowercase(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : codepoints(text))
    append(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
  return out;
}

/// The general category of `cp`.
inline utf8proc_category_t category(char32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

/// A nonspacing mark (Mn): what StripAccents removes after NFD.
inline bool isNonspacingMark(char32_t cp) { return category(cp) == UTF8PROC_CATEGORY_MN; }

/// Unicode White_Space (Rust's char::is_whitespace).
inline bool isWhitespace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

/// BERT's control characters: categories Cc, Cf, Cs, Co, Cn except \t \n \r.
inline bool isBertControl(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r')
    return false;
  switch (category(cp)) {
  case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS:
  case UTF8PROC_CATEGORY_CO: case UTF8PROC_CATEGORY_CN:
    return true;
  default:
    return false;
  }
}

/// Unicode punctuation (categories Pc, Pd, Ps, Pe, Pi, Pf, Po).
inline bool isPunctuation(char32_t cp) {
  switch (category(cp)) {
  case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
  case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
  case UTF8PROC_CATEGORY_PO:
    return true;
  default:
    return false;
  }
}

/// BERT's punctuation: ASCII symbols and punctuation, and Unicode P*.
inline bool isBertPunctuation(char32_t cp) {
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
         (cp >= 123 && cp <= 126) || isPunctuation(cp);
}

/// The CJK Unified Ideographs blocks BERT surrounds with spaces.
inline bool isChineseChar(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

/// A decimal digit (Nd), as the Digits pre-tokenizer reads "numeric".
inline bool isNumeric(char32_t cp) {
  utf8proc_category_t c = category(cp);
  return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}

} // namespace tfm::tokenizer::unicode
