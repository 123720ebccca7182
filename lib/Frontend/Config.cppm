//===- Config.cppm - config.json, read and checked; the family-neutral model -*- C++ -*-===//
//
// The `tfm.frontend.config` module has two halves:
//  * HfConfig: typed reads of any Hugging Face config.json with llvm::json,
//    as transformers' configuration classes read it (a key and its aliases,
//    the class default when absent), each checked (types, ranges bounded so
//    that no later product overflows) with one-line errors naming the file
//    and the key; keys keep their line and column for the IR's locations.
//  * ModelConfig: the family-neutral hyperparameters a model family fills
//    (lib/Frontend/Models/*) and the shared building blocks read
//    (lib/Frontend/Blocks.cppm): in the manner of llama.cpp's llama_hparams.
//
//===----------------------------------------------------------------------===//

module;
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include <cmath>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>
export module tfm.frontend.config;

import tfm.json_depth;
import tfm.output_file;

export namespace tfm::frontend {

/// The MLP activation: every function of Hugging Face's ACT2FN without
/// parameters of its own that tfm's ops compose exactly (see
/// ModelBuilder::activation for the formulas).
enum class Activation {
  GeluTanh, GeluErf, Relu, Silu, QuickGelu, Gelu10, Laplace, LeakyRelu, Linear, Relu2, Relu6,
  Sigmoid, Tanh
};
enum class Positions { Learned, Sinusoidal, Rope, None };
enum class NormKind { Layer, Rms };

/// Reads `name` as an ACT2FN activation; errors name `key`.
llvm::Expected<Activation> parseActivation(llvm::StringRef name, llvm::StringRef key);

/// A config.json, parsed, with typed reads as transformers' configuration
/// classes do them. `names` lists the key and the aliases its class maps to
/// the same attribute (GPT2Config's attribute_map: hidden_size -> n_embd);
/// the first one present is read and named in errors (the first of `names`
/// when none is). Errors are one line: `path: key 'k' ...`.
class HfConfig {
public:
  /// Reads the JSON object at `path` (protected as an input of this run).
  static llvm::Expected<HfConfig> read(const std::string &path);

  const std::string &path() const { return path_; }
  const std::string &text() const { return text_; }
  const llvm::json::Object &root() const { return *json_.getAsObject(); }
  /// 1-based line and column of `"key"` (1:1 if absent).
  std::pair<unsigned, unsigned> keyPosition(llvm::StringRef key) const;
  llvm::Error fail(const llvm::Twine &why) const;

  /// The value of the first of `names` present and not null (its name in
  /// `found`), or null.
  const llvm::json::Value *get(llvm::ArrayRef<llvm::StringRef> names,
                               llvm::StringRef *found = nullptr) const;
  /// A positive integer at most `limit`; absent or null: `fallback`, or the
  /// error "missing key" without one.
  llvm::Error size(llvm::ArrayRef<llvm::StringRef> names, int64_t limit, int64_t &out,
                   std::optional<int64_t> fallback = std::nullopt) const;
  /// true or false; absent or null: `out` unchanged.
  llvm::Error flag(llvm::ArrayRef<llvm::StringRef> names, bool &out) const;
  /// A finite number; absent or null: `out` unchanged.
  llvm::Error number(llvm::ArrayRef<llvm::StringRef> names, double &out) const;
  /// A string; absent or null: `out` unchanged.
  llvm::Error string(llvm::ArrayRef<llvm::StringRef> names, std::string &out) const;

private:
  std::string path_, text_;
  llvm::json::Value json_ = nullptr;
};

/// A checked model configuration in family-neutral terms. Shapes: width D,
/// heads H of head_dim Dh (H x Dh need not be D), kv_heads KVH dividing H,
/// intermediate (MLP) width F.
struct ModelConfig {
  std::string path;      ///< config.json
  std::string text;      ///< its contents (for locations)
  std::string modelType; ///< the registry key ("gpt2", "llama", ...)
  int64_t vocabSize = 0, contextLength = 0, width = 0, layers = 0, heads = 0, kvHeads = 0,
          headDim = 0, intermediate = 0;
  NormKind norm = NormKind::Layer;
  double normEps = 1e-5;
  Activation activation = Activation::GeluTanh;
  bool gatedMlp = false; ///< down(act(gate(x)) * up(x)), else fc2(act(fc1(x)))
  Positions positions = Positions::Learned;
  /// With Positions::Rope: the rotated dims r of each head and the r/2
  /// inverse frequencies (f32, as transformers computes them; any scaling
  /// already applied). `ropeScale` multiplies cos and sin (YaRN's
  /// attention factor; 1 otherwise).
  int64_t rotaryDim = 0;
  std::vector<float> invFreq;
  double ropeTheta = 10000.0;
  /// Scores are multiplied by attentionScale (1/sqrt(Dh), or 1 without GPT-2's
  /// scale_attn_weights) and, with scaleByInverseLayer, divided by layer + 1.
  double attentionScale = 1.0;
  bool scaleByInverseLayer = false;
  bool causal = true;
  /// Per layer: the sliding window (0: none).
  std::vector<int64_t> windows;
  bool parallelResidual = false;
  bool tieWordEmbeddings = true;
  bool qkvBias = true, outputBias = true, mlpBias = true;
  /// config.json's `eos_token_id` (an int or a list; absent or null: empty)
  /// and `bos_token_id` (absent or null: -1), as transformers'
  /// GenerationConfig.from_model_config takes them.
  std::vector<int64_t> eosTokenIds;
  int64_t bosTokenId = -1;
  /// The config.json key behind a what, for locations: "width" is
  /// "n_embd" for GPT-2 and "hidden_size" for Llama (set by the family).
  llvm::StringMap<std::string> keys;

  std::string key(llvm::StringRef what) const {
    auto it = keys.find(what);
    return it == keys.end() ? what.str() : it->second;
  }
  /// 1-based line and column of `"key"` in config.json (1:1 if absent).
  std::pair<unsigned, unsigned> keyPosition(llvm::StringRef key) const;
};

/// The special token ids of generation_config.json (transformers'
/// GenerationConfig): a key that is present replaces config.json's.
struct GenerationConfig {
  std::optional<std::vector<int64_t>> eosTokenIds;
  std::optional<int64_t> bosTokenId;
};

/// Reads `eos_token_id` and `bos_token_id` of `root` (config.json or
/// generation_config.json) into `out`: null is "none" (an empty list, -1),
/// an absent key leaves `out` as it is. Ids must be in [0, vocabSize).
llvm::Error readSpecialTokenIds(const llvm::json::Object &root, const std::string &path,
                                int64_t vocabSize, GenerationConfig &out);

/// Reads `eos_token_id` (an int, a list of ints, or null) and `bos_token_id`
/// (an int or null) of generation_config.json at `path`; every id must be in
/// [0, vocabSize). Other keys (sampling defaults) are not read. Errors are one
/// line: `path: key 'eos_token_id' ...`.
llvm::Expected<GenerationConfig> parseGenerationConfig(const std::string &path, int64_t vocabSize);

} // namespace tfm::frontend

namespace tfm::frontend {

namespace {
std::pair<unsigned, unsigned> positionIn(llvm::StringRef text, llvm::StringRef key) {
  size_t pos = text.find(("\"" + key + "\"").str());
  if (pos == llvm::StringRef::npos)
    return {1, 1};
  unsigned line = 1, col = 1;
  for (size_t i = 0; i < pos; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

/// Reads the JSON file at `path` (its text into `text`), protected as an
/// input of this run; errors name the file: unreadable, nested too deep,
/// malformed, or not an object at the top level.
llvm::Expected<llvm::json::Value> readJsonObject(const std::string &path, std::string &text) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), path + ": " + why);
  };
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return fail("cannot open file: " + buffer.getError().message());
  tfm::output::protectInput(path); // no output of this run may replace it
  text = (*buffer)->getBuffer().str();
  if (auto at = tfm::json::tooDeepAt(text))
    return fail("JSON nests deeper than " + llvm::Twine(tfm::json::kMaxDepth) + " levels (at byte " +
                llvm::Twine(*at) + ")");
  auto json = llvm::json::parse(text);
  if (!json)
    return fail("malformed JSON: " + llvm::toString(json.takeError()));
  if (!json->getAsObject())
    return fail("expected a JSON object at the top level");
  return json;
}
} // namespace

std::pair<unsigned, unsigned> ModelConfig::keyPosition(llvm::StringRef key) const {
  return positionIn(text, key);
}

std::pair<unsigned, unsigned> HfConfig::keyPosition(llvm::StringRef key) const {
  return positionIn(text_, key);
}

llvm::Expected<HfConfig> HfConfig::read(const std::string &path) {
  HfConfig c;
  c.path_ = path;
  auto json = readJsonObject(path, c.text_);
  if (!json)
    return json.takeError();
  c.json_ = std::move(*json);
  return c;
}

llvm::Error HfConfig::fail(const llvm::Twine &why) const {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), path_ + ": " + why);
}

const llvm::json::Value *HfConfig::get(llvm::ArrayRef<llvm::StringRef> names,
                                       llvm::StringRef *found) const {
  for (llvm::StringRef name : names)
    if (const llvm::json::Value *v = root().get(name); v && v->kind() != llvm::json::Value::Null) {
      if (found)
        *found = name;
      return v;
    }
  if (found)
    *found = names.front();
  return nullptr;
}

llvm::Error HfConfig::size(llvm::ArrayRef<llvm::StringRef> names, int64_t limit, int64_t &out,
                           std::optional<int64_t> fallback) const {
  llvm::StringRef key;
  const llvm::json::Value *v = get(names, &key);
  if (!v) {
    bool isNull = llvm::any_of(names, [&](llvm::StringRef n) { return root().get(n); });
    if (!fallback)
      return fail(isNull ? "key '" + key + "' must be a positive integer"
                         : "missing key '" + key + "'");
    out = *fallback;
    return llvm::Error::success();
  }
  // Sizes are bounded so that every size derived from them (4 x width,
  // vocab x width, per-layer buffers) stays far from int64 overflow and from
  // absurd allocations. A number is range-checked as a double first:
  // llvm::json converts an integral double such as 2^63 to int64 without a
  // range check that holds at the boundary.
  if (auto d = v->getAsNumber(); d && *d > static_cast<double>(limit)) {
    std::string shown = *d < 1e15 && *d == std::floor(*d)
                            ? std::to_string(static_cast<long long>(*d))
                            : llvm::formatv("{0:e}", *d).str();
    return fail("key '" + key + "' (" + shown + ") is larger than " + llvm::Twine(limit) +
                ", the most tfm accepts");
  }
  auto i = v->getAsInteger();
  if (!i || *i <= 0)
    return fail("key '" + key + "' must be a positive integer");
  if (*i > limit)
    return fail("key '" + key + "' (" + llvm::Twine(*i) + ") is larger than " +
                llvm::Twine(limit) + ", the most tfm accepts");
  out = *i;
  return llvm::Error::success();
}

llvm::Error HfConfig::flag(llvm::ArrayRef<llvm::StringRef> names, bool &out) const {
  llvm::StringRef key;
  const llvm::json::Value *v = get(names, &key);
  if (!v)
    return llvm::Error::success();
  auto b = v->getAsBoolean();
  if (!b)
    return fail("key '" + key + "' must be true or false");
  out = *b;
  return llvm::Error::success();
}

llvm::Error HfConfig::number(llvm::ArrayRef<llvm::StringRef> names, double &out) const {
  llvm::StringRef key;
  const llvm::json::Value *v = get(names, &key);
  if (!v)
    return llvm::Error::success();
  auto d = v->getAsNumber();
  if (!d)
    return fail("key '" + key + "' must be a number");
  // JSON has no infinity, but 1e400 parses as one (and every logit then
  // came out the same, exit 0).
  if (!std::isfinite(*d))
    return fail("key '" + key + "' must be a finite number; its value overflows a double");
  out = *d;
  return llvm::Error::success();
}

llvm::Error HfConfig::string(llvm::ArrayRef<llvm::StringRef> names, std::string &out) const {
  llvm::StringRef key;
  const llvm::json::Value *v = get(names, &key);
  if (!v)
    return llvm::Error::success();
  auto s = v->getAsString();
  if (!s)
    return fail("key '" + key + "' must be a string");
  out = s->str();
  return llvm::Error::success();
}

llvm::Expected<Activation> parseActivation(llvm::StringRef s, llvm::StringRef key) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), why);
  };
  // Hugging Face's ACT2FN: gelu_new, gelu_pytorch_tanh, gelu_fast and
  // gelu_accurate are all 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  // (written differently); gelu and gelu_python are the erf form; silu and
  // swish are x sigmoid(x); quick_gelu is x sigmoid(1.702 x).
  if (s == "gelu_new" || s == "gelu_pytorch_tanh" || s == "gelu_fast" || s == "gelu_accurate")
    return Activation::GeluTanh;
  if (s == "gelu" || s == "gelu_python")
    return Activation::GeluErf;
  if (s == "relu")
    return Activation::Relu;
  if (s == "silu" || s == "swish")
    return Activation::Silu;
  if (s == "quick_gelu")
    return Activation::QuickGelu;
  if (s == "gelu_10")
    return Activation::Gelu10;
  if (s == "laplace")
    return Activation::Laplace;
  if (s == "leaky_relu")
    return Activation::LeakyRelu;
  if (s == "linear")
    return Activation::Linear;
  if (s == "relu2")
    return Activation::Relu2;
  if (s == "relu6")
    return Activation::Relu6;
  if (s == "sigmoid")
    return Activation::Sigmoid;
  if (s == "tanh")
    return Activation::Tanh;
  if (s == "mish" || s == "prelu")
    return fail("key '" + key + "': \"" + s + "\" is not supported (" +
                (s == "mish" ? "mish needs a softplus (a logarithm), which tfm's ops lack"
                             : "prelu has a learned parameter the MLP does not load") +
                ")");
  return fail("key '" + key + "': unknown activation \"" + s +
              "\" (expected gelu_new, gelu_pytorch_tanh, gelu_fast, gelu_accurate, gelu, "
              "gelu_python, gelu_10, laplace, leaky_relu, linear, quick_gelu, relu, relu2, "
              "relu6, sigmoid, silu, swish or tanh)");
}

llvm::Error readSpecialTokenIds(const llvm::json::Object &root, const std::string &path,
                                int64_t vocabSize, GenerationConfig &out) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), path + ": " + why);
  };
  auto id = [&](llvm::StringRef key, const llvm::json::Value &v) -> llvm::Expected<int64_t> {
    auto d = v.getAsNumber();
    auto i = v.getAsInteger();
    if (!d || !i || static_cast<double>(*i) != *d)
      return fail("key '" + key + "' must be a token id (an integer) or null");
    if (*i < 0 || *i >= vocabSize)
      return fail("key '" + key + "' (" + llvm::Twine(*i) + ") is not a token id of the model: "
                  "ids are 0 to vocab_size - 1 = " + llvm::Twine(vocabSize - 1));
    return *i;
  };
  if (const llvm::json::Value *v = root.get("eos_token_id")) {
    std::vector<int64_t> ids;
    if (const llvm::json::Array *list = v->getAsArray()) {
      for (const llvm::json::Value &e : *list) {
        auto i = id("eos_token_id", e);
        if (!i)
          return i.takeError();
        ids.push_back(*i);
      }
    } else if (v->kind() != llvm::json::Value::Null) {
      auto i = id("eos_token_id", *v);
      if (!i)
        return i.takeError();
      ids.push_back(*i);
    }
    out.eosTokenIds = std::move(ids);
  }
  if (const llvm::json::Value *v = root.get("bos_token_id")) {
    out.bosTokenId = -1;
    if (v->kind() != llvm::json::Value::Null) {
      auto i = id("bos_token_id", *v);
      if (!i)
        return i.takeError();
      out.bosTokenId = *i;
    }
  }
  return llvm::Error::success();
}

llvm::Expected<GenerationConfig> parseGenerationConfig(const std::string &path, int64_t vocabSize) {
  std::string text;
  auto json = readJsonObject(path, text);
  if (!json)
    return json.takeError();
  auto *root = json->getAsObject();
  GenerationConfig g;
  if (auto e = readSpecialTokenIds(*root, path, vocabSize, g))
    return std::move(e);
  return g;
}

} // namespace tfm::frontend
