//===- fuzz-weights.cpp - Fuzz the executables' safetensors reader ----------===//
//
// The runtime's weights reader (Weights::configure("file:PATH"), what an
// executable does with --weights FILE): any bytes are either refused with a
// std::runtime_error naming the file, or every tensor it indexes has
// data_offsets inside the data section that hold shape x dtype bytes, and
// asking for a tensor by its stored shape and type returns its bytes.
//
//===----------------------------------------------------------------------===//
#include "FuzzFile.h"
#include "tfm/Runtime/tfm_runtime.h"
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>
import tfm.runtime;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = tfm::fuzz::asFile(data, size);
  auto &weights = tfm::runtime::Weights::get();
  try {
    weights.configure("file:" + path);
  } catch (const std::runtime_error &e) {
    if (std::string(e.what()).rfind(path, 0) != 0)
      std::abort();
    return 0;
  }
  static const std::unordered_map<int, int32_t> codes = {
      {static_cast<int>(tfm::safetensors::DType::F32), TFM_DTYPE_F32},
      {static_cast<int>(tfm::safetensors::DType::F16), TFM_DTYPE_F16},
      {static_cast<int>(tfm::safetensors::DType::BF16), TFM_DTYPE_BF16}};
  for (const auto &t : weights.tensors()) {
    uint64_t bits = tfm::safetensors::bitSize(t.dtype); // packed sub-byte types too
    for (int64_t d : t.shape)
      bits *= static_cast<uint64_t>(d);
    if (bits % 8 != 0 || t.end - t.begin != bits / 8 || t.end > size)
      std::abort();
    auto it = codes.find(static_cast<int>(t.dtype));
    if (it != codes.end() && t.shape.size() <= 4) {
      void *p = weights.get(t.name, t.shape, it->second);
      if (p != t.data)
        std::abort();
    }
  }
  return 0;
}
