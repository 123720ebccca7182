//===- OneDNNDialect.cpp - The onednn dialect: registration, verifiers ----===//
//
// Registers the onednn dialect and verifies its ops' buffer shapes against
// what the corresponding oneDNN primitives accept.
//
//===----------------------------------------------------------------------===//

#include "tfm/Dialect/OneDNN/IR/OneDNN.h"
#include "tfm/Dialect/Utils/ShapeUtils.h"
#include "tfm/Runtime/tfm_runtime.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

using namespace mlir;
using namespace tfm::onednn;
using tfm::dimsCompatible;
using tfm::shapesCompatible;
using tfm::shapeStr;

#include "tfm/Dialect/OneDNN/IR/OneDNNOpsDialect.cpp.inc"
#include "tfm/Dialect/OneDNN/IR/OneDNNEnums.cpp.inc"

// The contract with the runtime: every ODS enum case has the value of the C
// enumerator named after it in tfm_runtime.h, and no enum has a case the C
// side lacks (the lowering passes the ODS value; the runtime switches on the
// C name). A case added on one side only fails here.
#define TFM_SAME_CODE(ods, c) static_assert(static_cast<int>(ods) == (c), #ods " != " #c)
TFM_SAME_CODE(Activation::none, TFM_ACTIVATION_NONE);
TFM_SAME_CODE(Activation::gelu_tanh, TFM_ACTIVATION_GELU_TANH);
TFM_SAME_CODE(Activation::gelu_erf, TFM_ACTIVATION_GELU_ERF);
TFM_SAME_CODE(Activation::relu, TFM_ACTIVATION_RELU);
TFM_SAME_CODE(Activation::silu, TFM_ACTIVATION_SILU);
TFM_SAME_CODE(getMaxEnumValForActivation(), TFM_ACTIVATION_SILU);
TFM_SAME_CODE(EltwiseKind::tanh, TFM_ELTWISE_TANH);
TFM_SAME_CODE(EltwiseKind::exp, TFM_ELTWISE_EXP);
TFM_SAME_CODE(EltwiseKind::relu, TFM_ELTWISE_RELU);
TFM_SAME_CODE(EltwiseKind::gelu_tanh, TFM_ELTWISE_GELU_TANH);
TFM_SAME_CODE(EltwiseKind::gelu_erf, TFM_ELTWISE_GELU_ERF);
TFM_SAME_CODE(EltwiseKind::sqrt, TFM_ELTWISE_SQRT);
TFM_SAME_CODE(EltwiseKind::pow, TFM_ELTWISE_POW);
TFM_SAME_CODE(EltwiseKind::linear, TFM_ELTWISE_LINEAR);
TFM_SAME_CODE(EltwiseKind::erf, TFM_ELTWISE_ERF);
TFM_SAME_CODE(EltwiseKind::sin, TFM_ELTWISE_SIN);
TFM_SAME_CODE(EltwiseKind::cos, TFM_ELTWISE_COS);
TFM_SAME_CODE(getMaxEnumValForEltwiseKind(), TFM_ELTWISE_COS);
TFM_SAME_CODE(BinaryKind::add, TFM_BINARY_ADD);
TFM_SAME_CODE(BinaryKind::sub, TFM_BINARY_SUB);
TFM_SAME_CODE(BinaryKind::mul, TFM_BINARY_MUL);
TFM_SAME_CODE(BinaryKind::div, TFM_BINARY_DIV);
TFM_SAME_CODE(BinaryKind::max, TFM_BINARY_MAX);
TFM_SAME_CODE(BinaryKind::min, TFM_BINARY_MIN);
TFM_SAME_CODE(getMaxEnumValForBinaryKind(), TFM_BINARY_MIN);
TFM_SAME_CODE(ReductionKind::mean, TFM_REDUCTION_MEAN);
TFM_SAME_CODE(ReductionKind::max, TFM_REDUCTION_MAX);
TFM_SAME_CODE(ReductionKind::sum, TFM_REDUCTION_SUM);
TFM_SAME_CODE(getMaxEnumValForReductionKind(), TFM_REDUCTION_SUM);
TFM_SAME_CODE(PositionKind::none, TFM_POSITION_NONE);
TFM_SAME_CODE(PositionKind::learned, TFM_POSITION_LEARNED);
TFM_SAME_CODE(PositionKind::sinusoidal, TFM_POSITION_SINUSOIDAL);
TFM_SAME_CODE(getMaxEnumValForPositionKind(), TFM_POSITION_SINUSOIDAL);
#undef TFM_SAME_CODE

void OneDNNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "tfm/Dialect/OneDNN/IR/OneDNNOps.cpp.inc"
      >();
}

namespace {
/// The static shape of a memref operand.
ArrayRef<int64_t> shapeOf(Value v) { return cast<MemRefType>(v.getType()).getShape(); }

/// Buffers may have dynamic dimensions (the runtime creates a primitive per
/// concrete shape); the verifiers check what is static.

/// True if `from` may broadcast (NumPy rules) to exactly `to`.
bool broadcastsTo(ArrayRef<int64_t> from, ArrayRef<int64_t> to) {
  if (from.size() > to.size())
    return false;
  size_t lead = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && !dimsCompatible(from[i], to[lead + i]))
      return false;
  return true;
}
} // namespace

LogicalResult MatmulOp::verify() {
  auto a = shapeOf(getA()), b = shapeOf(getB()), c = shapeOf(getDst());
  if (a.size() < 2 || b.size() < 2 || c.size() != std::max(a.size(), b.size()))
    return emitOpError() << "expected a, b of rank >= 2 and dst of the larger rank";
  int64_t m = a[a.size() - 2], k = a.back();
  int64_t kb = getTransposeB() ? b.back() : b[b.size() - 2];
  int64_t n = getTransposeB() ? b[b.size() - 2] : b.back();
  if (!dimsCompatible(k, kb))
    return emitOpError() << "contraction dimensions differ: a " << shapeStr(a)
                         << ", b " << shapeStr(b);
  if (!dimsCompatible(c[c.size() - 2], m) || !dimsCompatible(c.back(), n))
    return emitOpError() << "expected dst [..., " << m << ", " << n << "], got "
                         << shapeStr(c);
  if (!broadcastsTo(a.drop_back(2), c.drop_back(2)) ||
      !broadcastsTo(b.drop_back(2), c.drop_back(2)))
    return emitOpError() << "batch dimensions of a and b must broadcast to dst's";
  if (getBias() && !shapesCompatible(shapeOf(getBias()), ArrayRef<int64_t>{n}))
    return emitOpError() << "expected bias of shape [" << n << "]";
  if (getMultiplier() && !shapesCompatible(shapeOf(getMultiplier()), c))
    return emitOpError() << "expected multiplier of dst's shape " << shapeStr(c);
  if (getResidual() && !shapesCompatible(shapeOf(getResidual()), c))
    return emitOpError() << "expected residual of dst's shape " << shapeStr(c);
  return success();
}

LogicalResult LayerNormOp::verify() {
  auto s = shapeOf(getSrc());
  if (s.empty() || !shapesCompatible(s, shapeOf(getDst())))
    return emitOpError() << "expected src and dst of one shape, rank >= 1";
  for (Value v : {getScale(), getShift()})
    if (v && !shapesCompatible(shapeOf(v), ArrayRef<int64_t>{s.back()}))
      return emitOpError() << "expected scale and shift of shape [" << s.back()
                           << "]";
  return success();
}

LogicalResult EltwiseOp::verify() {
  if (!shapesCompatible(shapeOf(getSrc()), shapeOf(getDst())))
    return emitOpError() << "src " << shapeStr(shapeOf(getSrc()))
                         << " and dst " << shapeStr(shapeOf(getDst()))
                         << " differ in shape";
  return success();
}

LogicalResult BinaryOp::verify() {
  auto d = shapeOf(getDst());
  if (!broadcastsTo(shapeOf(getLhs()), d) || !broadcastsTo(shapeOf(getRhs()), d))
    return emitOpError() << "inputs " << shapeStr(shapeOf(getLhs())) << " and "
                         << shapeStr(shapeOf(getRhs()))
                         << " must broadcast to dst " << shapeStr(d);
  return success();
}

LogicalResult SoftmaxOp::verify() {
  auto s = shapeOf(getSrc());
  if (!shapesCompatible(s, shapeOf(getDst())))
    return emitOpError() << "src and dst differ in shape";
  int64_t axis = getAxisAttr().getInt();
  if (axis < 0 || axis >= (int64_t)s.size())
    return emitOpError() << "axis " << axis << " is out of range [0, "
                         << s.size() << ")";
  return success();
}

LogicalResult ReorderOp::verify() {
  if (!shapesCompatible(shapeOf(getSrc()), shapeOf(getDst())))
    return emitOpError() << "src " << shapeStr(shapeOf(getSrc())) << " and dst "
                         << shapeStr(shapeOf(getDst())) << " differ in shape";
  return success();
}

LogicalResult CausalFillOp::verify() {
  auto s = shapeOf(getSrc());
  if (s.size() < 2 || !shapesCompatible(s, shapeOf(getDst())))
    return emitOpError() << "expected src and dst of one shape [..., queries, keys], got "
                         << shapeStr(s) << " and " << shapeStr(shapeOf(getDst()));
  if (static_cast<int64_t>(getWindowAttr().getInt()) < 0)
    return emitOpError() << "window must be non-negative";
  return success();
}

LogicalResult SequenceFillOp::verify() {
  auto s = shapeOf(getSrc()), ids = shapeOf(getSequenceIds());
  if (s.size() < 2 || !shapesCompatible(s, shapeOf(getDst())) ||
      !dimsCompatible(s[s.size() - 2], s.back()))
    return emitOpError() << "expected src and dst of one shape [..., T, T], got " << shapeStr(s)
                         << " and " << shapeStr(shapeOf(getDst()));
  if (ids.size() != 1 || !dimsCompatible(ids[0], s.back()))
    return emitOpError() << "expected sequence_ids of shape [" << s.back() << "], got "
                         << shapeStr(ids);
  return success();
}

LogicalResult ReductionOp::verify() {
  auto s = shapeOf(getSrc()), d = shapeOf(getDst());
  if (s.size() != d.size())
    return emitOpError() << "src and dst must have one rank";
  for (size_t i = 0; i < s.size(); ++i)
    if (!dimsCompatible(d[i], s[i]) && d[i] != 1)
      return emitOpError() << "dst dimension " << i << " must be " << s[i]
                           << " or 1, got " << d[i];
  return success();
}

namespace {
/// Why (bits, group) is not a quantization scheme, or empty (the rules of
/// tfm::quant::checkScheme, lib/Support/Quant.cppm).
std::string schemeError(int64_t bits, int64_t group) {
  if (bits != 8 && bits != 4)
    return "bits must be 8 or 4, not " + std::to_string(bits);
  if (group <= 0 || group % 32 != 0)
    return "group must be a positive multiple of 32, not " + std::to_string(group);
  if (bits == 4 && group > 64)
    return "int4 groups are at most 64 weights, not " + std::to_string(group);
  return "";
}

/// Checks q [N, Kp or Kp/2] and scales [N, Kp/group] for K inputs, N outputs.
LogicalResult verifyQuantized(Operation *op, int64_t k, int64_t n, Value q, Value scales,
                              int64_t bits, int64_t group) {
  if (std::string e = schemeError(bits, group); !e.empty())
    return op->emitOpError() << e;
  auto qs = shapeOf(q), ss = shapeOf(scales);
  if (!dimsCompatible(qs[0], n) || !dimsCompatible(ss[0], n))
    return op->emitOpError() << "expected q and scales with " << n << " rows, got "
                             << shapeStr(qs) << " and " << shapeStr(ss);
  if (ShapedType::isDynamic(k))
    return success();
  int64_t kp = (k + group - 1) / group * group;
  int64_t rowBytes = bits == 8 ? kp : kp / 2;
  if (!shapesCompatible(qs, ArrayRef<int64_t>{n, rowBytes}) ||
      !shapesCompatible(ss, ArrayRef<int64_t>{n, kp / group}))
    return op->emitOpError() << "expected q [" << n << ", " << rowBytes << "] and scales [" << n
                             << ", " << kp / group << "] for " << k << " inputs (padded to "
                             << kp << "), int" << bits << " in groups of " << group << ", got "
                             << shapeStr(qs) << " and " << shapeStr(ss);
  return success();
}
} // namespace

int64_t QuantizedWeightOp::getInputs() {
  auto s = cast<MemRefType>(getSource()).getShape();
  return getTransposed() ? s[0] : s[1];
}
int64_t QuantizedWeightOp::getOutputs() {
  auto s = cast<MemRefType>(getSource()).getShape();
  return getTransposed() ? s[1] : s[0];
}

LogicalResult QuantizedWeightOp::verify() {
  auto source = cast<MemRefType>(getSource());
  Type e = source.getElementType();
  if (source.getRank() != 2 || !(e.isF32() || e.isF16() || e.isBF16()))
    return emitOpError() << "expected a rank-2 f32, f16 or bf16 source weight, got " << source;
  return verifyQuantized(*this, getInputs(), getOutputs(), getQ(), getScales(), getBits(),
                         getGroup());
}

LogicalResult QuantizedMatmulOp::verify() {
  auto a = shapeOf(getA()), c = shapeOf(getDst()), q = shapeOf(getQ());
  if (a.size() < 2 || c.size() != a.size())
    return emitOpError() << "expected a [..., M, K] and dst [..., M, N] of one rank >= 2";
  if (!cast<MemRefType>(getA().getType()).getElementType().isF32() ||
      !cast<MemRefType>(getDst().getType()).getElementType().isF32())
    return emitOpError() << "expected f32 a and dst";
  if (!shapesCompatible(c.drop_back(), a.drop_back()) || !dimsCompatible(c.back(), q[0]))
    return emitOpError() << "expected dst " << shapeStr(a.drop_back()) << " x [" << q[0]
                         << "], got " << shapeStr(c);
  if (getBias() && !shapesCompatible(shapeOf(getBias()), ArrayRef<int64_t>{q[0]}))
    return emitOpError() << "expected bias of shape [" << q[0] << "]";
  if (getMultiplier() && !shapesCompatible(shapeOf(getMultiplier()), c))
    return emitOpError() << "expected multiplier of dst's shape " << shapeStr(c);
  if (getResidual() && !shapesCompatible(shapeOf(getResidual()), c))
    return emitOpError() << "expected residual of dst's shape " << shapeStr(c);
  return verifyQuantized(*this, a.back(), q[0], getQ(), getScales(), getBits(), getGroup());
}

LogicalResult EmbeddingOp::verify() {
  auto t = shapeOf(getTable()), d = shapeOf(getDst());
  bool quantized = cast<MemRefType>(getTable().getType()).getElementType().isInteger(8);
  if (quantized != static_cast<bool>(getTableScales()) || quantized != getBits().has_value() ||
      quantized != getGroup().has_value())
    return emitOpError() << "a quantized (i8) table needs scales, bits and group, and only it";
  if (t.size() != 2 || d.size() != 2)
    return emitOpError() << "expected a rank-2 table and dst";
  if (!quantized)
    return dimsCompatible(t[1], d[1]) ? success()
                            : emitOpError() << "table rows " << shapeStr(t) << " and dst rows "
                                            << shapeStr(d) << " differ in width";
  return verifyQuantized(*this, d[1], t[0], getTable(), getTableScales(), *getBits(),
                         *getGroup());
}

#define GET_OP_CLASSES
#include "tfm/Dialect/OneDNN/IR/OneDNNOps.cpp.inc"
