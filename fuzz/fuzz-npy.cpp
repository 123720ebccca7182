//===- fuzz-npy.cpp - Fuzz the .npy reader ---------------------------------===//
//
// Any bytes: tfm::npy::read either fails with a message naming the file or
// returns an array whose data size is shape x itemsize.
//
//===----------------------------------------------------------------------===//
#include "FuzzFile.h"
#include <cstdlib>
#include <string>
import tfm.support;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = tfm::fuzz::asFile(data, size);
  tfm::npy::Array a;
  std::string error;
  if (tfm::npy::read(path, a, error)) {
    size_t n = tfm::npy::itemSize(a.dtype);
    for (int64_t d : a.shape)
      n *= static_cast<size_t>(d);
    if (n != a.data.size())
      std::abort();
  } else if (error.rfind(path, 0) != 0) {
    std::abort(); // every error names the file
  }
  return 0;
}
