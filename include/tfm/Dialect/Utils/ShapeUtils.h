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
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"
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

} // namespace tfm

#endif // TFM_DIALECT_UTILS_SHAPEUTILS_H
