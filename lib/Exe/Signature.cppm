//===- Signature.cppm - What the compiled model's buffers are --*- C++ -*-===//
//
// The `tfm.exe.signature` module: the compiled model as the executables'
// driver sees it, read from the typed structures the compiler emits
// (include/tfm/Runtime/tfm_runtime.h): `tfm_model` (per buffer of the entry
// function: name, output or input, role and layer, tfm_dtype, static sizes
// and which size of a call each dynamic dimension equals) and tfmc's
// `tfm_executable_settings` (weights, matmul precision, tokenizer).
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Runtime/tfm_runtime.h"
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>
export module tfm.exe.signature;

export namespace tfm::exe {

/// One buffer of the entry function.
struct Slot {
  bool output = false;
  int32_t role = TFM_ROLE_TENSOR; ///< tfm_buffer_role
  int32_t layer = -1;
  int32_t dtype = TFM_DTYPE_F32;
  std::string type;                ///< MLIR's spelling of the dtype: f32, i64, ...
  std::vector<int64_t> shape;      ///< -1: dynamic
  std::vector<int32_t> dimSizes;   ///< tfm_dim_size per dimension
  std::string name;
};

/// The model and tfmc's settings for it.
struct Signature {
  std::vector<Slot> slots;
  int64_t context = 0;
  std::string weights; ///< a tfm_rt_set_weights spec, or ""
  std::string dtype = "f32";
  bool tokenizer = false;

  /// The index of the buffer with `role` (and `layer`), or -1.
  int find(int32_t role, int32_t layer = -1) const {
    for (size_t i = 0; i < slots.size(); ++i)
      if (slots[i].role == role && slots[i].layer == layer)
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

/// MLIR's spelling of a tfm_dtype.
inline std::string dtypeName(int32_t dtype) {
  switch (dtype) {
  case TFM_DTYPE_F32: return "f32";
  case TFM_DTYPE_F16: return "f16";
  case TFM_DTYPE_BF16: return "bf16";
  case TFM_DTYPE_I32: return "i32";
  case TFM_DTYPE_I64: return "i64";
  case TFM_DTYPE_U8: return "ui8";
  case TFM_DTYPE_I8: return "i8";
  }
  return "dtype " + std::to_string(dtype);
}

/// Reads `model` and `settings` (null: an object tfmc did not link);
/// throws std::runtime_error when the model info is of another version
/// (an object compiled by another tfm).
Signature readSignature(const tfm_model_info &model, const tfm_settings *settings) {
  if (model.version != TFM_MODEL_INFO_VERSION)
    throw std::runtime_error("the model was compiled for model-info version " +
                             std::to_string(model.version) + ", this runtime reads version " +
                             std::to_string(TFM_MODEL_INFO_VERSION) + " (recompile it)");
  Signature sig;
  sig.context = model.context_length;
  for (int32_t i = 0; i < model.num_buffers; ++i) {
    const tfm_buffer_info &b = model.buffers[i];
    Slot slot;
    slot.output = b.output != 0;
    slot.role = b.role;
    slot.layer = b.layer;
    slot.dtype = b.dtype;
    slot.type = dtypeName(b.dtype);
    slot.shape.assign(b.dims, b.dims + b.rank);
    slot.dimSizes.assign(b.dim_sizes, b.dim_sizes + b.rank);
    slot.name = b.name ? b.name : "";
    sig.slots.push_back(std::move(slot));
  }
  if (settings) {
    sig.weights = settings->weights ? settings->weights : "";
    sig.dtype = settings->dtype ? settings->dtype : "f32";
    sig.tokenizer = settings->tokenizer != 0;
  }
  return sig;
}

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

/// The .npy dtype that holds an MLIR element type ("" if none).
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
