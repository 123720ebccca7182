//===- SafeTensorsTest.cpp - Unit tests of the safetensors reader ---*- C++ -*-===//
//
// Valid files and every corruption the reader must reject, built byte by
// byte here (independently of any writer).
//
//===----------------------------------------------------------------------===//

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <sys/stat.h>
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
    std::string error;
    auto file = tfm::safetensors::File::open(path, error);
    return file ? "" : error;
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
  std::string error;
  auto file = tfm::safetensors::File::open(path, error);
  ASSERT_TRUE(file) << error;
  const auto *a = file->lookup("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtype, tfm::safetensors::DType::F32);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 2}));
  float values[4];
  std::memcpy(values, a->data, 16);
  EXPECT_EQ(values[3], 4.0f);
  const auto *b = file->lookup("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->dtype, tfm::safetensors::DType::BF16);
  EXPECT_EQ(b->data - a->data, 16);
  EXPECT_EQ(file->lookup("__metadata__"), nullptr);
  EXPECT_EQ(file->lookup("c"), nullptr);
  EXPECT_EQ(file->tensors().size(), 2u);
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
      // The parser's quote of the bytes it last read is escaped, not raw.
      {"ill-formed UTF-8 name", "{\"a\xff\":{}}", ok, std::nullopt, "last read: '\"a\\xFF'"},
      {"duplicate name",
       R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       ok, std::nullopt, "tensor 'a' appears twice in the header"},
      {"float shape", R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", ok, std::nullopt,
       "shape entries must be non-negative integers"},
      {"shape overflow", R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
       ok, std::nullopt, "its shape overflows a 64-bit byte count"},
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

TEST_F(SafeTensorsTest, ReadAndMapAgreeAndBytesNeedNoFile) {
  std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  header.append((8 - header.size() % 8) % 8, ' '); // aligned data: no copy
  std::string path = write(header, floats({7, 8}));
  std::string error;
  for (auto load : {tfm::safetensors::File::Load::Map, tfm::safetensors::File::Load::Read}) {
    auto file = tfm::safetensors::File::open(path, error, load);
    ASSERT_TRUE(file) << error;
    float v[2];
    std::memcpy(v, file->lookup("a")->data, 8);
    EXPECT_EQ(v[1], 8.0f);
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto file = tfm::safetensors::File::fromBytes("section", bytes.data(), bytes.size(), error);
  ASSERT_TRUE(file) << error;
  EXPECT_EQ(file->lookup("a")->data, bytes.data() + 8 + header.size());
  EXPECT_FALSE(tfm::safetensors::File::fromBytes("section", bytes.data(), 4, error));
  EXPECT_EQ(error.rfind("section: ", 0), 0u) << error;
}

// A header length that is not a multiple of 8 is valid; the data the kernels
// read in place must still be aligned for its elements.
TEST_F(SafeTensorsTest, MisalignedDataSectionIsRealigned) {
  std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} )";
  ASSERT_NE((8 + header.size()) % 8, 0u);
  std::string path = write(header, floats({1, 2}));
  std::string error;
  for (auto load : {tfm::safetensors::File::Load::Map, tfm::safetensors::File::Load::Read}) {
    auto file = tfm::safetensors::File::open(path, error, load);
    ASSERT_TRUE(file) << error;
    const auto *a = file->lookup("a");
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a->data) % 8, 0u);
    EXPECT_EQ(*reinterpret_cast<const float *>(a->data + 4), 2.0f);
  }
}

// GPT2LMHeadModel checkpoints prefix GPT-2's tensors with "transformer.",
// GPT2Model's do not: a name is found either way, an exact name first.
TEST_F(SafeTensorsTest, LookupAddsOrRemovesTheTransformerPrefix) {
  std::string header = R"({"transformer.wte.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                       R"("lm_head.weight":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  std::string error;
  auto file = tfm::safetensors::File::open(write(header, floats({1, 2})), error);
  ASSERT_TRUE(file) << error;
  EXPECT_EQ(file->lookup("wte.weight"), file->lookup("transformer.wte.weight"));
  EXPECT_NE(file->lookup("wte.weight"), nullptr);
  EXPECT_NE(file->lookup("transformer.lm_head.weight"), nullptr);
  EXPECT_TRUE(file->contains("transformer.wte.weight"));
  EXPECT_FALSE(file->contains("wte.weight"));
  EXPECT_EQ(file->lookup("wpe.weight"), nullptr);
}

TEST_F(SafeTensorsTest, WriteThenOpenRoundTrips) {
  std::string a = floats({1, 2, 3}), b = "\x01\x02";
  std::vector<tfm::safetensors::File::Output> out = {
      {"a", tfm::safetensors::DType::F32, {3}, a.data(), a.size()},
      {"b", tfm::safetensors::DType::I8, {2}, b.data(), b.size()}};
  std::string path = (dir / "w.safetensors").string(), error;
  ASSERT_TRUE(tfm::safetensors::File::write(path, out, error)) << error;
  auto file = tfm::safetensors::File::open(path, error);
  ASSERT_TRUE(file) << error;
  ASSERT_EQ(file->tensors().size(), 2u);
  EXPECT_EQ(file->tensors()[0].name, "a"); // the order given
  EXPECT_EQ(std::string(file->lookup("a")->data, 12), a);
  EXPECT_EQ(file->lookup("b")->dtype, tfm::safetensors::DType::I8);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(file->lookup("a")->data) % 8, 0u);
  EXPECT_FALSE(tfm::safetensors::File::write((dir / "no" / "x").string(), out, error));
  EXPECT_NE(error.find("cannot write file"), std::string::npos) << error;
}

TEST_F(SafeTensorsTest, RefusesFifosWithoutWaiting) {
  std::string path = (dir / "fifo.safetensors").string();
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  EXPECT_NE(errorOf(path).find("not a regular file"), std::string::npos);
}

} // namespace

namespace {
// Every dtype of the safetensors specification (huggingface/safetensors'
// Dtype) with its bit size, written here from the specification, not from
// the reader's table.
struct SpecDType {
  const char *name;
  unsigned bits;
};
constexpr SpecDType kSpecDTypes[] = {
    {"BOOL", 8},     {"F4", 4},           {"F6_E2M3", 6},      {"F6_E3M2", 6}, {"U8", 8},
    {"I8", 8},       {"F8_E5M2", 8},      {"F8_E4M3", 8},      {"F8_E8M0", 8}, {"F8_E4M3FNUZ", 8},
    {"F8_E5M2FNUZ", 8}, {"I16", 16},      {"U16", 16},         {"F16", 16},    {"BF16", 16},
    {"I32", 32},     {"U32", 32},         {"F32", 32},         {"C64", 64},    {"F64", 64},
    {"I64", 64},     {"U64", 64}};
} // namespace

TEST_F(SafeTensorsTest, ReadsEveryDTypeOfTheSpecification) {
  // One file holding a tensor of each dtype beside an F32 one: it opens, and
  // every tensor has its specified size (4 elements: packed types in bytes).
  std::string header = "{", data;
  for (const SpecDType &d : kSpecDTypes) {
    size_t bytes = 4 * d.bits / 8;
    header += std::string(header.size() > 1 ? "," : "") + "\"t_" + d.name + "\":{\"dtype\":\"" +
              d.name + "\",\"shape\":[2,2],\"data_offsets\":[" + std::to_string(data.size()) +
              "," + std::to_string(data.size() + bytes) + "]}";
    data.append(bytes, '\x01');
  }
  header += "}";
  std::string error;
  auto file = tfm::safetensors::File::open(write(header, data), error);
  ASSERT_TRUE(file) << error;
  EXPECT_EQ(file->tensors().size(), std::size(kSpecDTypes));
  for (const SpecDType &d : kSpecDTypes) {
    const tfm::safetensors::TensorInfo *t = file->lookup(std::string("t_") + d.name);
    ASSERT_TRUE(t) << d.name;
    EXPECT_STREQ(tfm::safetensors::dtypeName(t->dtype), d.name);
    EXPECT_EQ(tfm::safetensors::bitSize(t->dtype), d.bits) << d.name;
    EXPECT_EQ(t->end - t->begin, 4 * d.bits / 8) << d.name;
  }
}

TEST_F(SafeTensorsTest, ChecksPackedSubByteSizes) {
  // 3 F4 elements are 12 bits: not whole bytes (safetensors refuses it too).
  EXPECT_NE(errorOf(write(R"({"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}})", "\x01\x02")),
            "");
  EXPECT_NE(errorOf(write(R"({"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}})", "\x01\x02"))
                .find("do not fill whole bytes"),
            std::string::npos);
  // 4 F6 elements are 24 bits, 3 bytes; 4 bytes is a wrong size.
  EXPECT_EQ(errorOf(write(R"({"a":{"dtype":"F6_E3M2","shape":[4],"data_offsets":[0,3]}})",
                          std::string(3, '\0'))),
            "");
  EXPECT_NE(errorOf(write(R"({"a":{"dtype":"F6_E3M2","shape":[4],"data_offsets":[0,4]}})",
                          std::string(4, '\0')))
                .find("need 3"),
            std::string::npos);
  // A C64 tensor is 8 bytes an element.
  EXPECT_EQ(errorOf(write(R"({"a":{"dtype":"C64","shape":[2],"data_offsets":[0,16]}})",
                          std::string(16, '\0'))),
            "");
  // Still refused: a dtype the specification does not have.
  EXPECT_NE(errorOf(write(R"({"a":{"dtype":"F8_E4M3FN","shape":[1],"data_offsets":[0,1]}})",
                          std::string(1, '\0')))
                .find("unknown dtype 'F8_E4M3FN'"),
            std::string::npos);
}
