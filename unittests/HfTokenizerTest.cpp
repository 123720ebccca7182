//===- HfTokenizerTest.cpp - tokenizer.json components, by hand -*- C++ -*-===//
//
// Small tokenizer.json files written here to pin what the reference
// vectors (test/Tokenizer/hf-tokenizers.test) do not reach: split
// behaviours as tokenizers' normalizer.rs defines them, WordPiece limits,
// errors naming the JSON path, hostile files (sparse ids, decoders on
// ill-formed bytes, merges that are not two parts) and the image.
//
//===----------------------------------------------------------------------===//

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

import tfm.tokenizer.hf;

namespace {
using nlohmann::json;
using tfm::tokenizer::HfTokenizer;

/// A WordLevel tokenizer over `tokens` (ids in order) with `pre` as its
/// pre-tokenizer: the pieces come back as ids, so splits can be read off.
std::unique_ptr<HfTokenizer> wordLevel(const std::vector<std::string> &tokens, const json &pre,
                                       const json &extra = json::object()) {
  json vocab = json::object();
  for (size_t i = 0; i < tokens.size(); ++i)
    vocab[tokens[i]] = i;
  json t = {{"pre_tokenizer", pre}, {"model", {{"type", "WordLevel"}, {"vocab", vocab}, {"unk_token", tokens[0]}}}};
  t.update(extra);
  return std::make_unique<HfTokenizer>(t.dump(), "", "t.json");
}

std::vector<int64_t> ids(const HfTokenizer &t, const std::string &text) {
  return t.encode(text, /*allowSpecial=*/false).ids;
}

std::string errorOf(const json &t) {
  try {
    HfTokenizer h(t.dump(), "", "t.json");
  } catch (const std::runtime_error &e) {
    return e.what();
  }
  return "";
}

TEST(HfTokenizer, SplitBehaviorsFollowTokenizers) {
  std::vector<std::string> tokens = {"?", "a", "-", "b", "a-", "-b", "--", "--b", "a--"};
  auto split = [&](const char *behavior) {
    return wordLevel(tokens, {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}});
  };
  // "a--b": delimiters '-' and '-'.
  EXPECT_EQ(ids(*split("Removed"), "a--b"), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(ids(*split("Isolated"), "a--b"), (std::vector<int64_t>{1, 2, 2, 3}));
  EXPECT_EQ(ids(*split("MergedWithPrevious"), "a--b"), (std::vector<int64_t>{4, 2, 3}));
  EXPECT_EQ(ids(*split("MergedWithNext"), "a--b"), (std::vector<int64_t>{1, 2, 5}));
  EXPECT_EQ(ids(*split("Contiguous"), "a--b"), (std::vector<int64_t>{1, 6, 3}));
  // invert: the matches are the content.
  auto inverted = wordLevel(tokens, {{"type", "Split"}, {"pattern", {{"Regex", "[ab]"}}},
                                     {"behavior", "Removed"}, {"invert", true}});
  EXPECT_EQ(ids(*inverted, "a--b"), (std::vector<int64_t>{1, 3}));
}

TEST(HfTokenizer, WordPieceLimitsAndUnknownWords) {
  json t = {{"model", {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"max_input_chars_per_word", 5},
                       {"vocab", {{"[UNK]", 0}, {"un", 1}, {"##aff", 2}, {"##able", 3}, {"a", 4}}}}},
            {"pre_tokenizer", {{"type", "WhitespaceSplit"}}}};
  HfTokenizer h(t.dump(), "", "t.json");
  EXPECT_EQ(ids(h, "unaff"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(ids(h, "unaffable"), (std::vector<int64_t>{0})); // 9 characters > 5
  EXPECT_EQ(ids(h, "unx a"), (std::vector<int64_t>{0, 4}));  // no split: the whole word is [UNK]
}

TEST(HfTokenizer, BpeMergesTakeTheLastRankAndMustBeTwoParts) {
  json model = {{"type", "BPE"},
                {"vocab", {{"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}, {"bc", 4}}},
                {"merges", {"b c", "a b", "b c"}}};
  // "b c" first has rank 0, then 2 (the last wins): "a b" (rank 1) merges first.
  HfTokenizer h(json{{"model", model}}.dump(), "", "t.json");
  EXPECT_EQ(ids(h, "abc"), (std::vector<int64_t>{3, 2}));
  model["merges"] = {"a b c"};
  EXPECT_NE(errorOf({{"model", model}}).find("/model/merges/0: a merge must be"), std::string::npos);
  model["merges"] = {"a c"};
  EXPECT_NE(errorOf({{"model", model}}).find("'ac' is not in the vocabulary"), std::string::npos);
}

TEST(HfTokenizer, ErrorsNameTheFileAndJsonPath) {
  EXPECT_EQ(errorOf({{"model", {{"type", "Unigram"}, {"vocab", json::array()}}}}).rfind("t.json: /model/type: ", 0), 0u);
  EXPECT_NE(errorOf({{"model", {{"type", "WordLevel"}, {"vocab", {{"a", 0}}}}},
                     {"normalizer", {{"type", "Sequence"}, {"normalizers", {{{"type", "Nope"}}}}}}})
                .find("t.json: /normalizer/normalizers/0/type: unknown normalizer type 'Nope'"),
            std::string::npos);
  EXPECT_NE(errorOf({{"model", {{"type", "WordLevel"}, {"vocab", {{"a", -1}}}}}}).find("/model/vocab"),
            std::string::npos);
  EXPECT_NE(errorOf(json::array()).find("must be a JSON object"), std::string::npos);
  // Integers out of their type's range, or not integers (fuzz-tokenizer-json
  // found 1e33 as a type_id converted without a check: undefined behaviour).
  json word = {{"type", "WordLevel"}, {"vocab", {{"a", 0}}}, {"unk_token", "a"}};
  auto special = [](json typeId) {
    return json{{"type", "TemplateProcessing"},
                {"single", json::array({json{{"SpecialToken", {{"id", "a"}, {"type_id", typeId}}}}})},
                {"pair", json::array()},
                {"special_tokens", {{"a", {{"id", "a"}, {"ids", json::array({0})},
                                           {"tokens", json::array({"a"})}}}}}};
  };
  EXPECT_NE(errorOf({{"model", word}, {"post_processor", special(1e33)}})
                .find("/post_processor/single/0/SpecialToken/type_id: must be an integer in"),
            std::string::npos);
  EXPECT_NE(errorOf({{"model", word}, {"post_processor", special(1.5)}}).find("type_id: must be an integer"),
            std::string::npos);
  EXPECT_NE(errorOf({{"model", word}, {"decoder", {{"type", "Strip"}, {"content", " "},
                                                    {"start", -1}, {"stop", 0}}}})
                .find("/decoder/start: must be an integer in [0, "),
            std::string::npos);
  try {
    HfTokenizer h("{\"model\": ", "", "t.json");
    FAIL() << "malformed JSON loaded";
  } catch (const std::runtime_error &e) {
    EXPECT_EQ(std::string(e.what()).rfind("t.json: malformed JSON", 0), 0u);
  }
}

TEST(HfTokenizer, HostileFilesStaySmallAndSafe) {
  // An id of 2^31 - 1 must not size a table by it.
  json sparse = {{"model", {{"type", "WordLevel"}, {"vocab", {{"a", 0}, {"b", 2147483647}}}}},
                 {"pre_tokenizer", {{"type", "WhitespaceSplit"}}}};
  HfTokenizer h(sparse.dump(), "", "t.json");
  EXPECT_EQ(ids(h, "b a"), (std::vector<int64_t>{2147483647, 0}));
  EXPECT_EQ(h.decode({2147483647, 0, 5}), "b a"); // 5: no token, skipped
  // A Replace decoder after ByteFallback sees ill-formed bytes: no match, no crash.
  json bytes = {{"model", {{"type", "WordLevel"}, {"vocab", {{"<0xFF>", 0}, {"x", 1}}}}},
                {"decoder", {{"type", "Sequence"}, {"decoders", {{{"type", "ByteFallback"}},
                                                                  {{"type", "Replace"}, {"pattern", {{"Regex", "."}}}, {"content", "y"}}}}}}};
  HfTokenizer b(bytes.dump(), "", "t.json");
  EXPECT_EQ(b.decode({0, 1}), "\xFF" "y");
  // Ill-formed text to encode is an error naming the byte offset.
  try {
    (void)b.encode("ab\xC0", false);
    FAIL() << "ill-formed UTF-8 was encoded";
  } catch (const std::runtime_error &e) {
    EXPECT_STREQ(e.what(), "invalid UTF-8 at byte offset 2");
  }
}

TEST(HfTokenizer, ImageTokenizesAsTheFile) {
  json model = {{"type", "BPE"}, {"unk_token", "<unk>"}, {"byte_fallback", true}, {"fuse_unk", true},
                {"vocab", {{"<unk>", 0}, {"a", 1}, {"b", 2}, {"ab", 3}, {"<0xC3>", 4}, {"<0xA9>", 5}}},
                {"merges", json::array({json::array({"a", "b"})})}};
  json t = {{"model", model},
            {"added_tokens", {{{"id", 6}, {"content", "<s>"}, {"special", true}}}},
            {"post_processor", {{"type", "TemplateProcessing"},
                                {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                                {"pair", json::array()},
                                {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {6}}, {"tokens", {"<s>"}}}}}}}}};
  HfTokenizer h(t.dump(), "", "t.json");
  std::vector<int64_t> expected = {6, 3, 4, 5, 0}; // <s> ab é(bytes) x,y (fused unk)
  EXPECT_EQ(h.encode("abéxy", false).ids, expected);
  std::unique_ptr<HfTokenizer> image = HfTokenizer::fromImage(h.image(), "image");
  EXPECT_EQ(image->encode("abéxy", false).ids, expected);
  EXPECT_EQ(image->encode("<s>ab", true).ids, (std::vector<int64_t>{6, 6, 3}));
  EXPECT_THROW(HfTokenizer::fromImage(h.image().substr(0, 40), "image"), std::runtime_error);
  EXPECT_THROW(HfTokenizer::fromImage("not an image", "image"), std::runtime_error);
}

} // namespace
