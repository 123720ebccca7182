//===- JsonDepth.cppm - Bound the nesting of untrusted JSON ----*- C++ -*-===//
//
// The `tfm.json_depth` module. Every JSON parser tfm uses (llvm::json in the
// compiler, the runtime's safetensors header reader, the tokenizer's
// vocab.json reader) recurses once per nesting level, so a file nested
// 100,000 deep overflows the stack. Before parsing, each caller checks the
// text here: one linear pass, no recursion, strings skipped. The limit
// follows serde_json's default (128). parseErrorMessage() makes the JSON
// library's own error text fit for a diagnostic.
//
//===----------------------------------------------------------------------===//

module;
#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
export module tfm.json_depth;

export namespace tfm::json {

/// The nesting depth tfm's JSON readers accept (serde_json's default).
constexpr size_t kMaxDepth = 128;

/// The byte offset of the first '[' or '{' (outside strings) that opens
/// level `limit + 1`, or nullopt when `text` nests at most `limit` deep.
/// Malformed text is left for the parser to report.
inline std::optional<size_t> tooDeepAt(std::string_view text, size_t limit = kMaxDepth) {
  size_t depth = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (c == '\\')
        ++i; // skip the escaped character
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit)
        return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

/// nlohmann::json's exception text `what` as a diagnostic: without its
/// "[json.exception.parse_error.101] " prefix, and with every byte that is
/// not printable ASCII written as \xHH, since the library quotes the bytes it
/// last read ("last read: '...'"), which in a hostile file are not text.
inline std::string parseErrorMessage(std::string_view what) {
  if (size_t close = what.find("] "); what.starts_with("[json.exception.") &&
                                      close != std::string_view::npos)
    what.remove_prefix(close + 2);
  std::string out;
  for (char c : what) {
    unsigned char b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7F) {
      out += c;
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02X", b);
      out += hex;
    }
  }
  return out;
}

} // namespace tfm::json
