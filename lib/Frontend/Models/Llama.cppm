//===- Llama.cppm - The Llama family: llama, mistral, qwen2 -*- C++ -*-===//
//
// The `tfm.frontend.models.llama` module: model_type "llama", "mistral" and
// "qwen2" as transformers' LlamaConfig / MistralConfig / Qwen2Config and
// their *ForCausalLM read them: nn.Linear weights [out, in], RMS norm,
// rotary positions (with rope_scaling), grouped-query attention, a gated
// MLP, a sliding window (Mistral; Qwen2's upper layers), biases on q/k/v
// (Qwen2 always, Llama with attention_bias), an lm head tied or not.
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Dialect/Tfm/IR/Tfm.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>
export module tfm.frontend.models.llama;

import tfm.frontend.blocks;

export namespace tfm::frontend::models {

/// Reads a llama, mistral or qwen2 config.json into `c`: the keys of the
/// family's configuration class, with its defaults for absent keys.
llvm::Error readLlama(const HfConfig &config, ModelConfig &c);

/// Builds *ForCausalLM's forward pass.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>> buildLlama(ModelBuilder &m);

} // namespace tfm::frontend::models

namespace tfm::frontend::models {
using namespace mlir;

namespace {
/// The class defaults (transformers' configuration_<family>.py).
struct Defaults {
  int64_t vocab, hidden, intermediate, layers, heads, context;
  std::optional<int64_t> kvHeads; ///< absent: heads
  bool qkvBias, outputBias;
  std::optional<int64_t> window; ///< Mistral's sliding_window default
};

Defaults defaultsFor(llvm::StringRef type) {
  if (type == "mistral")
    return {32000, 4096, 14336, 32, 32, 4096 * 32, 8, false, false, 4096};
  if (type == "qwen2")
    return {151936, 4096, 22016, 32, 32, 32768, 32, true, false, 4096};
  return {32000, 4096, 11008, 32, 32, 2048, std::nullopt, false, false, std::nullopt};
}

constexpr int64_t kMaxVocab = int64_t(1) << 22, kMaxContext = int64_t(1) << 24,
                  kMaxWidth = int64_t(1) << 16, kMaxLayers = 1024, kMaxHeads = int64_t(1) << 12,
                  kMaxIntermediate = int64_t(1) << 18;

} // namespace

llvm::Error readLlama(const HfConfig &h, ModelConfig &c) {
  Defaults d = defaultsFor(c.modelType);
  c.keys = {{"vocab", "vocab_size"},        {"context", "max_position_embeddings"},
            {"width", "hidden_size"},       {"layers", "num_hidden_layers"},
            {"heads", "num_attention_heads"}, {"kv_heads", "num_key_value_heads"},
            {"intermediate", "intermediate_size"}, {"norm_eps", "rms_norm_eps"},
            {"activation", "hidden_act"},   {"tie", "tie_word_embeddings"},
            {"rotary_dim", "head_dim"},     {"causal", "model_type"}};
  struct Size {
    llvm::StringRef key;
    int64_t limit, fallback;
    int64_t *out;
  };
  for (const Size &s : {Size{"vocab_size", kMaxVocab, d.vocab, &c.vocabSize},
                        {"hidden_size", kMaxWidth, d.hidden, &c.width},
                        {"intermediate_size", kMaxIntermediate, d.intermediate, &c.intermediate},
                        {"num_hidden_layers", kMaxLayers, d.layers, &c.layers},
                        {"num_attention_heads", kMaxHeads, d.heads, &c.heads},
                        {"max_position_embeddings", kMaxContext, d.context, &c.contextLength}})
    if (auto e = h.size({s.key}, s.limit, *s.out, s.fallback))
      return e;
  if (auto e = h.size({"num_key_value_heads"}, kMaxHeads, c.kvHeads, d.kvHeads.value_or(c.heads)))
    return e;
  if (c.heads % c.kvHeads != 0)
    return h.fail(llvm::formatv("key 'num_key_value_heads' ({0}) does not divide "
                                "'num_attention_heads' ({1})", c.kvHeads, c.heads));
  if (!h.get({"head_dim"}) && c.width % c.heads != 0)
    return h.fail(llvm::formatv("key 'hidden_size' ({0}) is not divisible by "
                                "'num_attention_heads' ({1}); give head_dim", c.width, c.heads));
  if (auto e = h.size({"head_dim"}, kMaxWidth, c.headDim, c.width / c.heads))
    return e;
  if (c.heads * c.headDim > (int64_t(1) << 18))
    return h.fail(llvm::formatv("num_attention_heads x head_dim ({0} x {1}) is more than 2^18, "
                                "the most tfm accepts", c.heads, c.headDim));
  if (c.vocabSize * c.width > (int64_t(1) << 32))
    return h.fail(llvm::formatv("key 'vocab_size' ({0}) x 'hidden_size' ({1}) is more than 2^32 "
                                "table elements, the most tfm accepts", c.vocabSize, c.width));
  c.norm = NormKind::Rms;
  c.normEps = 1e-6;
  if (auto e = h.number({"rms_norm_eps"}, c.normEps))
    return e;
  if (c.normEps < 0)
    return h.fail("key 'rms_norm_eps' must be non-negative");
  std::string act = "silu";
  if (auto e = h.string({"hidden_act"}, act))
    return e;
  auto a = parseActivation(act, "hidden_act");
  if (!a)
    return h.fail(llvm::toString(a.takeError()));
  c.activation = *a;
  c.gatedMlp = true;
  c.tieWordEmbeddings = false;
  if (auto e = h.flag({"tie_word_embeddings"}, c.tieWordEmbeddings))
    return e;
  c.qkvBias = d.qkvBias;
  c.outputBias = d.outputBias;
  c.mlpBias = false;
  if (c.modelType == "llama") {
    bool attentionBias = false;
    if (auto e = h.flag({"attention_bias"}, attentionBias))
      return e;
    c.qkvBias = c.outputBias = attentionBias;
    if (auto e = h.flag({"mlp_bias"}, c.mlpBias))
      return e;
  }
  c.causal = true;
  c.attentionScale = 1.0 / std::sqrt(static_cast<double>(c.headDim));

  // Rotary positions: rope_theta and rope_scaling, or transformers v5's
  // rope_parameters holding both.
  c.positions = Positions::Rope;
  const llvm::json::Object *scaling = nullptr;
  llvm::StringRef where = "rope_scaling";
  if (const llvm::json::Value *p = h.get({"rope_parameters"})) {
    where = "rope_parameters";
    scaling = p->getAsObject();
    if (!scaling)
      return h.fail("key 'rope_parameters' must be an object");
    auto theta = ropeNumber(h, *scaling, where, "rope_theta", 10000.0);
    if (!theta)
      return theta.takeError();
    c.ropeTheta = *theta;
    c.keys["rope_theta"] = "rope_parameters";
  } else {
    if (auto e = h.number({"rope_theta"}, c.ropeTheta))
      return e;
    if (const llvm::json::Value *s = h.get({"rope_scaling"})) {
      scaling = s->getAsObject();
      if (!scaling)
        return h.fail("key 'rope_scaling' must be an object or null");
    }
  }
  if (c.ropeTheta <= 0)
    return h.fail("key '" + (where == "rope_parameters" ? where : llvm::StringRef("rope_theta")) +
                  "': rope_theta must be positive");
  double partial = 1.0;
  if (auto e = h.number({"partial_rotary_factor"}, partial))
    return e;
  if (scaling)
    if (auto p = scaling->getNumber("partial_rotary_factor"))
      partial = *p;
  c.rotaryDim = static_cast<int64_t>(c.headDim * partial);
  if (!(partial > 0 && partial <= 1) || c.rotaryDim < 2 || c.rotaryDim % 2 != 0)
    return h.fail(llvm::formatv("key 'partial_rotary_factor' ({0}) must give an even number of "
                                "rotated dims between 2 and head_dim ({1})", partial, c.headDim));
  double attentionFactor = 1.0;
  if (auto e = ropeParameters(h, scaling, where, c, attentionFactor))
    return e;
  if (attentionFactor != 1.0) {
    // YaRN multiplies cos and sin by the factor: q.k of the rotated dims by
    // its square. With every dim rotated that is a factor on the scores.
    if (c.rotaryDim != c.headDim)
      return h.fail("key '" + where + "': YaRN's attention factor with partial rotary "
                    "embeddings is not supported");
    c.attentionScale *= attentionFactor * attentionFactor;
  }

  // Sliding windows: Mistral's sliding_window for every layer; Qwen2's with
  // use_sliding_window from layer max_window_layers on; or layer_types. An
  // absent sliding_window is the class default (4096), a null one none.
  c.windows.assign(c.layers, 0);
  int64_t window = 0;
  if (c.modelType != "llama") {
    const llvm::json::Value *v = h.root().get("sliding_window");
    if (!v && d.window)
      window = *d.window;
    else if (v && v->kind() != llvm::json::Value::Null)
      if (auto e = h.size({"sliding_window"}, kMaxContext, window))
        return e;
  }
  if (c.modelType == "mistral") {
    std::fill(c.windows.begin(), c.windows.end(), window);
  } else if (c.modelType == "qwen2") {
    bool use = false;
    if (auto e = h.flag({"use_sliding_window"}, use))
      return e;
    int64_t firstWindowed = 28;
    if (const llvm::json::Value *v = h.get({"max_window_layers"})) {
      if (v->getAsInteger() == 0) // valid too: every layer windowed
        firstWindowed = 0;
      else if (auto e = h.size({"max_window_layers"}, kMaxLayers, firstWindowed))
        return e;
    }
    for (int64_t l = 0; l < c.layers; ++l)
      c.windows[l] = use && l >= firstWindowed ? window : 0;
  }
  if (const llvm::json::Value *types = h.get({"layer_types"})) {
    const llvm::json::Array *list = types->getAsArray();
    if (!list || static_cast<int64_t>(list->size()) != c.layers)
      return h.fail("key 'layer_types' must be a list of " + llvm::Twine(c.layers) + " strings");
    for (int64_t l = 0; l < c.layers; ++l) {
      auto s = (*list)[l].getAsString();
      if (s && *s == "full_attention")
        c.windows[l] = 0;
      else if (s && *s == "sliding_attention") {
        if (window == 0)
          return h.fail("key 'layer_types': layer " + llvm::Twine(l) +
                        " is sliding_attention but sliding_window is not set");
        c.windows[l] = window;
      } else
        return h.fail("key 'layer_types': entry " + llvm::Twine(l) +
                      " must be \"full_attention\" or \"sliding_attention\"");
    }
  }
  if (window)
    c.keys["sliding_window"] = "sliding_window";
  return llvm::Error::success();
}

llvm::Expected<OwningOpRef<ModuleOp>> buildLlama(ModelBuilder &m) {
  const ModelConfig &c = m.config();
  int64_t d = c.width, q = c.heads * c.headDim, kv = c.kvHeads * c.headDim;
  m.beginForward(c.modelType);
  m.setLoc("model.embed_tokens", "vocab");
  auto embed = m.param("model.embed_tokens.weight", {c.vocabSize, d},
                       "token embedding [vocab_size, hidden_size]");
  if (!embed)
    return embed.takeError();
  Value x = m.gather(*embed, m.tokens());
  m.ropeTables(); // shared by every layer

  llvm::SmallVector<Value> presents;
  for (int64_t l = 0; l < c.layers; ++l) {
    std::string p = "model.layers." + std::to_string(l);
    auto h = m.norm(x, p + ".input_layernorm");
    if (!h)
      return h.takeError();
    auto qp = m.linear(*h, p + ".self_attn.q_proj", d, q, "heads", Layout::OutIn, c.qkvBias);
    if (!qp)
      return qp.takeError();
    auto kp = m.linear(*h, p + ".self_attn.k_proj", d, kv, "kv_heads", Layout::OutIn, c.qkvBias);
    if (!kp)
      return kp.takeError();
    auto vp = m.linear(*h, p + ".self_attn.v_proj", d, kv, "kv_heads", Layout::OutIn, c.qkvBias);
    if (!vp)
      return vp.takeError();
    Value pk, pv;
    Value merged = m.attention(l, p + ".self_attn", *qp, *kp, *vp, pk, pv);
    auto o = m.linear(merged, p + ".self_attn.o_proj", q, d, "width", Layout::OutIn, c.outputBias);
    if (!o)
      return o.takeError();
    m.setLoc(p, "layers");
    x = m.add(x, *o);
    auto h2 = m.norm(x, p + ".post_attention_layernorm");
    if (!h2)
      return h2.takeError();
    // down(act(gate(x)) * up(x))
    auto gate = m.linear(*h2, p + ".mlp.gate_proj", d, c.intermediate, "intermediate",
                         Layout::OutIn, c.mlpBias);
    if (!gate)
      return gate.takeError();
    auto up = m.linear(*h2, p + ".mlp.up_proj", d, c.intermediate, "intermediate", Layout::OutIn,
                       c.mlpBias);
    if (!up)
      return up.takeError();
    m.setLoc(p + ".mlp.act", "activation");
    Value gated = m.mul(m.activation(*gate), *up);
    auto down = m.linear(gated, p + ".mlp.down_proj", c.intermediate, d, "intermediate",
                         Layout::OutIn, c.mlpBias);
    if (!down)
      return down.takeError();
    m.setLoc(p, "layers");
    x = m.add(x, *down);
    presents.append({pk, pv});
  }
  // Only the rows whose logits are asked for go on (the norm is per row).
  m.setLoc("lm_head", "vocab");
  x = m.gather(x, m.logitRows());
  auto normed = m.norm(x, "model.norm");
  if (!normed)
    return normed.takeError();
  Value head = *embed; // tied: transformers ties lm_head to the embedding
  if (!c.tieWordEmbeddings) {
    m.setLoc("lm_head", "tie");
    auto lm = m.param("lm_head.weight", {c.vocabSize, d},
                      "lm head [vocab_size, hidden_size] (tie_word_embeddings is false)");
    if (!lm)
      return lm.takeError();
    head = *lm;
  }
  m.setLoc("lm_head", "vocab");
  Value logits = m.matmul(*normed, m.transpose(head, {1, 0}));
  return m.finish(logits, presents);
}

} // namespace tfm::frontend::models
