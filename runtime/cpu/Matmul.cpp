//===- Matmul.cpp - CPU matmul with exact products, double accumulation ---===//

#include "runtime/cpu/CpuKernels.h"
#include "runtime/Parallel.h"
#include "runtime/cpu/RowIO.h"
#include "runtime/OpSchema.h"

#include <algorithm>

#include <vector>

namespace llmf::cpu {
namespace {

void matmulKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &w = c.inputs[1], &y = c.outputs[0];
  bool transposed = c.step.attrs.transposeW;
  int64_t k = x.rowLength(), n = y.rowLength(), m = x.numRows();
  // w as [N, K] rows, so every output is a dot product of two rows.
  std::vector<float> wt(n * k);
  {
    std::vector<float> wv = loadAll(w);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < k; ++j)
        wt[i * k + j] = transposed ? wv[i * k + j] : wv[j * n + i];
  }
  std::vector<float> xv = loadAll(x);
  parallelFor(m * n, k, [&](int64_t begin, int64_t end) {
    std::vector<float> out;
    for (int64_t idx = begin; idx < end; ++idx) {
      int64_t row = idx / n, col = idx % n;
      const float *a = xv.data() + row * k, *b = wt.data() + col * k;
      double acc = 0.0;
      for (int64_t j = 0; j < k; ++j)
        acc += static_cast<double>(a[j]) * b[j];
      writeFloat(y.dtype(), y.elementPtr(idx), static_cast<float>(acc));
    }
  });
}

/// The FP8 linear's reference: per output, the products of each 128-wide
/// K block summed exactly (double), times that block's x and w scales,
/// the blocks summed; one rounding. Per-tensor and per-token scales are one
/// block of all of K.
void matmulFP8Kernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &xs = c.inputs[1], &w = c.inputs[2], &ws = c.inputs[3];
  const Tensor &y = c.outputs[0];
  auto type = [](const Tensor &t) { return TensorType{t.dtype(), t.shape()}; };
  bool colMajor = c.step.attrs.xScaleColMajor;
  Fp8ScaleMode mode = fp8ScaleMode(type(x), type(xs), type(w), type(ws), colMajor);
  int64_t k = x.rowLength(), n = w.dim(0), m = x.numRows();
  int64_t kb = (k + 127) / 128;
  // x_scale[row, blk] at row * kb + blk, or column-major at blk * stride + row.
  int64_t xsRow = colMajor ? 1 : kb, xsBlk = colMajor ? xs.rowLength() : 1;
  std::vector<float> xv = loadAll(x), wv = loadAll(w), xsv = loadAll(xs), wsv = loadAll(ws);
  parallelFor(m * n, k, [&](int64_t begin, int64_t end) {
    for (int64_t idx = begin; idx < end; ++idx) {
      int64_t row = idx / n, col = idx % n;
      const float *a = xv.data() + row * k, *b = wv.data() + col * k;
      double acc = 0.0;
      if (mode == Fp8ScaleMode::Block) {
        for (int64_t blk = 0; blk < kb; ++blk) {
          double part = 0.0;
          for (int64_t j = blk * 128; j < std::min(k, (blk + 1) * 128); ++j)
            part += static_cast<double>(a[j]) * b[j];
          acc += part * xsv[row * xsRow + blk * xsBlk] * wsv[(col / 128) * kb + blk];
        }
      } else {
        for (int64_t j = 0; j < k; ++j)
          acc += static_cast<double>(a[j]) * b[j];
        acc *= mode == Fp8ScaleMode::Tensor ? static_cast<double>(xsv[0]) * wsv[0]
                                            : static_cast<double>(xsv[row]) * wsv[col];
      }
      writeFloat(y.dtype(), y.elementPtr(idx), static_cast<float>(acc));
    }
  });
}

} // namespace

void registerMatmulKernels(KernelRegistry &r) {
  r.add("matmul", Device::CPU, matmulKernel);
  r.add("matmul_fp8", Device::CPU, matmulFP8Kernel);
}

} // namespace llmf::cpu
