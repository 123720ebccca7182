//===- Model.cppm - tokenizer.json models: BPE, WordPiece, WordLevel -*- C++ -*-===//
//
// The `tfm.tokenizer.model` module: the "model" of tokenizer.json, as Hugging
// Face tokenizers' models/*.rs define it. Each turns one pre-tokenized piece
// into ids:
//   BPE        symbols are the piece's characters (continuing_subword_prefix
//              before all but the first, end_of_word_suffix after the last);
//              a character the vocabulary lacks becomes its bytes' <0xNN>
//              tokens (byte_fallback) or unk_token (consecutive ones fused
//              with fuse_unk; dropped without an unk_token, as tokenizers
//              does); then the adjacent pair of lowest merge rank is merged,
//              leftmost first, until none is left (a heap: O(n log n) in the
//              piece). ignore_merges: a piece that is a token is that token.
//              merges are "a b" strings or ["a", "b"] pairs.
//   WordPiece  greedy longest match from the left, continuations prefixed
//              (##); a piece with no split, or longer than
//              max_input_chars_per_word characters, is unk_token.
//   WordLevel  the piece's id, or unk_token.
// Unigram is refused with that reason.
//
//===----------------------------------------------------------------------===//

module;
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>
export module tfm.tokenizer.model;
import tfm.tokenizer.component;
import tfm.tokenizer.unicode;

export namespace tfm::tokenizer {

/// A model's large tables, as tfm's tokenizer image stores them (already
/// validated): the vocabulary and, for BPE, the merges in rank order as
/// (left id, right id, merged id).
struct ModelTables {
  std::vector<std::pair<std::string, int64_t>> vocab;
  std::vector<std::array<int64_t, 3>> merges;
};

class Model {
public:
  virtual ~Model() = default;
  /// Appends the ids of `piece` to `out`.
  virtual void tokenize(const std::string &piece, std::vector<int64_t> &out) const = 0;
  virtual std::string describe() const = 0;
  /// The vocabulary: token -> id.
  const std::unordered_map<std::string, int64_t> &vocab() const { return vocab_; }

  /// The model of JSON object `j` at `at`; with `tables`, its vocabulary
  /// and merges come from there instead of j's "vocab" and "merges".
  static std::unique_ptr<Model> fromJson(const nlohmann::json &j, const Where &at,
                                         ModelTables *tables = nullptr);
  /// This model's tables (for the image).
  virtual ModelTables tables() const {
    ModelTables t;
    t.vocab.assign(vocab_.begin(), vocab_.end());
    return t;
  }

protected:
  /// Reads "vocab" ({token: id}); ids must be in [0, 2^31); or takes
  /// `tables`' vocabulary.
  void readVocab(const nlohmann::json &j, const Where &at, ModelTables *tables);
  /// The id of unk_token (checked to be in the vocabulary), if one is set.
  std::optional<int64_t> readUnk(const nlohmann::json &j, const Where &at) const;
  std::unordered_map<std::string, int64_t> vocab_;
};

} // namespace tfm::tokenizer

namespace tfm::tokenizer {
namespace {
namespace u = unicode;

/// BPE's merges: pair key -> (rank, merged id), an open-addressing hash
/// table (linear probing, at most 2/3 full, 16-byte slots): one allocation
/// instead of a node per merge, so that 280,000 merges (Llama 3) load in
/// milliseconds.
class MergeTable {
public:
  struct Merge {
    int32_t rank;
    int32_t made; ///< ids are below 2^31
  };
  void reserve(size_t n) {
    size_t cap = 16;
    while (2 * cap < 3 * n)
      cap *= 2;
    if (cap > slots_.size())
      rehash(cap);
  }
  void insertOrAssign(uint64_t key, Merge m) {
    if (3 * (size_ + 1) > 2 * slots_.size())
      rehash(slots_.empty() ? 16 : 2 * slots_.size());
    Slot &s = slots_[probe(key)];
    if (s.key == kEmpty) {
      s.key = key;
      ++size_;
    }
    s.merge = m;
  }
  const Merge *find(uint64_t key) const {
    if (slots_.empty())
      return nullptr;
    const Slot &s = slots_[probe(key)];
    return s.key == key ? &s.merge : nullptr;
  }
  size_t size() const { return size_; }
  template <typename F> void forEach(F f) const {
    for (const Slot &s : slots_)
      if (s.key != kEmpty)
        f(s.key, s.merge);
  }

private:
  static constexpr uint64_t kEmpty = ~uint64_t(0); // ids are below 2^31: no key is all ones
  struct Slot {
    uint64_t key = kEmpty;
    Merge merge{};
  };
  size_t probe(uint64_t key) const {
    size_t mask = slots_.size() - 1;
    size_t i = static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & mask;
    while (slots_[i].key != kEmpty && slots_[i].key != key)
      i = (i + 1) & mask;
    return i;
  }
  void rehash(size_t cap) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(cap, Slot{});
    size_ = 0;
    for (const Slot &s : old)
      if (s.key != kEmpty)
        insertOrAssign(s.key, s.merge);
  }
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

class Bpe : public Model {
public:
  Bpe(const nlohmann::json &j, const Where &at, ModelTables *tables) {
    readVocab(j, at, tables);
    unk_ = readUnk(j, at);
    prefix_ = at.get<std::string>(j, "continuing_subword_prefix", "");
    suffix_ = at.get<std::string>(j, "end_of_word_suffix", "");
    fuseUnk_ = at.get<bool>(j, "fuse_unk", false);
    byteFallback_ = at.get<bool>(j, "byte_fallback", false);
    ignoreMerges_ = at.get<bool>(j, "ignore_merges", false);
    if (at.get<double>(j, "dropout", 0.0) != 0.0)
      (at / "dropout").fail("BPE dropout (random merges) is not supported by tfm");
    if (tables) { // checked when the image was made
      merges_.reserve(tables->merges.size());
      for (size_t r = 0; r < tables->merges.size(); ++r) {
        const auto &[l, rr, made] = tables->merges[r];
        merges_.insertOrAssign(key(l, rr), Merge{static_cast<int32_t>(r), static_cast<int32_t>(made)});
      }
      return;
    }
    const nlohmann::json &merges = at.member(j, "merges");
    if (!merges.is_array())
      (at / "merges").fail("must be an array");
    merges_.reserve(merges.size());
    for (size_t r = 0; r < merges.size(); ++r) {
      const nlohmann::json &m = merges[r];
      std::string left, right;
      if (m.is_string()) { // "a b": split at the first space
        const std::string &s = m.get_ref<const std::string &>();
        size_t space = s.find(' ');
        if (space == std::string::npos || space == 0 || space + 1 == s.size() ||
            s.find(' ', space + 1) != std::string::npos) // tokenizers: exactly two parts
          (at / "merges" / r).fail("a merge must be \"LEFT RIGHT\", got '" + s + "'");
        left = s.substr(0, space);
        right = s.substr(space + 1);
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        left = m[0].get<std::string>();
        right = m[1].get<std::string>();
      } else {
        (at / "merges" / r).fail("a merge must be \"LEFT RIGHT\" or [\"LEFT\", \"RIGHT\"]");
      }
      auto l = vocab_.find(left), rr = vocab_.find(right), made = vocab_.find(left + right);
      if (l == vocab_.end() || rr == vocab_.end() || made == vocab_.end())
        (at / "merges" / r)
            .fail("merge '" + left + "' + '" + right + "': " +
                  (l == vocab_.end() ? "'" + left + "'" : rr == vocab_.end() ? "'" + right + "'"
                                                                             : "'" + left + right + "'") +
                  " is not in the vocabulary");
      // A repeated merge takes its last rank, as tokenizers' BPE builder
      // (a HashMap insert) and transformers.js do.
      merges_.insertOrAssign(key(l->second, rr->second),
                             Merge{static_cast<int32_t>(r), static_cast<int32_t>(made->second)});
    }
  }

  ModelTables tables() const override {
    ModelTables t = Model::tables();
    // In rank order (ranks renumbered densely: a repeated merge kept its last).
    std::vector<std::pair<int32_t, std::array<int64_t, 3>>> ranked;
    ranked.reserve(merges_.size());
    merges_.forEach([&](uint64_t k, const Merge &m) {
      ranked.push_back({m.rank, {static_cast<int64_t>(k >> 32), static_cast<int64_t>(k & 0xFFFFFFFF), m.made}});
    });
    std::sort(ranked.begin(), ranked.end());
    for (const auto &[rank, triple] : ranked)
      t.merges.push_back(triple);
    return t;
  }

  void tokenize(const std::string &piece, std::vector<int64_t> &out) const override {
    if (piece.empty())
      return;
    if (ignoreMerges_)
      if (auto it = vocab_.find(piece); it != vocab_.end()) {
        out.push_back(it->second);
        return;
      }
    if (piece.size() < kMaxCachedBytes)
      if (auto it = cache_.find(piece); it != cache_.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        return;
      }
    std::vector<int64_t> ids = merge(piece);
    out.insert(out.end(), ids.begin(), ids.end());
    if (piece.size() < kMaxCachedBytes && cache_.size() < kCacheCapacity)
      cache_.emplace(piece, std::move(ids));
  }

  std::string describe() const override {
    std::string d = "BPE(" + std::to_string(vocab_.size()) + " tokens, " +
                    std::to_string(merges_.size()) + " merges";
    if (byteFallback_) d += ", byte_fallback";
    if (ignoreMerges_) d += ", ignore_merges";
    return d + ")";
  }

private:
  using Merge = MergeTable::Merge;
  static uint64_t key(int64_t a, int64_t b) {
    return static_cast<uint64_t>(a) << 32 | static_cast<uint64_t>(b);
  }
  static constexpr size_t kMaxCachedBytes = 256, kCacheCapacity = 10000;

  std::vector<int64_t> merge(const std::string &piece) const {
    // Initial symbols: the characters.
    std::vector<int64_t> sym;
    std::vector<bool> unk;
    std::vector<char32_t> cps = u::codepoints(piece);
    for (size_t i = 0; i < cps.size(); ++i) {
      std::string s;
      u::append(s, cps[i]);
      if (i > 0) s = prefix_ + s;
      if (i + 1 == cps.size()) s += suffix_;
      if (auto it = vocab_.find(s); it != vocab_.end()) {
        sym.push_back(it->second);
        unk.push_back(false);
        continue;
      }
      if (byteFallback_) {
        std::vector<int64_t> bytes;
        for (unsigned char b : s) {
          static const char *hex = "0123456789ABCDEF";
          std::string code = std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
          auto it = vocab_.find(code);
          if (it == vocab_.end()) {
            bytes.clear();
            break;
          }
          bytes.push_back(it->second);
        }
        if (!bytes.empty()) {
          for (int64_t b : bytes) {
            sym.push_back(b);
            unk.push_back(false);
          }
          continue;
        }
      }
      if (!unk_)
        continue; // tokenizers drops it without an unk_token
      if (fuseUnk_ && !unk.empty() && unk.back())
        continue;
      sym.push_back(*unk_);
      unk.push_back(true);
    }
    // Merges by rank, leftmost first: a heap of candidate pairs over a
    // linked list of symbols; stale candidates are skipped.
    size_t n = sym.size();
    std::vector<int64_t> prev(n), next(n);
    std::vector<bool> alive(n, true);
    for (size_t i = 0; i < n; ++i) {
      prev[i] = static_cast<int64_t>(i) - 1;
      next[i] = i + 1 < n ? static_cast<int64_t>(i + 1) : -1;
    }
    struct Candidate {
      int32_t rank;
      int64_t left;
      int64_t leftSym, rightSym;
      bool operator>(const Candidate &o) const {
        return rank != o.rank ? rank > o.rank : left > o.left;
      }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
    auto consider = [&](int64_t l) {
      if (l < 0 || next[l] < 0)
        return;
      if (const Merge *m = merges_.find(key(sym[l], sym[next[l]])))
        heap.push({m->rank, l, sym[l], sym[next[l]]});
    };
    for (size_t i = 0; i + 1 < n; ++i)
      consider(static_cast<int64_t>(i));
    while (!heap.empty()) {
      Candidate c = heap.top();
      heap.pop();
      int64_t l = c.left, r = next[l];
      if (!alive[l] || r < 0 || sym[l] != c.leftSym || sym[r] != c.rightSym)
        continue;
      sym[l] = merges_.find(key(c.leftSym, c.rightSym))->made;
      alive[r] = false;
      next[l] = next[r];
      if (next[r] >= 0)
        prev[next[r]] = l;
      consider(prev[l]);
      consider(l);
    }
    std::vector<int64_t> ids;
    for (int64_t i = n ? 0 : -1; i >= 0; i = next[i])
      ids.push_back(sym[i]);
    return ids;
  }

  MergeTable merges_;
  std::optional<int64_t> unk_;
  std::string prefix_, suffix_;
  bool fuseUnk_ = false, byteFallback_ = false, ignoreMerges_ = false;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

class WordPiece : public Model {
public:
  WordPiece(const nlohmann::json &j, const Where &at, ModelTables *tables) {
    readVocab(j, at, tables);
    std::optional<int64_t> unk = readUnk(j, at);
    if (!unk)
      (at / "unk_token").fail("WordPiece needs an unk_token");
    unk_ = *unk;
    prefix_ = at.get<std::string>(j, "continuing_subword_prefix", "##");
    maxChars_ = at.get<int64_t>(j, "max_input_chars_per_word", 100);
  }
  void tokenize(const std::string &piece, std::vector<int64_t> &out) const override {
    std::vector<char32_t> cps = u::codepoints(piece);
    if (cps.empty())
      return;
    if (static_cast<int64_t>(cps.size()) > maxChars_) {
      out.push_back(unk_);
      return;
    }
    std::vector<int64_t> ids;
    size_t start = 0;
    while (start < cps.size()) {
      size_t end = cps.size();
      std::optional<int64_t> found;
      while (start < end) {
        std::string s = u::utf8(std::vector<char32_t>(cps.begin() + start, cps.begin() + end));
        if (start > 0)
          s = prefix_ + s;
        if (auto it = vocab_.find(s); it != vocab_.end()) {
          found = it->second;
          break;
        }
        --end;
      }
      if (!found) {
        out.push_back(unk_);
        return;
      }
      ids.push_back(*found);
      start = end;
    }
    out.insert(out.end(), ids.begin(), ids.end());
  }
  std::string describe() const override {
    return "WordPiece(" + std::to_string(vocab_.size()) + " tokens)";
  }

private:
  int64_t unk_ = 0, maxChars_ = 100;
  std::string prefix_;
};

class WordLevel : public Model {
public:
  WordLevel(const nlohmann::json &j, const Where &at, ModelTables *tables) {
    readVocab(j, at, tables);
    unk_ = readUnk(j, at);
  }
  void tokenize(const std::string &piece, std::vector<int64_t> &out) const override {
    if (auto it = vocab_.find(piece); it != vocab_.end())
      out.push_back(it->second);
    else if (unk_)
      out.push_back(*unk_);
  }
  std::string describe() const override {
    return "WordLevel(" + std::to_string(vocab_.size()) + " tokens)";
  }

private:
  std::optional<int64_t> unk_;
};
} // namespace

void Model::readVocab(const nlohmann::json &j, const Where &at, ModelTables *tables) {
  if (tables) {
    vocab_.reserve(tables->vocab.size());
    for (auto &[token, id] : tables->vocab) // moved: the tables are the image's copy
      vocab_.emplace(std::move(token), id);
    return;
  }
  const nlohmann::json &vocab = at.member(j, "vocab");
  if (!vocab.is_object())
    (at / "vocab").fail("must be an object {token: id}");
  vocab_.reserve(vocab.size());
  for (const auto &[token, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= (int64_t(1) << 31))
      (at / "vocab").fail("the id of token '" + token + "' must be an integer in [0, 2^31)");
    vocab_.emplace(token, id.get<int64_t>());
  }
}

std::optional<int64_t> Model::readUnk(const nlohmann::json &j, const Where &at) const {
  std::string unk = at.get<std::string>(j, "unk_token", "");
  if (unk.empty())
    return std::nullopt;
  auto it = vocab_.find(unk);
  if (it == vocab_.end())
    (at / "unk_token").fail("'" + unk + "' is not in the vocabulary");
  return it->second;
}

std::unique_ptr<Model> Model::fromJson(const nlohmann::json &j, const Where &at,
                                       ModelTables *tables) {
  if (!j.is_object())
    at.fail("the model must be an object");
  std::string type = at.get<std::string>(j, "type", "");
  if (type.empty()) // tokenizers before 0.10 wrote no type: infer it as they do
    type = j.contains("merges") ? "BPE" : j.contains("continuing_subword_prefix") ? "WordPiece"
                                                                                  : "WordLevel";
  if (type == "BPE") return std::make_unique<Bpe>(j, at, tables);
  if (type == "WordPiece") return std::make_unique<WordPiece>(j, at, tables);
  if (type == "WordLevel") return std::make_unique<WordLevel>(j, at, tables);
  if (type == "Unigram")
    (at / "type").fail("model type 'Unigram' (SentencePiece unigram: T5, ALBERT, XLM-R) is not "
                       "supported by tfm yet");
  (at / "type").fail("unknown model type '" + type + "'");
}

} // namespace tfm::tokenizer
