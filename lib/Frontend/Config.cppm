//===- Config.cppm - GPT-2 family config.json, read and checked -*- C++ -*-===//
//
// The `tfm.frontend.config` module: reads a Hugging Face style GPT-2
// config.json (plus tfm's extensions, docs/model-description.md) with
// llvm::json and checks every key: types, ranges (sizes bounded so that no
// later product overflows), combinations (n_embd divisible by n_head, ...).
// Errors are one line naming the file, the key and what is wrong; keys keep
// their line and column for the locations of the IR built from them.
//
//===----------------------------------------------------------------------===//

module;
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>
export module tfm.frontend.config;

import tfm.json_depth;
import tfm.output_file;

export namespace tfm::frontend {

/// GPT2MLP's activations, as Hugging Face's ACT2FN names them.
/// The MLP activation: every function of Hugging Face's ACT2FN without
/// parameters of its own that tfm's ops compose exactly (see
/// GPT2Builder::activation for the formulas).
enum class Activation {
  GeluTanh, GeluErf, Relu, Silu, QuickGelu, Gelu10, Laplace, LeakyRelu, Linear, Relu2, Relu6,
  Sigmoid, Tanh
};
enum class Positions { Learned, Sinusoidal, Rope, None };

/// A checked GPT-2 family configuration.
struct Config {
  std::string path; ///< config.json
  std::string text; ///< its contents (for locations)
  int64_t vocabSize, nPositions, nEmbd, nLayer, nHead, nInner;
  double layerNormEpsilon = 1e-5;
  Activation activation = Activation::GeluTanh;
  bool scaleAttnWeights = true;
  bool scaleAttnByInverseLayerIdx = false;
  bool tieWordEmbeddings = true;
  Positions positions = Positions::Learned;
  int64_t rotaryDim = 0; ///< with Positions::Rope
  double ropeTheta = 10000.0;
  bool isCausal = true;
  /// config.json's `eos_token_id` (an int or a list; absent or null: empty)
  /// and `bos_token_id` (absent or null: -1), as transformers'
  /// GenerationConfig.from_model_config takes them.
  std::vector<int64_t> eosTokenIds;
  int64_t bosTokenId = -1;

  int64_t headDim() const { return nEmbd / nHead; }
  /// 1-based line and column of `"key"` in config.json (1:1 if absent).
  std::pair<unsigned, unsigned> keyPosition(llvm::StringRef key) const;
};

/// Parses and checks config.json; errors are one line: `path: key: what`.
llvm::Expected<Config> parseConfig(const std::string &path);

/// The special token ids of generation_config.json (transformers'
/// GenerationConfig): a key that is present replaces config.json's.
struct GenerationConfig {
  std::optional<std::vector<int64_t>> eosTokenIds;
  std::optional<int64_t> bosTokenId;
};

/// Reads `eos_token_id` (an int, a list of ints, or null) and `bos_token_id`
/// (an int or null) of generation_config.json at `path`; every id must be in
/// [0, vocabSize). Other keys (sampling defaults) are not read. Errors are one
/// line: `path: key 'eos_token_id' ...`.
llvm::Expected<GenerationConfig> parseGenerationConfig(const std::string &path, int64_t vocabSize);

} // namespace tfm::frontend

namespace tfm::frontend {

//===----------------------------------------------------------------------===//
// config.json
//===----------------------------------------------------------------------===//

std::pair<unsigned, unsigned> Config::keyPosition(llvm::StringRef key) const {
  size_t pos = llvm::StringRef(text).find(("\"" + key + "\"").str());
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

/// The largest value tfm accepts for each size in config.json: well above
/// every published GPT-2-style model (GPT-3 175B: n_embd 12288, 96 layers,
/// 96 heads; vocabularies up to ~256K; contexts up to 1M), far below what
/// would overflow int64 in any size computed from them.
const llvm::StringMap<int64_t> kMaxSize = {
    {"vocab_size", int64_t(1) << 22}, {"n_positions", int64_t(1) << 20},
    {"n_embd", int64_t(1) << 16},     {"n_layer", 1024},
    {"n_head", int64_t(1) << 12},     {"n_inner", int64_t(1) << 18},
    {"rotary_dim", int64_t(1) << 16}};

/// Reads `eos_token_id` and `bos_token_id` of `root` (config.json or
/// generation_config.json) into `out`: null is "none" (an empty list, -1),
/// an absent key leaves `out` as it is.
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

llvm::Expected<Config> parseConfig(const std::string &path) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), path + ": " + why);
  };
  Config c;
  c.path = path;
  auto json = readJsonObject(path, c.text);
  if (!json)
    return json.takeError();
  auto *root = json->getAsObject();

  // Sizes are bounded (kMaxSize below) so that every size derived from them
  // (4 * n_embd, vocab x n_embd, per-layer buffers) stays far from int64
  // overflow and from absurd allocations. A number is range-checked as a
  // double first: llvm::json converts an integral double such as 2^63 to
  // int64 without a range check that holds at the boundary.
  auto positiveInt = [&](llvm::StringRef key, int64_t &out) -> llvm::Error {
    const llvm::json::Value *v = root->get(key);
    if (!v)
      return fail("missing key '" + key + "'");
    int64_t limit = kMaxSize.lookup(key);
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
  };
  auto optionalBool = [&](llvm::StringRef key, bool &out) -> llvm::Error {
    const llvm::json::Value *v = root->get(key);
    if (!v || v->kind() == llvm::json::Value::Null)
      return llvm::Error::success();
    auto b = v->getAsBoolean();
    if (!b)
      return fail("key '" + key + "' must be true or false");
    out = *b;
    return llvm::Error::success();
  };
  auto optionalNumber = [&](llvm::StringRef key, double &out) -> llvm::Error {
    const llvm::json::Value *v = root->get(key);
    if (!v || v->kind() == llvm::json::Value::Null)
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
  };

  auto modelType = root->getString("model_type");
  if (!modelType)
    return fail("missing key 'model_type' (expected \"gpt2\")");
  if (*modelType != "gpt2")
    return fail("key 'model_type' is \"" + *modelType + "\"; only \"gpt2\" is supported");
  for (auto [key, field] : {std::pair{"vocab_size", &c.vocabSize},
                            {"n_positions", &c.nPositions},
                            {"n_embd", &c.nEmbd},
                            {"n_layer", &c.nLayer},
                            {"n_head", &c.nHead}})
    if (auto e = positiveInt(key, *field))
      return std::move(e);
  // Tables of vocab x width and positions x width (embeddings, sinusoidal
  // and rotary tables) at most 2^32 elements (16 GiB in f32).
  for (auto [key, rows] : {std::pair{"vocab_size", c.vocabSize}, {"n_positions", c.nPositions}})
    if (rows * c.nEmbd > (int64_t(1) << 32))
      return fail(llvm::formatv("key '{0}' ({1}) x 'n_embd' ({2}) is more than 2^32 table "
                                "elements, the most tfm accepts", key, rows, c.nEmbd));
  c.nInner = 4 * c.nEmbd;
  if (const llvm::json::Value *v = root->get("n_inner"); v && v->kind() != llvm::json::Value::Null)
    if (auto e = positiveInt("n_inner", c.nInner))
      return std::move(e);
  if (c.nEmbd % c.nHead != 0)
    return fail(llvm::formatv("key 'n_embd' ({0}) is not divisible by 'n_head' ({1})",
                              c.nEmbd, c.nHead));
  if (auto e = optionalNumber("layer_norm_epsilon", c.layerNormEpsilon))
    return std::move(e);
  if (c.layerNormEpsilon < 0)
    return fail("key 'layer_norm_epsilon' must be non-negative");
  if (const llvm::json::Value *v = root->get("activation_function")) {
    auto s = v->getAsString();
    if (!s)
      return fail("key 'activation_function' must be a string");
    // Hugging Face's ACT2FN: gelu_new, gelu_pytorch_tanh, gelu_fast and
    // gelu_accurate are all 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    // (written differently); gelu and gelu_python are the erf form; silu and
    // swish are x sigmoid(x); quick_gelu is x sigmoid(1.702 x).
    if (*s == "gelu_new" || *s == "gelu_pytorch_tanh" || *s == "gelu_fast" ||
        *s == "gelu_accurate")
      c.activation = Activation::GeluTanh;
    else if (*s == "gelu" || *s == "gelu_python")
      c.activation = Activation::GeluErf;
    else if (*s == "relu")
      c.activation = Activation::Relu;
    else if (*s == "silu" || *s == "swish")
      c.activation = Activation::Silu;
    else if (*s == "quick_gelu")
      c.activation = Activation::QuickGelu;
    else if (*s == "gelu_10")
      c.activation = Activation::Gelu10;
    else if (*s == "laplace")
      c.activation = Activation::Laplace;
    else if (*s == "leaky_relu")
      c.activation = Activation::LeakyRelu;
    else if (*s == "linear")
      c.activation = Activation::Linear;
    else if (*s == "relu2")
      c.activation = Activation::Relu2;
    else if (*s == "relu6")
      c.activation = Activation::Relu6;
    else if (*s == "sigmoid")
      c.activation = Activation::Sigmoid;
    else if (*s == "tanh")
      c.activation = Activation::Tanh;
    else if (*s == "mish" || *s == "prelu")
      return fail("key 'activation_function': \"" + *s + "\" is not supported (" +
                  (*s == "mish" ? "mish needs a softplus (a logarithm), which tfm's ops lack"
                                : "prelu has a learned parameter GPT2MLP does not load") +
                  ")");
    else
      return fail("key 'activation_function': unknown activation \"" + *s +
                  "\" (expected gelu_new, gelu_pytorch_tanh, gelu_fast, gelu_accurate, gelu, "
                  "gelu_python, gelu_10, laplace, leaky_relu, linear, quick_gelu, relu, relu2, "
                  "relu6, sigmoid, silu, swish or tanh)");
  }
  for (auto [key, field] : {std::pair{"scale_attn_weights", &c.scaleAttnWeights},
                            {"scale_attn_by_inverse_layer_idx", &c.scaleAttnByInverseLayerIdx},
                            {"tie_word_embeddings", &c.tieWordEmbeddings},
                            {"is_causal", &c.isCausal}})
    if (auto e = optionalBool(key, *field))
      return std::move(e);
  if (const llvm::json::Value *v = root->get("position_embedding_type")) {
    auto s = v->getAsString();
    if (!s)
      return fail("key 'position_embedding_type' must be a string");
    if (*s == "learned" || *s == "absolute")
      c.positions = Positions::Learned;
    else if (*s == "sinusoidal")
      c.positions = Positions::Sinusoidal;
    else if (*s == "rope")
      c.positions = Positions::Rope;
    else if (*s == "none")
      c.positions = Positions::None;
    else
      return fail("key 'position_embedding_type': unknown type \"" + *s +
                  "\" (expected learned, sinusoidal, rope or none)");
  }
  if (c.positions == Positions::Sinusoidal && c.nEmbd % 2 != 0)
    return fail(llvm::formatv("key 'position_embedding_type': sinusoidal positions need an "
                              "even n_embd, got {0}", c.nEmbd));
  c.rotaryDim = c.headDim();
  if (const llvm::json::Value *v = root->get("rotary_dim"); v && v->kind() != llvm::json::Value::Null) {
    if (auto e = positiveInt("rotary_dim", c.rotaryDim))
      return std::move(e);
    if (c.rotaryDim % 2 != 0 || c.rotaryDim > c.headDim())
      return fail(llvm::formatv("key 'rotary_dim' ({0}) must be even and at most the head "
                                "dim n_embd / n_head = {1}", c.rotaryDim, c.headDim()));
  }
  // Checked on the resolved value: an absent or null rotary_dim is the head dim.
  if (c.positions == Positions::Rope && c.rotaryDim % 2 != 0)
    return fail(llvm::formatv("key 'rotary_dim': the head dim {0} is odd; give an even "
                              "rotary_dim", c.headDim()));
  if (auto e = optionalNumber("rope_theta", c.ropeTheta))
    return std::move(e);
  if (c.ropeTheta <= 0)
    return fail("key 'rope_theta' must be positive");
  GenerationConfig ids;
  if (auto e = readSpecialTokenIds(*root, path, c.vocabSize, ids))
    return std::move(e);
  c.eosTokenIds = ids.eosTokenIds.value_or(std::vector<int64_t>{});
  c.bosTokenId = ids.bosTokenId.value_or(-1);
  return c;
}

} // namespace tfm::frontend
