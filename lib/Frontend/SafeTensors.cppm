//===- SafeTensors.cppm - Validated, memory-mapped safetensors -*- C++ -*-===//
//
// The `tfm.safetensors` module: opens a .safetensors file with
// llvm::MemoryBuffer (mmap for large files, nothing copied) and validates the
// whole header before anything uses it: header length within the file, JSON
// syntax, every entry's dtype, shape and data_offsets, offsets inside the data
// section, byte sizes that match shape x dtype, and no two tensors
// overlapping. Errors are one line naming the file and the tensor.
//
//===----------------------------------------------------------------------===//

module;
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include <algorithm>
#include <cstdint>
#include <map>
#include <climits>
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include <memory>
#include <optional>
#include <string>
#include <vector>
export module tfm.safetensors;

import tfm.json_depth;

export namespace tfm::safetensors {

/// Element types of the safetensors format.
enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

/// Bytes per element.
inline unsigned itemSize(DType t) {
  switch (t) {
  case DType::F64: case DType::I64: return 8;
  case DType::F32: case DType::I32: return 4;
  case DType::F16: case DType::BF16: case DType::I16: return 2;
  case DType::I8: case DType::U8: case DType::BOOL: return 1;
  }
  return 0;
}

/// The format's spelling ("F32", ...).
inline const char *dtypeName(DType t) {
  static const char *names[] = {"F64", "F32", "F16", "BF16", "I64",
                                "I32", "I16", "I8",  "U8",   "BOOL"};
  return names[static_cast<int>(t)];
}

/// One tensor of the file.
struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;       ///< byte offsets within the data section
  size_t headerPosition;     ///< byte offset of the name in the file (for locations)
  const char *data;          ///< begin of the bytes (mapped, not copied)

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
  /// Opens and validates `path`; the error names the file and what is wrong.
  static llvm::Expected<std::unique_ptr<File>> open(const std::string &path);

  const std::string &path() const { return path_; }
  /// The tensor called `name`, or null.
  const TensorInfo *lookup(llvm::StringRef name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
  }
  const std::vector<TensorInfo> &tensors() const { return tensors_; }

  /// Merges the shards a Hugging Face `model.safetensors.index.json` names
  /// (its "weight_map": tensor name -> shard file in the same directory) into
  /// one safetensors file at `outPath`, tensors in name order, each shard
  /// validated by open(). Errors name the index or the shard and the tensor:
  /// a missing shard, a tensor absent from its shard, a tensor in two shards.
  static llvm::Error mergeShards(const std::string &indexPath, const std::string &outPath);

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
  /// the tensors so that each one starts aligned for its elements.
  static llvm::Error write(const std::string &outPath, const std::vector<Output> &tensors);

private:
  std::string path_;
  std::unique_ptr<llvm::MemoryBuffer> buffer_;
  std::vector<TensorInfo> tensors_;
  llvm::StringMap<size_t> index_;
};

} // namespace tfm::safetensors

namespace tfm::safetensors {

namespace {
std::optional<DType> parseDType(llvm::StringRef s) {
  static const std::pair<const char *, DType> table[] = {
      {"F64", DType::F64}, {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16},
      {"I64", DType::I64}, {"I32", DType::I32}, {"I16", DType::I16}, {"I8", DType::I8},
      {"U8", DType::U8},   {"BOOL", DType::BOOL}};
  for (auto &[name, t] : table)
    if (s == name)
      return t;
  return std::nullopt;
}

/// Reads a JSON number that must be a non-negative integer.
std::optional<int64_t> nonNegative(const llvm::json::Value &v) {
  auto i = v.getAsInteger();
  if (!i || *i < 0)
    return std::nullopt;
  return *i;
}
} // namespace

llvm::Expected<std::unique_ptr<File>> File::open(const std::string &path) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), path + ": " + why);
  };
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fail("cannot open file: " + buffer.getError().message());
  auto file = std::unique_ptr<File>(new File());
  file->path_ = path;
  file->buffer_ = std::move(*buffer);
  llvm::StringRef bytes = file->buffer_->getBuffer();
  if (bytes.size() < 8)
    return fail(llvm::formatv("file of {0} bytes is too small for a safetensors header",
                              bytes.size()));
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i)
    headerLen = headerLen << 8 | static_cast<unsigned char>(bytes[i]);
  if (headerLen > bytes.size() - 8)
    return fail(llvm::formatv("header length {0} exceeds the {1} bytes after the length "
                              "field (truncated or not a safetensors file)",
                              headerLen, bytes.size() - 8));
  llvm::StringRef header = bytes.substr(8, headerLen);
  uint64_t dataSize = bytes.size() - 8 - headerLen;
  const char *data = bytes.data() + 8 + headerLen;
  if (auto at = tfm::json::tooDeepAt(header))
    return fail(llvm::formatv("header JSON nests deeper than {0} levels (at byte {1})",
                              tfm::json::kMaxDepth, 8 + *at));
  auto json = llvm::json::parse(header);
  if (!json)
    return fail("malformed header JSON: " + llvm::toString(json.takeError()));
  auto *root = json->getAsObject();
  if (!root)
    return fail("the header is not a JSON object");
  for (auto &[key, value] : *root) {
    llvm::StringRef name = key;
    if (name == "__metadata__")
      continue;
    auto bad = [&](const llvm::Twine &why) { return fail("tensor '" + name + "': " + why); };
    auto *entry = value.getAsObject();
    if (!entry)
      return bad("header entry is not an object");
    auto dtypeStr = entry->getString("dtype");
    if (!dtypeStr)
      return bad("missing 'dtype'");
    auto dtype = parseDType(*dtypeStr);
    if (!dtype)
      return bad("unknown dtype '" + *dtypeStr + "'");
    auto *shape = entry->getArray("shape");
    if (!shape)
      return bad("missing 'shape'");
    auto *offsets = entry->getArray("data_offsets");
    if (!offsets || offsets->size() != 2)
      return bad("'data_offsets' must be [begin, end]");
    TensorInfo t{name.str(), *dtype, {}, 0, 0, 0, nullptr};
    for (auto &d : *shape) {
      auto v = nonNegative(d);
      if (!v)
        return bad("shape entries must be non-negative integers");
      t.shape.push_back(*v);
    }
    auto begin = nonNegative((*offsets)[0]), end = nonNegative((*offsets)[1]);
    if (!begin || !end || *begin > *end)
      return bad("'data_offsets' must be non-negative with begin <= end");
    t.begin = *begin;
    t.end = *end;
    if (t.end > dataSize)
      return bad(llvm::formatv("data_offsets [{0}, {1}] run past the {2}-byte data section",
                               t.begin, t.end, dataSize));
    uint64_t expected = itemSize(t.dtype);
    for (int64_t d : t.shape) {
      if (d > 0 && expected > UINT64_MAX / static_cast<uint64_t>(d))
        return bad("its shape overflows a 64-bit byte count");
      expected *= static_cast<uint64_t>(d);
    }
    if (t.end - t.begin != expected)
      return bad(llvm::formatv("holds {0} bytes, but shape and dtype {1} need {2}",
                               t.end - t.begin, dtypeName(t.dtype), expected));
    size_t pos = header.find(("\"" + name + "\"").str());
    t.headerPosition = pos == llvm::StringRef::npos ? 8 : 8 + pos + 1;
    t.data = data + t.begin;
    file->tensors_.push_back(std::move(t));
  }
  // No two tensors may share bytes.
  std::vector<const TensorInfo *> sorted;
  for (auto &t : file->tensors_)
    sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](auto *a, auto *b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  for (size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i]->begin < sorted[i - 1]->end)
      return fail("tensors '" + sorted[i - 1]->name + "' and '" + sorted[i]->name +
                  "' overlap in the data section");
  for (size_t i = 0; i < file->tensors_.size(); ++i)
    file->index_[file->tensors_[i].name] = i;
  return file;
}

llvm::Error File::mergeShards(const std::string &indexPath, const std::string &outPath) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), indexPath + ": " + why);
  };
  auto buffer = llvm::MemoryBuffer::getFile(indexPath, /*IsText=*/true);
  if (!buffer)
    return fail("cannot open file: " + buffer.getError().message());
  llvm::StringRef text = (*buffer)->getBuffer();
  if (auto at = tfm::json::tooDeepAt(text))
    return fail(llvm::formatv("JSON nests deeper than {0} levels (at byte {1})",
                              tfm::json::kMaxDepth, *at));
  auto json = llvm::json::parse(text);
  if (!json)
    return fail("malformed JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Object *map = root ? root->getObject("weight_map") : nullptr;
  if (!map)
    return fail("missing object 'weight_map' (tensor name -> shard file)");
  llvm::StringRef dir = llvm::sys::path::parent_path(indexPath);
  std::map<std::string, std::unique_ptr<File>> shards;
  std::map<std::string, const TensorInfo *> tensors; // name order
  for (const auto &[key, value] : *map) {
    auto shard = value.getAsString();
    if (!shard)
      return fail("weight_map['" + key.str() + "'] is not a file name");
    if (shard->contains('/') || *shard == "." || *shard == "..")
      return fail("weight_map['" + key.str() + "']: shard '" + *shard +
                  "' is not a file name in the model directory");
    auto &file = shards[shard->str()];
    if (!file) {
      llvm::SmallString<256> path(dir);
      llvm::sys::path::append(path, *shard);
      auto opened = open(std::string(path));
      if (!opened)
        return opened.takeError();
      file = std::move(*opened);
    }
    const TensorInfo *t = file->lookup(key);
    if (!t)
      return fail("tensor '" + key.str() + "' is not in its shard '" + *shard + "'");
    tensors[key.str()] = t;
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
  return write(outPath, out);
}

llvm::Error File::write(const std::string &outPath, const std::vector<Output> &tensors) {
  llvm::json::Object header;
  uint64_t offset = 0;
  for (const Output &t : tensors) {
    llvm::json::Array shape;
    for (int64_t d : t.shape)
      shape.push_back(d);
    header[t.name] = llvm::json::Object{{"dtype", dtypeName(t.dtype)},
                                        {"shape", std::move(shape)},
                                        {"data_offsets", llvm::json::Array{offset, offset + t.bytes}}};
    offset += t.bytes;
  }
  std::string headerText = llvm::formatv("{0}", llvm::json::Value(std::move(header))).str();
  headerText.append((8 - headerText.size() % 8) % 8, ' ');
  std::error_code ec;
  llvm::raw_fd_ostream os(outPath, ec);
  if (ec)
    return llvm::createStringError(ec, outPath + ": cannot write file: " + ec.message());
  uint64_t len = headerText.size();
  for (int i = 0; i < 8; ++i)
    os << static_cast<char>((len >> (8 * i)) & 0xff);
  os << headerText;
  for (const Output &t : tensors)
    os.write(t.data, t.bytes);
  os.close();
  if (os.has_error())
    return llvm::createStringError(os.error(), outPath + ": cannot write file: " + os.error().message());
  return llvm::Error::success();
}

} // namespace tfm::safetensors
