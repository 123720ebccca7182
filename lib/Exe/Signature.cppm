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
#include <algorithm>
#include <cstdint>
#include <tuple>
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
  int32_t tokenizer = 0; ///< a tfm_tokenizer_kind
  int64_t bosTokenId = -1;          ///< the configuration's BOS id; -1: the tokenizer's
  std::vector<int64_t> eosTokenIds; ///< the configuration's stop ids; empty: the tokenizer's EOS
  int32_t pooling = TFM_POOLING_DEFAULT; ///< encoders: a tfm_pooling
  bool normalize = false;               ///< encoders: L2-normalize the embedding
  int64_t maxSeqLength = 0;             ///< encoders: truncation length (0: the context)

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
    sig.tokenizer = settings->tokenizer;
    sig.bosTokenId = settings->bos_token_id;
    if (settings->eos_token_ids)
      sig.eosTokenIds.assign(settings->eos_token_ids,
                             settings->eos_token_ids + settings->num_eos_token_ids);
    sig.pooling = settings->pooling;
    sig.normalize = settings->normalize != 0;
    sig.maxSeqLength = settings->max_seq_length;
  }
  return sig;
}

/// `[2, ?, 4]`.
std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return s + "]";
}

/// Checks what language-model mode relies on (hand-written IR may give a
/// model anything): tokens, positions and logit_rows are i64 [?] inputs,
/// logits an f32 [?, vocab] output, and every layer 0..L-1 has f32 [?, width]
/// past key and value inputs and present key and value outputs of one
/// width, each dynamic dimension the size its role defines. Returns the
/// first problem, or "".
std::string checkLanguageModel(const Signature &sig) {
  auto expect = [&](int32_t role, int32_t layer, bool output, int32_t dtype, size_t rank,
                    int32_t dimSize, const char *what) -> std::string {
    int i = sig.find(role, layer);
    std::string name = std::string(what) + (layer >= 0 ? " of layer " + std::to_string(layer) : "");
    if (i < 0)
      return "the model has no " + name;
    const Slot &s = sig.slots[i];
    if (s.output != output || s.dtype != dtype || s.shape.size() != rank ||
        s.shape[0] >= 0 || s.dimSizes[0] != dimSize)
      return "the " + name + " buffer '" + s.name + "' is " + (s.output ? "an output " : "an input ") +
             s.type + " " + shapeString(s.shape) + ", not what language-model mode passes";
    for (size_t d = 1; d < rank; ++d)
      if (s.shape[d] < 0)
        return "the " + name + " buffer '" + s.name + "' has a dynamic dimension " +
               std::to_string(d);
    return "";
  };
  for (auto [role, what, output, rank, size] :
       {std::tuple{TFM_ROLE_TOKENS, "tokens", false, 1, TFM_DIM_NEW_TOKENS},
        std::tuple{TFM_ROLE_POSITIONS, "positions", false, 1, TFM_DIM_NEW_TOKENS},
        std::tuple{TFM_ROLE_LOGITS, "logits", true, 2, TFM_DIM_LOGIT_ROWS}})
    if (std::string e = expect(role, -1, output, role == TFM_ROLE_LOGITS ? TFM_DTYPE_F32 : TFM_DTYPE_I64,
                               static_cast<size_t>(rank), size, what);
        !e.empty())
      return e;
  if (sig.find(TFM_ROLE_LOGIT_ROWS) >= 0)
    if (std::string e = expect(TFM_ROLE_LOGIT_ROWS, -1, false, TFM_DTYPE_I64, 1,
                               TFM_DIM_LOGIT_ROWS, "logit_rows");
        !e.empty())
      return e;
  int32_t layers = 0;
  for (const Slot &s : sig.slots)
    if (s.role >= TFM_ROLE_PAST_KEY && s.role <= TFM_ROLE_PRESENT_VALUE)
      layers = std::max(layers, s.layer + 1);
  int64_t width = -1;
  for (int32_t l = 0; l < layers; ++l)
    for (auto [role, what, output, size] :
         {std::tuple{TFM_ROLE_PAST_KEY, "past key", false, TFM_DIM_PAST},
          std::tuple{TFM_ROLE_PAST_VALUE, "past value", false, TFM_DIM_PAST},
          std::tuple{TFM_ROLE_PRESENT_KEY, "present key", true, TFM_DIM_PAST_AND_NEW},
          std::tuple{TFM_ROLE_PRESENT_VALUE, "present value", true, TFM_DIM_PAST_AND_NEW}}) {
      if (std::string e = expect(role, l, output, TFM_DTYPE_F32, 2, size, what); !e.empty())
        return e;
      int64_t w = sig.slots[sig.find(role, l)].shape[1];
      if (width >= 0 && w != width)
        return "the KV-cache buffers have widths " + std::to_string(width) + " and " +
               std::to_string(w);
      width = w;
    }
  for (const Slot &s : sig.slots)
    if (s.role == TFM_ROLE_TENSOR)
      return "buffer '" + s.name + "' has no role (tfm.role) in a language model";
    else if (s.role == TFM_ROLE_TOKEN_TYPES || s.role == TFM_ROLE_SEQUENCE_IDS)
      return "buffer '" + s.name + "' has an encoder's role (" +
             (s.role == TFM_ROLE_TOKEN_TYPES ? "token_types" : "sequence_ids") +
             "), which only an encoder (with a hidden output) takes";
  return "";
}

/// Checks what encoder mode relies on: tokens, positions, token_types and
/// sequence_ids are i64 [?] inputs of the call's tokens, hidden an f32 [?, width]
/// output; with a masked-LM head, logit_rows an i64 [?] input and logits an
/// f32 [?, vocab] output of those rows; no KV cache and no buffer without a
/// role. Returns the first problem, or "".
std::string checkEncoder(const Signature &sig) {
  auto expect = [&](int32_t role, bool output, int32_t dtype, size_t rank, int32_t dimSize,
                    const char *what) -> std::string {
    int i = sig.find(role);
    if (i < 0)
      return std::string("the encoder has no ") + what;
    const Slot &s = sig.slots[i];
    if (s.output != output || s.dtype != dtype || s.shape.size() != rank || s.shape[0] >= 0 ||
        s.dimSizes[0] != dimSize || (rank == 2 && s.shape[1] < 0))
      return std::string("the ") + what + " buffer '" + s.name + "' is " +
             (s.output ? "an output " : "an input ") + s.type + " " + shapeString(s.shape) +
             ", not what encoder mode passes";
    return "";
  };
  for (auto [role, what, output, rank] :
       {std::tuple{TFM_ROLE_TOKENS, "tokens", false, 1}, {TFM_ROLE_POSITIONS, "positions", false, 1},
        {TFM_ROLE_TOKEN_TYPES, "token_types", false, 1},
        {TFM_ROLE_SEQUENCE_IDS, "sequence_ids", false, 1}, {TFM_ROLE_HIDDEN, "hidden", true, 2}})
    if (std::string e = expect(role, output, output ? TFM_DTYPE_F32 : TFM_DTYPE_I64,
                               static_cast<size_t>(rank), TFM_DIM_NEW_TOKENS, what);
        !e.empty())
      return e;
  if ((sig.find(TFM_ROLE_LOGITS) >= 0) != (sig.find(TFM_ROLE_LOGIT_ROWS) >= 0))
    return "the encoder has one of logits and logit_rows without the other";
  if (sig.find(TFM_ROLE_LOGITS) >= 0)
    for (auto [role, what, output, rank] :
         {std::tuple{TFM_ROLE_LOGIT_ROWS, "logit_rows", false, 1}, {TFM_ROLE_LOGITS, "logits", true, 2}})
      if (std::string e = expect(role, output, output ? TFM_DTYPE_F32 : TFM_DTYPE_I64,
                                 static_cast<size_t>(rank), TFM_DIM_LOGIT_ROWS, what);
          !e.empty())
        return e;
  for (const Slot &s : sig.slots)
    if (s.role == TFM_ROLE_TENSOR || (s.role >= TFM_ROLE_PAST_KEY && s.role <= TFM_ROLE_PRESENT_VALUE))
      return "buffer '" + s.name + "' has " +
             (s.role == TFM_ROLE_TENSOR ? "no role (tfm.role)" : "a KV-cache role") +
             " in an encoder";
  for (size_t i = 0; i < sig.slots.size(); ++i)
    if (sig.find(sig.slots[i].role) != static_cast<int>(i))
      return "the encoder has two '" + sig.slots[i].name + "' buffers of one role";
  return "";
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


} // namespace tfm::exe
