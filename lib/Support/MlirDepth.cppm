//===- MlirDepth.cppm - Bound the nesting of untrusted MLIR text -*- C++ -*-===//
//
// The `tfm.mlir_depth` module. MLIR's parser recurses once per nested
// region, attribute, type and bracket, with no limit of its own: a module
// attribute `[[[...]]]` 20,000 deep, or `tuple<` 100,000 deep, overflows the
// stack of tfm-opt, tfmc and tfm-ref (and of mlir-opt). Before parsing, each
// of them checks the text here: one linear pass, no recursion, string
// literals and comments skipped. JSON has the same check (tfm.json_depth).
//
//===----------------------------------------------------------------------===//

module;
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
export module tfm.mlir_depth;

export namespace tfm::mlir_text {

/// The nesting depth of brackets ( [ { < the tools accept. Real IR nests a
/// few dozen deep; 1,000 levels stay far below what the parser's recursion
/// fits in an 8 MiB stack (about 5,000 nested attributes).
constexpr size_t kMaxDepth = 1000;

/// The byte offset of the first bracket (outside string literals and `//`
/// comments) that opens level `limit + 1`, or nullopt when `text` nests at
/// most `limit` deep. `->` is not a bracket, and neither is a `<` or `>`
/// followed by `=` (affine constraints, which MLIR's lexer also accepts as
/// `> =`: counting those as brackets let a file pair each real level with a
/// `> =` and nest without limit). Malformed text is left for the parser.
inline std::optional<size_t> tooDeepAt(std::string_view text, size_t limit = kMaxDepth) {
  size_t depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    // The next character that is not white space.
    size_t j = i + 1;
    if (c == '<' || c == '>')
      while (j < text.size() && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' ||
                                 text[j] == '\r'))
        ++j;
    char next = j < text.size() ? text[j] : '\0';
    if (c == '"') { // a string literal: skip to its closing quote
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
    } else if (c == '/' && next == '/') { // a comment: skip to the end of the line
      while (i < text.size() && text[i] != '\n')
        ++i;
    } else if (c == '(' || c == '[' || c == '{' || (c == '<' && next != '=')) {
      if (++depth > limit)
        return i;
    } else if (c == ')' || c == ']' || c == '}' ||
               (c == '>' && next != '=' && (i == 0 || text[i - 1] != '-'))) {
      if (depth > 0)
        --depth;
    }
  }
  return std::nullopt;
}

/// The error for text nested too deep, or "" when it is not:
/// "`name`:LINE:COL: nesting deeper than 1000 levels ...".
inline std::string checkDepth(std::string_view name, std::string_view text,
                              size_t limit = kMaxDepth) {
  std::optional<size_t> at = tooDeepAt(text, limit);
  if (!at)
    return {};
  size_t line = 1, column = 1;
  for (size_t i = 0; i < *at; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::string(name) + ":" + std::to_string(line) + ":" + std::to_string(column) +
         ": nesting deeper than " + std::to_string(limit) +
         " levels of brackets, types, attributes or regions; tfm refuses it rather than "
         "overflow the parser's stack";
}

} // namespace tfm::mlir_text
