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

/// What a .npy header says: the `descr` string, `fortran_order` and `shape`.
struct Header {
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
};

/// Parses a .npy header: a Python dict literal with exactly the keys
/// 'descr' (a string), 'fortran_order' (True or False) and 'shape' (a tuple
/// of non-negative decimal integers), each once, in any order, then optional
/// spaces and a newline (the format's padding). Stricter than NumPy's
/// ast.literal_eval where NumPy would read something other than what it
/// meant: a duplicate key, `8_0`, `0x8`, `4.0` and a list for the shape are
/// errors. On failure returns false and sets `error` (what, and where in the
/// header).
inline bool parseHeader(const std::string &text, Header &out, std::string &error) {
  size_t pos = 0;
  auto fail = [&](const std::string &why) {
    error = "malformed header at byte " + std::to_string(pos) + " of the header: " + why;
    return false;
  };
  auto skipSpaces = [&] {
    while (pos < text.size() && text[pos] == ' ')
      ++pos;
  };
  auto expect = [&](char c) {
    skipSpaces();
    if (pos >= text.size() || text[pos] != c)
      return false;
    ++pos;
    return true;
  };
  auto string = [&](std::string &value) {
    skipSpaces();
    if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"'))
      return false;
    char quote = text[pos++];
    size_t end = text.find(quote, pos);
    if (end == std::string::npos)
      return false;
    value = text.substr(pos, end - pos);
    for (char c : value)
      if (c < 0x20 || c > 0x7e || c == '\\')
        return false;
    pos = end + 1;
    return true;
  };
  bool seenDescr = false, seenOrder = false, seenShape = false;
  if (!expect('{'))
    return fail("expected '{'");
  while (true) {
    skipSpaces();
    if (pos < text.size() && text[pos] == '}')
      break;
    std::string key;
    if (!string(key))
      return fail("expected a quoted key or '}'");
    if (!expect(':'))
      return fail("expected ':' after '" + key + "'");
    bool *seen = key == "descr" ? &seenDescr
                 : key == "fortran_order" ? &seenOrder
                 : key == "shape" ? &seenShape : nullptr;
    if (!seen)
      return fail("unexpected key '" + key + "' (expected descr, fortran_order and shape)");
    if (*seen)
      return fail("duplicate key '" + key + "'");
    *seen = true;
    skipSpaces();
    if (key == "descr") {
      if (!string(out.descr))
        return fail("'descr' is not a string");
    } else if (key == "fortran_order") {
      if (text.compare(pos, 4, "True") == 0) {
        out.fortranOrder = true;
        pos += 4;
      } else if (text.compare(pos, 5, "False") == 0) {
        out.fortranOrder = false;
        pos += 5;
      } else {
        return fail("'fortran_order' is not True or False");
      }
    } else {
      if (!expect('('))
        return fail("'shape' is not a tuple");
      out.shape.clear();
      bool trailingComma = false;
      while (true) {
        skipSpaces();
        if (pos < text.size() && text[pos] == ')')
          break;
        size_t start = pos;
        uint64_t v = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          if (v > (uint64_t(INT64_MAX) - (text[pos] - '0')) / 10)
            return fail("dimension " + text.substr(start, pos - start + 1) + "... exceeds 2^63");
          v = v * 10 + (text[pos++] - '0');
        }
        if (pos == start || (pos - start > 1 && text[start] == '0'))
          return fail("a dimension is not a non-negative decimal integer");
        out.shape.push_back(static_cast<int64_t>(v));
        skipSpaces();
        trailingComma = pos < text.size() && text[pos] == ',';
        if (trailingComma) {
          ++pos;
          continue;
        }
        if (pos < text.size() && text[pos] == ')')
          break;
        return fail("expected ',' or ')' in 'shape'");
      }
      ++pos; // ')'
      if (out.shape.size() == 1 && !trailingComma)
        return fail("a one-dimensional shape needs a trailing comma, as in (4,)");
    }
    skipSpaces();
    if (pos < text.size() && text[pos] == ',') {
      ++pos;
      continue;
    }
    skipSpaces();
    if (pos < text.size() && text[pos] == '}')
      break;
    return fail("expected ',' or '}'");
  }
  ++pos; // '}'
  if (!seenDescr || !seenOrder || !seenShape)
    return fail(std::string("missing key '") +
                (!seenDescr ? "descr" : !seenOrder ? "fortran_order" : "shape") + "'");
  skipSpaces();
  if (pos < text.size() && text[pos] == '\n')
    ++pos;
  if (pos != text.size())
    return fail("unexpected bytes after the dict");
  return true;
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
  tfm::output::protectInput(path); // no output of this run may replace it
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
  Header parsed;
  std::string why;
  if (!parseHeader(header, parsed, why))
    return fail(why);
  const std::string &descr = parsed.descr;
  if (descr.size() < 2 || std::string("<>|=").find(descr[0]) == std::string::npos)
    return fail("unsupported dtype '" + descr + "' (expected f4, f8, f2, i4, i8, u1 or b1)");
  char byteOrder = descr[0];
  out.dtype = descr.substr(1);
  if (itemSize(out.dtype) == 0)
    return fail("unsupported dtype '" + descr + "' (expected f4, f8, f2, i4, i8, u1 or b1)");
  if (byteOrder == '>' && itemSize(out.dtype) > 1)
    return fail("big-endian data is not supported");
  if (parsed.fortranOrder)
    return fail("Fortran-order arrays are not supported");
  out.shape = parsed.shape;
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
  // The data must be exactly shape x itemsize (checked arithmetic): a header
  // that claims more than the file holds is never written.
  uint64_t expected = itemSize(array.dtype);
  bool bad = expected == 0;
  for (int64_t d : array.shape) {
    if (d < 0 || (d > 0 && expected > UINT64_MAX / static_cast<uint64_t>(d))) {
      bad = true;
      break;
    }
    expected *= static_cast<uint64_t>(d);
  }
  if (bad || expected != array.data.size()) {
    error = path + ": " + std::to_string(array.data.size()) + " bytes of data do not match shape " +
            shapeString(array.shape) + " of dtype '" + array.dtype + "' (nothing written)";
    return false;
  }
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

/// An f4 array of `shape` holding the floats at `values` (as many as the
/// shape has elements).
inline Array fromFloats(const std::vector<int64_t> &shape, const float *values) {
  Array a{"f4", shape, {}};
  a.data.resize(static_cast<size_t>(a.numElements()) * 4);
  if (!a.data.empty())
    std::memcpy(a.data.data(), values, a.data.size());
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
