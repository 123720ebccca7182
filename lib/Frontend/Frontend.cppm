//===- Frontend.cppm - GPT-2 family model descriptions -> tfm IR -*- C++ -*-===//
//
// The `tfm.frontend` module: checks a GPT-2 configuration (read by
// tfm.frontend.config, Config.cppm) and the weights file against each other,
// and builds the model as decomposed tfm IR:
// one primitive op per mathematical step, the way the model is defined, so
// the fusion passes have real work to do. Every op carries a location naming
// where it came from: the weight tensor (file and header offset) or the layer
// and the config key that shaped it.
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Location.h"
#include "llvm/Support/Error.h"
#include "llvm/ADT/StringMap.h"
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
export module tfm.frontend;

export import tfm.frontend.config;
import tfm.safetensors;

export namespace tfm::frontend {

/// Where the weights come from: a safetensors file, or deterministic random
/// values generated from a seed (no file is read).
struct Weights {
  const safetensors::File *file = nullptr;
  std::optional<uint64_t> randomSeed;
};

/// Builds the model as decomposed tfm IR (see docs/model-description.md for
/// the entry function). Checks that every tensor the model needs exists with
/// the right shape and a supported dtype.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importGPT2(mlir::MLIRContext &context, const Config &config, const Weights &weights);

} // namespace tfm::frontend

namespace tfm::frontend {
using namespace mlir;

//===----------------------------------------------------------------------===//
// IR builder
//===----------------------------------------------------------------------===//

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

/// Builds one GPT-2 forward function from primitive tfm ops.
class GPT2Builder {
public:
  GPT2Builder(MLIRContext &ctx, const Config &config, const Weights &weights)
      : ctx(ctx), b(&ctx), c(config), w(weights), f32(b.getF32Type()) {
    if (w.file && w.file->contains("transformer.wte.weight"))
      prefix = "transformer.";
  }

  llvm::Expected<OwningOpRef<ModuleOp>> build();

private:
  //===--- locations -------------------------------------------------------===//

  /// `name` at the config key that shapes it: "h.3.attn"(config.json:7:3).
  Location at(llvm::StringRef name, llvm::StringRef key) {
    auto [line, col] = c.keyPosition(key);
    return NameLoc::get(b.getStringAttr(name), FileLineColLoc::get(&ctx, c.path, line, col));
  }
  void setLoc(llvm::StringRef name, llvm::StringRef key) { loc = at(name, key); }

  //===--- types and constants ---------------------------------------------===//

  RankedTensorType t(llvm::ArrayRef<int64_t> shape, Type et = {}) {
    return RankedTensorType::get(shape, et ? et : f32);
  }
  Value scalar(double v) {
    return ConstantOp::create(b, loc, t({}),
                              DenseElementsAttr::get(t({}), static_cast<float>(v)));
  }
  Value vector(llvm::ArrayRef<float> values) {
    auto type = t({static_cast<int64_t>(values.size())});
    return ConstantOp::create(b, loc, type, DenseElementsAttr::get(type, values));
  }
  static llvm::SmallVector<int64_t> shapeOf(Value v) {
    auto s = cast<RankedTensorType>(v.getType()).getShape();
    return {s.begin(), s.end()};
  }

  //===--- primitive ops ---------------------------------------------------===//

  // The elementwise, reduction and matmul ops infer their result types
  // (InferTypeOpInterface): only the operands are given.
  Value add(Value x, Value y) { return AddOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return SubOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return MulOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return DivOp::create(b, loc, x, y); }
  Value pow(Value x, Value y) { return PowOp::create(b, loc, x, y); }
  Value mean(Value x) { return ReduceMeanOp::create(b, loc, x, b.getI64IntegerAttr(-1)); }
  Value matmul(Value x, Value y) { return MatmulOp::create(b, loc, x, y); }
  Value reshape(Value x, llvm::ArrayRef<int64_t> shape) {
    return ReshapeOp::create(b, loc, t(shape, cast<RankedTensorType>(x.getType()).getElementType()), x);
  }
  Value transpose(Value x, llvm::ArrayRef<int64_t> perm) {
    auto s = shapeOf(x);
    llvm::SmallVector<int64_t> out;
    for (int64_t p : perm)
      out.push_back(s[p]);
    return TransposeOp::create(b, loc, t(out), x, b.getDenseI64ArrayAttr(perm));
  }
  llvm::SmallVector<Value> split(Value x, int64_t axis, llvm::ArrayRef<int64_t> sizes) {
    llvm::SmallVector<Type> types;
    for (int64_t size : sizes) {
      auto s = shapeOf(x);
      s[axis] = size;
      types.push_back(t(s));
    }
    auto op = SplitOp::create(b, loc, types, x, b.getI64IntegerAttr(axis));
    return {op.getResults().begin(), op.getResults().end()};
  }
  Value concat(llvm::ArrayRef<Value> xs, int64_t axis) {
    auto s = shapeOf(xs.front());
    for (Value x : xs.drop_front()) {
      int64_t d = shapeOf(x)[axis];
      s[axis] = ShapedType::isDynamic(s[axis]) || ShapedType::isDynamic(d) ? kDyn : s[axis] + d;
    }
    return ConcatOp::create(b, loc, t(s), xs, b.getI64IntegerAttr(axis));
  }

  //===--- weights ---------------------------------------------------------===//

  /// `tfm.param` for the tensor `name` of `shape` (checked against the file),
  /// cast to f32 when stored as F16 or BF16.
  llvm::Expected<Value> param(const std::string &name, llvm::ArrayRef<int64_t> shape,
                              llvm::StringRef what);

  //===--- model pieces ----------------------------------------------------===//

  llvm::Expected<Value> layerNorm(Value x, const std::string &name);
  llvm::Expected<Value> linear(Value x, const std::string &name, int64_t in, int64_t out,
                               llvm::StringRef key);
  Value gelu(Value x);
  /// Rotary embedding of x ([T, D], heads side by side) at `positions`.
  Value rope(Value x, Value cosT, Value sinT);
  llvm::Expected<Value> block(int64_t layer, Value x, Value positions, Value pastK,
                              Value pastV, Value &presentK, Value &presentV,
                              Value ropeCos, Value ropeSin);

  MLIRContext &ctx;
  OpBuilder b;
  const Config &c;
  const Weights &w;
  Type f32;
  std::string prefix;
  Location loc = UnknownLoc::get(&ctx);
};

llvm::Expected<Value> GPT2Builder::param(const std::string &name,
                                          llvm::ArrayRef<int64_t> shape, llvm::StringRef what) {
  std::string full = prefix + name;
  Type et = f32;
  Location ploc = loc;
  if (w.file) {
    auto fail = [&](const llvm::Twine &why) {
      return llvm::createStringError(llvm::inconvertibleErrorCode(), w.file->path() + ": " + why);
    };
    const safetensors::TensorInfo *info = w.file->lookup(full);
    if (!info)
      return fail("missing tensor '" + full + "' (" + what + ")");
    std::vector<int64_t> expected(shape.begin(), shape.end());
    if (info->shape != expected) {
      auto str = [](llvm::ArrayRef<int64_t> s) {
        std::string r = "[";
        for (size_t i = 0; i < s.size(); ++i)
          r += (i ? ", " : "") + std::to_string(s[i]);
        return r + "]";
      };
      return fail("tensor '" + full + "' has shape " + str(info->shape) + ", expected " +
                  str(shape) + " (" + what + ")");
    }
    switch (info->dtype) {
    case safetensors::DType::F32: et = b.getF32Type(); break;
    case safetensors::DType::F16: et = b.getF16Type(); break;
    case safetensors::DType::BF16: et = b.getBF16Type(); break;
    default:
      return fail("tensor '" + full + "' has dtype " + safetensors::dtypeName(info->dtype) +
                  "; supported are F32, F16 and BF16");
    }
    ploc = NameLoc::get(b.getStringAttr(full),
                        FileLineColLoc::get(&ctx, w.file->path(), 1, info->headerPosition + 1));
  } else {
    ploc = NameLoc::get(b.getStringAttr(full), loc);
  }
  Value p = ParamOp::create(b, ploc, t(shape, et), b.getStringAttr(full));
  if (et != f32)
    p = CastOp::create(b, ploc, t(shape), p);
  return p;
}

llvm::Expected<Value> GPT2Builder::layerNorm(Value x, const std::string &name) {
  setLoc(name, "layer_norm_epsilon");
  auto gamma = param(name + ".weight", {c.nEmbd}, "layer norm scale [n_embd]");
  if (!gamma)
    return gamma.takeError();
  auto beta = param(name + ".bias", {c.nEmbd}, "layer norm shift [n_embd]");
  if (!beta)
    return beta.takeError();
  Value mu = mean(x);
  Value centred = sub(x, mu);
  Value var = mean(mul(centred, centred));
  Value inv = RsqrtOp::create(b, loc, add(var, scalar(c.layerNormEpsilon)));
  return add(mul(mul(centred, inv), *gamma), *beta);
}

llvm::Expected<Value> GPT2Builder::linear(Value x, const std::string &name, int64_t in,
                                           int64_t out, llvm::StringRef key) {
  setLoc(name, key);
  auto weight = param(name + ".weight", {in, out}, "Conv1D weight [in, out]");
  if (!weight)
    return weight.takeError();
  auto bias = param(name + ".bias", {out}, "bias [out]");
  if (!bias)
    return bias.takeError();
  return add(matmul(x, *weight), *bias);
}

Value GPT2Builder::gelu(Value x) {
  switch (c.activation) {
  case Activation::Relu:
    return ReluOp::create(b, loc, x);
  case Activation::GeluErf: // 0.5 x (1 + erf(x / sqrt 2))
    return mul(mul(x, scalar(0.5)),
               add(ErfOp::create(b, loc, mul(x, scalar(M_SQRT1_2))), scalar(1.0)));
  case Activation::Silu: // x sigmoid(x) = x / (1 + exp(-x))
    return div(x, add(ExpOp::create(b, loc, mul(x, scalar(-1.0))), scalar(1.0)));
  case Activation::QuickGelu: // x sigmoid(1.702 x) (Hendrycks & Gimpel 2016, sec. 2)
    return div(x, add(ExpOp::create(b, loc, mul(x, scalar(-1.702))), scalar(1.0)));
  case Activation::GeluTanh: { // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    Value inner = add(x, mul(pow(x, scalar(3.0)), scalar(0.044715)));
    Value th = TanhOp::create(b, loc, mul(inner, scalar(std::sqrt(2.0 / M_PI))));
    return mul(mul(x, scalar(0.5)), add(th, scalar(1.0)));
  }
  // The rest of ACT2FN (transformers/activations.py), composed of tfm ops;
  // min(y, c) is y - relu(y - c) and max(y, c) is y + relu(c - y), exactly.
  case Activation::Gelu10: { // ClippedGELUActivation: clamp(erf GELU, -10, 10)
    Value g = mul(mul(x, scalar(0.5)),
                  add(ErfOp::create(b, loc, mul(x, scalar(M_SQRT1_2))), scalar(1.0)));
    Value upper = sub(g, ReluOp::create(b, loc, sub(g, scalar(10.0))));
    return add(upper, ReluOp::create(b, loc, sub(scalar(-10.0), upper)));
  }
  case Activation::Laplace: // 0.5 (1 + erf((x - mu) / (sigma sqrt 2))), mu 0.707107, sigma 0.282095
    return mul(add(ErfOp::create(b, loc, div(sub(x, scalar(0.707107)),
                                             scalar(0.282095 * std::sqrt(2.0)))),
                   scalar(1.0)),
               scalar(0.5));
  case Activation::LeakyRelu: // nn.LeakyReLU(0.01): relu(x) - 0.01 relu(-x)
    return sub(ReluOp::create(b, loc, x),
               mul(ReluOp::create(b, loc, mul(x, scalar(-1.0))), scalar(0.01)));
  case Activation::Linear:
    return x;
  case Activation::Relu2: { // ReLUSquaredActivation: relu(x)^2
    Value r = ReluOp::create(b, loc, x);
    return mul(r, r);
  }
  case Activation::Relu6: { // nn.ReLU6: min(relu(x), 6)
    Value r = ReluOp::create(b, loc, x);
    return sub(r, ReluOp::create(b, loc, sub(r, scalar(6.0))));
  }
  case Activation::Sigmoid: // 1 / (1 + exp(-x))
    return div(scalar(1.0), add(ExpOp::create(b, loc, mul(x, scalar(-1.0))), scalar(1.0)));
  case Activation::Tanh:
    return TanhOp::create(b, loc, x);
  }
  return x;
}

Value GPT2Builder::rope(Value x, Value cosT, Value sinT) {
  // x: [T, D] -> [T, H, Dh]; rotate the first r dims of each head (rotate-half).
  int64_t h = c.nHead, dh = c.headDim(), r = c.rotaryDim;
  Value heads = reshape(x, {kDyn, h, dh});
  Value rot = heads, pass;
  if (r < dh) {
    auto parts = split(heads, 2, {r, dh - r});
    rot = parts[0];
    pass = parts[1];
  }
  auto halves = split(rot, 2, {r / 2, r / 2});
  Value rotated = concat({mul(halves[1], scalar(-1.0)), halves[0]}, 2);
  Value y = add(mul(rot, cosT), mul(rotated, sinT));
  if (pass)
    y = concat({y, pass}, 2);
  return reshape(y, {kDyn, c.nEmbd});
}

llvm::Expected<Value> GPT2Builder::block(int64_t layer, Value x, Value positions, Value pastK,
                                          Value pastV, Value &presentK, Value &presentV,
                                          Value ropeCos, Value ropeSin) {
  std::string h = "h." + std::to_string(layer);
  int64_t d = c.nEmbd, heads = c.nHead, dh = c.headDim();
  auto ln1 = layerNorm(x, h + ".ln_1");
  if (!ln1)
    return ln1.takeError();
  auto qkv = linear(*ln1, h + ".attn.c_attn", d, 3 * d, "n_embd");
  if (!qkv)
    return qkv.takeError();
  setLoc(h + ".attn", "n_head");
  auto qkvParts = split(*qkv, 1, {d, d, d});
  Value q = qkvParts[0], k = qkvParts[1], v = qkvParts[2];
  if (ropeCos) {
    setLoc(h + ".attn.rope", "rotary_dim");
    q = rope(q, ropeCos, ropeSin);
    k = rope(k, ropeCos, ropeSin);
    setLoc(h + ".attn", "n_head");
  }
  // KV cache: keys and values of earlier positions come first.
  presentK = concat({pastK, k}, 0);
  presentV = concat({pastV, v}, 0);
  Value qh = transpose(reshape(q, {kDyn, heads, dh}), {1, 0, 2});          // [H, T, Dh]
  Value kh = transpose(reshape(presentK, {kDyn, heads, dh}), {1, 2, 0});   // [H, Dh, S]
  Value vh = transpose(reshape(presentV, {kDyn, heads, dh}), {1, 0, 2});   // [H, S, Dh]
  Value scores = matmul(qh, kh);                                          // [H, T, S]
  if (c.scaleAttnWeights)
    scores = div(scores, scalar(std::sqrt(static_cast<double>(dh))));
  if (c.scaleAttnByInverseLayerIdx)
    scores = div(scores, scalar(static_cast<double>(layer + 1)));
  if (c.isCausal) {
    setLoc(h + ".attn.causal_mask", "is_causal");
    Value mask = CausalMaskOp::create(b, loc, t({kDyn, kDyn}, b.getI1Type()), scores, Value());
    scores = SelectOp::create(b, loc, mask, scores,
                              scalar(std::numeric_limits<float>::lowest()));
    setLoc(h + ".attn", "n_head");
  }
  Value probs = SoftmaxOp::create(b, loc, scores, b.getI64IntegerAttr(-1));
  Value ctxh = matmul(probs, vh);                                          // [H, T, Dh]
  Value merged = reshape(transpose(ctxh, {1, 0, 2}), {kDyn, d});           // [T, D]
  auto attn = linear(merged, h + ".attn.c_proj", d, d, "n_embd");
  if (!attn)
    return attn.takeError();
  setLoc(h, "n_layer");
  Value x2 = add(x, *attn);
  auto ln2 = layerNorm(x2, h + ".ln_2");
  if (!ln2)
    return ln2.takeError();
  auto fc = linear(*ln2, h + ".mlp.c_fc", d, c.nInner, "n_inner");
  if (!fc)
    return fc.takeError();
  setLoc(h + ".mlp.act", "activation_function");
  Value act = gelu(*fc);
  auto proj = linear(act, h + ".mlp.c_proj", c.nInner, d, "n_inner");
  if (!proj)
    return proj.takeError();
  setLoc(h, "n_layer");
  return add(x2, *proj);
}

llvm::Expected<OwningOpRef<ModuleOp>> GPT2Builder::build() {
  OwningOpRef<ModuleOp> module = ModuleOp::create(FileLineColLoc::get(&ctx, c.path, 1, 1));
  module->setName("gpt2");
  if (w.file)
    (*module)->setAttr("tfm.weights", b.getStringAttr(w.file->path()));
  else
    (*module)->setAttr("tfm.random_weights", b.getI64IntegerAttr(*w.randomSeed));
  (*module)->setAttr("tfm.config", b.getStringAttr(c.path));
  b.setInsertionPointToEnd(module->getBody());

  // forward(tokens, positions, past_k.0, past_v.0, ..., logit_rows)
  //   -> (logits, present_k.0, present_v.0, ...)
  // logits[r] belongs to row logit_rows[r] of this call: a generator asks for
  // the last row only and skips the lm head of every other prompt row.
  auto idx = t({kDyn}, b.getI64Type());
  auto cache = t({kDyn, c.nEmbd});
  llvm::SmallVector<Type> inputs = {idx, idx};
  llvm::SmallVector<Type> results = {t({kDyn, c.vocabSize})};
  for (int64_t l = 0; l < c.nLayer; ++l) {
    inputs.append({cache, cache});
    results.append({cache, cache});
  }
  inputs.push_back(idx);
  auto func = func::FuncOp::create(b, at("forward", "model_type"), "forward",
                                   b.getFunctionType(inputs, results));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  // What the executables' driver passes for each buffer (tfm.role, verified
  // by the dialect; tfm_buffer_role in tfm_runtime.h) and its name.
  auto describe = [&](bool result, unsigned i, StringRef name, StringRef role,
                      std::optional<int64_t> layer = std::nullopt) {
    auto set = [&](StringRef key, Attribute value) {
      result ? func.setResultAttr(i, key, value) : func.setArgAttr(i, key, value);
    };
    set("tfm.name", b.getStringAttr(name));
    set("tfm.role", b.getStringAttr(role));
    if (layer)
      set("tfm.layer", b.getI64IntegerAttr(*layer));
  };
  describe(false, 0, "tokens", "tokens");
  describe(false, 1, "positions", "positions");
  for (int64_t l = 0; l < c.nLayer; ++l) {
    describe(false, 2 + 2 * l, "past_k." + std::to_string(l), "past_key", l);
    describe(false, 3 + 2 * l, "past_v." + std::to_string(l), "past_value", l);
  }
  describe(false, 2 + 2 * c.nLayer, "logit_rows", "logit_rows");
  describe(true, 0, "logits", "logits");
  for (int64_t l = 0; l < c.nLayer; ++l) {
    describe(true, 1 + 2 * l, "present_k." + std::to_string(l), "present_key", l);
    describe(true, 2 + 2 * l, "present_v." + std::to_string(l), "present_value", l);
  }
  (*module)->setAttr("tfm.context_length", b.getI64IntegerAttr(c.nPositions));
  Value tokens = entry->getArgument(0), positions = entry->getArgument(1);

  // Token embedding and the positional term.
  setLoc("wte", "vocab_size");
  auto wte = param("wte.weight", {c.vocabSize, c.nEmbd}, "token embedding [vocab_size, n_embd]");
  if (!wte)
    return wte.takeError();
  Value x = GatherOp::create(b, loc, t({kDyn, c.nEmbd}), *wte, tokens);
  Value ropeCos, ropeSin;
  switch (c.positions) {
  case Positions::Learned: {
    setLoc("wpe", "n_positions");
    auto wpe = param("wpe.weight", {c.nPositions, c.nEmbd}, "position embedding [n_positions, n_embd]");
    if (!wpe)
      return wpe.takeError();
    x = add(x, GatherOp::create(b, loc, t({kDyn, c.nEmbd}), *wpe, positions));
    break;
  }
  case Positions::Sinusoidal: {
    // pe(p, 2i) = sin(p * 10000^(-2i/d)), pe(p, 2i+1) = cos(same): interleaved.
    setLoc("sinusoidal_positions", "position_embedding_type");
    int64_t half = c.nEmbd / 2;
    std::vector<float> inv(half);
    for (int64_t i = 0; i < half; ++i)
      inv[i] = static_cast<float>(std::pow(10000.0, -2.0 * i / c.nEmbd));
    Value p = reshape(CastOp::create(b, loc, t({kDyn}), positions), {kDyn, 1});
    Value angles = mul(p, vector(inv));                          // [T, d/2]
    Value s = reshape(SinOp::create(b, loc, angles), {kDyn, half, 1});
    Value co = reshape(CosOp::create(b, loc, angles), {kDyn, half, 1});
    x = add(x, reshape(concat({s, co}, 2), {kDyn, c.nEmbd}));   // [T, d/2, 2] -> [T, d]
    break;
  }
  case Positions::Rope: {
    // cos/sin tables shared by every layer: angle(p, i) = p * theta^(-2i/r).
    setLoc("rope", "rope_theta");
    int64_t r = c.rotaryDim;
    std::vector<float> inv(r / 2);
    for (int64_t i = 0; i < r / 2; ++i)
      inv[i] = static_cast<float>(std::pow(c.ropeTheta, -2.0 * i / r));
    Value p = reshape(CastOp::create(b, loc, t({kDyn}), positions), {kDyn, 1});
    Value angles = mul(p, vector(inv));                          // [T, r/2]
    Value full = reshape(concat({angles, angles}, 1), {kDyn, 1, r});
    ropeCos = CosOp::create(b, loc, full);
    ropeSin = SinOp::create(b, loc, full);
    break;
  }
  case Positions::None:
    break;
  }

  llvm::SmallVector<Value> presents;
  for (int64_t l = 0; l < c.nLayer; ++l) {
    Value pk, pv;
    auto y = block(l, x, positions, entry->getArgument(2 + 2 * l), entry->getArgument(3 + 2 * l),
                   pk, pv, ropeCos, ropeSin);
    if (!y)
      return y.takeError();
    x = *y;
    presents.append({pk, pv});
  }
  // Only the rows whose logits are asked for go on (ln_f is per row).
  setLoc("lm_head", "vocab_size");
  x = GatherOp::create(b, loc, t({kDyn, c.nEmbd}), x, entry->getArgument(2 + 2 * c.nLayer));
  auto lnf = layerNorm(x, "ln_f");
  if (!lnf)
    return lnf.takeError();
  Value head = *wte;
  if (!c.tieWordEmbeddings) {
    setLoc("lm_head", "tie_word_embeddings");
    std::string savedPrefix = prefix;
    prefix.clear(); // lm_head.weight sits outside the "transformer." prefix
    auto lm = param("lm_head.weight", {c.vocabSize, c.nEmbd}, "untied lm head [vocab_size, n_embd]");
    prefix = savedPrefix;
    if (!lm)
      return lm.takeError();
    head = *lm;
  }
  setLoc("lm_head", "vocab_size");
  Value logits = matmul(*lnf, transpose(head, {1, 0}));
  llvm::SmallVector<Value> outs = {logits};
  outs.append(presents);
  func::ReturnOp::create(b, loc, outs);
  return module;
}
} // namespace

llvm::Expected<OwningOpRef<ModuleOp>> importGPT2(MLIRContext &context, const Config &config,
                                                 const Weights &weights) {
  context.loadDialect<TfmDialect, func::FuncDialect>();
  return GPT2Builder(context, config, weights).build();
}

} // namespace tfm::frontend
