//===- Gpt2.cppm - The GPT-2 family: config keys, tensor names, wiring -*- C++ -*-===//
//
// The `tfm.frontend.models.gpt2` module: model_type "gpt2" as transformers'
// GPT2Config and GPT2Model read it (Conv1D weights [in, out], learned
// positions, layer norm, GELU MLP, tied lm head), plus tfm's variant keys
// (docs/model-description.md): position_embedding_type (learned, sinusoidal,
// rope, none), rotary_dim, rope_theta, is_causal.
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Dialect/Tfm/IR/Tfm.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"
#include <cmath>
#include <string>
#include <vector>
export module tfm.frontend.models.gpt2;

import tfm.frontend.blocks;

export namespace tfm::frontend::models {

/// Reads a GPT-2 config.json into `c` (sizes, activation, variant keys).
llvm::Error readGpt2(const HfConfig &config, ModelConfig &c);

/// Builds GPT2LMHeadModel's forward pass.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>> buildGpt2(ModelBuilder &m,
                                                           bool transformerPrefix);

} // namespace tfm::frontend::models

namespace tfm::frontend::models {
using namespace mlir;

/// The largest value tfm accepts for each size: well above every published
/// GPT-2-style model (GPT-3 175B: n_embd 12288, 96 layers, 96 heads;
/// vocabularies up to ~256K; contexts up to 1M), far below what would
/// overflow int64 in any size computed from them.
const llvm::StringMap<int64_t> kMaxSize = {
    {"vocab_size", int64_t(1) << 22}, {"n_positions", int64_t(1) << 20},
    {"n_embd", int64_t(1) << 16},     {"n_layer", 1024},
    {"n_head", int64_t(1) << 12},     {"n_inner", int64_t(1) << 18},
    {"rotary_dim", int64_t(1) << 16}};

llvm::Error readGpt2(const HfConfig &h, ModelConfig &c) {
  c.keys = {{"vocab", "vocab_size"},       {"context", "n_positions"},
            {"width", "n_embd"},           {"layers", "n_layer"},
            {"heads", "n_head"},           {"intermediate", "n_inner"},
            {"norm_eps", "layer_norm_epsilon"}, {"activation", "activation_function"},
            {"tie", "tie_word_embeddings"}, {"causal", "is_causal"},
            {"positions", "position_embedding_type"}};
  // GPT2Config's attribute_map: hidden_size, max_position_embeddings,
  // num_attention_heads and num_hidden_layers name the same attributes.
  for (auto [names, field] :
       {std::pair{std::vector<llvm::StringRef>{"vocab_size"}, &c.vocabSize},
        {{"n_positions", "max_position_embeddings"}, &c.contextLength},
        {{"n_embd", "hidden_size"}, &c.width},
        {{"n_layer", "num_hidden_layers"}, &c.layers},
        {{"n_head", "num_attention_heads"}, &c.heads}})
    if (auto e = h.size(names, kMaxSize.lookup(names.front()), *field))
      return e;
  // Tables of vocab x width and positions x width (embeddings, sinusoidal
  // and rotary tables) at most 2^32 elements (16 GiB in f32).
  for (auto [key, rows] : {std::pair{"vocab_size", c.vocabSize}, {"n_positions", c.contextLength}})
    if (rows * c.width > (int64_t(1) << 32))
      return h.fail(llvm::formatv("key '{0}' ({1}) x 'n_embd' ({2}) is more than 2^32 table "
                                  "elements, the most tfm accepts", key, rows, c.width));
  if (auto e = h.size({"n_inner"}, kMaxSize.lookup("n_inner"), c.intermediate, 4 * c.width))
    return e;
  if (c.width % c.heads != 0)
    return h.fail(llvm::formatv("key 'n_embd' ({0}) is not divisible by 'n_head' ({1})", c.width,
                                c.heads));
  c.kvHeads = c.heads;
  c.headDim = c.width / c.heads;
  c.norm = NormKind::Layer;
  c.normEps = 1e-5;
  if (auto e = h.number({"layer_norm_epsilon"}, c.normEps))
    return e;
  if (c.normEps < 0)
    return h.fail("key 'layer_norm_epsilon' must be non-negative");
  std::string act = "gelu_new";
  if (auto e = h.string({"activation_function"}, act))
    return e;
  auto a = parseActivation(act, "activation_function");
  if (!a)
    return h.fail(llvm::toString(a.takeError()));
  c.activation = *a;
  bool scaleAttnWeights = true;
  for (auto [key, field] : {std::pair{"scale_attn_weights", &scaleAttnWeights},
                            {"scale_attn_by_inverse_layer_idx", &c.scaleByInverseLayer},
                            {"tie_word_embeddings", &c.tieWordEmbeddings},
                            {"is_causal", &c.causal}})
    if (auto e = h.flag({key}, *field))
      return e;
  c.attentionScale = scaleAttnWeights ? 1.0 / std::sqrt(static_cast<double>(c.headDim)) : 1.0;
  std::string pet = "learned";
  if (auto e = h.string({"position_embedding_type"}, pet))
    return e;
  if (pet == "learned" || pet == "absolute")
    c.positions = Positions::Learned;
  else if (pet == "sinusoidal")
    c.positions = Positions::Sinusoidal;
  else if (pet == "rope")
    c.positions = Positions::Rope;
  else if (pet == "none")
    c.positions = Positions::None;
  else
    return h.fail("key 'position_embedding_type': unknown type \"" + pet +
                  "\" (expected learned, sinusoidal, rope or none)");
  if (c.positions == Positions::Sinusoidal && c.width % 2 != 0)
    return h.fail(llvm::formatv("key 'position_embedding_type': sinusoidal positions need an "
                                "even n_embd, got {0}", c.width));
  c.rotaryDim = c.headDim;
  if (h.get({"rotary_dim"})) {
    if (auto e = h.size({"rotary_dim"}, kMaxSize.lookup("rotary_dim"), c.rotaryDim))
      return e;
    if (c.rotaryDim % 2 != 0 || c.rotaryDim > c.headDim)
      return h.fail(llvm::formatv("key 'rotary_dim' ({0}) must be even and at most the head "
                                  "dim n_embd / n_head = {1}", c.rotaryDim, c.headDim));
  }
  // Checked on the resolved value: an absent or null rotary_dim is the head dim.
  if (c.positions == Positions::Rope && c.rotaryDim % 2 != 0)
    return h.fail(llvm::formatv("key 'rotary_dim': the head dim {0} is odd; give an even "
                                "rotary_dim", c.headDim));
  if (auto e = h.number({"rope_theta"}, c.ropeTheta))
    return e;
  if (c.ropeTheta <= 0)
    return h.fail("key 'rope_theta' must be positive");
  if (c.positions == Positions::Rope) {
    c.keys["rotary_dim"] = "rotary_dim";
    c.invFreq.resize(c.rotaryDim / 2);
    for (int64_t i = 0; i < c.rotaryDim / 2; ++i)
      c.invFreq[i] = static_cast<float>(std::pow(c.ropeTheta, -2.0 * i / c.rotaryDim));
  }
  c.qkvBias = c.outputBias = c.mlpBias = true;
  return llvm::Error::success();
}

llvm::Expected<OwningOpRef<ModuleOp>> buildGpt2(ModelBuilder &m, bool transformerPrefix) {
  const ModelConfig &c = m.config();
  constexpr int64_t kDyn = ShapedType::kDynamic;
  std::string prefix = transformerPrefix ? "transformer." : "";
  OpBuilder &b = m.builder();
  int64_t d = c.width;
  m.beginForward("gpt2");

  // Token embedding and the positional term.
  m.setLoc("wte", "vocab");
  auto wte = m.param(prefix + "wte.weight", {c.vocabSize, d}, "token embedding [vocab_size, n_embd]");
  if (!wte)
    return wte.takeError();
  Value x = m.gather(*wte, m.tokens());
  switch (c.positions) {
  case Positions::Learned: {
    m.setLoc("wpe", "context");
    auto wpe = m.param(prefix + "wpe.weight", {c.contextLength, d},
                       "position embedding [n_positions, n_embd]");
    if (!wpe)
      return wpe.takeError();
    x = m.add(x, m.gather(*wpe, m.positions()));
    break;
  }
  case Positions::Sinusoidal: {
    // pe(p, 2i) = sin(p * 10000^(-2i/d)), pe(p, 2i+1) = cos(same): interleaved.
    m.setLoc("sinusoidal_positions", "positions");
    int64_t half = d / 2;
    std::vector<float> inv(half);
    for (int64_t i = 0; i < half; ++i)
      inv[i] = static_cast<float>(std::pow(10000.0, -2.0 * i / d));
    Value p = m.reshape(CastOp::create(b, m.loc, m.t({kDyn}), m.positions()), {kDyn, 1});
    Value angles = m.mul(p, m.vector(inv));                      // [T, d/2]
    Value s = m.reshape(SinOp::create(b, m.loc, angles), {kDyn, half, 1});
    Value co = m.reshape(CosOp::create(b, m.loc, angles), {kDyn, half, 1});
    x = m.add(x, m.reshape(m.concat({s, co}, 2), {kDyn, d}));   // [T, d/2, 2] -> [T, d]
    break;
  }
  case Positions::Rope:
    m.ropeTables(); // shared by every layer
    break;
  case Positions::None:
    break;
  }

  llvm::SmallVector<Value> presents;
  for (int64_t l = 0; l < c.layers; ++l) {
    std::string h = prefix + "h." + std::to_string(l);
    std::string hl = "h." + std::to_string(l); // op names (without the prefix)
    auto ln1 = m.norm(x, h + ".ln_1");
    if (!ln1)
      return ln1.takeError();
    auto qkv = m.linear(*ln1, h + ".attn.c_attn", d, 3 * d, "width", Layout::InOut, true);
    if (!qkv)
      return qkv.takeError();
    m.setLoc(hl + ".attn", "heads");
    auto parts = m.split(*qkv, 1, {d, d, d});
    Value pk, pv;
    Value merged = m.attention(l, hl + ".attn", parts[0], parts[1], parts[2], pk, pv);
    auto attn = m.linear(merged, h + ".attn.c_proj", d, d, "width", Layout::InOut, true);
    if (!attn)
      return attn.takeError();
    m.setLoc(hl, "layers");
    Value x2 = m.add(x, *attn);
    auto ln2 = m.norm(x2, h + ".ln_2");
    if (!ln2)
      return ln2.takeError();
    auto fc = m.linear(*ln2, h + ".mlp.c_fc", d, c.intermediate, "intermediate", Layout::InOut,
                       true);
    if (!fc)
      return fc.takeError();
    m.setLoc(hl + ".mlp.act", "activation");
    Value act = m.activation(*fc);
    auto proj = m.linear(act, h + ".mlp.c_proj", c.intermediate, d, "intermediate",
                         Layout::InOut, true);
    if (!proj)
      return proj.takeError();
    m.setLoc(hl, "layers");
    x = m.add(x2, *proj);
    presents.append({pk, pv});
  }
  // Only the rows whose logits are asked for go on (ln_f is per row).
  m.setLoc("lm_head", "vocab");
  x = m.gather(x, m.logitRows());
  auto lnf = m.norm(x, prefix + "ln_f");
  if (!lnf)
    return lnf.takeError();
  Value head = *wte;
  if (!c.tieWordEmbeddings) {
    m.setLoc("lm_head", "tie");
    // lm_head.weight sits outside the "transformer." prefix.
    auto lm = m.param("lm_head.weight", {c.vocabSize, d}, "untied lm head [vocab_size, n_embd]");
    if (!lm)
      return lm.takeError();
    head = *lm;
  }
  m.setLoc("lm_head", "vocab");
  Value logits = m.matmul(*lnf, m.transpose(head, {1, 0}));
  return m.finish(logits, presents);
}

} // namespace tfm::frontend::models
