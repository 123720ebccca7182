//===- fuzz-safetensors.cpp - Fuzz the safetensors reader ------------------===//
//
// Any bytes: File::open fails with a message naming the file, or every tensor
// it returns lies inside the data section with shape x dtype bytes.
//
//===----------------------------------------------------------------------===//
#include "FuzzFile.h"
#include <cstdlib>
#include <memory>
#include <string>
import tfm.safetensors;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = tfm::fuzz::asFile(data, size);
  std::string message;
  auto file = tfm::safetensors::File::open(path, message);
  if (!file) {
    if (message.rfind(path, 0) != 0)
      std::abort();
    return 0;
  }
  const char *begin = reinterpret_cast<const char *>(data);
  (void)begin;
  for (const auto &t : file->tensors()) {
    uint64_t bits = tfm::safetensors::bitSize(t.dtype); // packed sub-byte types too
    for (int64_t d : t.shape)
      bits *= static_cast<uint64_t>(d);
    if (bits % 8 != 0 || t.end - t.begin != bits / 8 || t.end > size)
      std::abort();
  }
  return 0;
}
