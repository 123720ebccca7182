//===- SafeTensorsTest.cpp - Unit tests of the safetensors reader ---*- C++ -*-===//
//
// Valid files and every corruption the reader must reject, built byte by
// byte here (independently of any writer).
//
//===----------------------------------------------------------------------===//

#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <fstream>
#include <string>

import tfm.safetensors;

namespace {

class SafeTensorsTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("tfm-st-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  /// Writes [u64 header length][header][data] (lengthOverride replaces the length field).
  std::string write(const std::string &header, const std::string &data,
                    std::optional<uint64_t> lengthOverride = std::nullopt) {
    std::string path = (dir / "m.safetensors").string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    uint64_t len = lengthOverride.value_or(header.size());
    for (int i = 0; i < 8; ++i)
      out.put(static_cast<char>((len >> (8 * i)) & 0xff));
    out << header << data;
    return path;
  }

  /// The error of opening `path` ("" if it opened).
  static std::string errorOf(const std::string &path) {
    auto file = tfm::safetensors::File::open(path);
    if (file)
      return "";
    return llvm::toString(file.takeError());
  }

  std::filesystem::path dir;
};

std::string floats(std::initializer_list<float> values) {
  std::string s;
  for (float v : values)
    s.append(reinterpret_cast<const char *>(&v), 4);
  return s;
}

TEST_F(SafeTensorsTest, ReadsTensorsWithoutCopying) {
  std::string header = R"({"__metadata__":{"format":"pt"},)"
                       R"("a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                       R"("b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]}})";
  std::string path = write(header, floats({1, 2, 3, 4}) + std::string("\x80\x3f\x00\x40\x40\x40", 6));
  auto file = tfm::safetensors::File::open(path);
  ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
  const auto *a = (*file)->lookup("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtype, tfm::safetensors::DType::F32);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 2}));
  float values[4];
  std::memcpy(values, a->data, 16);
  EXPECT_EQ(values[3], 4.0f);
  const auto *b = (*file)->lookup("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->dtype, tfm::safetensors::DType::BF16);
  EXPECT_EQ(b->data - a->data, 16);
  EXPECT_EQ((*file)->lookup("__metadata__"), nullptr);
  EXPECT_EQ((*file)->lookup("c"), nullptr);
  EXPECT_EQ((*file)->tensors().size(), 2u);
}

TEST_F(SafeTensorsTest, EmptyTensorsAndScalarsAreValid) {
  std::string header = R"({"e":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]},)"
                       R"("s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})";
  EXPECT_EQ(errorOf(write(header, floats({5}))), "");
}

struct Case {
  const char *what;
  std::string header, data;
  std::optional<uint64_t> length;
  const char *expected;
};

TEST_F(SafeTensorsTest, RejectsCorruptFiles) {
  const std::string ok = floats({1, 2});
  const Case cases[] = {
      {"header length beyond the file", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", ok,
       uint64_t(1) << 33, "exceeds the"},
      {"truncated data", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", ok, std::nullopt,
       "tensor 'a': data_offsets [0, 16] run past the 8-byte data section"},
      {"size lie", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", ok, std::nullopt,
       "tensor 'a': holds 8 bytes, but shape and dtype F32 need 12"},
      {"overlap",
       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       ok, std::nullopt, "tensors 'a' and 'b' overlap in the data section"},
      {"reversed offsets", R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", ok, std::nullopt,
       "'data_offsets' must be non-negative with begin <= end"},
      {"negative shape", R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", ok, std::nullopt,
       "shape entries must be non-negative integers"},
      {"unknown dtype", R"({"a":{"dtype":"F12","shape":[2],"data_offsets":[0,8]}})", ok, std::nullopt,
       "tensor 'a': unknown dtype 'F12'"},
      {"missing dtype", R"({"a":{"shape":[2],"data_offsets":[0,8]}})", ok, std::nullopt, "missing 'dtype'"},
      {"missing offsets", R"({"a":{"dtype":"F32","shape":[2]}})", ok, std::nullopt,
       "'data_offsets' must be [begin, end]"},
      {"entry not an object", R"({"a":[1,2]})", ok, std::nullopt, "header entry is not an object"},
      {"header not an object", R"([1,2])", ok, std::nullopt, "the header is not a JSON object"},
      {"malformed JSON", R"({"a":{"dtype":"F32",)", ok, std::nullopt, "malformed header JSON"},
  };
  for (const Case &c : cases) {
    std::string path = write(c.header, c.data, c.length);
    std::string error = errorOf(path);
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.what << ": " << error;
    EXPECT_EQ(error.rfind(path, 0), 0u) << c.what << ": the message names the file: " << error;
  }
}

TEST_F(SafeTensorsTest, RejectsTinyAndMissingFiles) {
  std::string path = (dir / "tiny.safetensors").string();
  std::ofstream(path) << "abc";
  EXPECT_NE(errorOf(path).find("file of 3 bytes is too small"), std::string::npos);
  EXPECT_NE(errorOf((dir / "none.safetensors").string()).find("cannot open file"), std::string::npos);
}

} // namespace
