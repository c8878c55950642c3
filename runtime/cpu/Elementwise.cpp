//===- Elementwise.cpp - CPU cast, arithmetic, activations, copies -------===//
//
// Binary ops broadcast like NumPy over any operand layout; arithmetic is
// fp32 (int64 for integer types) with one rounding to the result type.
//
//===----------------------------------------------------------------------===//

#include "runtime/Error.h"
#include "runtime/cpu/CpuKernels.h"
#include "runtime/Parallel.h"
#include "runtime/cpu/Reference.h"

#include <climits>
#include <cmath>
#include <cstring>

namespace llmf::cpu {
namespace {

/// Maps an output linear index to an operand's linear index under
/// broadcasting: per output dim, the operand's logical stride (0 where the
/// operand has size 1 or lacks the dim).
struct Broadcast {
  Shape outShape;
  std::vector<int64_t> strides;
  bool identity;

  Broadcast(const Shape &out, const Shape &in) : outShape(out), identity(out == in) {
    strides.assign(out.size(), 0);
    int64_t stride = 1;
    for (size_t i = 0; i < in.size(); ++i) {
      size_t di = in.size() - 1 - i, doo = out.size() - 1 - i;
      strides[doo] = in[di] == 1 ? 0 : stride;
      stride *= in[di];
    }
  }
  int64_t map(int64_t linear) const {
    if (identity)
      return linear;
    int64_t idx = 0;
    for (size_t i = outShape.size(); i-- > 0;) {
      idx += (linear % outShape[i]) * strides[i];
      linear /= outShape[i];
    }
    return idx;
  }
};

enum class BinOp { Add, Sub, Mul, Div, Eq, Ne };

template <BinOp op>
void binaryKernel(const KernelCall &call) {
  const Tensor &a = call.inputs[0], &b = call.inputs[1], &y = call.outputs[0];
  Broadcast ba(y.shape(), a.shape()), bb(y.shape(), b.shape());
  bool integer = !isFloat(y.dtype());
  parallelFor(y.numel(), 4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if (integer) {
        int64_t u = loadInt(a, ba.map(i)), v = loadInt(b, bb.map(i)), r = 0;
        switch (op) {
        case BinOp::Add: r = u + v; break;
        case BinOp::Sub: r = u - v; break;
        case BinOp::Mul: r = u * v; break;
        case BinOp::Div:
          if (v == 0)
            fail("integer division by zero at element ", i);
          r = u / v; // truncates toward zero, like C and torch.div(trunc)
          break;
        case BinOp::Eq: r = u == v; break;
        case BinOp::Ne: r = u != v; break;
        }
        writeInt(y.dtype(), y.elementPtr(i), r);
        continue;
      }
      float u = loadFloat(a, ba.map(i)), v = loadFloat(b, bb.map(i)), r = 0.0f;
      switch (op) {
      case BinOp::Add: r = u + v; break;
      case BinOp::Sub: r = u - v; break;
      case BinOp::Mul: r = u * v; break;
      case BinOp::Div: r = u / v; break;
      case BinOp::Eq: r = u == v ? 1.0f : 0.0f; break;
      case BinOp::Ne: r = u != v ? 1.0f : 0.0f; break;
      }
      writeFloat(y.dtype(), y.elementPtr(i), r);
    }
  });
}

template <float (*fn)(float)>
void unaryKernel(const KernelCall &call) {
  const Tensor &x = call.inputs[0], &y = call.outputs[0];
  parallelFor(x.numel(), 8, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      writeFloat(y.dtype(), y.elementPtr(i), fn(loadFloat(x, i)));
  });
}

/// Float to integer truncates toward zero and saturates; NaN becomes 0.
int64_t floatToInt(float v, DType to) {
  if (std::isnan(v))
    return 0;
  double lo = to == DType::I32 ? INT32_MIN : static_cast<double>(INT64_MIN);
  double hi = to == DType::I32 ? INT32_MAX : static_cast<double>(INT64_MAX);
  double t = std::trunc(static_cast<double>(v));
  if (t <= lo)
    return to == DType::I32 ? INT32_MIN : INT64_MIN;
  if (t >= hi)
    return to == DType::I32 ? INT32_MAX : INT64_MAX;
  return static_cast<int64_t>(t);
}

void castKernel(const KernelCall &call) {
  const Tensor &x = call.inputs[0], &y = call.outputs[0];
  bool fromInt = !isFloat(x.dtype()), toInt = !isFloat(y.dtype());
  parallelFor(x.numel(), 4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      void *dst = y.elementPtr(i);
      if (fromInt && toInt)
        writeInt(y.dtype(), dst, loadInt(x, i));
      else if (fromInt) // Through f32, as the spec's arithmetic is fp32.
        writeFloat(y.dtype(), dst, static_cast<float>(loadInt(x, i)));
      else if (toInt)
        writeInt(y.dtype(), dst, floatToInt(loadFloat(x, i), y.dtype()));
      else
        writeFloat(y.dtype(), dst, loadFloat(x, i));
    }
  });
}

void allReduceKernel(const KernelCall &call) {
  call.comm.allReduceSum(call.inputs[0], call.outputs[0]);
}

/// A slice the executor could not view: attrs.dim is the dim, attrs.k the
/// first index along it.
void copySliceKernel(const KernelCall &call) {
  const Tensor &x = call.inputs[0], &y = call.outputs[0];
  int64_t dim = call.step.attrs.dim, start = call.step.attrs.k;
  size_t es = dtypeSize(x.dtype());
  const Shape &ys = y.shape(), &xs = x.shape();
  for (int64_t i = 0; i < y.numel(); ++i) {
    int64_t rem = i, src = 0, mul = 1;
    for (size_t d = ys.size(); d-- > 0;) {
      int64_t idx = rem % ys[d] + (static_cast<int64_t>(d) == dim ? start : 0);
      rem /= ys[d];
      src += idx * mul;
      mul *= xs[d];
    }
    std::memcpy(y.elementPtr(i), x.elementPtr(src), es);
  }
}

void powKernel(const KernelCall &call) {
  const Tensor &x = call.inputs[0], &y = call.outputs[0];
  float e = call.step.attrs.exponent;
  parallelFor(x.numel(), 8, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      writeFloat(y.dtype(), y.elementPtr(i), powScalar(loadFloat(x, i), e));
  });
}

/// mean (MEAN) or sum over one dim: summed in double in index order, one
/// rounding.
template <bool MEAN> void reduceKernel(const KernelCall &call) {
  const Tensor &x = call.inputs[0], &y = call.outputs[0];
  AroundDim r(x, call.step.attrs.dim);
  parallelFor(r.outer * r.inner, r.extent, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      int64_t a = o / r.inner, b = o % r.inner;
      double sum = 0.0;
      for (int64_t j = 0; j < r.extent; ++j)
        sum += loadFloat(x, (a * r.extent + j) * r.inner + b);
      float v = !MEAN ? static_cast<float>(sum)
                : r.extent ? static_cast<float>(sum / static_cast<double>(r.extent))
                           : NAN;
      writeFloat(y.dtype(), y.elementPtr(o), v);
    }
  });
}

/// softmax over one dim: max-subtracted exponentials in fp32 (the sum in
/// double), one rounding.
void softmaxKernel(const KernelCall &call) {
  const Tensor &x = call.inputs[0], &y = call.outputs[0];
  AroundDim r(x, call.step.attrs.dim);
  int64_t extent = r.extent;
  parallelFor(r.outer * r.inner, extent, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      int64_t a = o / r.inner, b = o % r.inner;
      auto at = [&](int64_t j) { return (a * extent + j) * r.inner + b; };
      float m = -INFINITY;
      for (int64_t j = 0; j < extent; ++j)
        m = std::max(m, loadFloat(x, at(j)));
      double sum = 0.0;
      for (int64_t j = 0; j < extent; ++j)
        sum += std::exp(loadFloat(x, at(j)) - m);
      for (int64_t j = 0; j < extent; ++j)
        writeFloat(y.dtype(), y.elementPtr(at(j)),
                   static_cast<float>(std::exp(loadFloat(x, at(j)) - m) / sum));
    }
  });
}

/// select(cond, a, b), all three broadcast to the result.
void selectKernel(const KernelCall &call) {
  const Tensor &c = call.inputs[0], &a = call.inputs[1], &b = call.inputs[2];
  const Tensor &y = call.outputs[0];
  Broadcast bc(y.shape(), c.shape()), ba(y.shape(), a.shape()), bb(y.shape(), b.shape());
  bool condInt = !isFloat(c.dtype());
  size_t es = dtypeSize(y.dtype());
  parallelFor(y.numel(), 4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int64_t ci = bc.map(i);
      bool take = condInt ? loadInt(c, ci) != 0 : loadFloat(c, ci) != 0.0f;
      const Tensor &src = take ? a : b;
      std::memcpy(y.elementPtr(i), src.elementPtr(take ? ba.map(i) : bb.map(i)), es);
    }
  });
}

/// broadcast: y[i] = x[broadcast index of i].
void broadcastKernel(const KernelCall &call) {
  const Tensor &x = call.inputs[0], &y = call.outputs[0];
  Broadcast bx(y.shape(), x.shape());
  size_t es = dtypeSize(y.dtype());
  parallelFor(y.numel(), 4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      std::memcpy(y.elementPtr(i), x.elementPtr(bx.map(i)), es);
  });
}

void fullLikeKernel(const KernelCall &call) {
  const Tensor &y = call.outputs[0];
  float v = call.step.attrs.value;
  bool integer = !isFloat(y.dtype());
  for (int64_t i = 0; i < y.numel(); ++i) {
    if (integer)
      writeInt(y.dtype(), y.elementPtr(i), floatToInt(v, y.dtype()));
    else
      writeFloat(y.dtype(), y.elementPtr(i), v);
  }
}

/// scatter: y = x, then y[row, indices[row, j]] = value.
void scatterKernel(const KernelCall &call) {
  const Tensor &x = call.inputs[0], &idx = call.inputs[1], &y = call.outputs[0];
  int64_t d = x.dim(x.rank() - 1), k = idx.dim(idx.rank() - 1);
  int64_t rows = d ? x.numel() / d : 0;
  size_t es = dtypeSize(y.dtype());
  for (int64_t i = 0; i < x.numel(); ++i)
    std::memcpy(y.elementPtr(i), x.elementPtr(i), es);
  float v = call.step.attrs.value;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < k; ++j) {
      int64_t col = loadInt(idx, r * k + j);
      if (col < 0 || col >= d)
        fail("scatter index ", col, " out of range [0, ", d, ") at row ", r);
      if (isFloat(y.dtype()))
        writeFloat(y.dtype(), y.elementPtr(r * d + col), v);
      else
        writeInt(y.dtype(), y.elementPtr(r * d + col), floatToInt(v, y.dtype()));
    }
}

/// Copies element by element between layouts: out linear index i reads x's
/// element `source(i)` (row-major logical index). Bytes are copied as they
/// are, so every element type moves unchanged.
template <typename Source>
void gatherElements(const Tensor &x, const Tensor &y, const Source &source) {
  size_t es = dtypeSize(x.dtype());
  parallelFor(y.numel(), 4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      std::memcpy(y.elementPtr(i), x.elementPtr(source(i)), es);
  });
}

/// Row-major strides of a shape.
Shape rowMajorStrides(const Shape &shape) {
  Shape strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;)
    strides[d - 1] = strides[d] * shape[d];
  return strides;
}

void transposeKernel(const KernelCall &call) {
  const Tensor &x = call.inputs[0], &y = call.outputs[0];
  const std::vector<int64_t> &perm = call.step.attrs.permutation;
  Shape xs = rowMajorStrides(x.shape());
  gatherElements(x, y, [&](int64_t i) {
    int64_t src = 0;
    for (size_t d = perm.size(); d-- > 0;) {
      int64_t extent = y.shape()[d];
      src += (i % extent) * xs[perm[d]];
      i /= extent;
    }
    return src;
  });
}

void sliceKernel(const KernelCall &call) {
  const Tensor &x = call.inputs[0], &y = call.outputs[0];
  int64_t dim = call.step.attrs.dim, start = call.step.attrs.start;
  Shape ys = rowMajorStrides(y.shape()), xs = rowMajorStrides(x.shape());
  gatherElements(x, y, [&](int64_t i) {
    int64_t src = 0;
    for (size_t d = 0; d < ys.size(); ++d) {
      int64_t idx = i / ys[d];
      i %= ys[d];
      src += (static_cast<int64_t>(d) == dim ? idx + start : idx) * xs[d];
    }
    return src;
  });
}

void concatKernel(const KernelCall &call) {
  const Tensor &y = call.outputs[0];
  int64_t dim = call.step.attrs.dim, inner = 1, outer = 1;
  for (int64_t d = dim + 1; d < y.rank(); ++d)
    inner *= y.dim(d);
  for (int64_t d = 0; d < dim; ++d)
    outer *= y.dim(d);
  size_t es = dtypeSize(y.dtype());
  int64_t offset = 0; // along dim, where the current input starts
  for (const Tensor &x : call.inputs) {
    int64_t extent = x.dim(dim), block = extent * inner;
    parallelFor(outer * block, 4, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        int64_t o = i / block, rest = i % block;
        std::memcpy(y.elementPtr(o * y.dim(dim) * inner + offset * inner + rest),
                    x.elementPtr(i), es);
      }
    });
    offset += extent;
  }
}

} // namespace

void registerElementwiseKernels(KernelRegistry &r) {
  r.add("cast", Device::CPU, castKernel);
  r.add("add", Device::CPU, binaryKernel<BinOp::Add>);
  r.add("sub", Device::CPU, binaryKernel<BinOp::Sub>);
  r.add("mul", Device::CPU, binaryKernel<BinOp::Mul>);
  r.add("div", Device::CPU, binaryKernel<BinOp::Div>);
  r.add("sigmoid", Device::CPU, unaryKernel<sigmoid>);
  r.add("silu", Device::CPU, unaryKernel<silu>);
  r.add("relu", Device::CPU, unaryKernel<relu>);
  r.add("rsqrt", Device::CPU, unaryKernel<rsqrt>);
  r.add("neg", Device::CPU, unaryKernel<neg>);
  r.add("transpose", Device::CPU, transposeKernel);
  r.add("slice", Device::CPU, sliceKernel);
  r.add("concat", Device::CPU, concatKernel);
  r.add("pow", Device::CPU, powKernel);
  r.add("mean", Device::CPU, reduceKernel<true>);
  r.add("sum", Device::CPU, reduceKernel<false>);
  r.add("softmax", Device::CPU, softmaxKernel);
  r.add("eq", Device::CPU, binaryKernel<BinOp::Eq>);
  r.add("ne", Device::CPU, binaryKernel<BinOp::Ne>);
  r.add("select", Device::CPU, selectKernel);
  r.add("broadcast", Device::CPU, broadcastKernel);
  r.add("full_like", Device::CPU, fullLikeKernel);
  r.add("scatter", Device::CPU, scatterKernel);
  r.add("exp", Device::CPU, unaryKernel<expf32>);
  r.add("softplus", Device::CPU, unaryKernel<softplus>);
  r.add("gelu", Device::CPU, unaryKernel<gelu>);
  r.add("gelu_tanh", Device::CPU, unaryKernel<geluTanh>);
  r.add("all_reduce", Device::CPU, allReduceKernel);
  r.add("copy_slice", Device::CPU, copySliceKernel);
}

} // namespace llmf::cpu
