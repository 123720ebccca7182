//===- Buffer.cppm - Buffers as generated code passes them -----*- C++ -*-===//
//
// The `tfm.runtime.buffer` module: a buffer argument of the C ABI (a
// tfm_buffer record) as a pointer to element [0, ..., 0] with sizes and
// strides in elements; and page-aligned, huge-page-backed memory for
// weights.
//
//===----------------------------------------------------------------------===//

module;
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "tfm/Runtime/tfm_runtime.h"
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <new>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <vector>
export module tfm.runtime.buffer;

// The C header's memref descriptors (C has no templates) are MLIR's
// StridedMemRefType, what convert-func-to-llvm passes for
// llvm.emit_c_interface, field for field; the runtime reads and writes them
// as MLIR's type.
namespace tfm::runtime {
export using RecordMemRef = StridedMemRefType<int64_t, 1>;
export using BytesMemRef = StridedMemRefType<char, 1>;
} // namespace tfm::runtime
using tfm::runtime::BytesMemRef;
using tfm::runtime::RecordMemRef;
static_assert(sizeof(tfm_record_memref) == sizeof(RecordMemRef) &&
              offsetof(tfm_record_memref, aligned) == offsetof(RecordMemRef, data) &&
              offsetof(tfm_record_memref, offset) == offsetof(RecordMemRef, offset) &&
              offsetof(tfm_record_memref, size) == offsetof(RecordMemRef, sizes) &&
              offsetof(tfm_record_memref, stride) == offsetof(RecordMemRef, strides));
static_assert(sizeof(tfm_bytes_memref) == sizeof(BytesMemRef) &&
              offsetof(tfm_bytes_memref, aligned) == offsetof(BytesMemRef, data) &&
              offsetof(tfm_bytes_memref, size) == offsetof(BytesMemRef, sizes));

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

/// Element i of an integer buffer (i32 or i64) of rank 1.
inline int64_t indexAt(const Buffer &b, int64_t i) {
  const char *p = b.data + i * b.strides[0] * (b.dtype == TFM_DTYPE_I64 ? 8 : 4);
  if (b.dtype == TFM_DTYPE_I64) {
    int64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

/// The runs of packed sequence ids (`ids`: i32 or i64 [t]; a sequence is a
/// run of consecutive rows with one id, tfm.sequence_mask): the first row
/// of each run, then t. Throws std::runtime_error for ids of another shape
/// or type.
inline std::vector<int64_t> sequenceRuns(const Buffer &ids, int64_t t, const char *what) {
  if ((ids.dtype != TFM_DTYPE_I64 && ids.dtype != TFM_DTYPE_I32) || ids.dims.size() != 1 ||
      ids.dims[0] != t)
    throw std::runtime_error(std::string(what) + ": expected " + std::to_string(t) +
                             " integer sequence ids");
  std::vector<int64_t> starts;
  for (int64_t r = 0; r < t; ++r)
    if (r == 0 || indexAt(ids, r) != indexAt(ids, r - 1))
      starts.push_back(r);
  starts.push_back(t);
  return starts;
}

/// Bytes per element of a tfm_dtype; throws std::runtime_error for an
/// unknown code.
inline int64_t elementSize(int64_t dtype) {
  static const int64_t sizes[] = {4, 2, 2, 4, 8, 1, 1};
  static_assert(std::size(sizes) == TFM_DTYPE_I8 + 1, "a size for every tfm_dtype");
  if (dtype < 0 || dtype >= static_cast<int64_t>(std::size(sizes)))
    throw std::runtime_error("unknown element type code " + std::to_string(dtype));
  return sizes[dtype];
}

/// Reads a buffer record (a tfm_buffer in a memref<20xi64>, passed through
/// MLIR's C interface; generated code fills it in convert-onednn-to-func);
/// a record with data 0 is an absent buffer. Throws std::runtime_error for a
/// record that is not one (wrong size, rank or tfm_dtype code).
inline Buffer fromRecord(const tfm_record_memref *ref) {
  Buffer b;
  constexpr int64_t kFields = sizeof(tfm_buffer) / sizeof(int64_t);
  const auto *m = reinterpret_cast<const RecordMemRef *>(ref);
  if (!m || !m->data || m->sizes[0] != kFields || m->strides[0] != 1)
    throw std::runtime_error("a buffer argument is not a tfm_buffer record (memref<" +
                             std::to_string(kFields) + "xi64>)");
  const auto *r = reinterpret_cast<const tfm_buffer *>(m->data + m->offset);
  if (r->data == 0)
    return b;
  int64_t elemSize = elementSize(r->dtype);
  if (r->rank < 0 || r->rank > TFM_MAX_RANK)
    throw std::runtime_error("a buffer of rank " + std::to_string(r->rank) + " (at most " +
                             std::to_string(TFM_MAX_RANK) + ")");
  b.dtype = static_cast<int32_t>(r->dtype);
  b.data = reinterpret_cast<char *>(r->data) + r->offset * elemSize;
  b.dims.assign(r->sizes, r->sizes + r->rank);
  b.strides.assign(r->strides, r->strides + r->rank);
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
