//===- Matmul.cpp - CPU matmul with exact products, double accumulation ---===//

#include "runtime/cpu/CpuKernels.h"
#include "runtime/Parallel.h"
#include "runtime/cpu/RowIO.h"

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

} // namespace

void registerMatmulKernels(KernelRegistry &r) {
  r.add("matmul", Device::CPU, matmulKernel);
}

} // namespace llmf::cpu
