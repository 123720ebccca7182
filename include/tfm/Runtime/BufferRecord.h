//===- BufferRecord.h - Buffer records for hand-written callers -*- C++ -*-===//
//
// Generated code passes every buffer of a runtime call as a tfm_buffer record
// (tfm_runtime.h). Tests and benchmarks that call the C interface by hand
// build the same records from an MLIR-style ranked descriptor with this.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_BUFFERRECORD_H
#define TFM_RUNTIME_BUFFERRECORD_H

#include "tfm/Runtime/tfm_runtime.h"

#include <algorithm>
#include <cstdint>

namespace tfm::runtime {

/// One buffer argument: its record (default: absent, data 0) and, when the
/// call converts it, the record's memref<20xi64> descriptor.
struct RecordArg {
  tfm_buffer record{};
  mutable tfm_record_memref ref{};
  operator const tfm_record_memref *() const {
    ref = tfm_record_ref(const_cast<tfm_buffer *>(&record));
    return &ref;
  }
};

/// The record of `d`, a ranked memref descriptor {allocated, aligned,
/// offset, sizes[R], strides[R]} whose elements are `dtype` (a tfm_dtype).
template <typename Descriptor> RecordArg recordOf(const Descriptor &d, int32_t dtype) {
  constexpr int64_t rank = sizeof(d.sizes) / sizeof(d.sizes[0]);
  static_assert(rank <= TFM_MAX_RANK, "a record holds at most TFM_MAX_RANK sizes");
  RecordArg a;
  a.record.data = reinterpret_cast<int64_t>(d.aligned);
  a.record.offset = d.offset;
  a.record.dtype = dtype;
  a.record.rank = rank;
  std::copy(d.sizes, d.sizes + rank, a.record.sizes);
  std::copy(d.strides, d.strides + rank, a.record.strides);
  return a;
}

} // namespace tfm::runtime

#endif // TFM_RUNTIME_BUFFERRECORD_H
