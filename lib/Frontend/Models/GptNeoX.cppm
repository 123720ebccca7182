//===- GptNeoX.cppm - The GPT-NeoX family (Pythia) -*- C++ -*-===//
//
// The `tfm.frontend.models.gpt_neox` module: model_type "gpt_neox" as
// transformers' GPTNeoXConfig and GPTNeoXForCausalLM read it: layer norms
// with biases, one fused query_key_value projection grouped per head
// ([q_h, k_h, v_h] for each head h, not all q then all k), rotary
// embedding of a fraction of each head's dims (rotary_pct), a parallel
// residual (x + attn(ln1(x)) + mlp(ln2(x))) or the sequential one, a GELU
// MLP, and an untied embed_out head.
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Dialect/Tfm/IR/Tfm.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include <cmath>
#include <string>
#include <vector>
export module tfm.frontend.models.gpt_neox;

import tfm.frontend.blocks;

export namespace tfm::frontend::models {

/// Reads a gpt_neox config.json into `c` (GPTNeoXConfig's keys and defaults).
llvm::Error readGptNeoX(const HfConfig &config, ModelConfig &c);

/// Builds GPTNeoXForCausalLM's forward pass.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>> buildGptNeoX(ModelBuilder &m);

} // namespace tfm::frontend::models

namespace tfm::frontend::models {
using namespace mlir;

llvm::Error readGptNeoX(const HfConfig &h, ModelConfig &c) {
  c.keys = {{"vocab", "vocab_size"},          {"context", "max_position_embeddings"},
            {"width", "hidden_size"},         {"layers", "num_hidden_layers"},
            {"heads", "num_attention_heads"}, {"intermediate", "intermediate_size"},
            {"norm_eps", "layer_norm_eps"},   {"activation", "hidden_act"},
            {"tie", "tie_word_embeddings"},   {"rotary_dim", "rotary_pct"},
            {"rope_theta", "rotary_emb_base"}, {"causal", "model_type"}};
  struct Size {
    llvm::StringRef key;
    int64_t limit, fallback;
    int64_t *out;
  };
  // GPTNeoXConfig's defaults (a 20B model).
  for (const Size &s : {Size{"vocab_size", int64_t(1) << 22, 50432, &c.vocabSize},
                        {"hidden_size", int64_t(1) << 16, 6144, &c.width},
                        {"intermediate_size", int64_t(1) << 18, 24576, &c.intermediate},
                        {"num_hidden_layers", 1024, 44, &c.layers},
                        {"num_attention_heads", int64_t(1) << 12, 64, &c.heads},
                        {"max_position_embeddings", int64_t(1) << 24, 2048, &c.contextLength}})
    if (auto e = h.size({s.key}, s.limit, *s.out, s.fallback))
      return e;
  if (c.width % c.heads != 0)
    return h.fail(llvm::formatv("key 'hidden_size' ({0}) is not divisible by "
                                "'num_attention_heads' ({1})", c.width, c.heads));
  if (c.vocabSize * c.width > (int64_t(1) << 32))
    return h.fail(llvm::formatv("key 'vocab_size' ({0}) x 'hidden_size' ({1}) is more than 2^32 "
                                "table elements, the most tfm accepts", c.vocabSize, c.width));
  c.kvHeads = c.heads;
  c.headDim = c.width / c.heads;
  c.norm = NormKind::Layer;
  c.normEps = 1e-5;
  if (auto e = h.number({"layer_norm_eps"}, c.normEps))
    return e;
  if (c.normEps < 0)
    return h.fail("key 'layer_norm_eps' must be non-negative");
  std::string act = "gelu";
  if (auto e = h.string({"hidden_act"}, act))
    return e;
  auto a = parseActivation(act, "hidden_act");
  if (!a)
    return h.fail(llvm::toString(a.takeError()));
  c.activation = *a;
  c.gatedMlp = false;
  c.tieWordEmbeddings = false;
  c.parallelResidual = true;
  bool attentionBias = true;
  for (auto [key, field] : {std::pair{"tie_word_embeddings", &c.tieWordEmbeddings},
                            {"use_parallel_residual", &c.parallelResidual},
                            {"attention_bias", &attentionBias}})
    if (auto e = h.flag({key}, *field))
      return e;
  c.qkvBias = c.outputBias = attentionBias;
  c.mlpBias = true;
  c.causal = true;
  c.attentionScale = 1.0 / std::sqrt(static_cast<double>(c.headDim));
  c.windows.assign(c.layers, 0);

  // Rotary positions on rotary_pct of each head (v5: partial_rotary_factor),
  // base rotary_emb_base (v5: rope_theta), rope_scaling as for Llama.
  c.positions = Positions::Rope;
  double pct = 0.25;
  if (auto e = h.number({"rotary_pct", "partial_rotary_factor"}, pct))
    return e;
  c.ropeTheta = 10000.0;
  if (auto e = h.number({"rotary_emb_base", "rope_theta"}, c.ropeTheta))
    return e;
  if (c.ropeTheta <= 0)
    return h.fail("key 'rotary_emb_base' must be positive");
  // transformers: rotary_ndims = int(head_dim * rotary_pct).
  c.rotaryDim = static_cast<int64_t>(c.headDim * pct);
  if (!(pct > 0 && pct <= 1) || c.rotaryDim < 2 || c.rotaryDim % 2 != 0)
    return h.fail(llvm::formatv("key 'rotary_pct' ({0}) must give an even number of rotated "
                                "dims between 2 and the head dim ({1})", pct, c.headDim));
  const llvm::json::Object *scaling = nullptr;
  if (const llvm::json::Value *s = h.get({"rope_scaling"})) {
    scaling = s->getAsObject();
    if (!scaling)
      return h.fail("key 'rope_scaling' must be an object or null");
  }
  double attentionFactor = 1.0;
  if (auto e = ropeParameters(h, scaling, "rope_scaling", c, attentionFactor))
    return e;
  if (attentionFactor != 1.0)
    return h.fail("key 'rope_scaling': YaRN's attention factor with partial rotary embeddings "
                  "is not supported");
  return llvm::Error::success();
}

llvm::Expected<OwningOpRef<ModuleOp>> buildGptNeoX(ModelBuilder &m) {
  const ModelConfig &c = m.config();
  constexpr int64_t kDyn = ShapedType::kDynamic;
  int64_t d = c.width, heads = c.heads, dh = c.headDim;
  m.beginForward("gpt_neox");
  m.setLoc("gpt_neox.embed_in", "vocab");
  auto embed = m.param("gpt_neox.embed_in.weight", {c.vocabSize, d},
                       "token embedding [vocab_size, hidden_size]");
  if (!embed)
    return embed.takeError();
  Value x = m.gather(*embed, m.tokens());
  m.ropeTables(); // shared by every layer

  llvm::SmallVector<Value> presents;
  for (int64_t l = 0; l < c.layers; ++l) {
    std::string p = "gpt_neox.layers." + std::to_string(l);
    auto h = m.norm(x, p + ".input_layernorm");
    if (!h)
      return h.takeError();
    auto qkv = m.linear(*h, p + ".attention.query_key_value", d, 3 * d, "heads", Layout::OutIn,
                        c.qkvBias);
    if (!qkv)
      return qkv.takeError();
    // Grouped per head: [T, 3d] -> [T, H, 3 Dh] -> q, k, v of [T, H, Dh].
    m.setLoc(p + ".attention", "heads");
    auto parts = m.split(m.reshape(*qkv, {kDyn, heads, 3 * dh}), 2, {dh, dh, dh});
    Value q = m.reshape(parts[0], {kDyn, d}), k = m.reshape(parts[1], {kDyn, d}),
          v = m.reshape(parts[2], {kDyn, d});
    Value pk, pv;
    Value merged = m.attention(l, p + ".attention", q, k, v, pk, pv);
    auto attn = m.linear(merged, p + ".attention.dense", d, d, "width", Layout::OutIn,
                         c.outputBias);
    if (!attn)
      return attn.takeError();
    // Parallel: x + attn(ln1(x)) + mlp(ln2(x)); sequential: the MLP reads
    // x + attn.
    m.setLoc(p, "layers");
    Value mlpIn = c.parallelResidual ? x : m.add(*attn, x);
    auto h2 = m.norm(mlpIn, p + ".post_attention_layernorm");
    if (!h2)
      return h2.takeError();
    auto up = m.linear(*h2, p + ".mlp.dense_h_to_4h", d, c.intermediate, "intermediate",
                       Layout::OutIn, c.mlpBias);
    if (!up)
      return up.takeError();
    m.setLoc(p + ".mlp.act", "activation");
    Value act = m.activation(*up);
    auto down = m.linear(act, p + ".mlp.dense_4h_to_h", c.intermediate, d, "intermediate",
                         Layout::OutIn, c.mlpBias);
    if (!down)
      return down.takeError();
    m.setLoc(p, "layers");
    x = c.parallelResidual ? m.add(m.add(*down, *attn), x) : m.add(*down, mlpIn);
    presents.append({pk, pv});
  }
  m.setLoc("embed_out", "vocab");
  x = m.gather(x, m.logitRows());
  auto normed = m.norm(x, "gpt_neox.final_layer_norm");
  if (!normed)
    return normed.takeError();
  Value head = *embed;
  if (!c.tieWordEmbeddings) {
    m.setLoc("embed_out", "tie");
    auto out = m.param("embed_out.weight", {c.vocabSize, d},
                       "lm head [vocab_size, hidden_size] (tie_word_embeddings is false)");
    if (!out)
      return out.takeError();
    head = *out;
  }
  m.setLoc("embed_out", "vocab");
  Value logits = m.matmul(*normed, m.transpose(head, {1, 0}));
  return m.finish(logits, presents);
}

} // namespace tfm::frontend::models
