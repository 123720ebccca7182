//===- Weights.cppm - Where an executable's weights come from ---*- C++ -*-===//
//
// The `tfm.runtime.weights` module: the model's weights, from the section
// tfmc links into the executable, a safetensors file (read through
// tfm.safetensors, the reader tfmc uses, so both accept the same files), or
// deterministic random tensors generated on first use.
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Runtime/tfm_runtime.h"
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <unordered_map>
#include <vector>
export module tfm.runtime.weights;
export import tfm.safetensors;

// The weights section tfmc links into the executable (absent: null).
extern "C" {
__attribute__((weak)) extern const char tfm_weights_begin[];
__attribute__((weak)) extern const char tfm_weights_end[];
}

export namespace tfm::runtime {

/// The model's weights: a validated safetensors file (read, or the embedded
/// section), or deterministic random tensors generated on first use.
class Weights {
public:
  /// "file:PATH", "embedded" (the section the compiler linked in),
  /// "beside:NAME" (NAME in the executable's directory) or "random:SEED";
  /// replaces what an earlier call configured; throws std::runtime_error
  /// (messages start with the path).
  void configure(const std::string &spec);
  /// The data of `name` (shape and tfm_dtype as the compiled code expects
  /// them, checked); throws std::runtime_error.
  void *get(const std::string &name, const std::vector<int64_t> &shape, int32_t dtype);
  /// The stored tensor `name` (with or without "transformer."), or null
  /// (random weights, or no such tensor).
  const safetensors::TensorInfo *find(const std::string &name) const {
    return random_ || !file_ ? nullptr : file_->lookup(name);
  }
  /// Where the weights come from, for messages.
  const std::string &path() const { return path_; }
  /// Every stored tensor (empty for random weights).
  const std::vector<safetensors::TensorInfo> &tensors() const {
    static const std::vector<safetensors::TensorInfo> none;
    return random_ || !file_ ? none : file_->tensors();
  }
  static Weights &get() {
    static Weights w;
    return w;
  }

private:
  std::string path_;
  uint64_t seed_ = 0;
  bool random_ = false;
  std::unique_ptr<safetensors::File> file_;
  std::unordered_map<std::string, std::vector<float>> generated_;
};

} // namespace tfm::runtime

namespace tfm::runtime {
namespace {
/// splitmix64: the per-element generator of random weights.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
} // namespace

void Weights::configure(const std::string &spec) {
  random_ = false;
  file_.reset();
  generated_.clear();
  path_.clear();
  std::string error;
  if (spec.rfind("random:", 0) == 0) {
    random_ = true;
    seed_ = std::stoull(spec.substr(7));
    return;
  }
  if (spec == "embedded") {
    if (!tfm_weights_begin || +tfm_weights_end <= +tfm_weights_begin)
      throw std::runtime_error("the executable has no embedded weights");
    path_ = "embedded weights";
    file_ = safetensors::File::fromBytes(path_, tfm_weights_begin,
                                         static_cast<size_t>(tfm_weights_end - tfm_weights_begin),
                                         error);
  } else if (spec.rfind("beside:", 0) == 0) {
    char exe[4096];
    ssize_t len = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    std::string dir = len > 0 ? std::string(exe, static_cast<size_t>(len)) : std::string(".");
    dir = dir.substr(0, dir.rfind('/') == std::string::npos ? 0 : dir.rfind('/'));
    return configure("file:" + (dir.empty() ? std::string(".") : dir) + "/" + spec.substr(7));
  } else if (spec.rfind("file:", 0) == 0) {
    // Read, not mapped: a file truncated or rewritten while the executable
    // runs must not raise SIGBUS or change the weights mid-run.
    path_ = spec.substr(5);
    file_ = safetensors::File::open(path_, error, safetensors::File::Load::Read);
  } else {
    throw std::runtime_error("unknown weights source '" + spec + "'");
  }
  if (!file_)
    throw std::runtime_error(error);
}

void *Weights::get(const std::string &name, const std::vector<int64_t> &shape, int32_t dtype) {
  if (random_) {
    if (dtype != TFM_DTYPE_F32)
      throw std::runtime_error("random weights are f32; '" + name + "' expects another type");
    auto it = generated_.find(name);
    if (it != generated_.end())
      return it->second.data();
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    std::vector<float> data(static_cast<size_t>(n));
    // Layer norms start as the identity (weight 1, bias 0), everything else
    // ~ N(0, 0.02) as GPT-2 initializes, from a hash of the name and the seed.
    bool isNorm = name.find("ln_") != std::string::npos;
    bool isBias = name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    uint64_t h = seed_ * 0x100000001b3ull;
    for (char c : name)
      h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    for (int64_t i = 0; i < n; ++i) {
      if (isNorm) {
        data[i] = isBias ? 0.0f : 1.0f;
        continue;
      }
      // Irwin-Hall(4) approximation of a normal: sum of 4 uniforms.
      uint64_t r = mix(h + static_cast<uint64_t>(i));
      double u = 0;
      for (int k = 0; k < 4; ++k)
        u += static_cast<double>((r >> (16 * k)) & 0xffff) / 65535.0;
      data[i] = static_cast<float>((u - 2.0) * std::sqrt(3.0) * 0.02);
    }
    return generated_.emplace(name, std::move(data)).first->second.data();
  }
  if (!file_)
    throw std::runtime_error("no weights were configured (see --weights)");
  const safetensors::TensorInfo *w = file_->lookup(name);
  if (!w)
    throw std::runtime_error(path_ + ": missing tensor '" + name + "'");
  if (w->shape != shape)
    throw std::runtime_error(path_ + ": tensor '" + name + "' changed shape since compilation");
  std::optional<safetensors::DType> expected;
  switch (dtype) {
  case TFM_DTYPE_F32: expected = safetensors::DType::F32; break;
  case TFM_DTYPE_F16: expected = safetensors::DType::F16; break;
  case TFM_DTYPE_BF16: expected = safetensors::DType::BF16; break;
  default: break;
  }
  if (w->dtype != expected)
    throw std::runtime_error(path_ + ": tensor '" + name + "' has dtype " +
                             safetensors::dtypeName(w->dtype) +
                             ", the compiled code expects another");
  return const_cast<char *>(w->data);
}


} // namespace tfm::runtime
