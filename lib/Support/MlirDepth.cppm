//===- MlirDepth.cppm - Bound the nesting of untrusted MLIR text -*- C++ -*-===//
//
// The `tfm.mlir_depth` module. MLIR's parser recurses once per nested
// region, attribute, type and bracket, with no limit of its own: a module
// attribute `[[[...]]]` 20,000 deep, or `tuple<` 100,000 deep, overflows the
// stack of tfm-opt, tfmc and tfm-ref (and of mlir-opt). Before parsing, each
// of them checks the text here: one linear pass, no recursion, string
// literals and comments skipped. JSON has the same check (tfm.json_depth).
// It also checks what the parser aborts on instead of diagnosing: resource
// blobs whose alignment is 0 (checkResources; checkText runs both).
//
//===----------------------------------------------------------------------===//

module;
#include <cstddef>
#include <cstdint>
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

/// The largest blob alignment the tools accept (MLIR takes any power of two
/// and allocates with it; real importers write 1 to 64).
constexpr uint32_t kMaxBlobAlignment = 65536;

/// The error for a `dense_resource` blob MLIR's parser would abort on, or ""
/// for none. A blob in the file metadata (`{-# dialect_resources: { DIALECT:
/// { KEY: "0x..." } } #-}`) starts with its alignment, 4 bytes little endian;
/// MLIR rejects an alignment that is not a power of two but lets 0 through
/// and dies allocating it ("LLVM ERROR: out of memory", SIGABRT;
/// llvm-project #181266). "`name`:LINE:COL: ..." at the blob's string.
/// Every string inside `dialect_resources` that starts with "0x" and 8 hex
/// digits is read as a blob (a dialect's non-blob string of that form would
/// be refused too: none is known).
inline std::string checkResources(std::string_view name, std::string_view text) {
  auto at = [&](size_t offset) {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < offset; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return std::string(name) + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  };
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  bool inMetadata = false;
  size_t resourcesDepth = 0, depth = 0; // depth of braces inside the metadata
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      size_t start = i;
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
      if (i >= text.size()) // an unterminated string (the parser reports it)
        break;
      // A blob: "0x" and at least the 8 hex digits of the alignment.
      if (resourcesDepth && depth > resourcesDepth && i - start > 10 && text[start + 1] == '0' &&
          (text[start + 2] == 'x' || text[start + 2] == 'X')) {
        uint32_t align = 0;
        bool digits = true;
        for (int b = 0; b < 4 && digits; ++b) {
          int hi = hex(text[start + 3 + 2 * b]), lo = hex(text[start + 4 + 2 * b]);
          digits = hi >= 0 && lo >= 0;
          align |= static_cast<uint32_t>(digits ? hi * 16 + lo : 0) << (8 * b);
        }
        if (digits && (align == 0 || align > kMaxBlobAlignment))
          return at(start) + "resource blob's alignment (its first 4 bytes, little endian) is " +
                 std::to_string(align) + "; tfm takes a power of two from 1 to " +
                 std::to_string(kMaxBlobAlignment) + " (MLIR aborts on an alignment of 0)";
      }
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i < text.size() && text[i] != '\n')
        ++i;
    } else if (!inMetadata && text.compare(i, 3, "{-#") == 0) {
      inMetadata = true;
      depth = 0;
      i += 2;
    } else if (inMetadata && text.compare(i, 3, "#-}") == 0) {
      inMetadata = false;
      resourcesDepth = 0;
      i += 2;
    } else if (inMetadata && c == '{') {
      ++depth;
    } else if (inMetadata && c == '}') {
      if (depth == resourcesDepth)
        resourcesDepth = 0;
      if (depth > 0)
        --depth;
    } else if (inMetadata && depth == 0 && text.compare(i, 17, "dialect_resources") == 0) {
      resourcesDepth = 1; // its braces are the first level of the metadata
      i += 16;
    }
  }
  return {};
}

/// The error for a string literal that the end of the text cuts off, or ""
/// for none. MLIR's lexer steps past the end of its buffer after reporting
/// such a string; in a resource section the parser then lexes on into
/// memory beyond it (found by fuzz-mlir: `mask: "0x01` at the end of a file
/// crashed in mlir::Lexer::lexToken). A string cut off by a newline is
/// reported there by the parser and is left to it.
inline std::string checkStrings(std::string_view name, std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i < text.size() && text[i] != '\n')
        ++i;
    } else if (c == '"') {
      size_t start = i;
      for (++i; i < text.size() && text[i] != '"' && text[i] != '\n'; ++i)
        if (text[i] == '\\')
          ++i;
      if (i >= text.size()) {
        size_t line = 1, column = 1;
        for (size_t k = 0; k < start; ++k)
          text[k] == '\n' ? (++line, column = 1) : ++column;
        return std::string(name) + ":" + std::to_string(line) + ":" + std::to_string(column) +
               ": the string literal that starts here is cut off by the end of the file";
      }
    }
  }
  return {};
}

/// What every tool checks in MLIR text before handing it to MLIR's parser:
/// checkDepth(), checkStrings() and checkResources(), the first error.
inline std::string checkText(std::string_view name, std::string_view text) {
  if (std::string deep = checkDepth(name, text); !deep.empty())
    return deep;
  if (std::string cut = checkStrings(name, text); !cut.empty())
    return cut;
  return checkResources(name, text);
}

} // namespace tfm::mlir_text
