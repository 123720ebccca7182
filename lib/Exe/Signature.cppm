//===- Signature.cppm - What the compiled model's buffers are --*- C++ -*-===//
//
// The `tfm.exe.signature` module: reads the `tfm_signature` string the
// compiler embeds (convert-onednn-to-llvm) into the entry function's buffers
// and the model's settings:
//   in|out DTYPE DIMS [NAME];...;ctx N;weights SPEC;dtype D;tokenizer embedded
// DIMS is `AxB...` (`?` dynamic) or `scalar`; names and paths are
// percent-encoded where they hold ';', ' ' or '%'.
//
//===----------------------------------------------------------------------===//

module;
#include <cctype>
#include <cstdint>
#include <string>
#include <vector>
export module tfm.exe.signature;

export namespace tfm::exe {

/// One buffer of the entry function.
struct Slot {
  bool output = false;
  std::string type; // MLIR element type: f32, f16, bf16, i32, i64
  std::vector<int64_t> shape; // -1: dynamic
  std::string name;
};

struct Signature {
  std::vector<Slot> slots;
  int64_t context = 0;
  std::string weights;
  std::string dtype = "f32";
  bool tokenizer = false;

  int find(const std::string &name) const {
    for (size_t i = 0; i < slots.size(); ++i)
      if (slots[i].name == name)
        return static_cast<int>(i);
    return -1;
  }
  bool isStatic() const {
    for (const Slot &s : slots)
      for (int64_t d : s.shape)
        if (d < 0)
          return false;
    return true;
  }
};

/// `s` split at every `sep` (empty fields kept).
std::vector<std::string> split(const std::string &s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find(sep, pos);
    if (end == std::string::npos)
      end = s.size();
    out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

/// Decodes the %XX escapes the compiler puts in signature fields (names and
/// paths with ';', ' ' or '%'; see signatureField in OneDNNToLLVM.cpp).
std::string unescapeField(const std::string &s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

/// The signature `text` describes.
Signature parseSignature(const char *text) {
  Signature sig;
  for (const std::string &item : split(text, ';')) {
    if (item.rfind("ctx ", 0) == 0) {
      sig.context = std::stoll(item.substr(4));
      continue;
    }
    if (item.rfind("weights ", 0) == 0) {
      sig.weights = unescapeField(item.substr(8));
      continue;
    }
    if (item == "tokenizer embedded") {
      sig.tokenizer = true;
      continue;
    }
    if (item.rfind("dtype ", 0) == 0) {
      sig.dtype = item.substr(6);
      continue;
    }
    std::vector<std::string> f = split(item, ' ');
    if (f.size() < 3)
      continue;
    Slot slot;
    slot.output = f[0] == "out";
    slot.type = f[1];
    if (f[2] != "scalar")
      for (const std::string &d : split(f[2], 'x'))
        slot.shape.push_back(d == "?" ? -1 : std::stoll(d));
    if (f.size() > 3)
      slot.name = unescapeField(f[3]);
    sig.slots.push_back(slot);
  }
  return sig;
}

/// The .npy dtype that holds an MLIR element type.
std::string npyDtype(const std::string &type) {
  if (type == "f32") return "f4";
  if (type == "i32") return "i4";
  if (type == "i64") return "i8";
  if (type == "f16") return "f2";
  return "";
}

/// `[2, ?, 4]`.
std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return s + "]";
}

} // namespace tfm::exe
