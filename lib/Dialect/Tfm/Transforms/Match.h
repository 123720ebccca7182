//===- Match.h - Small matchers shared by the fusion passes --*- C++ -*-===//
//
// Helpers to walk decomposed tfm graphs: defining ops of a given type,
// commutative operands, splat constants, and the Refusal record a matcher
// fills and its pattern passes to notifyMatchFailure.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_LIB_DIALECT_TFM_TRANSFORMS_MATCH_H
#define TFM_LIB_DIALECT_TFM_TRANSFORMS_MATCH_H

#include "tfm/Dialect/Tfm/IR/Tfm.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include <cmath>
#include <optional>
#include <string>

namespace tfm::match {

/// The op of type OpTy defining `v`, or null.
template <typename OpTy>
OpTy def(mlir::Value v) {
  return v ? v.getDefiningOp<OpTy>() : OpTy();
}

/// The value of a splat floating-point constant, if `v` is one.
inline std::optional<double> splat(mlir::Value v) {
  mlir::DenseFPElementsAttr attr;
  if (!v || !mlir::matchPattern(v, mlir::m_Constant(&attr)) || !attr.isSplat())
    return std::nullopt;
  return attr.getSplatValue<llvm::APFloat>().convertToDouble();
}

/// True if `v` is a splat constant within relative `tol` of `expected`.
inline bool isSplat(mlir::Value v, double expected, double tol = 1e-5) {
  auto s = splat(v);
  return s && std::fabs(*s - expected) <= tol * std::max(1.0, std::fabs(expected));
}

/// For a binary op `op`, calls `f(a, b)` with the operands in both orders
/// and returns true as soon as one call does (commutative matching).
template <typename OpTy, typename F>
bool commuted(OpTy op, F f) {
  if (!op)
    return false;
  return f(op.getLhs(), op.getRhs()) || f(op.getRhs(), op.getLhs());
}

/// The single user of `v` if it has exactly one use, else null.
inline mlir::Operation *singleUser(mlir::Value v) {
  return v.hasOneUse() ? *v.getUsers().begin() : nullptr;
}

/// True if `op` reduces (or normalizes) the last axis of a rank-r input.
template <typename OpTy>
bool overLastAxis(OpTy op) {
  return op.getNormalizedAxis() == op.getInput().getType().getRank() - 1;
}

/// The static shape of `v`.
inline llvm::ArrayRef<int64_t> shape(mlir::Value v) {
  return llvm::cast<mlir::RankedTensorType>(v.getType()).getShape();
}

/// Why a candidate was not fused; empty while matching succeeds.
struct Refusal {
  std::string reason;
  explicit operator bool() const { return !reason.empty(); }
  /// Records `why` (the first reason wins) and returns failure.
  mlir::LogicalResult operator()(const llvm::Twine &why) {
    if (reason.empty())
      reason = why.str();
    return mlir::failure();
  }
};

/// Places `rewriter` right after the last definition among `operands` (in
/// their common block), so a fused op created there dominates as early as
/// possible. Returns false if some user of `replaced` would then come before
/// the fused op (it cannot replace those values).
inline bool setInsertionAfterOperands(mlir::RewriterBase &rewriter, mlir::Block *block,
                                      mlir::ValueRange operands, mlir::ValueRange replaced) {
  mlir::Operation *last = nullptr;
  for (mlir::Value v : operands) {
    if (!v)
      continue;
    mlir::Operation *d = v.getDefiningOp();
    if (d && (!last || last->isBeforeInBlock(d)))
      last = d;
  }
  if (last)
    rewriter.setInsertionPointAfter(last);
  else
    rewriter.setInsertionPointToStart(block);
  mlir::Operation *next = &*rewriter.getInsertionPoint();
  for (mlir::Value v : replaced)
    for (mlir::Operation *user : v.getUsers())
      if (user->getBlock() != block || user->isBeforeInBlock(next))
        return false;
  return true;
}

} // namespace tfm::match

#endif // TFM_LIB_DIALECT_TFM_TRANSFORMS_MATCH_H
