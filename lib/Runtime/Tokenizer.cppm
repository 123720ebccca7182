//===- Tokenizer.cppm - GPT-2 byte-level BPE tokenizer ---------*- C++ -*-===//
//
// The `tfm.tokenizer` module: GPT-2's byte-level BPE, exactly as OpenAI's
// encoder.py (and Hugging Face's GPT2Tokenizer) define it:
//  1. pre-tokenize with 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
//     ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ (PCRE2 with UTF and Unicode properties);
//  2. map each piece's UTF-8 bytes to the 256 printable "byte characters";
//  3. merge adjacent symbols by rank (vocab.bpe / merges.txt) until no
//     ranked pair is left; look the symbols up in encoder.json / vocab.json.
//     encoder.py rescans the word for the best pair after each merge
//     (quadratic: a 160 KB word took a minute); bpe() gives the same result
//     with a heap of candidate pairs, O(n log n) in the length of a word.
// `<|endoftext|>` is plain text unless special tokens are allowed.
//
//===----------------------------------------------------------------------===//

module;
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <nlohmann/json.hpp>
#include <optional>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <queue>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>
export module tfm.tokenizer;
import tfm.json_depth;

export namespace tfm::tokenizer {

class Tokenizer {
public:
  /// Loads encoder.json (vocab.json) and vocab.bpe (merges.txt) contents;
  /// throws std::runtime_error naming the file (`encoderName`, `mergesName`)
  /// and what is malformed in it: the token, the line or the byte offset.
  Tokenizer(std::string_view encoderJson, std::string_view merges,
            const std::string &encoderName = "encoder.json",
            const std::string &mergesName = "vocab.bpe");
  ~Tokenizer();
  Tokenizer(const Tokenizer &) = delete;
  Tokenizer &operator=(const Tokenizer &) = delete;

  /// Token ids of UTF-8 `text`; throws on invalid UTF-8 and on a byte the
  /// vocabulary has no token for, naming its byte offset in `text`.
  std::vector<int64_t> encode(std::string_view text, bool allowSpecial = false) const;
  /// The bytes of token `id` (may be part of a UTF-8 character): no bytes
  /// for an id below size() that no token has; throws for other ids.
  std::string decode(int64_t id) const;
  /// The id of <|endoftext|>, or -1.
  int64_t endOfText() const { return eot_; }
  /// The largest id + 1: ids 0..size()-1 can be decoded.
  size_t size() const { return size_; }
  /// encode() caches the ids of pre-tokenized words shorter than
  /// kMaxCachedBytes, up to kCacheCapacity of them (Hugging Face's bounds:
  /// past them, words are merged again, in O(n log n)).
  static constexpr size_t kCacheCapacity = 10000;
  static constexpr size_t kMaxCachedBytes = 256;
  /// The number of words cached (for tests).
  size_t cacheSize() const { return cache_.size(); }

private:
  void encodeOrdinary(std::string_view part, size_t base, std::vector<int64_t> &out) const;
  void bpe(const std::string &piece, size_t offset, std::vector<int64_t> &out) const;

  /// A merge of merges.txt: its rank (line order) and the symbol it makes.
  struct Merge {
    int32_t rank;
    int32_t symbol;
  };
  static uint64_t pairKey(int32_t left, int32_t right) {
    return static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32 | static_cast<uint32_t>(right);
  }

  std::string encoderName_;
  // The vocabulary's tokens are BPE's symbols, numbered 0..N-1 in ids_ (not
  // by their ids, which need not be dense or distinct).
  std::unordered_map<std::string, int32_t> symbols_; // token -> symbol
  std::vector<int64_t> ids_;                         // symbol -> id
  // id -> token. A hash map, not a table indexed by id: the ids come from
  // vocab.json, and a table sized by the largest one would let a single id
  // of 16777215 allocate 16 million entries (512 MB). Ids stay as they were
  // accepted (any below 2^24, gaps allowed); nothing is sized by them.
  std::unordered_map<int64_t, std::string> decoder_;
  size_t size_ = 0;
  std::unordered_map<uint64_t, Merge> merges_; // pairKey(left, right) -> merge
  std::string byteChar_[256];                   // byte -> UTF-8 of its byte character
  int32_t byteSymbol_[256];                     // byte -> symbol of its byte character, or -1
  std::unordered_map<std::string, unsigned char> charByte_;
  pcre2_code *pattern_ = nullptr;
  int64_t eot_ = -1;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_; // word -> ids
};

/// The UTF-8 sequence that starts at `text[i]` (RFC 3629, as Unicode's
/// "maximal subpart" rule reads it): `length` is the number of bytes the lead
/// byte announces (0 for a byte that cannot start a sequence) and `valid` how
/// many bytes from `i` form a well-formed prefix of it (no overlong forms, no
/// surrogates, nothing above U+10FFFF). The sequence is complete and well
/// formed when valid == length > 0.
struct Utf8Sequence {
  size_t length = 0, valid = 0;
};
inline Utf8Sequence utf8SequenceAt(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  if (c < 0x80)
    return {1, 1};
  Utf8Sequence seq;
  unsigned char lo = 0x80, hi = 0xBF; // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    seq.length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    seq.length = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    seq.length = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return seq; // a continuation byte, C0, C1 or F5..FF
  }
  seq.valid = 1;
  while (seq.valid < seq.length && i + seq.valid < text.size()) {
    unsigned char next = byte(i + seq.valid);
    bool ok = seq.valid == 1 ? (next >= lo && next <= hi) : (next & 0xC0) == 0x80;
    if (!ok)
      break;
    ++seq.valid;
  }
  return seq;
}

/// The byte offset of the first byte of `text` that is not part of a
/// well-formed UTF-8 sequence, or npos when all of it is well formed.
inline size_t invalidUtf8At(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    Utf8Sequence seq = utf8SequenceAt(text, i);
    if (seq.length == 0 || seq.valid != seq.length)
      return i;
    i += seq.length;
  }
  return std::string_view::npos;
}

/// Where `text` stops being well-formed UTF-8, for an error message
/// ("byte 0xF3 at byte offset 2"), or "" when all of it is well formed.
inline std::string invalidUtf8Description(std::string_view text) {
  size_t bad = invalidUtf8At(text);
  if (bad == std::string_view::npos)
    return {};
  char byte[8];
  std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(text[bad]));
  return "byte " + std::string(byte) + " at byte offset " + std::to_string(bad);
}

/// Streams token bytes as text that is always well-formed UTF-8, the way
/// Python's bytes.decode(errors="replace") (and so Hugging Face's decode)
/// reads the whole byte string: push() returns the text up to the last
/// complete character and holds back a trailing incomplete sequence only
/// while more bytes can still complete it; every ill-formed part (its maximal
/// subpart: a stray continuation byte, a lead byte followed by a byte that
/// cannot continue it, 0xC0/0xC1/0xF5..0xFF) becomes one U+FFFD. finish()
/// returns what is left: U+FFFD for an incomplete sequence.
class Utf8Stream {
public:
  std::string push(std::string_view bytes) {
    pending_.append(bytes);
    std::string out;
    size_t i = 0;
    while (i < pending_.size()) {
      Utf8Sequence seq = utf8SequenceAt(pending_, i);
      if (seq.length > 0 && seq.valid == seq.length) {
        out.append(pending_, i, seq.length);
        i += seq.length;
      } else if (seq.length > 0 && i + seq.valid == pending_.size()) {
        break; // incomplete so far: the next token may complete it
      } else {
        out += "\xEF\xBF\xBD";
        i += std::max<size_t>(seq.valid, 1);
      }
    }
    pending_.erase(0, i);
    return out;
  }
  std::string finish() {
    std::string out = pending_.empty() ? "" : "\xEF\xBF\xBD";
    pending_.clear();
    return out;
  }
  /// `bytes` as well-formed UTF-8, ill-formed parts replaced as push() does.
  static std::string sanitize(std::string_view bytes) {
    Utf8Stream stream;
    std::string out = stream.push(bytes);
    return out + stream.finish();
  }

private:
  std::string pending_;
};

} // namespace tfm::tokenizer

namespace tfm::tokenizer {
namespace {

void appendUtf8(std::string &out, uint32_t cp) {
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

/// Parses encoder.json / vocab.json: {"token": id, ...}, ids non-negative
/// integers, no token twice. Throws std::runtime_error naming the key or the
/// byte offset.
std::unordered_map<std::string, int64_t> parseEncoder(std::string_view s, const std::string &name) {
  using nlohmann::json;
  if (auto at = tfm::json::tooDeepAt(s))
    throw std::runtime_error(name + ": JSON nests deeper than " +
                             std::to_string(tfm::json::kMaxDepth) + " levels (at byte " +
                             std::to_string(*at) + ")");
  std::optional<std::string> duplicate;
  std::unordered_map<std::string, int64_t> out;
  json root;
  try {
    root = json::parse(s.begin(), s.end(), [&](int depth, json::parse_event_t event, json &key) {
      if (event == json::parse_event_t::key && depth == 1 && !duplicate &&
          out.count(key.get<std::string>()))
        duplicate = key.get<std::string>();
      else if (event == json::parse_event_t::key && depth == 1)
        out.emplace(key.get<std::string>(), -1);
      return true;
    });
  } catch (const json::exception &e) {
    throw std::runtime_error(name + ": " + tfm::json::parseErrorMessage(e.what()));
  }
  if (!root.is_object())
    throw std::runtime_error(name + ": expected an object of token -> id");
  if (duplicate)
    throw std::runtime_error(name + ": token '" + *duplicate + "' appears twice");
  for (const auto &[key, value] : root.items()) {
    if (!value.is_number_unsigned() || value.get<uint64_t>() >= (uint64_t(1) << 24))
      throw std::runtime_error(name + ": the id of token '" + key + "' (" + value.dump() +
                               ") is not a token id (a non-negative integer below 2^24)");
    out[key] = static_cast<int64_t>(value.get<uint64_t>());
  }
  return out;
}

/// Splits UTF-8 `s` into its characters.
std::vector<std::string> characters(const std::string &s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}
} // namespace

Tokenizer::Tokenizer(std::string_view encoderJson, std::string_view merges,
                     const std::string &encoderName, const std::string &mergesName) {
  encoderName_ = encoderName;
  std::unordered_map<std::string, int64_t> encoder = parseEncoder(encoderJson, encoderName);
  symbols_.reserve(encoder.size());
  ids_.reserve(encoder.size());
  decoder_.reserve(encoder.size());
  for (auto &[k, v] : encoder) {
    symbols_.emplace(k, static_cast<int32_t>(ids_.size()));
    ids_.push_back(v);
    decoder_.emplace(v, k);
    size_ = std::max(size_, static_cast<size_t>(v) + 1);
  }
  auto eot = encoder.find("<|endoftext|>");
  eot_ = eot == encoder.end() ? -1 : eot->second;
  // Ranks: one merge "a b" per line, after an optional "#version" header
  // line; empty lines may only end the file. Each merge is checked here, so
  // that a malformed one is an error naming merges.txt and its line, not a
  // later failure on every text that contains the pair: both symbols and the
  // token they make must be in the vocabulary.
  // The file is UTF-8 text (Hugging Face reads it so): an ill-formed byte is
  // an error at its line and offset, and so every line quoted below is text.
  if (std::string bad = invalidUtf8Description(merges); !bad.empty()) {
    size_t at = invalidUtf8At(merges);
    throw std::runtime_error(mergesName + ": line " +
                             std::to_string(1 + std::count(merges.begin(), merges.begin() + at, '\n')) +
                             ": not valid UTF-8 (" + bad + ")");
  }
  size_t pos = 0;
  int rank = 0;
  size_t lineNumber = 0;
  while (pos < merges.size()) {
    ++lineNumber;
    size_t end = merges.find('\n', pos);
    if (end == std::string_view::npos)
      end = merges.size();
    std::string_view line = merges.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    pos = end + 1;
    if (lineNumber == 1 && line.starts_with("#version"))
      continue;
    if (line.empty() && merges.find_first_not_of("\r\n", pos) == std::string_view::npos)
      break; // trailing empty lines
    auto fail = [&](const std::string &what) {
      throw std::runtime_error(mergesName + ": line " + std::to_string(lineNumber) + " ('" +
                               std::string(line) + "'): " + what);
    };
    size_t space = line.find(' ');
    if (space == 0 || space == std::string_view::npos || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string_view::npos)
      fail("a merge is two symbols separated by one space");
    std::string left(line.substr(0, space)), right(line.substr(space + 1));
    for (const std::string &symbol : {left, right})
      if (!symbols_.count(symbol))
        fail("the vocabulary (" + encoderName + ") has no token '" + symbol + "'");
    auto made = symbols_.find(left + right);
    if (made == symbols_.end())
      fail("the vocabulary (" + encoderName + ") has no token '" + left + right +
           "' for the merge");
    // A pair listed twice takes its last rank, as encoder.py's
    // dict(zip(merges, range(...))) and Hugging Face's tokenizers do.
    merges_.insert_or_assign(pairKey(symbols_.at(left), symbols_.at(right)),
                             Merge{rank++, made->second});
  }
  // GPT-2's bytes_to_unicode: printable bytes map to themselves, the others
  // to 256, 257, ... in order.
  int next = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    uint32_t cp = printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + next++);
    appendUtf8(byteChar_[b], cp);
    charByte_[byteChar_[b]] = static_cast<unsigned char>(b);
    auto symbol = symbols_.find(byteChar_[b]);
    byteSymbol_[b] = symbol == symbols_.end() ? -1 : symbol->second;
  }
  int errorCode;
  PCRE2_SIZE errorOffset;
  const char *pat = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
  pattern_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pat), PCRE2_ZERO_TERMINATED,
                           PCRE2_UTF | PCRE2_UCP, &errorCode, &errorOffset, nullptr);
  if (!pattern_)
    throw std::runtime_error("cannot compile the GPT-2 pre-tokenization pattern");
}

Tokenizer::~Tokenizer() {
  if (pattern_)
    pcre2_code_free(pattern_);
}

/// Appends the ids of `piece`, one pre-tokenized word that starts at byte
/// `offset` of the text being encoded (for errors).
///
/// encoder.py's BPE, in rounds: find the lowest-ranked adjacent pair, merge
/// every occurrence of it left to right (in the word as the round found it),
/// repeat until no pair has a rank. Done here as Hugging Face's
/// Word::merge_all does it, in O(n log n): the symbols are a doubly linked
/// list over one node per byte (a symbol starts at its node's byte), and a
/// min-heap holds the candidate pairs by (rank, position). An entry whose
/// pair has changed since it was pushed (its left node merged into its left
/// neighbour, or either node merged into something else) is stale, and
/// skipped. Unlike merge_all, the pairs that a round's merges make are pushed
/// only when the round is over: a new pair that ranks better than the round's
/// must not be merged before the round's other occurrences, or the result
/// differs from encoder.py's (e.g. with merges "a b", "abc ab", "ab c",
/// "abcabc" is abc abc, not abcab c). Each merge pushes at most two entries,
/// so the heap sees at most 3n.
void Tokenizer::bpe(const std::string &piece, size_t offset, std::vector<int64_t> &out) const {
  auto cached = cache_.find(piece);
  if (cached != cache_.end()) {
    out.insert(out.end(), cached->second.begin(), cached->second.end());
    return;
  }
  constexpr size_t none = SIZE_MAX;
  struct Node {
    int32_t symbol; // or -1: a byte character that the vocabulary lacks
    bool merged;    // merged into the node on its left: no longer in the list
    size_t prev, next;
  };
  std::vector<Node> nodes(piece.size());
  for (size_t i = 0; i < piece.size(); ++i)
    nodes[i] = {byteSymbol_[static_cast<unsigned char>(piece[i])], false, i ? i - 1 : none,
                i + 1 < piece.size() ? i + 1 : none};
  // The merge of node `left` and the next one, if they have one.
  auto mergeAt = [&](size_t left) -> const Merge * {
    size_t right = nodes[left].next;
    if (right == none || nodes[left].symbol < 0 || nodes[right].symbol < 0)
      return nullptr;
    auto it = merges_.find(pairKey(nodes[left].symbol, nodes[right].symbol));
    return it == merges_.end() ? nullptr : &it->second;
  };
  using Candidate = std::pair<int32_t, size_t>; // (rank, left node)
  std::vector<Candidate> initial;
  for (size_t i = 0; i + 1 < piece.size(); ++i)
    if (const Merge *merge = mergeAt(i))
      initial.emplace_back(merge->rank, i);
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue(
      std::greater<>(), std::move(initial));
  std::vector<Candidate> made; // the pairs this round's merges make
  while (!queue.empty()) {
    int32_t rank = queue.top().first;
    // Each pair has one rank, so this round's entries are all of the pair's
    // occurrences, popped left to right.
    while (!queue.empty() && queue.top().first == rank) {
      size_t left = queue.top().second;
      queue.pop();
      const Merge *merge = nodes[left].merged ? nullptr : mergeAt(left);
      if (!merge || merge->rank != rank)
        continue; // stale
      size_t right = nodes[left].next;
      nodes[left].symbol = merge->symbol;
      nodes[right].merged = true;
      nodes[left].next = nodes[right].next;
      if (nodes[left].next != none)
        nodes[nodes[left].next].prev = left;
      if (nodes[left].prev != none)
        if (const Merge *before = mergeAt(nodes[left].prev))
          made.emplace_back(before->rank, nodes[left].prev);
      if (const Merge *after = mergeAt(left))
        made.emplace_back(after->rank, left);
    }
    for (const Candidate &candidate : made)
      queue.push(candidate);
    made.clear();
  }
  std::vector<int64_t> ids;
  for (size_t i = piece.empty() ? none : 0; i != none; i = nodes[i].next) {
    if (nodes[i].symbol < 0) // only byte characters can be missing: merges are checked
      throw std::runtime_error(encoderName_ + " has no token for symbol '" +
                               byteChar_[static_cast<unsigned char>(piece[i])] +
                               "' (byte offset " + std::to_string(offset + i) + " of the text)");
    ids.push_back(ids_[static_cast<size_t>(nodes[i].symbol)]);
  }
  out.insert(out.end(), ids.begin(), ids.end());
  // Bounded, as Hugging Face's cache is: once full it keeps the words it has
  // (the first ones, which are the frequent ones in most texts) and takes no
  // more; an unbounded cache grew with every new word (315 MB for 10.8 MB of
  // unique words).
  if (piece.size() < kMaxCachedBytes && cache_.size() < kCacheCapacity)
    cache_.emplace(piece, std::move(ids));
}

std::vector<int64_t> Tokenizer::encode(std::string_view text, bool allowSpecial) const {
  // Checked once here, on the whole text (so that the offset is the text's,
  // special tokens or not), so that each match in encodeOrdinary can skip
  // PCRE2's UTF check (which reads the whole subject: quadratic time over a
  // long text). Splitting at the ASCII "<|endoftext|>" keeps the parts valid.
  size_t bad = invalidUtf8At(text);
  if (bad != std::string_view::npos)
    throw std::runtime_error("invalid UTF-8 at byte offset " + std::to_string(bad));
  std::vector<int64_t> out;
  if (!allowSpecial || eot_ < 0) {
    encodeOrdinary(text, 0, out);
    return out;
  }
  constexpr std::string_view special = "<|endoftext|>";
  for (size_t pos = 0;;) {
    size_t found = text.find(special, pos);
    size_t end = found == std::string_view::npos ? text.size() : found;
    encodeOrdinary(text.substr(pos, end - pos), pos, out);
    if (found == std::string_view::npos)
      return out;
    out.push_back(eot_);
    pos = found + special.size();
  }
}

/// Appends the ids of `part`, valid UTF-8 without special tokens that starts
/// at byte `base` of the text being encoded (for errors).
void Tokenizer::encodeOrdinary(std::string_view part, size_t base,
                               std::vector<int64_t> &out) const {
  std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data *)> match(
      pcre2_match_data_create_from_pattern(pattern_, nullptr), pcre2_match_data_free);
  PCRE2_SIZE offset = 0;
  auto subject = reinterpret_cast<PCRE2_SPTR>(part.data());
  while (offset < part.size()) {
    int rc = pcre2_match(pattern_, subject, part.size(), offset, PCRE2_NO_UTF_CHECK, match.get(),
                         nullptr);
    if (rc == PCRE2_ERROR_NOMATCH)
      break;
    if (rc < 0) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof(message));
      throw std::runtime_error("cannot tokenize the text at byte offset " +
                               std::to_string(base + offset) + ": " +
                               std::string(reinterpret_cast<char *>(message)));
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(match.get());
    if (ov[1] == ov[0]) { // cannot happen with this pattern; avoid looping
      ++offset;
      continue;
    }
    bpe(std::string(part.substr(ov[0], ov[1] - ov[0])), base + ov[0], out);
    offset = ov[1];
  }
}

std::string Tokenizer::decode(int64_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= size_)
    throw std::runtime_error("token id " + std::to_string(id) + " is not in the vocabulary");
  auto token = decoder_.find(id);
  if (token == decoder_.end())
    return "";
  std::string bytes;
  for (const std::string &c : characters(token->second)) {
    auto it = charByte_.find(c);
    if (it != charByte_.end())
      bytes += static_cast<char>(it->second);
    else
      bytes += c; // special tokens are stored as plain text
  }
  return bytes;
}

} // namespace tfm::tokenizer
