//===- SafeTensors.cppm - The one safetensors reader and writer -*- C++ -*-===//
//
// The `tfm.safetensors` module: the safetensors format for tfmc, tfm-ref and
// the runtime linked into every executable (LLVM-free; JSON by nlohmann),
// so that what tfmc accepts the executable accepts.
//
// A file is mapped (tfmc: nothing copied) or read (the executables: a file
// truncated or rewritten while they run must not raise SIGBUS or change the
// weights mid-run), or given as bytes (the section tfmc links into an
// executable). The whole header is validated before anything uses it: header
// length within the file, JSON nesting and syntax, every entry's dtype, shape
// and data_offsets, offsets inside the data section, byte sizes equal to
// shape x dtype (checked arithmetic), no duplicate names and no two tensors
// overlapping. The data section is 8-byte aligned in memory (a header whose
// length is not a multiple of 8, valid if unusual, costs one copy), so the
// kernels may read f32/bf16 elements in place. Errors are one line naming
// the file and the tensor, or the byte offset.
//
// Format: https://github.com/huggingface/safetensors (8-byte little-endian
// header length, JSON header {name: {dtype, shape, data_offsets}, optional
// "__metadata__"}, then the data section).
//
//===----------------------------------------------------------------------===//

module;
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>
export module tfm.safetensors;

import tfm.json_depth;
import tfm.output_file;

export namespace tfm::safetensors {

/// Element types of the safetensors format: every dtype of the current
/// specification (huggingface/safetensors' `Dtype`, with its bit sizes), so
/// that a file holding tensors tfm never reads (complex, FP8 or sub-byte
/// floats beside the weights) is read; only a tensor a model uses needs a
/// dtype tfm computes with (F32, F16, BF16; I8/U8 for tfm's own quantized
/// weights), and its reader names it otherwise.
enum class DType {
  BOOL, F4, F6_E2M3, F6_E3M2, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ,
  I16, U16, F16, BF16, I32, U32, F32, C64, F64, I64, U64
};
constexpr int kNumDTypes = static_cast<int>(DType::U64) + 1;

/// Bits per element: 4 (F4) and 6 (F6_*) are packed, so a tensor of them
/// holds numElements * bits / 8 bytes, and that product must be whole bytes.
inline unsigned bitSize(DType t) {
  switch (t) {
  case DType::F4: return 4;
  case DType::F6_E2M3: case DType::F6_E3M2: return 6;
  case DType::BOOL: case DType::U8: case DType::I8: case DType::F8_E5M2: case DType::F8_E4M3:
  case DType::F8_E8M0: case DType::F8_E4M3FNUZ: case DType::F8_E5M2FNUZ: return 8;
  case DType::I16: case DType::U16: case DType::F16: case DType::BF16: return 16;
  case DType::I32: case DType::U32: case DType::F32: return 32;
  case DType::C64: case DType::F64: case DType::I64: case DType::U64: return 64;
  }
  return 0;
}

/// Bytes per element; 0 for the packed sub-byte types (F4, F6_*).
inline unsigned itemSize(DType t) { return bitSize(t) % 8 ? 0 : bitSize(t) / 8; }

/// The format's spelling ("F32", ...).
inline const char *dtypeName(DType t) {
  static const char *names[kNumDTypes] = {
      "BOOL", "F4",  "F6_E2M3", "F6_E3M2", "U8",  "I8",  "F8_E5M2", "F8_E4M3",
      "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32",
      "U32", "F32", "C64", "F64", "I64", "U64"};
  return names[static_cast<int>(t)];
}

/// The dtype spelled `s`, if the format has it.
inline std::optional<DType> parseDType(std::string_view s) {
  for (int i = 0; i < kNumDTypes; ++i)
    if (s == dtypeName(static_cast<DType>(i)))
      return static_cast<DType>(i);
  return std::nullopt;
}

/// One tensor of a file.
struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;   ///< byte offsets within the data section
  size_t headerPosition; ///< byte offset of the name in the file (for locations)
  const char *data;      ///< begin of the bytes (in the mapped, read or given bytes)

  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
};

/// An opened, fully validated safetensors file.
class File {
public:
  /// How open() brings the bytes into memory.
  enum class Load {
    Map, ///< mmap (read-only, private): nothing copied
    Read ///< read into memory: later changes to the file are not seen
  };
  /// Opens and validates `path` (a regular file; a FIFO is refused rather
  /// than waited on). On failure returns null and sets `error` to one line
  /// starting with `path`.
  static std::unique_ptr<File> open(const std::string &path, std::string &error,
                                    Load load = Load::Map);
  /// Validates `size` bytes at `bytes`, which outlive the File (the section
  /// tfmc links into an executable); `name` stands for the path in messages.
  static std::unique_ptr<File> fromBytes(const std::string &name, const char *bytes, size_t size,
                                         std::string &error);

  File(const File &) = delete;
  File &operator=(const File &) = delete;
  ~File();

  /// The path (or the name given to fromBytes), for messages.
  const std::string &path() const { return path_; }
  /// The tensor called `name`, or null. Hugging Face checkpoints name GPT-2's
  /// tensors with or without the "transformer." prefix (GPT2LMHeadModel vs
  /// GPT2Model): a name not found as given is looked up with the prefix
  /// added or removed.
  const TensorInfo *lookup(std::string_view name) const;
  /// Whether the header names `name` exactly (no prefix added or removed).
  bool contains(std::string_view name) const { return byName_.count(name) != 0; }
  /// Every tensor, in header order.
  const std::vector<TensorInfo> &tensors() const { return tensors_; }

  /// A tensor to write: its bytes are not copied until write().
  struct Output {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    const char *data;
    uint64_t bytes;
  };
  /// Writes `tensors` (in this order, no gaps) as a safetensors file at
  /// `outPath`, its header padded with spaces to a multiple of 8 bytes (so
  /// that the data is 8-byte aligned wherever the file is). The caller orders
  /// the tensors so that each one starts aligned for its elements. On failure
  /// returns false and sets `error` (naming `outPath`).
  static bool write(const std::string &outPath, const std::vector<Output> &tensors,
                    std::string &error);

  /// Merges the shards a Hugging Face `model.safetensors.index.json` names
  /// (its "weight_map": tensor name -> shard file in the same directory) into
  /// one safetensors file at `outPath`, tensors in name order, each shard
  /// validated by open(). Errors name the index or the shard and the tensor:
  /// a missing shard, a tensor absent from its shard, a tensor in two shards.
  static bool mergeShards(const std::string &indexPath, const std::string &outPath,
                          std::string &error);

private:
  File() = default;
  /// Validates the bytes at bytes_ and fills tensors_; the reason on failure.
  std::optional<std::string> index();

  std::string path_;
  const char *bytes_ = nullptr;
  size_t size_ = 0;
  void *map_ = nullptr; ///< the mapping to unmap (Load::Map)
  size_t mapSize_ = 0;
  std::unique_ptr<char[]> owned_; ///< read or realigned bytes
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> byName_;
};

} // namespace tfm::safetensors

namespace tfm::safetensors {
namespace {
using nlohmann::json;

constexpr std::string_view kPrefix = "transformer.";

/// A copy of `size` bytes at `src` whose data section (after the 8-byte
/// length and a header of `headerLen` bytes) starts 64-byte aligned.
std::unique_ptr<char[]> alignedCopy(const char *src, size_t size, uint64_t headerLen,
                                    const char *&start) {
  auto copy = std::make_unique<char[]>(size + 64);
  uintptr_t data = reinterpret_cast<uintptr_t>(copy.get()) + 8 + headerLen;
  start = copy.get() + (64 - data % 64) % 64;
  if (src)
    std::memcpy(const_cast<char *>(start), src, size);
  return copy;
}

uint64_t headerLength(const char *bytes) {
  uint64_t len = 0;
  for (int i = 7; i >= 0; --i)
    len = len << 8 | static_cast<unsigned char>(bytes[i]);
  return len;
}

/// The value of a JSON number that must be a non-negative integer.
std::optional<uint64_t> nonNegative(const json &v) {
  if (v.is_number_unsigned())
    return v.get<uint64_t>();
  return std::nullopt;
}
} // namespace

File::~File() {
  if (map_)
    ::munmap(map_, mapSize_);
}

const TensorInfo *File::lookup(std::string_view name) const {
  auto find = [&](std::string_view n) -> const TensorInfo * {
    auto it = byName_.find(n);
    return it == byName_.end() ? nullptr : &tensors_[it->second];
  };
  if (const TensorInfo *t = find(name))
    return t;
  if (name.substr(0, kPrefix.size()) == kPrefix)
    return find(name.substr(kPrefix.size()));
  return find(std::string(kPrefix) + std::string(name));
}

std::unique_ptr<File> File::open(const std::string &path, std::string &error, Load load) {
  auto fail = [&](const std::string &why) {
    error = path + ": " + why;
    return nullptr;
  };
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return fail(std::string("cannot open file: ") + std::strerror(errno));
  tfm::output::protectInput(path); // no output of this run may replace it
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return fail(std::string("cannot open file: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return fail("not a regular file");
  size_t size = static_cast<size_t>(st.st_size);
  if (size < 8)
    return fail("file of " + std::to_string(size) +
                " bytes is too small for a safetensors header");
  auto file = std::unique_ptr<File>(new File());
  file->path_ = path;
  file->size_ = size;
  if (load == Load::Map) {
    void *map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED)
      return fail(std::string("cannot map file: ") + std::strerror(errno));
    file->map_ = map;
    file->mapSize_ = size;
    file->bytes_ = static_cast<const char *>(map);
  } else {
    char first[8];
    if (::pread(fd, first, 8, 0) != 8)
      return fail("cannot read the header length");
    uint64_t headerLen = std::min<uint64_t>(headerLength(first), size - 8);
    file->owned_ = alignedCopy(nullptr, size, headerLen, file->bytes_);
    char *to = const_cast<char *>(file->bytes_);
    size_t got = 0;
    while (got < size) {
      ssize_t n = ::pread(fd, to + got, size - got, static_cast<off_t>(got));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return fail(std::string("cannot read file: ") +
                    (n < 0 ? std::strerror(errno) : "it became shorter while read"));
      got += static_cast<size_t>(n);
    }
  }
  if (auto why = file->index())
    return fail(*why);
  return file;
}

std::unique_ptr<File> File::fromBytes(const std::string &name, const char *bytes, size_t size,
                                      std::string &error) {
  if (size < 8) {
    error = name + ": " + std::to_string(size) + " bytes are too small for a safetensors header";
    return nullptr;
  }
  auto file = std::unique_ptr<File>(new File());
  file->path_ = name;
  file->bytes_ = bytes;
  file->size_ = size;
  if (auto why = file->index()) {
    error = name + ": " + *why;
    return nullptr;
  }
  return file;
}

std::optional<std::string> File::index() {
  uint64_t headerLen = headerLength(bytes_);
  if (headerLen > size_ - 8)
    return "header length " + std::to_string(headerLen) + " exceeds the " +
           std::to_string(size_ - 8) +
           " bytes after the length field (truncated or not a safetensors file)";
  // The data section must be aligned for the elements the kernels read in
  // place: copy once where the header length leaves it misaligned.
  if (reinterpret_cast<uintptr_t>(bytes_ + 8 + headerLen) % 8 != 0) {
    const char *start = nullptr;
    std::unique_ptr<char[]> copy = alignedCopy(bytes_, size_, headerLen, start);
    owned_ = std::move(copy);
    bytes_ = start;
  }
  std::string_view header(bytes_ + 8, headerLen);
  uint64_t dataSize = size_ - 8 - headerLen;
  const char *data = bytes_ + 8 + headerLen;
  if (auto at = tfm::json::tooDeepAt(header))
    return "header JSON nests deeper than " + std::to_string(tfm::json::kMaxDepth) +
           " levels (at byte " + std::to_string(8 + *at) + ")";
  // Duplicate names: the JSON library keeps the last; the format forbids them.
  std::set<std::string> names;
  std::optional<std::string> duplicate;
  json root;
  try {
    root = json::parse(header.begin(), header.end(),
                       [&](int depth, json::parse_event_t event, json &parsed) {
                         if (event == json::parse_event_t::key && depth == 1 && !duplicate &&
                             !names.insert(parsed.get<std::string>()).second)
                           duplicate = parsed.get<std::string>();
                         return true;
                       });
  } catch (const json::exception &e) {
    return "malformed header JSON: " + tfm::json::parseErrorMessage(e.what());
  }
  if (!root.is_object())
    return std::string("the header is not a JSON object");
  if (duplicate)
    return "tensor '" + *duplicate + "' appears twice in the header";
  for (const auto &[name, entry] : root.items()) {
    if (name == "__metadata__")
      continue;
    auto bad = [&](const std::string &why) { return "tensor '" + name + "': " + why; };
    if (!entry.is_object())
      return bad("header entry is not an object");
    auto dtypeIt = entry.find("dtype");
    if (dtypeIt == entry.end() || !dtypeIt->is_string())
      return bad("missing 'dtype'");
    auto dtype = parseDType(dtypeIt->get<std::string>());
    if (!dtype)
      return bad("unknown dtype '" + dtypeIt->get<std::string>() + "'");
    auto shape = entry.find("shape");
    if (shape == entry.end() || !shape->is_array())
      return bad("missing 'shape'");
    auto offsets = entry.find("data_offsets");
    if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2)
      return bad("'data_offsets' must be [begin, end]");
    TensorInfo t{name, *dtype, {}, 0, 0, 0, nullptr};
    for (const json &d : *shape) {
      auto v = nonNegative(d);
      if (!v || *v > static_cast<uint64_t>(INT64_MAX))
        return bad("shape entries must be non-negative integers");
      t.shape.push_back(static_cast<int64_t>(*v));
    }
    auto begin = nonNegative((*offsets)[0]), end = nonNegative((*offsets)[1]);
    if (!begin || !end || *begin > *end)
      return bad("'data_offsets' must be non-negative with begin <= end");
    t.begin = *begin;
    t.end = *end;
    if (t.end > dataSize)
      return bad("data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                 "] run past the " + std::to_string(dataSize) + "-byte data section");
    // Bits first (packed sub-byte types), then bytes, as safetensors does.
    uint64_t bits = bitSize(t.dtype);
    for (int64_t d : t.shape) {
      if (d > 0 && bits > UINT64_MAX / static_cast<uint64_t>(d))
        return bad("its shape overflows a 64-bit byte count");
      bits *= static_cast<uint64_t>(d);
    }
    if (bits % 8 != 0)
      return bad("its " + std::to_string(bits) + " bits of " + dtypeName(t.dtype) +
                 " elements do not fill whole bytes");
    uint64_t expected = bits / 8;
    if (t.end - t.begin != expected)
      return bad("holds " + std::to_string(t.end - t.begin) + " bytes, but shape and dtype " +
                 dtypeName(t.dtype) + " need " + std::to_string(expected));
    size_t pos = header.find("\"" + name + "\"");
    t.headerPosition = pos == std::string_view::npos ? 8 : 8 + pos + 1;
    t.data = data + t.begin;
    tensors_.push_back(std::move(t));
  }
  // No two tensors may share bytes.
  std::vector<const TensorInfo *> sorted;
  for (const TensorInfo &t : tensors_)
    if (t.end > t.begin)
      sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](auto *a, auto *b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  for (size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i]->begin < sorted[i - 1]->end)
      return "tensors '" + sorted[i - 1]->name + "' and '" + sorted[i]->name +
             "' overlap in the data section";
  for (size_t i = 0; i < tensors_.size(); ++i)
    byName_[tensors_[i].name] = i;
  return std::nullopt;
}

bool File::write(const std::string &outPath, const std::vector<Output> &tensors,
                 std::string &error) {
  // nlohmann's ordered_json keeps the tensors in the order given.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  uint64_t offset = 0;
  for (const Output &t : tensors) {
    header[t.name] = {{"dtype", dtypeName(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes}}};
    offset += t.bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::ofstream os(outPath, std::ios::binary | std::ios::trunc);
  uint64_t len = text.size();
  char length[8];
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<char>((len >> (8 * i)) & 0xff);
  os.write(length, 8);
  os.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const Output &t : tensors)
    os.write(t.data, static_cast<std::streamsize>(t.bytes));
  os.close();
  if (!os) {
    error = outPath + ": cannot write file: " + std::strerror(errno);
    return false;
  }
  return true;
}

bool File::mergeShards(const std::string &indexPath, const std::string &outPath,
                       std::string &error) {
  auto fail = [&](const std::string &why) {
    error = indexPath + ": " + why;
    return false;
  };
  std::ifstream in(indexPath, std::ios::binary);
  if (!in)
    return fail(std::string("cannot open file: ") + std::strerror(errno));
  tfm::output::protectInput(indexPath);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (auto at = tfm::json::tooDeepAt(text))
    return fail("JSON nests deeper than " + std::to_string(tfm::json::kMaxDepth) +
                " levels (at byte " + std::to_string(*at) + ")");
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception &e) {
    return fail("malformed JSON: " + tfm::json::parseErrorMessage(e.what()));
  }
  auto map = root.is_object() ? root.find("weight_map") : root.end();
  if (!root.is_object() || map == root.end() || !map->is_object())
    return fail("missing object 'weight_map' (tensor name -> shard file)");
  std::filesystem::path dir = std::filesystem::path(indexPath).parent_path();
  std::map<std::string, std::unique_ptr<File>> shards;
  std::map<std::string, const TensorInfo *> tensors; // name order
  for (const auto &[key, value] : map->items()) {
    if (!value.is_string())
      return fail("weight_map['" + key + "'] is not a file name");
    std::string shard = value.get<std::string>();
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
      return fail("weight_map['" + key + "']: shard '" + shard +
                  "' is not a file name in the model directory");
    std::unique_ptr<File> &file = shards[shard];
    if (!file) {
      file = open((dir / shard).string(), error);
      if (!file)
        return false;
    }
    auto it = file->byName_.find(key);
    if (it == file->byName_.end())
      return fail("tensor '" + key + "' is not in its shard '" + shard + "'");
    tensors[key] = &file->tensors_[it->second];
  }
  // Every tensor of every shard must be in the map (else it would be lost).
  for (const auto &[name, file] : shards)
    for (const TensorInfo &t : file->tensors())
      if (auto it = tensors.find(t.name); it == tensors.end() || it->second != &t)
        return fail("tensor '" + t.name + "' is in shard '" + name +
                    "' but weight_map names another shard");
  std::vector<Output> out;
  for (const auto &[name, t] : tensors)
    out.push_back({name, t->dtype, t->shape, t->data, t->end - t->begin});
  return write(outPath, out, error);
}

} // namespace tfm::safetensors
