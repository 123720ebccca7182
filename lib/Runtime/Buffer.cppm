//===- Buffer.cppm - Buffers as generated code passes them -----*- C++ -*-===//
//
// The `tfm.runtime.buffer` module: a buffer argument of the C ABI (an MLIR
// memref descriptor, its rank and its tfm_dtype) as a pointer to element
// [0, ..., 0] with sizes and strides in elements; and page-aligned,
// huge-page-backed memory for weights.
//
//===----------------------------------------------------------------------===//

module;
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "tfm/Runtime/tfm_runtime.h"
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <new>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <vector>
export module tfm.runtime.buffer;

export namespace tfm::runtime {

/// One buffer as generated code describes it.
struct Buffer {
  char *data = nullptr; ///< address of element [0, ..., 0]
  int32_t dtype = 0;
  std::vector<int64_t> dims, strides;

  bool present() const { return data != nullptr; }
  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : dims)
      n *= d;
    return n;
  }
};

/// Reads an MLIR ranked memref descriptor {allocated, aligned, offset,
/// sizes[rank], strides[rank]} (MLIR's StridedMemRefType, read through
/// DynamicMemRefType) whose elements are `dtype` (a tfm_dtype); throws
/// std::runtime_error for an unknown code.
inline Buffer fromDescriptor(const void *desc, int64_t rank, int32_t dtype) {
  Buffer b;
  if (!desc)
    return b;
  // Bytes per element by tfm_dtype.
  static const int64_t elemSize[] = {4, 2, 2, 4, 8, 1, 1};
  static_assert(std::size(elemSize) == TFM_DTYPE_I8 + 1, "a size for every tfm_dtype");
  if (dtype < 0 || dtype >= static_cast<int32_t>(std::size(elemSize)))
    throw std::runtime_error("unknown element type code " + std::to_string(dtype));
  DynamicMemRefType<char> m(UnrankedMemRefType<char>{rank, const_cast<void *>(desc)});
  b.dtype = dtype;
  b.data = m.data + m.offset * elemSize[dtype];
  b.dims.assign(m.sizes, m.sizes + rank);
  b.strides.assign(m.strides, m.strides + rank);
  return b;
}

/// Throws unless `b` holds f32 elements (`what` names the operation).
inline void requireF32(const Buffer &b, const char *what) {
  if (b.dtype != TFM_DTYPE_F32)
    throw std::runtime_error(std::string(what) + " is implemented for f32 buffers only");
}

/// Page-aligned memory that lives as long as the process, backed by 2 MiB
/// pages where the kernel allows it (transparent huge pages on request):
/// fewer page faults when it is first touched and fewer TLB misses when
/// large weights are streamed.
inline void *hugeAlloc(size_t bytes) {
  constexpr size_t kHuge = size_t(2) << 20;
  size_t size = (std::max<size_t>(bytes, 1) + kHuge - 1) / kHuge * kHuge;
  void *raw = ::mmap(nullptr, size + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
  if (raw == MAP_FAILED)
    throw std::bad_alloc();
  auto begin = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = (begin + kHuge - 1) / kHuge * kHuge;
  if (aligned > begin)
    ::munmap(raw, aligned - begin);
  if (uintptr_t end = begin + size + kHuge; end > aligned + size)
    ::munmap(reinterpret_cast<void *>(aligned + size), end - aligned - size);
  ::madvise(reinterpret_cast<void *>(aligned), size, MADV_HUGEPAGE);
  return reinterpret_cast<void *>(aligned);
}

} // namespace tfm::runtime
