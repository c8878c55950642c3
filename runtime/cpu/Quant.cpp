//===- Quant.cpp - CPU FP8 quantization, dynamic per group and static -----===//

#include "runtime/cpu/CpuKernels.h"
#include "runtime/Parallel.h"
#include "runtime/cpu/Reference.h"
#include "runtime/cpu/RowIO.h"

#include <vector>

namespace llmf::cpu {
namespace {

void quantFP8Kernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &q = c.outputs[0], &scale = c.outputs[1];
  int64_t d = x.rowLength(), g = c.step.attrs.groupSize;
  auto *qBytes = static_cast<uint8_t *>(q.data());
  auto *scales = static_cast<float *>(scale.data());
  parallelFor(x.numRows(), d, [&](int64_t begin, int64_t end) {
    std::vector<float> row(d);
    for (int64_t r = begin; r < end; ++r) {
      loadRow(x, r, row.data());
      quantFP8Row(row.data(), d, g, qBytes + r * d, scales + r * (d / g));
    }
  });
}

void quantFP8StaticKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &q = c.outputs[0];
  float s = loadFloat(c.inputs[1], 0);
  auto *qBytes = static_cast<uint8_t *>(q.data());
  parallelFor(x.numel(), 4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      qBytes[i] = floatToF8E4M3FNBits(loadFloat(x, i) / s);
  });
}

} // namespace

void registerQuantKernels(KernelRegistry &r) {
  r.add("quant_fp8", Device::CPU, quantFP8Kernel);
  r.add("quant_fp8_static", Device::CPU, quantFP8StaticKernel);
}

} // namespace llmf::cpu
