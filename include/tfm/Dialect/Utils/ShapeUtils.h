//===- ShapeUtils.h - Shape helpers of the tfm and onednn verifiers -*- C++ -*-===//
//
// What the verifiers of both dialects share: comparing shapes that may have
// dynamic dimensions, and printing them in error messages. Header-only, as
// MLIR's mlir/Dialect/Utils helpers are used by dialects that do not depend
// on each other.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_UTILS_SHAPEUTILS_H
#define TFM_DIALECT_UTILS_SHAPEUTILS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"
#include <optional>
#include <string>

namespace tfm {

/// Prints a shape as `[4, 16]`, with `?` for a dynamic dimension.
inline std::string shapeStr(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(shape, os, [&](int64_t d) {
    if (mlir::ShapedType::isDynamic(d))
      os << "?";
    else
      os << d;
  });
  os << "]";
  return s;
}

/// True if two dimensions may be equal: either is dynamic, or they match.
inline bool dimsCompatible(int64_t a, int64_t b) {
  return mlir::ShapedType::isDynamic(a) || mlir::ShapedType::isDynamic(b) || a == b;
}

/// True if two shapes have the same rank and pairwise compatible dimensions.
inline bool shapesCompatible(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b) {
  if (a.size() != b.size())
    return false;
  for (auto [x, y] : llvm::zip_equal(a, b))
    if (!dimsCompatible(x, y))
      return false;
  return true;
}

/// The largest tensor or buffer tfm accepts: 2^40 bytes (1 TiB). Every size
/// computed later (buffer bytes, strides, arena offsets, the runtime's
/// allocations) stays far from int64_t's range below it.
inline constexpr int64_t kMaxTensorBytes = int64_t(1) << 40;

/// The bytes of `type`'s static dimensions (a dynamic dimension counts as 1),
/// multiplied in checked arithmetic; nullopt above kMaxTensorBytes.
inline std::optional<int64_t> boundedByteSize(mlir::ShapedType type) {
  int64_t bits = type.getElementType().isIntOrFloat() ? type.getElementTypeBitWidth() : 64;
  int64_t bytes = std::max<int64_t>(1, (bits + 7) / 8);
  for (int64_t d : type.getShape()) {
    if (mlir::ShapedType::isDynamic(d))
      continue;
    if (llvm::MulOverflow(bytes, d, bytes) || bytes > kMaxTensorBytes)
      return std::nullopt;
  }
  return bytes;
}

/// Verifies that every shaped operand and result of `op` has at most
/// kMaxTensorBytes (the BoundedTensorSizes trait of every tfm and onednn op):
/// IR shapes are untrusted input, and a tensor<4611686018427387904x8xf32>
/// must be an error here, not an overflow in a later size computation.
inline mlir::LogicalResult verifyBoundedTensorSizes(mlir::Operation *op) {
  auto check = [&](mlir::Type type, llvm::StringRef what, unsigned index) -> mlir::LogicalResult {
    auto shaped = llvm::dyn_cast<mlir::ShapedType>(type);
    if (!shaped || !shaped.hasRank() || boundedByteSize(shaped))
      return mlir::success();
    return op->emitOpError() << what << " #" << index << " of type " << type
                             << " has more than 2^40 bytes (1 TiB), the largest tensor tfm "
                                "supports";
  };
  for (auto [i, type] : llvm::enumerate(op->getOperandTypes()))
    if (mlir::failed(check(type, "operand", i)))
      return mlir::failure();
  for (auto [i, type] : llvm::enumerate(op->getResultTypes()))
    if (mlir::failed(check(type, "result", i)))
      return mlir::failure();
  return mlir::success();
}

/// The op trait that runs verifyBoundedTensorSizes (before the op's own
/// verifier, which may multiply dimensions).
template <typename ConcreteType>
class BoundedTensorSizes : public mlir::OpTrait::TraitBase<ConcreteType, BoundedTensorSizes> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) {
    return verifyBoundedTensorSizes(op);
  }
};

} // namespace tfm

#endif // TFM_DIALECT_UTILS_SHAPEUTILS_H
