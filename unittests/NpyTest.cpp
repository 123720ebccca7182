//===- NpyTest.cpp - Unit tests of the .npy reader and writer ------*- C++ -*-===//
//
// Round trips and every rejected malformation of tfm.support's .npy I/O. The
// fixtures are written byte by byte here, independently of the writer.
//
//===----------------------------------------------------------------------===//

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

import tfm.support;

namespace {

class NpyTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("tfm-npy-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  /// Writes a .npy v1.0 file with `header` (padded as NumPy does) and `data`.
  std::string raw(const std::string &name, std::string header, const std::string &data,
                  const std::string &magic = std::string("\x93NUMPY\x01\x00", 8)) {
    size_t total = magic.size() + 2 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    std::string path = (dir / name).string();
    std::ofstream out(path, std::ios::binary);
    out << magic;
    out.put(static_cast<char>(header.size() & 0xff));
    out.put(static_cast<char>(header.size() >> 8));
    out << header << data;
    return path;
  }

  std::filesystem::path dir;
};

std::string floats(std::initializer_list<float> values) {
  std::string s(values.size() * 4, '\0');
  size_t i = 0;
  for (float v : values)
    std::memcpy(s.data() + 4 * i++, &v, 4);
  return s;
}

TEST_F(NpyTest, ReadsNumPyFloat32) {
  std::string path = raw("a.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                         floats({1, 2, 3, 4, 5, 6}));
  tfm::npy::Array a;
  std::string error;
  ASSERT_TRUE(tfm::npy::read(path, a, error)) << error;
  EXPECT_EQ(a.dtype, "f4");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(tfm::npy::toDoubles(a), (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

TEST_F(NpyTest, ReadsScalarsAndVectors) {
  tfm::npy::Array a;
  std::string error;
  ASSERT_TRUE(tfm::npy::read(raw("s.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
                                 floats({7})), a, error)) << error;
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(a.numElements(), 1);
  ASSERT_TRUE(tfm::npy::read(raw("v.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
                                 floats({1, 2, 3})), a, error)) << error;
  EXPECT_EQ(a.shape, (std::vector<int64_t>{3}));
}

TEST_F(NpyTest, ReadsHalfAndInt64) {
  tfm::npy::Array a;
  std::string error;
  std::string half("\x00\x3c\x00\xc0", 4); // 1.0, -2.0 in IEEE half
  ASSERT_TRUE(tfm::npy::read(raw("h.npy", "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", half),
                             a, error)) << error;
  EXPECT_EQ(tfm::npy::toDoubles(a), (std::vector<double>{1.0, -2.0}));
  int64_t ids[2] = {50256, -1};
  ASSERT_TRUE(tfm::npy::read(raw("i.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                                 std::string(reinterpret_cast<char *>(ids), 16)), a, error)) << error;
  EXPECT_EQ(tfm::npy::toDoubles(a), (std::vector<double>{50256, -1}));
}

TEST_F(NpyTest, WriteThenReadRoundTrips) {
  std::string path = (dir / "rt.npy").string();
  auto a = tfm::npy::fromDoubles({2, 2}, {0.5, -1.5, 3.25, 1e-3});
  std::string error;
  ASSERT_TRUE(tfm::npy::write(path, a, error)) << error;
  tfm::npy::Array b;
  ASSERT_TRUE(tfm::npy::read(path, b, error)) << error;
  EXPECT_EQ(b.dtype, "f4");
  EXPECT_EQ(b.shape, a.shape);
  EXPECT_EQ(b.data, a.data);
  // The header is NumPy's: 64-byte aligned, ends in a newline.
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  size_t headerLen = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + headerLen) % 64, 0u);
  EXPECT_EQ(bytes[10 + headerLen - 1], '\n');
}

TEST_F(NpyTest, WriteToMissingDirectoryFailsCleanly) {
  std::string error;
  auto a = tfm::npy::fromDoubles({1}, {1});
  EXPECT_FALSE(tfm::npy::write((dir / "no" / "x.npy").string(), a, error));
  EXPECT_NE(error.find("cannot write file"), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(dir / "no"));
}

struct BadCase {
  const char *name;
  std::string header;
  const char *expected;
  size_t dataBytes;
};

TEST_F(NpyTest, RejectsMalformedFiles) {
  const BadCase cases[] = {
      {"dtype.npy", "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }",
       "unsupported dtype '<c8'", 16},
      {"bigendian.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
       "big-endian data is not supported", 8},
      {"fortran.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
       "Fortran-order arrays are not supported", 16},
      {"truncated.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
       "truncated data: expected 16 bytes for shape [4]", 12},
      {"trailing.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
       "trailing bytes after the data of shape [1]", 8},
      {"noshape.npy", "{'descr': '<f4', 'fortran_order': False, }", "missing key 'shape'", 4},
      {"badshape.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (x,), }",
       "a dimension is not a non-negative decimal integer", 4},
      // Headers NumPy reads differently from what a lenient parser took
      // (found by a review of hostile inputs): every one is an error.
      {"dupkey.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 8), 'shape': (2, 16), }",
       "duplicate key 'shape'", 128},
      {"underscore.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 8_0), }",
       "expected ',' or ')' in 'shape'", 128},
      {"float.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4.0, 8.0), }",
       "expected ',' or ')' in 'shape'", 128},
      {"hex.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 0x8), }",
       "expected ',' or ')' in 'shape'", 128},
      {"list.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': [4, 8], }",
       "'shape' is not a tuple", 128},
      {"notuple.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4), }",
       "a one-dimensional shape needs a trailing comma", 16},
      {"leading0.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (04,), }",
       "a dimension is not a non-negative decimal integer", 16},
      {"order0.npy", "{'descr': '<f4', 'fortran_order': 0, 'shape': (4,), }",
       "'fortran_order' is not True or False", 16},
      {"extrakey.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1, }",
       "unexpected key 'x'", 16},
      {"nul.npy", std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }") + '\0',
       "unexpected bytes after the dict", 16},
      {"byteorder.npy", "{'descr': 'xf4', 'fortran_order': False, 'shape': (4,), }",
       "unsupported dtype 'xf4'", 16},
      // Found by fuzzing: a shape whose byte count is huge must be refused
      // before anything is allocated, and one that wraps 64 bits must not
      // become 0 bytes.
      {"huge.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }",
       "overflows a 64-bit byte count", 0},
      {"wraps.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
       "overflows a 64-bit byte count", 0},
      {"large.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }",
       "truncated data: expected 8000000000000 bytes for shape [1000000, 1000000], the file has 4",
       4},
  };
  for (const BadCase &c : cases) {
    std::string path = raw(c.name, c.header, std::string(c.dataBytes, '\0'));
    tfm::npy::Array a;
    std::string error;
    EXPECT_FALSE(tfm::npy::read(path, a, error)) << c.name;
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.name << ": " << error;
    EXPECT_EQ(error.rfind(path, 0), 0u) << "the message names the file: " << error;
  }
}

TEST_F(NpyTest, RejectsBadMagicAndVersion) {
  tfm::npy::Array a;
  std::string error;
  std::string path = raw("magic.npy", "{}", "", std::string("\x93NUMPZ\x01\x00", 8));
  EXPECT_FALSE(tfm::npy::read(path, a, error));
  EXPECT_NE(error.find("not a .npy file (bad magic)"), std::string::npos) << error;
  path = raw("version.npy", "{}", "", std::string("\x93NUMPY\x09\x00", 8));
  EXPECT_FALSE(tfm::npy::read(path, a, error));
  EXPECT_NE(error.find("unsupported .npy version 9"), std::string::npos) << error;
  EXPECT_FALSE(tfm::npy::read((dir / "missing.npy").string(), a, error));
  EXPECT_NE(error.find("cannot open file"), std::string::npos) << error;
}

} // namespace
