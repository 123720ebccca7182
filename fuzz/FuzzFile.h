//===- FuzzFile.h - The fuzz input as a file -----------------------*- C++ -*-===//
//
// Readers that take a path get the input through a file in memory
// (memfd_create: no disk I/O, one per process, rewritten each run).
//
//===----------------------------------------------------------------------===//
#ifndef TFM_FUZZ_FUZZFILE_H
#define TFM_FUZZ_FUZZFILE_H

#include <cstdint>
#include <cstdlib>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace tfm::fuzz {
/// Writes data to the process's memory file and returns its /proc path.
inline std::string asFile(const uint8_t *data, size_t size) {
  static int fd = ::memfd_create("tfm-fuzz", 0);
  if (fd < 0 || ::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size))
    std::abort();
  return "/proc/self/fd/" + std::to_string(fd);
}
} // namespace tfm::fuzz

#endif
