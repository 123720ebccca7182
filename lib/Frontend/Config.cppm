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
#include <algorithm>
#include <limits>
#include <numbers>
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
  /// Encoders (BERT): no KV cache; the entry function returns the last
  /// hidden state (and a masked-LM head's logits); token type (segment)
  /// embeddings have typeVocabSize rows (0: none).
  bool encoder = false;
  int64_t typeVocabSize = 0;
  /// config.json's `architectures` (which head a randomly initialized model has).
  std::vector<std::string> architectures;
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

/// Reads the JSON file at `path` (its text into `text`), protected as an
/// input of this run; errors name the file: unreadable, nested deeper than
/// tfm::json::kMaxDepth (with the byte offset), or malformed.
llvm::Expected<llvm::json::Value> readJsonFile(const std::string &path, std::string &text);

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

/// Reads a number of `object` (rope_scaling or rope_parameters, named
/// `where` in errors) at `key`; absent or null: `fallback`, else an error.
llvm::Expected<double> ropeNumber(const HfConfig &h, const llvm::json::Object &object,
                                  llvm::StringRef where, llvm::StringRef key,
                                  std::optional<double> fallback);

/// Fills c.invFreq with the `c.rotaryDim / 2` inverse frequencies of base
/// `c.ropeTheta` under the scaling `scaling` (rope_scaling or
/// rope_parameters, named `where`; null: none), with the formulas of
/// transformers' modeling_rope_utils.py: default, linear, llama3, yarn (whose
/// attention factor is returned in `attentionFactor`, else 1); dynamic and
/// longrope are refused (their tables change with the sequence length).
llvm::Error ropeParameters(const HfConfig &h, const llvm::json::Object *scaling,
                           llvm::StringRef where, ModelConfig &c, double &attentionFactor);

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
  auto json = readJsonFile(path, text);
  if (json && !json->getAsObject())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": expected a JSON object at the top level");
  return json;
}
} // namespace

llvm::Expected<llvm::json::Value> readJsonFile(const std::string &path, std::string &text) {
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
  return json;
}

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

//===----------------------------------------------------------------------===//
// Rotary positions
//===----------------------------------------------------------------------===//

llvm::Expected<double> ropeNumber(const HfConfig &h, const llvm::json::Object &object,
                                  llvm::StringRef where, llvm::StringRef key,
                                  std::optional<double> fallback) {
  const llvm::json::Value *v = object.get(key);
  if (!v || v->kind() == llvm::json::Value::Null) {
    if (!fallback)
      return h.fail("key '" + where + "': missing '" + key + "'");
    return *fallback;
  }
  auto d = v->getAsNumber();
  if (!d || !std::isfinite(*d))
    return h.fail("key '" + where + "': '" + key + "' must be a finite number");
  return *d;
}

llvm::Error ropeParameters(const HfConfig &h, const llvm::json::Object *scaling,
                           llvm::StringRef where, ModelConfig &c, double &attentionFactor) {
  int64_t dim = c.rotaryDim;
  double base = c.ropeTheta;
  std::vector<double> inv(dim / 2);
  for (int64_t i = 0; i < dim / 2; ++i)
    inv[i] = 1.0 / std::pow(base, static_cast<double>(2 * i) / dim);
  attentionFactor = 1.0;
  std::string type = "default";
  if (scaling) {
    for (llvm::StringRef key : {"rope_type", "type"})
      if (auto s = scaling->getString(key)) {
        type = s->str();
        break;
      }
  }
  auto number = [&](llvm::StringRef key, std::optional<double> fallback) {
    return ropeNumber(h, *scaling, where, key, fallback);
  };
  if (type == "default") {
  } else if (type == "linear") {
    // Position interpolation (Chen et al. 2023): positions / factor.
    auto factor = number("factor", std::nullopt);
    if (!factor)
      return factor.takeError();
    if (*factor <= 0)
      return h.fail("key '" + where + "': 'factor' must be positive");
    for (double &f : inv)
      f /= *factor;
  } else if (type == "llama3") {
    // Llama 3.1: low frequencies divided by factor, high ones kept, a smooth
    // ramp between (_compute_llama3_parameters).
    auto factor = number("factor", std::nullopt);
    auto low = number("low_freq_factor", std::nullopt);
    auto high = number("high_freq_factor", std::nullopt);
    auto old = number("original_max_position_embeddings", std::nullopt);
    for (auto *e : {&factor, &low, &high, &old})
      if (!*e)
        return e->takeError();
    if (*factor <= 0 || *low <= 0 || *high <= *low || *old <= 0)
      return h.fail("key '" + where + "': llama3 scaling needs factor > 0, "
                    "0 < low_freq_factor < high_freq_factor and "
                    "original_max_position_embeddings > 0");
    double lowWavelen = *old / *low, highWavelen = *old / *high;
    for (double &f : inv) {
      double wavelen = 2 * std::numbers::pi / f;
      double scaled = wavelen > lowWavelen ? f / *factor : f;
      if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
        double smooth = (*old / wavelen - *low) / (*high - *low);
        scaled = (1 - smooth) * scaled / *factor + smooth * scaled;
      }
      f = scaled;
    }
  } else if (type == "yarn") {
    // YaRN (Peng et al. 2023; _compute_yarn_parameters): interpolated and
    // extrapolated frequencies mixed by a ramp over the correction range,
    // and an attention factor on cos and sin.
    auto factor = number("factor", std::nullopt);
    if (!factor)
      return factor.takeError();
    if (*factor <= 0)
      return h.fail("key '" + where + "': 'factor' must be positive");
    double f = *factor;
    auto originalV = number("original_max_position_embeddings",
                            static_cast<double>(c.contextLength));
    if (!originalV)
      return originalV.takeError();
    double original = *originalV;
    // DeepSeek-V3-style configs raise max_position_embeddings and keep the
    // pretrained length: the ratio is the factor of the attention scaling.
    if (scaling->get("original_max_position_embeddings"))
      f = static_cast<double>(c.contextLength) / original;
    auto mscaleOf = [](double scale, double m) {
      return scale <= 1 ? 1.0 : 0.1 * m * std::log(scale) + 1.0;
    };
    auto af = number("attention_factor", -1.0);
    auto ms = number("mscale", 0.0);
    auto msAll = number("mscale_all_dim", 0.0);
    auto betaFast = number("beta_fast", 32.0);
    auto betaSlow = number("beta_slow", 1.0);
    for (auto *e : {&af, &ms, &msAll, &betaFast, &betaSlow})
      if (!*e)
        return e->takeError();
    if (*af >= 0)
      attentionFactor = *af;
    else if (*ms != 0 && *msAll != 0)
      attentionFactor = mscaleOf(f, *ms) / mscaleOf(f, *msAll);
    else
      attentionFactor = mscaleOf(f, 1.0);
    bool truncate = true;
    if (auto t = scaling->getBoolean("truncate"))
      truncate = *t;
    auto correctionDim = [&](double rotations) {
      return dim * std::log(original / (rotations * 2 * std::numbers::pi)) / (2 * std::log(base));
    };
    double lo = correctionDim(*betaFast), hi = correctionDim(*betaSlow);
    if (truncate) {
      lo = std::floor(lo);
      hi = std::ceil(hi);
    }
    lo = std::max(lo, 0.0);
    hi = std::min(hi, static_cast<double>(dim - 1));
    if (lo == hi)
      hi += 0.001;
    for (int64_t i = 0; i < dim / 2; ++i) {
      double posFreq = std::pow(base, static_cast<double>(2 * i) / dim);
      double ramp = std::clamp((static_cast<double>(i) - lo) / (hi - lo), 0.0, 1.0);
      double extrapolation = 1 - ramp;
      inv[i] = 1.0 / (f * posFreq) * (1 - extrapolation) + 1.0 / posFreq * extrapolation;
    }
  } else if (type == "dynamic") {
    return h.fail("key '" + where + "': rope_type \"dynamic\" (dynamic NTK) is not supported: "
                  "its frequencies change with the sequence length at run time, and tfm's "
                  "rotary table is fixed when compiling");
  } else if (type == "longrope") {
    return h.fail("key '" + where + "': rope_type \"longrope\" is not supported: it switches "
                  "between two factor lists by the sequence length at run time");
  } else {
    return h.fail("key '" + where + "': unknown rope_type \"" + type +
                  "\" (expected default, linear, llama3 or yarn)");
  }
  c.invFreq.assign(inv.begin(), inv.end());
  return llvm::Error::success();
}
} // namespace tfm::frontend
