//===- Blocks.cppm - Shared building blocks of the model families -*- C++ -*-===//
//
// The `tfm.frontend.blocks` module: ModelBuilder, the building blocks every
// family (lib/Frontend/Models/*) wires: weights, linear layers in either
// layout, layer and RMS norm, activations, plain and gated MLPs, the
// positional terms and attention (multi-head or grouped-query, rotary,
// causal with an optional sliding window, KV cache), each emitted as
// decomposed tfm IR: one primitive op per mathematical step, the way the
// model is defined, so the fusion passes have real work to do and an
// unfused graph means the same. Every op carries a location naming where it
// came from: the weight tensor (file and header offset) or the layer and the
// config key that shaped it.
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Location.h"
#include "llvm/Support/Error.h"
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>
export module tfm.frontend.blocks;

export import tfm.frontend.config;
import tfm.safetensors;

export namespace tfm::frontend {

/// Where the weights come from: a safetensors file, or deterministic random
/// values generated from a seed (no file is read).
struct Weights {
  const safetensors::File *file = nullptr;
  std::optional<uint64_t> randomSeed;
};

/// How a linear layer's weight is stored: transformers' Conv1D ([in, out],
/// GPT-2) or nn.Linear ([out, in], every later family).
enum class Layout { InOut, OutIn };

/// Builds one forward function from primitive tfm ops for a ModelConfig.
/// Concept names ("width", "heads", ...) given for locations are mapped to
/// the family's config keys by ModelConfig::key.
class ModelBuilder {
public:
  ModelBuilder(mlir::MLIRContext &ctx, const ModelConfig &config, const Weights &weights);

  /// Starts the module `name` and its `forward` function:
  ///   forward(tokens, positions, past_k.0, past_v.0, ..., logit_rows)
  ///     -> (logits, present_k.0, present_v.0, ...)
  /// with caches [P, kv_heads x head_dim]; logits[r] belongs to row
  /// logit_rows[r] of the call (a generator asks for the last row only).
  void beginForward(llvm::StringRef name);
  /// Starts the module `name` and the `forward` function of an encoder
  /// (ModelConfig::encoder: no KV cache):
  ///   forward(tokens, positions, token_types, sequence_ids[, logit_rows])
  ///     -> (hidden[, logits])
  /// with hidden [T, width] the last hidden state and, when `withLogits` (a
  /// masked-LM head), logits [R, vocab] of rows logit_rows. The T rows are
  /// a batch of sequences packed one after another: each run of equal
  /// sequence_ids is one text (positions restart at 0 in each), and
  /// attention stays within it (tfm.sequence_mask).
  void beginEncoder(llvm::StringRef name, bool withLogits);
  mlir::Value tokens() { return entry->getArgument(0); }
  mlir::Value positions() { return entry->getArgument(1); }
  mlir::Value tokenTypes() { return entry->getArgument(2); }
  mlir::Value sequenceIds() { return entry->getArgument(3); }
  /// The cache inputs of a layer (null in an encoder).
  mlir::Value pastK(int64_t layer) { return c.encoder ? mlir::Value() : entry->getArgument(2 + 2 * layer); }
  mlir::Value pastV(int64_t layer) { return c.encoder ? mlir::Value() : entry->getArgument(3 + 2 * layer); }
  mlir::Value logitRows() { return entry->getArgument(c.encoder ? 4 : 2 + 2 * c.layers); }
  /// Returns the logits and the presents; the module is complete.
  mlir::OwningOpRef<mlir::ModuleOp> finish(mlir::Value logits,
                                           llvm::ArrayRef<mlir::Value> presents);
  /// Returns an encoder's hidden state (and logits, if it has them).
  mlir::OwningOpRef<mlir::ModuleOp> finishEncoder(mlir::Value hidden, mlir::Value logits);

  //===--- locations -------------------------------------------------------===//

  /// `name` at the config key of the concept `what` ("width", ...): "h.3.attn"(config.json:7:3).
  mlir::Location at(llvm::StringRef name, llvm::StringRef what);
  void setLoc(llvm::StringRef name, llvm::StringRef what) { loc = at(name, what); }

  //===--- types, constants and primitive ops ------------------------------===//

  mlir::RankedTensorType t(llvm::ArrayRef<int64_t> shape, mlir::Type et = {});
  mlir::Value scalar(double v);
  mlir::Value vector(llvm::ArrayRef<float> values);
  static llvm::SmallVector<int64_t> shapeOf(mlir::Value v);
  // The elementwise, reduction and matmul ops infer their result types.
  mlir::Value add(mlir::Value x, mlir::Value y);
  mlir::Value sub(mlir::Value x, mlir::Value y);
  mlir::Value mul(mlir::Value x, mlir::Value y);
  mlir::Value div(mlir::Value x, mlir::Value y);
  mlir::Value pow(mlir::Value x, mlir::Value y);
  mlir::Value mean(mlir::Value x);
  mlir::Value matmul(mlir::Value x, mlir::Value y);
  mlir::Value reshape(mlir::Value x, llvm::ArrayRef<int64_t> shape);
  mlir::Value transpose(mlir::Value x, llvm::ArrayRef<int64_t> perm);
  llvm::SmallVector<mlir::Value> split(mlir::Value x, int64_t axis, llvm::ArrayRef<int64_t> sizes);
  mlir::Value concat(llvm::ArrayRef<mlir::Value> xs, int64_t axis);
  mlir::Value gather(mlir::Value table, mlir::Value indices);

  //===--- weights ---------------------------------------------------------===//

  /// `tfm.param` for the tensor `name` of `shape` (checked against the file:
  /// missing, shape, dtype), cast to f32 when stored as F16 or BF16.
  llvm::Expected<mlir::Value> param(const std::string &name, llvm::ArrayRef<int64_t> shape,
                                    llvm::StringRef what);
  /// True if the weights file holds `name` (random weights: false).
  bool hasTensor(const std::string &name) const;

  //===--- blocks ----------------------------------------------------------===//

  /// The config's norm (layer or RMS, eps from the config) with the scale
  /// `<name>.<scale>` and, for layer norm, the shift `<name>.<shift>`
  /// ([width]; TF-era BERT checkpoints name them gamma and beta).
  llvm::Expected<mlir::Value> norm(mlir::Value x, const std::string &name,
                                   llvm::StringRef scale = "weight",
                                   llvm::StringRef shift = "bias");
  /// x W (+ b): `<name>.weight` in `layout`, `<name>.bias` if `bias`.
  llvm::Expected<mlir::Value> linear(mlir::Value x, const std::string &name, int64_t in,
                                     int64_t out, llvm::StringRef sizeKey, Layout layout,
                                     bool bias);
  /// The config's activation (ACT2FN formulas composed of tfm ops).
  mlir::Value activation(mlir::Value x);
  /// cos and sin tables ([T, 1, r]) of the rotary angles positions x
  /// inv_freq, shared by every layer.
  std::pair<mlir::Value, mlir::Value> ropeTables();
  /// Rotary embedding (rotate-half) of the first r dims of each of `heads`
  /// heads of x ([T, heads x head_dim]).
  mlir::Value rope(mlir::Value x, int64_t heads, mlir::Value cosT, mlir::Value sinT);
  /// Scaled dot-product attention of q ([T, H Dh]) over the cache and k, v
  /// ([T, KVH Dh]) of `layer`; the present keys and values are returned in
  /// presentK/V; the result is [T, H Dh]. `prefix` names the ops.
  mlir::Value attention(int64_t layer, const std::string &prefix, mlir::Value q, mlir::Value k,
                        mlir::Value v, mlir::Value &presentK, mlir::Value &presentV);

  mlir::OpBuilder &builder() { return b; }
  const ModelConfig &config() const { return c; }

private:
  mlir::MLIRContext &ctx;
  mlir::OpBuilder b;
  const ModelConfig &c;
  const Weights &w;
  mlir::Type f32;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp func;
  mlir::Block *entry = nullptr;
  mlir::Value ropeCos, ropeSin;

public:
  mlir::Location loc;
};

} // namespace tfm::frontend

namespace tfm::frontend {
using namespace mlir;

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;
} // namespace

ModelBuilder::ModelBuilder(MLIRContext &ctx, const ModelConfig &config, const Weights &weights)
    : ctx(ctx), b(&ctx), c(config), w(weights), f32(b.getF32Type()), loc(UnknownLoc::get(&ctx)) {}

Location ModelBuilder::at(llvm::StringRef name, llvm::StringRef what) {
  std::string key = c.key(what);
  auto [line, col] = c.keyPosition(key);
  return NameLoc::get(b.getStringAttr(name), FileLineColLoc::get(&ctx, c.path, line, col));
}

RankedTensorType ModelBuilder::t(llvm::ArrayRef<int64_t> shape, Type et) {
  return RankedTensorType::get(shape, et ? et : f32);
}
Value ModelBuilder::scalar(double v) {
  return ConstantOp::create(b, loc, t({}), DenseElementsAttr::get(t({}), static_cast<float>(v)));
}
Value ModelBuilder::vector(llvm::ArrayRef<float> values) {
  auto type = t({static_cast<int64_t>(values.size())});
  return ConstantOp::create(b, loc, type, DenseElementsAttr::get(type, values));
}
llvm::SmallVector<int64_t> ModelBuilder::shapeOf(Value v) {
  auto s = cast<RankedTensorType>(v.getType()).getShape();
  return {s.begin(), s.end()};
}
Value ModelBuilder::add(Value x, Value y) { return AddOp::create(b, loc, x, y); }
Value ModelBuilder::sub(Value x, Value y) { return SubOp::create(b, loc, x, y); }
Value ModelBuilder::mul(Value x, Value y) { return MulOp::create(b, loc, x, y); }
Value ModelBuilder::div(Value x, Value y) { return DivOp::create(b, loc, x, y); }
Value ModelBuilder::pow(Value x, Value y) { return PowOp::create(b, loc, x, y); }
Value ModelBuilder::mean(Value x) {
  return ReduceMeanOp::create(b, loc, x, b.getI64IntegerAttr(-1));
}
Value ModelBuilder::matmul(Value x, Value y) { return MatmulOp::create(b, loc, x, y); }
Value ModelBuilder::reshape(Value x, llvm::ArrayRef<int64_t> shape) {
  return ReshapeOp::create(b, loc, t(shape, cast<RankedTensorType>(x.getType()).getElementType()),
                           x);
}
Value ModelBuilder::transpose(Value x, llvm::ArrayRef<int64_t> perm) {
  auto s = shapeOf(x);
  llvm::SmallVector<int64_t> out;
  for (int64_t p : perm)
    out.push_back(s[p]);
  return TransposeOp::create(b, loc, t(out), x, b.getDenseI64ArrayAttr(perm));
}
llvm::SmallVector<Value> ModelBuilder::split(Value x, int64_t axis,
                                             llvm::ArrayRef<int64_t> sizes) {
  llvm::SmallVector<Type> types;
  for (int64_t size : sizes) {
    auto s = shapeOf(x);
    s[axis] = size;
    types.push_back(t(s));
  }
  auto op = SplitOp::create(b, loc, types, x, b.getI64IntegerAttr(axis));
  return {op.getResults().begin(), op.getResults().end()};
}
Value ModelBuilder::concat(llvm::ArrayRef<Value> xs, int64_t axis) {
  auto s = shapeOf(xs.front());
  for (Value x : xs.drop_front()) {
    int64_t d = shapeOf(x)[axis];
    s[axis] = ShapedType::isDynamic(s[axis]) || ShapedType::isDynamic(d) ? kDyn : s[axis] + d;
  }
  return ConcatOp::create(b, loc, t(s), xs, b.getI64IntegerAttr(axis));
}
Value ModelBuilder::gather(Value table, Value indices) {
  return GatherOp::create(b, loc, t({kDyn, shapeOf(table)[1]}), table, indices);
}

//===----------------------------------------------------------------------===//
// The forward function
//===----------------------------------------------------------------------===//

void ModelBuilder::beginForward(llvm::StringRef name) {
  module = ModuleOp::create(FileLineColLoc::get(&ctx, c.path, 1, 1));
  module->setName(name);
  if (w.file)
    (*module)->setAttr("tfm.weights", b.getStringAttr(w.file->path()));
  else
    (*module)->setAttr("tfm.random_weights", b.getI64IntegerAttr(*w.randomSeed));
  (*module)->setAttr("tfm.config", b.getStringAttr(c.path));
  b.setInsertionPointToEnd(module->getBody());

  auto idx = t({kDyn}, b.getI64Type());
  auto cache = t({kDyn, c.kvHeads * c.headDim});
  llvm::SmallVector<Type> inputs = {idx, idx};
  llvm::SmallVector<Type> results = {t({kDyn, c.vocabSize})};
  for (int64_t l = 0; l < c.layers; ++l) {
    inputs.append({cache, cache});
    results.append({cache, cache});
  }
  inputs.push_back(idx);
  func = func::FuncOp::create(b, at("forward", "model_type"), "forward",
                              b.getFunctionType(inputs, results));
  entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  // What the executables' driver passes for each buffer (tfm.role, verified
  // by the dialect; tfm_buffer_role in tfm_runtime.h) and its name.
  auto describe = [&](bool result, unsigned i, StringRef argName, StringRef role,
                      std::optional<int64_t> layer = std::nullopt) {
    auto set = [&](StringRef key, Attribute value) {
      result ? func.setResultAttr(i, key, value) : func.setArgAttr(i, key, value);
    };
    set("tfm.name", b.getStringAttr(argName));
    set("tfm.role", b.getStringAttr(role));
    if (layer)
      set("tfm.layer", b.getI64IntegerAttr(*layer));
  };
  describe(false, 0, "tokens", "tokens");
  describe(false, 1, "positions", "positions");
  for (int64_t l = 0; l < c.layers; ++l) {
    describe(false, 2 + 2 * l, "past_k." + std::to_string(l), "past_key", l);
    describe(false, 3 + 2 * l, "past_v." + std::to_string(l), "past_value", l);
  }
  describe(false, 2 + 2 * c.layers, "logit_rows", "logit_rows");
  describe(true, 0, "logits", "logits");
  for (int64_t l = 0; l < c.layers; ++l) {
    describe(true, 1 + 2 * l, "present_k." + std::to_string(l), "present_key", l);
    describe(true, 2 + 2 * l, "present_v." + std::to_string(l), "present_value", l);
  }
  (*module)->setAttr("tfm.context_length", b.getI64IntegerAttr(c.contextLength));
}

void ModelBuilder::beginEncoder(llvm::StringRef name, bool withLogits) {
  module = ModuleOp::create(FileLineColLoc::get(&ctx, c.path, 1, 1));
  module->setName(name);
  if (w.file)
    (*module)->setAttr("tfm.weights", b.getStringAttr(w.file->path()));
  else
    (*module)->setAttr("tfm.random_weights", b.getI64IntegerAttr(*w.randomSeed));
  (*module)->setAttr("tfm.config", b.getStringAttr(c.path));
  b.setInsertionPointToEnd(module->getBody());
  auto idx = t({kDyn}, b.getI64Type());
  llvm::SmallVector<Type> inputs = {idx, idx, idx, idx};
  llvm::SmallVector<Type> results = {t({kDyn, c.width})};
  if (withLogits) {
    inputs.push_back(idx);
    results.push_back(t({kDyn, c.vocabSize}));
  }
  func = func::FuncOp::create(b, at("forward", "model_type"), "forward",
                              b.getFunctionType(inputs, results));
  entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  auto describe = [&](bool result, unsigned i, StringRef argName) {
    auto set = [&](StringRef key, Attribute value) {
      result ? func.setResultAttr(i, key, value) : func.setArgAttr(i, key, value);
    };
    set("tfm.name", b.getStringAttr(argName));
    set("tfm.role", b.getStringAttr(argName));
  };
  describe(false, 0, "tokens");
  describe(false, 1, "positions");
  describe(false, 2, "token_types");
  describe(false, 3, "sequence_ids");
  describe(true, 0, "hidden");
  if (withLogits) {
    describe(false, 4, "logit_rows");
    describe(true, 1, "logits");
  }
  (*module)->setAttr("tfm.context_length", b.getI64IntegerAttr(c.contextLength));
}

OwningOpRef<ModuleOp> ModelBuilder::finishEncoder(Value hidden, Value logits) {
  llvm::SmallVector<Value> outs = {hidden};
  if (logits)
    outs.push_back(logits);
  func::ReturnOp::create(b, loc, outs);
  return std::move(module);
}

OwningOpRef<ModuleOp> ModelBuilder::finish(Value logits, llvm::ArrayRef<Value> presents) {
  llvm::SmallVector<Value> outs = {logits};
  outs.append(presents.begin(), presents.end());
  func::ReturnOp::create(b, loc, outs);
  return std::move(module);
}

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

bool ModelBuilder::hasTensor(const std::string &name) const {
  return w.file && w.file->lookup(name);
}

llvm::Expected<Value> ModelBuilder::param(const std::string &name,
                                          llvm::ArrayRef<int64_t> shape, llvm::StringRef what) {
  Type et = f32;
  Location ploc = loc;
  if (w.file) {
    auto fail = [&](const llvm::Twine &why) {
      return llvm::createStringError(llvm::inconvertibleErrorCode(), w.file->path() + ": " + why);
    };
    const safetensors::TensorInfo *info = w.file->lookup(name);
    if (!info)
      return fail("missing tensor '" + name + "' (" + what + ")");
    std::vector<int64_t> expected(shape.begin(), shape.end());
    if (info->shape != expected) {
      auto str = [](llvm::ArrayRef<int64_t> s) {
        std::string r = "[";
        for (size_t i = 0; i < s.size(); ++i)
          r += (i ? ", " : "") + std::to_string(s[i]);
        return r + "]";
      };
      return fail("tensor '" + name + "' has shape " + str(info->shape) + ", expected " +
                  str(shape) + " (" + what + ")");
    }
    switch (info->dtype) {
    case safetensors::DType::F32: et = b.getF32Type(); break;
    case safetensors::DType::F16: et = b.getF16Type(); break;
    case safetensors::DType::BF16: et = b.getBF16Type(); break;
    default:
      return fail("tensor '" + name + "' has dtype " + safetensors::dtypeName(info->dtype) +
                  "; supported are F32, F16 and BF16");
    }
    ploc = NameLoc::get(b.getStringAttr(name),
                        FileLineColLoc::get(&ctx, w.file->path(), 1, info->headerPosition + 1));
  } else {
    ploc = NameLoc::get(b.getStringAttr(name), loc);
  }
  Value p = ParamOp::create(b, ploc, t(shape, et), b.getStringAttr(name));
  if (et != f32)
    p = CastOp::create(b, ploc, t(shape), p);
  return p;
}

//===----------------------------------------------------------------------===//
// Blocks
//===----------------------------------------------------------------------===//

llvm::Expected<Value> ModelBuilder::norm(Value x, const std::string &name, llvm::StringRef scale,
                                         llvm::StringRef shift) {
  setLoc(name, "norm_eps");
  int64_t d = shapeOf(x).back();
  bool rms = c.norm == NormKind::Rms;
  auto gamma = param(name + "." + scale.str(), {d}, rms ? "RMS norm scale [width]"
                                                         : "layer norm scale [width]");
  if (!gamma)
    return gamma.takeError();
  if (rms) {
    // transformers' LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * weight.
    Value inv = RsqrtOp::create(b, loc, add(mean(mul(x, x)), scalar(c.normEps)));
    return mul(mul(x, inv), *gamma);
  }
  auto beta = param(name + "." + shift.str(), {d}, "layer norm shift [width]");
  if (!beta)
    return beta.takeError();
  Value mu = mean(x);
  Value centred = sub(x, mu);
  Value var = mean(mul(centred, centred));
  Value inv = RsqrtOp::create(b, loc, add(var, scalar(c.normEps)));
  return add(mul(mul(centred, inv), *gamma), *beta);
}

llvm::Expected<Value> ModelBuilder::linear(Value x, const std::string &name, int64_t in,
                                           int64_t out, llvm::StringRef sizeKey, Layout layout,
                                           bool bias) {
  setLoc(name, sizeKey);
  auto weight = layout == Layout::InOut
                    ? param(name + ".weight", {in, out}, "Conv1D weight [in, out]")
                    : param(name + ".weight", {out, in}, "nn.Linear weight [out, in]");
  if (!weight)
    return weight.takeError();
  Value y = layout == Layout::InOut ? matmul(x, *weight) : matmul(x, transpose(*weight, {1, 0}));
  if (!bias)
    return y;
  auto bv = param(name + ".bias", {out}, "bias [out]");
  if (!bv)
    return bv.takeError();
  return add(y, *bv);
}

Value ModelBuilder::activation(Value x) {
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

std::pair<Value, Value> ModelBuilder::ropeTables() {
  if (!ropeCos) {
    // angle(p, i) = p * inv_freq[i], the table duplicated for rotate-half.
    setLoc("rope", "rope_theta");
    int64_t r = c.rotaryDim;
    Value p = reshape(CastOp::create(b, loc, t({kDyn}), positions()), {kDyn, 1});
    Value angles = mul(p, vector(c.invFreq));                    // [T, r/2]
    Value full = reshape(concat({angles, angles}, 1), {kDyn, 1, r});
    ropeCos = CosOp::create(b, loc, full);
    ropeSin = SinOp::create(b, loc, full);
  }
  return {ropeCos, ropeSin};
}

Value ModelBuilder::rope(Value x, int64_t heads, Value cosT, Value sinT) {
  // x: [T, heads * Dh] -> [T, heads, Dh]; rotate the first r dims of each head.
  int64_t dh = c.headDim, r = c.rotaryDim;
  Value hx = reshape(x, {kDyn, heads, dh});
  Value rot = hx, pass;
  if (r < dh) {
    auto parts = split(hx, 2, {r, dh - r});
    rot = parts[0];
    pass = parts[1];
  }
  auto halves = split(rot, 2, {r / 2, r / 2});
  Value rotated = concat({mul(halves[1], scalar(-1.0)), halves[0]}, 2);
  Value y = add(mul(rot, cosT), mul(rotated, sinT));
  if (pass)
    y = concat({y, pass}, 2);
  return reshape(y, {kDyn, heads * dh});
}

Value ModelBuilder::attention(int64_t layer, const std::string &prefix, Value q, Value k, Value v,
                              Value &presentK, Value &presentV) {
  int64_t heads = c.heads, kvHeads = c.kvHeads, dh = c.headDim, group = heads / kvHeads;
  if (c.positions == Positions::Rope) {
    auto [cosT, sinT] = ropeTables();
    setLoc(prefix + ".rope", "rotary_dim");
    q = rope(q, heads, cosT, sinT);
    k = rope(k, kvHeads, cosT, sinT);
  }
  setLoc(prefix, "heads");
  // KV cache: keys and values of earlier positions come first (an encoder
  // has none: its keys and values are this call's).
  presentK = c.encoder ? k : concat({pastK(layer), k}, 0);
  presentV = c.encoder ? v : concat({pastV(layer), v}, 0);
  // [S, KVH*Dh] -> [S, H, Dh]; grouped heads repeat each key/value head G
  // times (transformers' repeat_kv).
  auto perHead = [&](Value x) {
    if (group == 1)
      return reshape(x, {kDyn, heads, dh});
    Value one = reshape(x, {kDyn, kvHeads, 1, dh});
    llvm::SmallVector<Value> copies(group, one);
    return reshape(concat(copies, 2), {kDyn, heads, dh});
  };
  Value qh = transpose(reshape(q, {kDyn, heads, dh}), {1, 0, 2});  // [H, T, Dh]
  Value kh = transpose(perHead(presentK), {1, 2, 0});              // [H, Dh, S]
  Value vh = transpose(perHead(presentV), {1, 0, 2});              // [H, S, Dh]
  Value scores = matmul(qh, kh);                                  // [H, T, S]
  if (c.attentionScale != 1.0) {
    // 1/sqrt(Dh) as a division (as GPT2Attention writes it), else a product.
    double root = std::sqrt(static_cast<double>(dh));
    scores = std::abs(c.attentionScale * root - 1.0) < 1e-12 ? div(scores, scalar(root))
                                                             : mul(scores, scalar(c.attentionScale));
  }
  if (c.scaleByInverseLayer)
    scores = div(scores, scalar(static_cast<double>(layer + 1)));
  if (c.encoder) {
    // Packed sequences: a query sees the keys of its own text only.
    setLoc(prefix + ".sequence_mask", "heads");
    Value mask = SequenceMaskOp::create(b, loc, t({kDyn, kDyn}, b.getI1Type()), scores,
                                        sequenceIds());
    scores = SelectOp::create(b, loc, mask, scores, scalar(std::numeric_limits<float>::lowest()));
    setLoc(prefix, "heads");
  }
  if (c.causal) {
    int64_t window = c.windows.empty() ? 0 : c.windows[layer];
    setLoc(prefix + ".causal_mask", window ? "sliding_window" : "causal");
    Value mask = CausalMaskOp::create(b, loc, t({kDyn, kDyn}, b.getI1Type()), scores, Value(),
                                      window ? b.getI64IntegerAttr(window) : IntegerAttr());
    scores = SelectOp::create(b, loc, mask, scores, scalar(std::numeric_limits<float>::lowest()));
    setLoc(prefix, "heads");
  }
  Value probs = SoftmaxOp::create(b, loc, scores, b.getI64IntegerAttr(-1));
  Value ctxh = matmul(probs, vh);                                  // [H, T, Dh]
  return reshape(transpose(ctxh, {1, 0, 2}), {kDyn, heads * dh});  // [T, H*Dh]
}

} // namespace tfm::frontend
