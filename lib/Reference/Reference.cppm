//===- Reference.cppm - Naive evaluator of tfm IR ---------------*- C++ -*-===//
//
// The `tfm.reference` module: interprets a tfm function op by op with plain
// loops in double precision. It shares nothing with the backend (no oneDNN,
// no lowering), so tests can compare compiled executables against it. Every
// tfm op, primitive or fused, is covered; errors are emitted as diagnostics
// at the failing op.
//
//===----------------------------------------------------------------------===//

module;
#include <unordered_map>
#include "tfm/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <cstring>
#include <vector>
export module tfm.reference;

export import tfm.reference.math;
import tfm.safetensors;

export namespace tfm::reference {

/// The most elements one tensor may have in the evaluator (2^28: 2 GiB of
/// doubles); evaluate() refuses an op whose result has more.
inline constexpr int64_t kMaxElements = int64_t(1) << 28;

/// Supplies the data of `tfm.param name`; returns nullopt and sets `error`
/// when it cannot.
using ParamLoader =
    std::function<std::optional<Tensor>(llvm::StringRef name, std::string &error)>;

/// Reads tensor `name` of a safetensors file (F32, F16 or BF16) as doubles.
std::optional<Tensor> loadTensor(const safetensors::File &file, llvm::StringRef name,
                                 std::string &error);

/// Evaluates `func` on `inputs` and returns its results, or fails after
/// emitting an error at the op that could not be evaluated.
mlir::FailureOr<std::vector<Tensor>> evaluate(mlir::func::FuncOp func,
                                              llvm::ArrayRef<Tensor> inputs,
                                              const ParamLoader &params = {});

} // namespace tfm::reference

namespace tfm::reference {
using namespace mlir;
using namespace tfm::reference::math;

namespace {
/// True if a value of shape `actual` may have type shape `declared` (whose
/// dynamic dimensions match anything).
bool fits(const std::vector<int64_t> &declared, const std::vector<int64_t> &actual) {
  if (declared.size() != actual.size())
    return false;
  for (size_t i = 0; i < declared.size(); ++i)
    if (!ShapedType::isDynamic(declared[i]) && declared[i] != actual[i])
      return false;
  return true;
}

/// The run of each row of packed sequence ids: a sequence is a run of
/// consecutive rows with one id (tfm.sequence_mask), so rows i and j belong
/// to one sequence exactly when their runs are equal.
std::vector<int64_t> runsOf(const Tensor &ids) {
  std::vector<int64_t> run(ids.data.size(), 0);
  for (size_t r = 1; r < run.size(); ++r)
    run[r] = run[r - 1] + (ids.data[r] != ids.data[r - 1] ? 1 : 0);
  return run;
}

std::vector<int64_t> shapeOf(Type t) {
  auto rt = cast<RankedTensorType>(t);
  return {rt.getShape().begin(), rt.getShape().end()};
}

Tensor fromElements(ElementsAttr value) {
  // Dense values, and dense_resource blobs read as one (the verifier has
  // checked the blob; ElementsAttr cannot iterate a resource's APFloats).
  // (The caller has checked that it is readable.)
  DenseElementsAttr attr = tfm::denseElements(value);
  Tensor t{shapeOf(attr.getType()), {}};
  Type et = attr.getElementType();
  if (isa<FloatType>(et)) {
    for (APFloat v : attr.getValues<APFloat>())
      t.data.push_back(v.convertToDouble());
  } else if (et.isInteger(1)) {
    for (bool v : attr.getValues<bool>())
      t.data.push_back(v ? 1.0 : 0.0);
  } else {
    for (APInt v : attr.getValues<APInt>())
      t.data.push_back(static_cast<double>(v.getSExtValue()));
  }
  return t;
}

/// The op-by-op interpreter.
class Evaluator {
public:
  explicit Evaluator(const ParamLoader &params) : params(params) {}

  FailureOr<std::vector<Tensor>> run(func::FuncOp func, llvm::ArrayRef<Tensor> inputs) {
    if (!func.getBody().hasOneBlock())
      return func.emitError() << "the reference evaluator expects a single-block function";
    Block &block = func.front();
    if (inputs.size() != block.getNumArguments())
      return func.emitError() << "expected " << block.getNumArguments() << " inputs, got "
                              << inputs.size();
    for (auto [arg, in] : llvm::zip(block.getArguments(), inputs)) {
      if (!fits(shapeOf(arg.getType()), in.shape))
        return func.emitError() << "input #" << arg.getArgNumber() << " has the wrong shape";
      values[arg] = in;
    }
    for (Operation &op : block) {
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        std::vector<Tensor> results;
        for (Value v : ret.getOperands())
          results.push_back(get(v));
        return results;
      }
      // Every tensor is held as doubles: refuse what would not fit before
      // allocating it (the verifier's bound, 2^40 bytes, is far more).
      for (Value r : op.getResults())
        if (auto t = dyn_cast<RankedTensorType>(r.getType())) {
          int64_t n = 1;
          for (int64_t d : t.getShape())
            if (!ShapedType::isDynamic(d) && (llvm::MulOverflow(n, d, n) || n > kMaxElements))
              return op.emitOpError() << "result of type " << t << " has more than 2^28 "
                                      << "elements, the most the reference evaluator holds";
        }
      if (failed(step(&op)))
        return failure();
    }
    return func.emitError() << "function has no return";
  }

private:
  const Tensor &get(Value v) {
    auto it = values.find(v);
    if (it == values.end())
      llvm::report_fatal_error("reference evaluator: a value is used before it is computed");
    return it->second;
  }
  void set(Value v, Tensor t) { values[v] = std::move(t); }

  LogicalResult binary(Operation *op, const std::function<double(double, double)> &f) {
    const Tensor &a = get(op->getOperand(0)), &b = get(op->getOperand(1));
    set(op->getResult(0), broadcastMap(broadcast({&a.shape, &b.shape}), {&a, &b},
                                       [&](llvm::ArrayRef<double> x) { return f(x[0], x[1]); }));
    return success();
  }
  LogicalResult unary(Operation *op, const std::function<double(double)> &f) {
    set(op->getResult(0), unaryMap(get(op->getOperand(0)), f));
    return success();
  }

  LogicalResult step(Operation *op) {
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .Case([&](ParamOp p) -> LogicalResult {
          std::string error;
          if (!params)
            return p.emitError() << "no weights are available for tfm.param \"" << p.getName()
                                 << "\"";
          auto t = params(p.getName(), error);
          if (!t)
            return p.emitError() << error;
          if (t->shape != shapeOf(p.getType()))
            return p.emitError() << "weight \"" << p.getName() << "\" has the wrong shape";
          set(p, std::move(*t));
          return success();
        })
        .Case([&](ConstantOp c) -> LogicalResult {
          if (!tfm::denseElements(c.getValue())) {
            std::string problem = tfm::resourceProblem(c.getValue());
            return c.emitOpError() << "value cannot be read: "
                                   << (problem.empty() ? "not a dense or dense_resource value"
                                                       : problem);
          }
          set(c, fromElements(c.getValue()));
          return success();
        })
        .Case([&](AddOp o) { return binary(o, [](double a, double b) { return a + b; }); })
        .Case([&](SubOp o) { return binary(o, [](double a, double b) { return a - b; }); })
        .Case([&](MulOp o) { return binary(o, [](double a, double b) { return a * b; }); })
        .Case([&](DivOp o) { return binary(o, [](double a, double b) { return a / b; }); })
        .Case([&](PowOp o) { return binary(o, [](double a, double b) { return std::pow(a, b); }); })
        .Case([&](RsqrtOp o) { return unary(o, [](double x) { return 1 / std::sqrt(x); }); })
        .Case([&](SqrtOp o) { return unary(o, [](double x) { return std::sqrt(x); }); })
        .Case([&](TanhOp o) { return unary(o, [](double x) { return std::tanh(x); }); })
        .Case([&](ExpOp o) { return unary(o, [](double x) { return std::exp(x); }); })
        .Case([&](ErfOp o) { return unary(o, [](double x) { return std::erf(x); }); })
        .Case([&](ReluOp o) { return unary(o, [](double x) { return std::max(x, 0.0); }); })
        .Case([&](SinOp o) { return unary(o, [](double x) { return std::sin(x); }); })
        .Case([&](CosOp o) { return unary(o, [](double x) { return std::cos(x); }); })
        .Case([&](CastOp o) {
          bool toInt = isa<IntegerType>(o.getType().getElementType());
          return unary(o, [toInt](double x) { return toInt ? std::trunc(x) : x; });
        })
        .Case([&](SelectOp o) {
          const Tensor &c = get(o.getCond()), &a = get(o.getTrueValue()),
                       &b = get(o.getFalseValue());
          set(o, broadcastMap(broadcast({&c.shape, &a.shape, &b.shape}), {&c, &a, &b},
                              [](llvm::ArrayRef<double> x) { return x[0] != 0 ? x[1] : x[2]; }));
          return success();
        })
        .Case([&](CausalMaskOp o) {
          const auto &ss = get(o.getScores()).shape;
          std::vector<int64_t> shape = {ss[ss.size() - 2], ss.back()};
          int64_t offset = o.getOffset() ? static_cast<int64_t>(get(o.getOffset()).data[0])
                                         : shape[1] - shape[0];
          Tensor m{shape, std::vector<double>(shape[0] * shape[1])};
          for (int64_t i = 0; i < shape[0]; ++i)
            for (int64_t j = 0; j < shape[1]; ++j)
              m.data[i * shape[1] + j] =
                  j <= i + offset &&
                          (!o.getWindow() || j > i + offset - static_cast<int64_t>(*o.getWindow()))
                      ? 1
                      : 0;
          set(o, std::move(m));
          return success();
        })
        .Case([&](SequenceMaskOp o) -> LogicalResult {
          const auto &ss = get(o.getScores()).shape;
          int64_t t = ss.back();
          std::vector<int64_t> run = runsOf(get(o.getSequenceIds()));
          if (static_cast<int64_t>(run.size()) != t || ss[ss.size() - 2] != t)
            return o.emitOpError() << "expected " << t << " sequence ids for scores of "
                                   << ss[ss.size() - 2] << " x " << t << ", got " << run.size();
          Tensor m{{t, t}, std::vector<double>(t * t)};
          for (int64_t i = 0; i < t; ++i)
            for (int64_t j = 0; j < t; ++j)
              m.data[i * t + j] = run[i] == run[j] ? 1 : 0;
          set(o, std::move(m));
          return success();
        })
        .Case([&](ReduceMeanOp o) {
          set(o, reduce(get(o.getInput()), o.getNormalizedAxis(), Reduce::Mean));
          return success();
        })
        .Case([&](ReduceMaxOp o) {
          set(o, reduce(get(o.getInput()), o.getNormalizedAxis(), Reduce::Max));
          return success();
        })
        .Case([&](ReduceSumOp o) {
          set(o, reduce(get(o.getInput()), o.getNormalizedAxis(), Reduce::Sum));
          return success();
        })
        .Case([&](SoftmaxOp o) {
          set(o, softmax(get(o.getInput()), o.getNormalizedAxis()));
          return success();
        })
        .Case([&](MatmulOp o) {
          const Tensor &a = get(o.getLhs()), &b = get(o.getRhs());
          std::vector<int64_t> ab(a.shape.begin(), a.shape.end() - 2);
          std::vector<int64_t> bb(b.shape.begin(), b.shape.end() - 2);
          std::vector<int64_t> shape = broadcast({&ab, &bb});
          shape.push_back(a.shape[a.shape.size() - 2]);
          shape.push_back(b.shape.back());
          set(o, matmul(a, b, shape));
          return success();
        })
        .Case([&](TransposeOp o) {
          const Tensor &x = get(o.getInput());
          auto perm = o.getPermutation();
          std::vector<int64_t> shape;
          for (int64_t p : perm)
            shape.push_back(x.shape[p]);
          auto xs = stridesOf(x.shape);
          Tensor out{shape, std::vector<double>(x.data.size())};
          std::vector<int64_t> idx(shape.size(), 0);
          for (int64_t i = 0; i < out.numElements(); ++i) {
            int64_t off = 0;
            for (size_t d = 0; d < shape.size(); ++d)
              off += idx[d] * xs[perm[d]];
            out.data[i] = x.data[off];
            for (size_t d = shape.size(); d-- > 0;) {
              if (++idx[d] < shape[d])
                break;
              idx[d] = 0;
            }
          }
          set(o, std::move(out));
          return success();
        })
        .Case([&](ReshapeOp o) -> LogicalResult {
          Tensor t = get(o.getInput());
          auto shape = shapeOf(o.getType());
          int64_t known = 1, dynamic = -1;
          for (size_t i = 0; i < shape.size(); ++i) {
            if (!ShapedType::isDynamic(shape[i])) {
              known *= shape[i];
            } else if (dynamic >= 0) {
              return o.emitError() << "the reference evaluator resolves at most "
                                      "one dynamic dimension in a reshape";
            } else {
              dynamic = i;
            }
          }
          if (dynamic >= 0)
            shape[dynamic] = known ? t.numElements() / known : 0;
          t.shape = shape;
          if (t.numElements() != static_cast<int64_t>(t.data.size()))
            return o.emitError() << "cannot reshape " << t.data.size() << " elements";
          set(o, std::move(t));
          return success();
        })
        .Case([&](SliceOp o) -> LogicalResult {
          if (!o.getType().hasStaticShape())
            return o.emitError() << "the reference evaluator needs a static slice size";
          set(o, copyBox(get(o.getInput()), {o.getOffsets().begin(), o.getOffsets().end()},
                         shapeOf(o.getType())));
          return success();
        })
        .Case([&](SplitOp o) {
          const Tensor &x = get(o.getInput());
          int64_t axis = o.getNormalizedAxis();
          std::vector<int64_t> offsets(x.shape.size(), 0);
          for (Value r : o.getResults()) {
            auto shape = x.shape;
            shape[axis] = cast<RankedTensorType>(r.getType()).getShape()[axis];
            set(r, copyBox(x, offsets, shape));
            offsets[axis] += shape[axis];
          }
          return success();
        })
        .Case([&](ConcatOp o) {
          int64_t axis = o.getNormalizedAxis();
          auto shape = get(o.getInputs().front()).shape;
          shape[axis] = 0;
          for (Value in : o.getInputs())
            shape[axis] += get(in).shape[axis];
          auto [outer, size, inner] = around(shape, axis);
          Tensor out{shape, {}};
          out.data.reserve(out.numElements());
          for (int64_t i = 0; i < outer; ++i)
            for (Value in : o.getInputs()) {
              const Tensor &x = get(in);
              int64_t chunk = x.shape[axis] * inner;
              out.data.insert(out.data.end(), x.data.begin() + i * chunk,
                              x.data.begin() + (i + 1) * chunk);
            }
          set(o, std::move(out));
          return success();
        })
        .Case([&](GatherOp o) -> LogicalResult {
          const Tensor &table = get(o.getTable()), &idx = get(o.getIndices());
          int64_t rows = table.shape[0], row = table.numElements() / std::max<int64_t>(rows, 1);
          Tensor out{idx.shape, {}};
          out.shape.insert(out.shape.end(), table.shape.begin() + 1, table.shape.end());
          for (double d : idx.data) {
            int64_t i = static_cast<int64_t>(d);
            if (i < 0 || i >= rows)
              return o.emitError() << "index " << i << " is out of range [0, " << rows << ")";
            out.data.insert(out.data.end(), table.data.begin() + i * row,
                            table.data.begin() + (i + 1) * row);
          }
          set(o, std::move(out));
          return success();
        })
        .Case([&](EmbeddingOp o) -> LogicalResult {
          const Tensor &tok = get(o.getTokens()), &table = get(o.getTable());
          int64_t vocab = table.shape[0], d = table.shape[1];
          const Tensor *positions = o.getPositions() ? &get(o.getPositions()) : nullptr;
          Tensor out{{static_cast<int64_t>(tok.data.size()), d}, {}};
          out.data.resize(out.numElements());
          for (size_t t = 0; t < tok.data.size(); ++t) {
            int64_t id = static_cast<int64_t>(tok.data[t]);
            int64_t pos = positions ? static_cast<int64_t>(positions->data[t]) : t;
            if (id < 0 || id >= vocab)
              return o.emitError() << "token id " << id << " is out of range [0, " << vocab << ")";
            for (int64_t j = 0; j < d; ++j) {
              double pe = 0;
              if (o.getPosition() == PositionKind::learned) {
                const Tensor &wpe = get(o.getPositionTable());
                if (pos < 0 || pos >= wpe.shape[0])
                  return o.emitError() << "position " << pos << " is beyond the "
                                       << wpe.shape[0] << " learned positions";
                pe = wpe.data[pos * d + j];
              } else if (o.getPosition() == PositionKind::sinusoidal) {
                double angle = pos / std::pow(10000.0, (2.0 * (j / 2)) / d);
                pe = j % 2 == 0 ? std::sin(angle) : std::cos(angle);
              }
              out.data[t * d + j] = table.data[id * d + j] + pe;
            }
          }
          set(o, std::move(out));
          return success();
        })
        .Case([&](LayerNormOp o) {
          Tensor s = get(o.getInput());
          if (o.getResidual()) {
            const Tensor &r = get(o.getResidual());
            for (size_t i = 0; i < s.data.size(); ++i)
              s.data[i] += r.data[i];
          }
          int64_t c = s.shape.back(), rows = s.numElements() / c;
          double eps = o.getEpsilon().convertToDouble();
          Tensor out = s;
          for (int64_t r = 0; r < rows; ++r) {
            double mean = 0, var = 0;
            for (int64_t j = 0; j < c; ++j) mean += s.data[r * c + j];
            mean = o.getRms() ? 0.0 : mean / c; // RMS norm: no centring
            for (int64_t j = 0; j < c; ++j) {
              double dv = s.data[r * c + j] - mean;
              var += dv * dv;
            }
            var /= c;
            for (int64_t j = 0; j < c; ++j) {
              double y = (s.data[r * c + j] - mean) / std::sqrt(var + eps);
              if (o.getScale()) y *= get(o.getScale()).data[j];
              if (o.getBias()) y += get(o.getBias()).data[j];
              out.data[r * c + j] = y;
            }
          }
          set(o.getOutput(), std::move(out));
          if (o.getSum())
            set(o.getSum(), std::move(s));
          return success();
        })
        .Case([&](LinearOp o) {
          const Tensor &x = get(o.getInput()), &w = get(o.getWeight());
          int64_t k = x.shape.back(), n = w.shape[o.getWeightTransposed() ? 0 : 1];
          int64_t rows = x.numElements() / k;
          auto shape = x.shape;
          shape.back() = n;
          Tensor x2{{rows, k}, x.data};
          Tensor y = matmul(x2, w, {rows, n}, o.getWeightTransposed());
          y.shape = shape;
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t j = 0; j < n; ++j) {
              double &v = y.data[r * n + j];
              if (o.getBias()) v += get(o.getBias()).data[j];
              switch (o.getActivation()) {
              case Activation::none: break;
              case Activation::gelu_tanh: v = geluTanh(v); break;
              case Activation::gelu_erf: v = geluErf(v); break;
              case Activation::relu: v = std::max(v, 0.0); break;
              case Activation::silu: v = v / (1.0 + std::exp(-v)); break;
              }
              if (o.getMultiplier()) v *= get(o.getMultiplier()).data[r * n + j];
              if (o.getResidual()) v += get(o.getResidual()).data[r * n + j];
            }
          set(o, std::move(y));
          return success();
        })
        .Case([&](AttentionOp o) -> LogicalResult {
          Tensor q = get(o.getQ()), k = get(o.getK());
          const Tensor &v = get(o.getV());
          int64_t t = q.shape[0], width = q.shape[1], heads = o.getNumHeadsAttr().getInt(),
                  dh = width / heads, kvHeads = o.getKvHeads(), group = heads / kvHeads,
                  kvWidth = kvHeads * dh;
          int64_t past = o.getPastK() ? get(o.getPastK()).shape[0] : 0;
          if (o.getInvFreq()) {
            const Tensor &inv = get(o.getInvFreq());
            const Tensor *positions = o.getPositions() ? &get(o.getPositions()) : nullptr;
            rope(q, heads, inv.data, past, positions);
            rope(k, kvHeads, inv.data, past, positions);
          }
          bool hasPast = o.getPastK() != nullptr;
          Tensor keys = k, vals = v;
          if (hasPast) {
            keys = get(o.getPastK());
            vals = get(o.getPastV());
            keys.data.insert(keys.data.end(), k.data.begin(), k.data.end());
            vals.data.insert(vals.data.end(), v.data.begin(), v.data.end());
            keys.shape[0] = vals.shape[0] = past + t;
          }
          int64_t s = past + t;
          std::optional<int64_t> window;
          if (o.getWindow())
            window = static_cast<int64_t>(*o.getWindow());
          double scale = o.getScale().convertToDouble();
          std::vector<int64_t> run;
          if (o.getSequences()) {
            run = runsOf(get(o.getSequences()));
            if (static_cast<int64_t>(run.size()) != t || past != 0)
              return o.emitOpError() << "expected " << t << " sequence ids and no cache, got "
                                     << run.size() << " ids and " << past << " cached rows";
          }
          Tensor out{q.shape, std::vector<double>(q.data.size(), 0)};
          std::vector<double> p(s);
          for (int64_t h = 0; h < heads; ++h)
            for (int64_t i = 0; i < t; ++i) {
              int64_t kh = h / group;
              double m = -std::numeric_limits<double>::infinity();
              for (int64_t j = 0; j < s; ++j) {
                if ((o.getCausal() && (j > past + i || (window && j <= past + i - *window))) ||
                    (!run.empty() && run[i] != run[j])) {
                  p[j] = -std::numeric_limits<double>::infinity();
                  continue;
                }
                double dot = 0;
                for (int64_t e = 0; e < dh; ++e)
                  dot += q.data[i * width + h * dh + e] * keys.data[j * kvWidth + kh * dh + e];
                p[j] = dot * scale;
                m = std::max(m, p[j]);
              }
              double sum = 0;
              for (int64_t j = 0; j < s; ++j) sum += p[j] = std::exp(p[j] - m);
              for (int64_t j = 0; j < s; ++j)
                for (int64_t e = 0; e < dh; ++e)
                  out.data[i * width + h * dh + e] +=
                      p[j] / sum * vals.data[j * kvWidth + kh * dh + e];
            }
          set(o.getOutput(), std::move(out));
          if (hasPast) {
            set(o.getPresent()[0], std::move(keys));
            set(o.getPresent()[1], std::move(vals));
          }
          return success();
        })
        .Default([&](Operation *other) {
          return other->emitError() << "the reference evaluator does not know '"
                                    << other->getName() << "'";
        });
  }

  const ParamLoader &params;
  // Node-based: references from get() stay valid while set() inserts.
  struct ValueHash {
    size_t operator()(Value v) const { return mlir::hash_value(v); }
  };
  std::unordered_map<Value, Tensor, ValueHash> values;
};
} // namespace

std::optional<Tensor> loadTensor(const safetensors::File &file, llvm::StringRef name,
                                 std::string &error) {
  const safetensors::TensorInfo *info = file.lookup(name);
  if (!info) {
    error = file.path() + ": no tensor '" + name.str() + "'";
    return std::nullopt;
  }
  Tensor t{info->shape, std::vector<double>(info->numElements())};
  for (size_t i = 0; i < t.data.size(); ++i) {
    switch (info->dtype) {
    case safetensors::DType::F32: {
      float f;
      std::memcpy(&f, info->data + 4 * i, 4);
      t.data[i] = f;
      break;
    }
    case safetensors::DType::BF16: {
      uint16_t h;
      std::memcpy(&h, info->data + 2 * i, 2);
      uint32_t bits = static_cast<uint32_t>(h) << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      t.data[i] = f;
      break;
    }
    case safetensors::DType::F16: {
      uint16_t h;
      std::memcpy(&h, info->data + 2 * i, 2);
      int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
      double m = exp == 0 ? std::ldexp(mant, -24)
                 : exp == 31 ? (mant ? NAN : INFINITY)
                             : std::ldexp(mant | 0x400, exp - 25);
      t.data[i] = (h >> 15) ? -m : m;
      break;
    }
    default:
      error = file.path() + ": tensor '" + name.str() + "' has dtype " +
              safetensors::dtypeName(info->dtype) + "; supported are F32, F16 and BF16";
      return std::nullopt;
    }
  }
  return t;
}

FailureOr<std::vector<Tensor>> evaluate(func::FuncOp func, llvm::ArrayRef<Tensor> inputs,
                                        const ParamLoader &params) {
  return Evaluator(params).run(func, inputs);
}

} // namespace tfm::reference
