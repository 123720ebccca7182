//===- Bert.cppm - The BERT family: config keys, tensor names, wiring -*- C++ -*-===//
//
// The `tfm.frontend.models.bert` module: model_type "bert" as transformers'
// BertConfig and modeling_bert.py read it: word + token type (segment) +
// learned absolute position embeddings, then LayerNorm; post-LN encoder
// layers (x = LN(x + attention(x)); x = LN(x + output(act(intermediate(x))))),
// bidirectional multi-head attention scaled by 1/sqrt(head_dim); nn.Linear
// weights [out, in]. The model is built as an encoder (no KV cache): the
// entry function returns the last hidden state and, for BertForMaskedLM
// weights, the masked-LM head's logits (transform dense -> act -> LayerNorm
// -> decoder tied to the word embeddings, plus cls.predictions.bias).
//
// Checkpoints: BertModel (no prefix) or BertForMaskedLM / BertForPreTraining
// ("bert." before the body, "cls.predictions." for the head); TF-era names
// `gamma` / `beta` for LayerNorm scale and shift. The pooler is not used
// (sentence embeddings pool the hidden state, as sentence-transformers does).
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Dialect/Tfm/IR/Tfm.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include <cmath>
#include <string>
#include <vector>
export module tfm.frontend.models.bert;

import tfm.frontend.blocks;

export namespace tfm::frontend::models {

/// Reads a BERT config.json into `c`: BertConfig's keys with its defaults
/// for absent keys. Refuses what tfm does not build: relative position
/// embeddings and BERT as a decoder (is_decoder).
llvm::Error readBert(const HfConfig &config, ModelConfig &c);

/// Builds BertModel (and BertForMaskedLM's head when the weights have it or,
/// for random weights, when `architectures` names a masked-LM class).
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>> buildBert(ModelBuilder &m);

} // namespace tfm::frontend::models

namespace tfm::frontend::models {
using namespace mlir;

namespace {
constexpr int64_t kMaxVocab = int64_t(1) << 22, kMaxContext = int64_t(1) << 20,
                  kMaxWidth = int64_t(1) << 16, kMaxLayers = 1024, kMaxHeads = int64_t(1) << 12,
                  kMaxIntermediate = int64_t(1) << 18, kMaxTypes = int64_t(1) << 16;
} // namespace

llvm::Error readBert(const HfConfig &h, ModelConfig &c) {
  c.keys = {{"vocab", "vocab_size"},          {"context", "max_position_embeddings"},
            {"width", "hidden_size"},         {"layers", "num_hidden_layers"},
            {"heads", "num_attention_heads"}, {"kv_heads", "num_attention_heads"},
            {"intermediate", "intermediate_size"}, {"norm_eps", "layer_norm_eps"},
            {"activation", "hidden_act"},     {"tie", "tie_word_embeddings"},
            {"causal", "model_type"},         {"token_types", "type_vocab_size"}};
  struct Size {
    llvm::StringRef key;
    int64_t limit, fallback;
    int64_t *out;
  };
  // BertConfig's defaults (bert-base-uncased).
  for (const Size &s : {Size{"vocab_size", kMaxVocab, 30522, &c.vocabSize},
                        {"hidden_size", kMaxWidth, 768, &c.width},
                        {"intermediate_size", kMaxIntermediate, 3072, &c.intermediate},
                        {"num_hidden_layers", kMaxLayers, 12, &c.layers},
                        {"num_attention_heads", kMaxHeads, 12, &c.heads},
                        {"max_position_embeddings", kMaxContext, 512, &c.contextLength},
                        {"type_vocab_size", kMaxTypes, 2, &c.typeVocabSize}})
    if (auto e = h.size({s.key}, s.limit, *s.out, s.fallback))
      return e;
  for (auto [key, rows] : {std::pair{"vocab_size", c.vocabSize},
                           {"max_position_embeddings", c.contextLength},
                           {"type_vocab_size", c.typeVocabSize}})
    if (rows * c.width > (int64_t(1) << 32))
      return h.fail(llvm::formatv("key '{0}' ({1}) x 'hidden_size' ({2}) is more than 2^32 "
                                  "table elements, the most tfm accepts", key, rows, c.width));
  if (c.width % c.heads != 0)
    return h.fail(llvm::formatv("key 'hidden_size' ({0}) is not divisible by "
                                "'num_attention_heads' ({1})", c.width, c.heads));
  c.kvHeads = c.heads;
  c.headDim = c.width / c.heads;
  c.norm = NormKind::Layer;
  c.normEps = 1e-12;
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
  std::string positions = "absolute";
  if (auto e = h.string({"position_embedding_type"}, positions))
    return e;
  if (positions != "absolute")
    return h.fail("key 'position_embedding_type' is \"" + positions +
                  "\"; tfm builds BERT with \"absolute\" (learned) positions only");
  bool decoder = false;
  if (auto e = h.flag({"is_decoder"}, decoder))
    return e;
  if (decoder)
    return h.fail("key 'is_decoder' is true; tfm builds BERT as an encoder only");
  c.tieWordEmbeddings = true;
  if (auto e = h.flag({"tie_word_embeddings"}, c.tieWordEmbeddings))
    return e;
  if (const llvm::json::Value *v = h.get({"architectures"})) {
    const llvm::json::Array *list = v->getAsArray();
    if (!list)
      return h.fail("key 'architectures' must be a list of strings");
    for (const llvm::json::Value &item : *list) {
      auto s = item.getAsString();
      if (!s)
        return h.fail("key 'architectures' must be a list of strings");
      c.architectures.push_back(s->str());
    }
  }
  c.positions = Positions::Learned;
  c.gatedMlp = false;
  c.causal = false;
  c.encoder = true;
  c.attentionScale = 1.0 / std::sqrt(static_cast<double>(c.headDim));
  c.qkvBias = c.outputBias = c.mlpBias = true;
  return llvm::Error::success();
}

llvm::Expected<OwningOpRef<ModuleOp>> buildBert(ModelBuilder &m) {
  const ModelConfig &c = m.config();
  int64_t d = c.width;
  // Which checkpoint: BertForMaskedLM / BertForPreTraining put the body
  // under "bert."; TF-era conversions name LayerNorm's tensors gamma/beta.
  std::string prefix = m.hasTensor("bert.embeddings.word_embeddings.weight") ? "bert." : "";
  bool tfNames = m.hasTensor(prefix + "embeddings.LayerNorm.gamma");
  llvm::StringRef scale = tfNames ? "gamma" : "weight", shift = tfNames ? "beta" : "bias";
  bool maskedLm =
      m.hasTensor("cls.predictions.transform.dense.weight") ||
      (!m.hasTensor(prefix + "embeddings.word_embeddings.weight") &&
       llvm::any_of(c.architectures, [](const std::string &a) {
         return a == "BertForMaskedLM" || a == "BertForPreTraining";
       }));
  m.beginEncoder("bert", maskedLm);

  // Embeddings: word + token type + position, then LayerNorm.
  std::string e = prefix + "embeddings.";
  m.setLoc("embeddings.word_embeddings", "vocab");
  auto words = m.param(e + "word_embeddings.weight", {c.vocabSize, d},
                       "word embedding [vocab_size, hidden_size]");
  if (!words)
    return words.takeError();
  m.setLoc("embeddings.token_type_embeddings", "token_types");
  auto types = m.param(e + "token_type_embeddings.weight", {c.typeVocabSize, d},
                       "token type embedding [type_vocab_size, hidden_size]");
  if (!types)
    return types.takeError();
  m.setLoc("embeddings.position_embeddings", "context");
  auto positions = m.param(e + "position_embeddings.weight", {c.contextLength, d},
                           "position embedding [max_position_embeddings, hidden_size]");
  if (!positions)
    return positions.takeError();
  m.setLoc("embeddings", "width");
  Value x = m.add(m.add(m.gather(*words, m.tokens()), m.gather(*types, m.tokenTypes())),
                  m.gather(*positions, m.positions()));
  auto embedded = m.norm(x, e + "LayerNorm", scale, shift);
  if (!embedded)
    return embedded.takeError();
  x = *embedded;

  for (int64_t l = 0; l < c.layers; ++l) {
    std::string p = prefix + "encoder.layer." + std::to_string(l);
    std::string pl = "encoder.layer." + std::to_string(l); // op names (without the prefix)
    auto q = m.linear(x, p + ".attention.self.query", d, d, "heads", Layout::OutIn, true);
    if (!q)
      return q.takeError();
    auto k = m.linear(x, p + ".attention.self.key", d, d, "heads", Layout::OutIn, true);
    if (!k)
      return k.takeError();
    auto v = m.linear(x, p + ".attention.self.value", d, d, "heads", Layout::OutIn, true);
    if (!v)
      return v.takeError();
    Value keys, values;
    Value merged = m.attention(l, pl + ".attention.self", *q, *k, *v, keys, values);
    auto o = m.linear(merged, p + ".attention.output.dense", d, d, "width", Layout::OutIn, true);
    if (!o)
      return o.takeError();
    m.setLoc(pl + ".attention.output", "layers");
    auto attended = m.norm(m.add(*o, x), p + ".attention.output.LayerNorm", scale, shift);
    if (!attended)
      return attended.takeError();
    auto up = m.linear(*attended, p + ".intermediate.dense", d, c.intermediate, "intermediate",
                       Layout::OutIn, true);
    if (!up)
      return up.takeError();
    m.setLoc(pl + ".intermediate.act", "activation");
    Value act = m.activation(*up);
    auto down = m.linear(act, p + ".output.dense", c.intermediate, d, "intermediate",
                         Layout::OutIn, true);
    if (!down)
      return down.takeError();
    m.setLoc(pl + ".output", "layers");
    auto out = m.norm(m.add(*down, *attended), p + ".output.LayerNorm", scale, shift);
    if (!out)
      return out.takeError();
    x = *out;
  }
  if (!maskedLm)
    return m.finishEncoder(x, Value());

  // BertLMPredictionHead on the rows asked for: dense -> act -> LayerNorm ->
  // decoder (tied to the word embeddings) + bias.
  m.setLoc("cls.predictions", "vocab");
  Value rows = m.gather(x, m.logitRows());
  auto dense = m.linear(rows, "cls.predictions.transform.dense", d, d, "width", Layout::OutIn,
                        true);
  if (!dense)
    return dense.takeError();
  m.setLoc("cls.predictions.transform.act", "activation");
  Value act = m.activation(*dense);
  auto normed = m.norm(act, "cls.predictions.transform.LayerNorm", scale, shift);
  if (!normed)
    return normed.takeError();
  Value decoder = *words;
  if (!c.tieWordEmbeddings) {
    m.setLoc("cls.predictions.decoder", "tie");
    auto w = m.param("cls.predictions.decoder.weight", {c.vocabSize, d},
                     "masked-LM decoder [vocab_size, hidden_size] (tie_word_embeddings is false)");
    if (!w)
      return w.takeError();
    decoder = *w;
  }
  m.setLoc("cls.predictions", "vocab");
  // transformers ties cls.predictions.decoder.bias to cls.predictions.bias;
  // a checkpoint may hold either name.
  std::string biasName = !m.hasTensor("cls.predictions.bias") &&
                                 m.hasTensor("cls.predictions.decoder.bias")
                             ? "cls.predictions.decoder.bias"
                             : "cls.predictions.bias";
  auto bias = m.param(biasName, {c.vocabSize}, "masked-LM output bias [vocab_size]");
  if (!bias)
    return bias.takeError();
  Value logits = m.add(m.matmul(*normed, m.transpose(decoder, {1, 0})), *bias);
  return m.finishEncoder(x, logits);
}

} // namespace tfm::frontend::models
