//===- Quant.cpp - CPU FP8 quantization, dynamic per group and static -----===//

#include "runtime/cpu/CpuKernels.h"
#include "runtime/Parallel.h"
#include "runtime/cpu/Reference.h"
#include "runtime/cpu/RowIO.h"

#include <vector>

namespace llmf::cpu {
namespace {

void quantFP8Kernel(const KernelCall &c) {
  quantizeGroups(c.inputs[0], c.step.attrs.groupSize, c.outputs[0], c.outputs[1],
                 c.step.attrs.scaleColMajor);
}

void quantFP8StaticKernel(const KernelCall &c) {
  quantizeStatic(c.inputs[0], c.inputs[1], c.outputs[0]);
}

/// silu(gate) * up as the unfused graph computes it: silu rounded to the
/// type, the product rounded, into `y`.
void siluMulRows(const Tensor &gate, const Tensor &up, const Tensor &y) {
  DType t = y.dtype();
  parallelFor(gate.numel(), 8, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      writeFloat(t, y.elementPtr(i),
                 roundTo(t, silu(loadFloat(gate, i))) * loadFloat(up, i));
  });
}

void fusedSiluMulQuantKernel(const KernelCall &c) {
  Tensor y = scratchLike(c.inputs[0]);
  siluMulRows(c.inputs[0], c.inputs[1], y);
  quantizeGroups(y, c.step.attrs.groupSize, c.outputs[0], c.outputs[1],
                 c.step.attrs.scaleColMajor);
}

void fusedSiluMulQuantStaticKernel(const KernelCall &c) {
  Tensor y = scratchLike(c.inputs[0]);
  siluMulRows(c.inputs[0], c.inputs[1], y);
  quantizeStatic(y, c.inputs[2], c.outputs[0]);
}

} // namespace

void quantizeGroups(const Tensor &x, int64_t g, const Tensor &q, const Tensor &scale,
                    bool colMajor) {
  int64_t d = x.rowLength(), rows = x.numRows();
  auto *qBytes = static_cast<uint8_t *>(q.data());
  // Column-major scales are computed row-major, then laid out.
  std::vector<float> rowMajor(colMajor ? size_t(rows * (d / g)) : 0);
  float *scales = colMajor ? rowMajor.data() : static_cast<float *>(scale.data());
  parallelFor(rows, d, [&](int64_t begin, int64_t end) {
    std::vector<float> row(d);
    for (int64_t r = begin; r < end; ++r) {
      loadRow(x, r, row.data());
      quantFP8Row(row.data(), d, g, qBytes + r * d, scales + r * (d / g));
    }
  });
  if (colMajor)
    storeColMajorScales(rowMajor.data(), rows, d / g, scale);
}

void storeColMajorScales(const float *rowMajor, int64_t rows, int64_t groups,
                         const Tensor &scale) {
  auto *out = static_cast<float *>(scale.data());
  int64_t stride = scale.rowLength();
  for (int64_t grp = 0; grp < groups; ++grp)
    for (int64_t r = 0; r < stride; ++r)
      out[grp * stride + r] = r < rows ? rowMajor[r * groups + grp] : 0.0f;
}

void quantizeStatic(const Tensor &x, const Tensor &scale, const Tensor &q) {
  float s = loadFloat(scale, 0);
  auto *qBytes = static_cast<uint8_t *>(q.data());
  parallelFor(x.numel(), 4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      qBytes[i] = floatToF8E4M3FNBits(loadFloat(x, i) / s);
  });
}

void registerQuantKernels(KernelRegistry &r) {
  r.add("quant_fp8", Device::CPU, quantFP8Kernel);
  r.add("quant_fp8_static", Device::CPU, quantFP8StaticKernel);
  r.add("fused_silu_mul_quant_fp8", Device::CPU, fusedSiluMulQuantKernel);
  r.add("fused_silu_mul_quant_fp8_static", Device::CPU, fusedSiluMulQuantStaticKernel);
}

} // namespace llmf::cpu
