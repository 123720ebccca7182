//===- Npy.cppm - Read and write NumPy .npy files -------------*- C++ -*-===//
//
// The `tfm.support` module: .npy (format 1.0/2.0/3.0) reading and writing for
// the executables' inputs and outputs and for the tests. Little-endian,
// C-order arrays of f4, f8, f2, i4, i8, u1 and b1 only. Written with the
// standard library alone so that the runtime needs no LLVM.
//
//===----------------------------------------------------------------------===//

module;
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>
#include <unistd.h>
export module tfm.support;

import tfm.output_file;

export namespace tfm::npy {

/// A host array: NumPy dtype string without byte order ("f4", "i8", ...),
/// shape, and raw little-endian C-order bytes.
struct Array {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<char> data;

  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
};

/// Bytes per element of a supported dtype, or 0 if unsupported.
inline size_t itemSize(const std::string &dtype) {
  if (dtype == "f4" || dtype == "i4") return 4;
  if (dtype == "f8" || dtype == "i8") return 8;
  if (dtype == "f2") return 2;
  if (dtype == "u1" || dtype == "b1") return 1;
  return 0;
}

/// Formats a shape as `[4, 16]`.
inline std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// Parses the value of `key` in a .npy header dict; empty if absent.
inline std::string headerValue(const std::string &header, const std::string &key) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos)
    return {};
  size_t colon = header.find(':', k);
  if (colon == std::string::npos)
    return {};
  size_t start = header.find_first_not_of(' ', colon + 1);
  if (start == std::string::npos)
    return {};
  char open = header[start];
  char close = open == '(' ? ')' : open == '\'' ? '\'' : ',';
  size_t end = header.find(close, start + 1);
  if (end == std::string::npos)
    return {};
  return header.substr(start, end - start + (close == ',' ? 0 : 1));
}

/// Reads `path`; on failure returns false and sets `error` to a one-line
/// message naming the file.
inline bool read(const std::string &path, Array &out, std::string &error) {
  auto fail = [&](const std::string &why) {
    error = path + ": " + why;
    return false;
  };
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail("cannot open file: " + std::string(std::strerror(errno)));
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    return fail("not a .npy file (bad magic)");
  int major = static_cast<unsigned char>(magic[6]);
  uint32_t headerLen = 0;
  if (major == 1) {
    unsigned char b[2];
    if (!in.read(reinterpret_cast<char *>(b), 2))
      return fail("truncated header");
    headerLen = b[0] | (b[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char b[4];
    if (!in.read(reinterpret_cast<char *>(b), 4))
      return fail("truncated header");
    headerLen = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  } else {
    return fail("unsupported .npy version " + std::to_string(major));
  }
  if (headerLen > (1u << 20))
    return fail("header length " + std::to_string(headerLen) + " is implausible");
  std::string header(headerLen, '\0');
  if (!in.read(header.data(), headerLen))
    return fail("truncated header");
  std::string descr = headerValue(header, "descr");
  std::string order = headerValue(header, "fortran_order");
  std::string shape = headerValue(header, "shape");
  if (descr.size() < 4 || shape.empty() || order.empty())
    return fail("malformed header: " + header);
  descr = descr.substr(1, descr.size() - 2); // strip quotes
  char byteOrder = descr[0];
  out.dtype = descr.substr(1);
  if (itemSize(out.dtype) == 0)
    return fail("unsupported dtype '" + descr + "' (expected f4, f8, f2, i4, i8, u1 or b1)");
  if (byteOrder == '>' && itemSize(out.dtype) > 1)
    return fail("big-endian data is not supported");
  if (order.rfind("True", 0) == 0)
    return fail("Fortran-order arrays are not supported");
  out.shape.clear();
  std::string dims = shape.substr(1, shape.size() - 2);
  size_t pos = 0;
  while (pos < dims.size()) {
    size_t comma = dims.find(',', pos);
    std::string item = dims.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? dims.size() : comma + 1;
    size_t first = item.find_first_not_of(' ');
    if (first == std::string::npos)
      continue;
    try {
      size_t used = 0;
      long long v = std::stoll(item.substr(first), &used);
      if (v < 0)
        return fail("negative dimension in shape " + shape);
      out.shape.push_back(v);
    } catch (...) {
      return fail("malformed shape " + shape);
    }
  }
  // The byte count in checked arithmetic, compared with what the file holds
  // before anything is allocated (an 89-byte file must not ask for 2^64).
  uint64_t bytes = itemSize(out.dtype);
  for (int64_t d : out.shape) {
    if (d > 0 && bytes > UINT64_MAX / static_cast<uint64_t>(d))
      return fail("shape " + shapeString(out.shape) + " overflows a 64-bit byte count");
    bytes *= static_cast<uint64_t>(d);
  }
  std::streampos dataStart = in.tellg();
  in.seekg(0, std::ios::end);
  std::streampos fileEnd = in.tellg();
  in.seekg(dataStart);
  if (dataStart < 0 || fileEnd < 0 || !in)
    return fail("cannot seek in the file (a .npy input must be a regular file)");
  uint64_t available = static_cast<uint64_t>(fileEnd - dataStart);
  if (bytes > available)
    return fail("truncated data: expected " + std::to_string(bytes) + " bytes for shape " +
                shapeString(out.shape) + ", the file has " + std::to_string(available));
  out.data.resize(static_cast<size_t>(bytes));
  if (bytes && !in.read(out.data.data(), static_cast<std::streamsize>(bytes)))
    return fail("truncated data: expected " + std::to_string(bytes) + " bytes for shape " +
                shapeString(out.shape));
  char extra;
  if (in.read(&extra, 1))
    return fail("trailing bytes after the data of shape " + shapeString(out.shape));
  return true;
}

/// Writes `array` to `path` through tfm::output::write: atomically (a
/// temporary file renamed into place) for a new or regular file, so a failure
/// never leaves a half-written file; in place for a pipe or device.
inline bool write(const std::string &path, const Array &array, std::string &error) {
  std::string dims;
  for (size_t i = 0; i < array.shape.size(); ++i)
    dims += std::to_string(array.shape[i]) + (array.shape.size() == 1 ? "," : (i + 1 < array.shape.size() ? ", " : ""));
  std::string header = "{'descr': '" + std::string(itemSize(array.dtype) == 1 ? "|" : "<") +
                       array.dtype + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  uint16_t len = static_cast<uint16_t>(header.size());
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(len & 0xff);
  bytes += static_cast<char>(len >> 8);
  bytes += header;
  bytes.append(array.data.data(), array.data.size());
  return tfm::output::write(path, bytes, error);
}

/// Builds an f4 or f8 array from doubles.
inline Array fromDoubles(const std::vector<int64_t> &shape, const std::vector<double> &values,
                         const std::string &dtype = "f4") {
  Array a{dtype, shape, {}};
  a.data.resize(values.size() * itemSize(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    if (dtype == "f8") {
      std::memcpy(a.data.data() + 8 * i, &values[i], 8);
    } else {
      float f = static_cast<float>(values[i]);
      std::memcpy(a.data.data() + 4 * i, &f, 4);
    }
  }
  return a;
}

/// Converts any supported numeric array to doubles (f2 is IEEE half).
inline std::vector<double> toDoubles(const Array &a) {
  std::vector<double> v(static_cast<size_t>(a.numElements()));
  const char *p = a.data.data();
  for (size_t i = 0; i < v.size(); ++i) {
    if (a.dtype == "f4") { float f; std::memcpy(&f, p + 4 * i, 4); v[i] = f; }
    else if (a.dtype == "f8") { std::memcpy(&v[i], p + 8 * i, 8); }
    else if (a.dtype == "i4") { int32_t x; std::memcpy(&x, p + 4 * i, 4); v[i] = x; }
    else if (a.dtype == "i8") { int64_t x; std::memcpy(&x, p + 8 * i, 8); v[i] = static_cast<double>(x); }
    else if (a.dtype == "u1" || a.dtype == "b1") { v[i] = static_cast<unsigned char>(p[i]); }
    else if (a.dtype == "f2") {
      uint16_t h; std::memcpy(&h, p + 2 * i, 2);
      uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
      double m;
      if (exp == 0) m = std::ldexp(static_cast<double>(mant), -24);
      else if (exp == 31) m = mant ? NAN : INFINITY;
      else m = std::ldexp(static_cast<double>(mant | 0x400), static_cast<int>(exp) - 25);
      v[i] = sign ? -m : m;
    }
  }
  return v;
}

} // namespace tfm::npy
