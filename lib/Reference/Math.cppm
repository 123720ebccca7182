//===- Math.cppm - The reference evaluator's naive arithmetic ---*- C++ -*-===//
//
// The `tfm.reference.math` module: the tensor type of the reference
// evaluator (dense, row-major, doubles) and the textbook loops it evaluates
// ops with: NumPy broadcasting, reductions, softmax, batched matmul, GELU,
// RoPE. Written for obviousness, not speed, and sharing no code with the
// backend: it is the independent truth every numerical test compares with.
//
//===----------------------------------------------------------------------===//

module;
#include "llvm/ADT/ArrayRef.h"
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <tuple>
#include <vector>
export module tfm.reference.math;

export namespace tfm::reference {

/// A dense row-major tensor of doubles (integers and booleans included).
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<double> data;

  int64_t numElements() const {
    return std::accumulate(shape.begin(), shape.end(), int64_t(1), std::multiplies<>());
  }
};

} // namespace tfm::reference

export namespace tfm::reference::math {


std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}


/// NumPy broadcast of concrete shapes (the verifier already checked them).
std::vector<int64_t> broadcast(llvm::ArrayRef<const std::vector<int64_t> *> shapes) {
  size_t rank = 0;
  for (auto *s : shapes)
    rank = std::max(rank, s->size());
  std::vector<int64_t> out(rank, 1);
  for (auto *s : shapes)
    for (size_t i = 0; i < s->size(); ++i) {
      int64_t &d = out[rank - s->size() + i];
      if ((*s)[i] != 1)
        d = (*s)[i];
    }
  return out;
}

/// Evaluates `f` elementwise over operands broadcast (NumPy rules) to `shape`.
Tensor broadcastMap(const std::vector<int64_t> &shape, llvm::ArrayRef<const Tensor *> ops,
                    const std::function<double(llvm::ArrayRef<double>)> &f) {
  Tensor out{shape, {}};
  int64_t n = out.numElements();
  out.data.resize(n);
  size_t rank = shape.size();
  std::vector<std::vector<int64_t>> strides;
  for (const Tensor *t : ops) {
    auto s = stridesOf(t->shape);
    std::vector<int64_t> full(rank, 0);
    size_t lead = rank - t->shape.size();
    for (size_t d = 0; d < t->shape.size(); ++d)
      full[lead + d] = t->shape[d] == 1 ? 0 : s[d];
    strides.push_back(full);
  }
  std::vector<int64_t> idx(rank, 0);
  std::vector<double> args(ops.size());
  for (int64_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < ops.size(); ++k) {
      int64_t off = 0;
      for (size_t d = 0; d < rank; ++d)
        off += idx[d] * strides[k][d];
      args[k] = ops[k]->data[off];
    }
    out.data[i] = f(args);
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
  return out;
}

Tensor unaryMap(const Tensor &x, const std::function<double(double)> &f) {
  Tensor out = x;
  for (double &v : out.data)
    v = f(v);
  return out;
}

/// Splits `shape` at `axis` into (outer, size, inner) extents.
std::tuple<int64_t, int64_t, int64_t> around(const std::vector<int64_t> &shape, int64_t axis) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
  for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  return {outer, shape[axis], inner};
}

enum class Reduce { Mean, Max, Sum };

Tensor reduce(const Tensor &x, int64_t axis, Reduce kind) {
  auto [outer, size, inner] = around(x.shape, axis);
  Tensor out{x.shape, {}};
  out.shape[axis] = 1;
  out.data.assign(outer * inner, 0);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double acc = kind == Reduce::Max ? -std::numeric_limits<double>::infinity() : 0.0;
      for (int64_t s = 0; s < size; ++s) {
        double v = x.data[(o * size + s) * inner + i];
        acc = kind == Reduce::Max ? std::max(acc, v) : acc + v;
      }
      out.data[o * inner + i] = kind == Reduce::Mean ? acc / size : acc;
    }
  return out;
}

Tensor softmax(const Tensor &x, int64_t axis) {
  auto [outer, size, inner] = around(x.shape, axis);
  Tensor out = x;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double m = -std::numeric_limits<double>::infinity(), sum = 0;
      for (int64_t s = 0; s < size; ++s)
        m = std::max(m, x.data[(o * size + s) * inner + i]);
      for (int64_t s = 0; s < size; ++s)
        sum += std::exp(x.data[(o * size + s) * inner + i] - m);
      for (int64_t s = 0; s < size; ++s) {
        double &v = out.data[(o * size + s) * inner + i];
        v = std::exp(x.data[(o * size + s) * inner + i] - m) / sum;
      }
    }
  return out;
}

/// Batched matmul with NumPy-broadcast batch dims; `transposeB` reads b as [.., N, K].
Tensor matmul(const Tensor &a, const Tensor &b, const std::vector<int64_t> &outShape,
              bool transposeB = false) {
  size_t rank = outShape.size();
  int64_t m = outShape[rank - 2], n = outShape[rank - 1];
  int64_t k = a.shape.back();
  Tensor out{outShape, std::vector<double>(std::accumulate(outShape.begin(), outShape.end(),
                                                           int64_t(1), std::multiplies<>()))};
  std::vector<int64_t> batch(outShape.begin(), outShape.end() - 2);
  int64_t numBatch = std::accumulate(batch.begin(), batch.end(), int64_t(1), std::multiplies<>());
  auto batchOffset = [&](const Tensor &t, int64_t bi) {
    // Offset of batch index bi (over `batch`) in t, with broadcasting.
    std::vector<int64_t> tb(t.shape.begin(), t.shape.end() - 2);
    int64_t matrix = t.shape[t.shape.size() - 2] * t.shape.back();
    int64_t off = 0, stride = matrix;
    for (int64_t d = static_cast<int64_t>(batch.size()) - 1, td = static_cast<int64_t>(tb.size()) - 1;
         d >= 0; --d, --td) {
      int64_t i = bi % batch[d];
      bi /= batch[d];
      if (td >= 0) {
        if (tb[td] != 1)
          off += i * stride;
        stride *= tb[td];
      }
    }
    return off;
  };
  for (int64_t bi = 0; bi < numBatch; ++bi) {
    const double *pa = a.data.data() + batchOffset(a, bi);
    const double *pb = b.data.data() + batchOffset(b, bi);
    double *pc = out.data.data() + bi * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t kk = 0; kk < k; ++kk)
          acc += pa[i * k + kk] * (transposeB ? pb[j * k + kk] : pb[kk * n + j]);
        pc[i * n + j] = acc;
      }
  }
  return out;
}

double geluTanh(double x) {
  return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}
double geluErf(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }

Tensor copyBox(const Tensor &x, const std::vector<int64_t> &offsets,
               const std::vector<int64_t> &shape) {
  Tensor out{shape, {}};
  out.data.resize(out.numElements());
  auto xs = stridesOf(x.shape);
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t i = 0; i < out.numElements(); ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < shape.size(); ++d)
      off += (idx[d] + offsets[d]) * xs[d];
    out.data[i] = x.data[off];
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
  return out;
}

/// Applies rotate-half RoPE in place to rows of `x` ([T, H*Dh]) at
/// positions[row] if given, else first + row: for i < r/2 (r = 2 x
/// invFreq.size()) the pair (x_i, x_{i+r/2}) turns by pos * invFreq[i].
void rope(Tensor &x, int64_t heads, const std::vector<double> &invFreq, int64_t first,
          const Tensor *positions) {
  int64_t t = x.shape[0], width = x.shape[1], dh = width / heads,
          half = static_cast<int64_t>(invFreq.size());
  for (int64_t row = 0; row < t; ++row)
    for (int64_t h = 0; h < heads; ++h) {
      double *p = x.data.data() + row * width + h * dh;
      for (int64_t i = 0; i < half; ++i) {
        double pos = positions ? positions->data[row] : static_cast<double>(first + row);
        double angle = pos * invFreq[i];
        double x1 = p[i], x2 = p[i + half];
        p[i] = x1 * std::cos(angle) - x2 * std::sin(angle);
        p[i + half] = x2 * std::cos(angle) + x1 * std::sin(angle);
      }
    }
}

} // namespace tfm::reference::math
