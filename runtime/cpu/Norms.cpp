//===- Norms.cpp - CPU RMSNorm family, unfused and fused -----------------===//
//
// Fused kernels compose the unfused row math and round wherever the unfused
// graph stores an intermediate (all_reduce_out, residual_out, the gated norm
// output before quantization), so a fusion changes no value on the CPU.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/CpuKernels.h"
#include "runtime/Parallel.h"
#include "runtime/cpu/Reference.h"
#include "runtime/cpu/RowIO.h"

#include "runtime/Error.h"
#include "runtime/MemoryPool.h"

#include <vector>

namespace llmf::cpu {
namespace {

/// y = rms_norm(x, w) row by row.
void normRows(const Tensor &x, const Tensor &w, const OpAttrs &a, const Tensor &y) {
  int64_t d = x.rowLength();
  std::vector<float> wv = loadAll(w);
  parallelFor(x.numRows(), d, [&](int64_t begin, int64_t end) {
    std::vector<float> row(d), out(d);
    for (int64_t r = begin; r < end; ++r) {
      loadRow(x, r, row.data());
      rmsNormRow(row.data(), wv.data(), d, a.epsilon, a.weightBias, out.data());
      storeRow(y, r, out.data());
    }
  });
}

/// residual_out = x + residual (rounded); y = rms_norm(residual_out, w).
void addNormRows(const Tensor &x, const Tensor &residual, const Tensor &w,
                 const OpAttrs &a, const Tensor &y, const Tensor &residualOut) {
  int64_t d = x.rowLength();
  std::vector<float> wv = loadAll(w);
  parallelFor(x.numRows(), d, [&](int64_t begin, int64_t end) {
    std::vector<float> xr(d), rr(d), out(d);
    for (int64_t r = begin; r < end; ++r) {
      loadRow(x, r, xr.data());
      loadRow(residual, r, rr.data());
      for (int64_t j = 0; j < d; ++j)
        xr[j] = roundTo(residualOut.dtype(), xr[j] + rr[j]);
      storeRow(residualOut, r, xr.data());
      rmsNormRow(xr.data(), wv.data(), d, a.epsilon, a.weightBias, out.data());
      storeRow(y, r, out.data());
    }
  });
}

void rmsNormKernel(const KernelCall &c) {
  normRows(c.inputs[0], c.inputs[1], c.step.attrs, c.outputs[0]);
}

void fusedAddRMSNormKernel(const KernelCall &c) {
  addNormRows(c.inputs[0], c.inputs[1], c.inputs[2], c.step.attrs, c.outputs[0],
              c.outputs[1]);
}

void rmsNormGatedKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &z = c.inputs[1], &y = c.outputs[0];
  const OpAttrs &a = c.step.attrs;
  int64_t d = x.rowLength();
  std::vector<float> wv = loadAll(c.inputs[2]);
  parallelFor(x.numRows(), d, [&](int64_t begin, int64_t end) {
    std::vector<float> xr(d), zr(d), out(d);
    for (int64_t r = begin; r < end; ++r) {
      loadRow(x, r, xr.data());
      loadRow(z, r, zr.data());
      rmsNormGatedRow(xr.data(), zr.data(), wv.data(), d, a.epsilon,
                      a.weightBias, a.normBeforeGate, out.data());
      storeRow(y, r, out.data());
    }
  });
}

void fusedAllReduceRMSNormKernel(const KernelCall &c) {
  const Tensor &arOut = c.outputs[1];
  c.comm.allReduceSum(c.inputs[0], arOut);
  normRows(arOut, c.inputs[1], c.step.attrs, c.outputs[0]);
}

void fusedAllReduceAddRMSNormKernel(const KernelCall &c) {
  Tensor reduced = scratchLike(c.inputs[0]);
  c.comm.allReduceSum(c.inputs[0], reduced);
  addNormRows(reduced, c.inputs[1], c.inputs[2], c.step.attrs, c.outputs[0],
              c.outputs[1]);
}

void fusedQKRMSNormKernel(const KernelCall &c) {
  normRows(c.inputs[0], c.inputs[2], c.step.attrs, c.outputs[0]);
  normRows(c.inputs[1], c.inputs[3], c.step.attrs, c.outputs[1]);
}

/// rms_norm_gated on [N*H, D] (rounded to x's type), viewed as [N, H*D] and
/// quantized per group: what the three unfused ops compute.
void fusedRMSNormGatedQuantKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &z = c.inputs[1], &q = c.outputs[0],
               &scale = c.outputs[1];
  const OpAttrs &a = c.step.attrs;
  int64_t d = x.rowLength();
  int64_t width = q.rowLength(), heads = width / d, tokens = q.numRows();
  int64_t groups = width / a.groupSize;
  std::vector<float> wv = loadAll(c.inputs[2]);
  auto *qBytes = static_cast<uint8_t *>(q.data());
  std::vector<float> rowMajor(a.scaleColMajor ? size_t(tokens * groups) : 0);
  float *scales = a.scaleColMajor ? rowMajor.data() : static_cast<float *>(scale.data());
  parallelFor(tokens, width, [&](int64_t begin, int64_t end) {
    std::vector<float> xr(d), zr(d), normed(width);
    for (int64_t n = begin; n < end; ++n) {
      for (int64_t h = 0; h < heads; ++h) {
        int64_t row = n * heads + h;
        loadRow(x, row, xr.data());
        loadRow(z, row, zr.data());
        float *out = normed.data() + h * d;
        rmsNormGatedRow(xr.data(), zr.data(), wv.data(), d, a.epsilon,
                        a.weightBias, a.normBeforeGate, out);
        for (int64_t j = 0; j < d; ++j)
          out[j] = roundTo(x.dtype(), out[j]);
      }
      quantFP8Row(normed.data(), width, a.groupSize, qBytes + n * width,
                  scales + n * groups);
    }
  });
  if (a.scaleColMajor)
    storeColMajorScales(rowMajor.data(), tokens, groups, scale);
}

/// The FP8 chains: the norm as its unfused op computes it (after the
/// all-reduce and the residual add, into the pass-through result), rounded
/// to x's type in a scratch row buffer, then quantized. Template flags:
/// ADD (a residual operand), AR (an all-reduce first), STATIC (a scale
/// operand instead of group scales).
template <bool ADD, bool AR, bool STATIC> void normQuantKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0];
  const Tensor &w = c.inputs[ADD ? 2 : 1];
  Tensor y = scratchLike(x);
  // The pass-through result (residual_out / all_reduce_out) is the last.
  const Tensor *through = (ADD || AR) ? &c.outputs.back() : nullptr;
  if (ADD) {
    Tensor source = x;
    if (AR) {
      source = scratchLike(x);
      c.comm.allReduceSum(x, source);
    }
    addNormRows(source, c.inputs[1], w, c.step.attrs, y, *through);
  } else if (AR) {
    c.comm.allReduceSum(x, *through);
    normRows(*through, w, c.step.attrs, y);
  } else {
    normRows(x, w, c.step.attrs, y);
  }
  if (STATIC)
    quantizeStatic(y, c.inputs[ADD ? 3 : 2], c.outputs[0]);
  else
    quantizeGroups(y, c.step.attrs.groupSize, c.outputs[0], c.outputs[1],
                   c.step.attrs.scaleColMajor);
}

} // namespace

Tensor scratchLike(const Tensor &like) {
  size_t bytes = static_cast<size_t>(like.numel()) * dtypeSize(like.dtype());
  return Tensor(like.dtype(), like.shape(), allocateHostBuffer(bytes));
}

void registerNormKernels(KernelRegistry &r) {
  r.add("rms_norm", Device::CPU, rmsNormKernel);
  r.add("fused_add_rms_norm", Device::CPU, fusedAddRMSNormKernel);
  r.add("rms_norm_gated", Device::CPU, rmsNormGatedKernel);
  r.add("fused_all_reduce_rms_norm", Device::CPU, fusedAllReduceRMSNormKernel);
  r.add("fused_all_reduce_add_rms_norm", Device::CPU, fusedAllReduceAddRMSNormKernel);
  r.add("fused_qk_rms_norm", Device::CPU, fusedQKRMSNormKernel);
  r.add("fused_rms_norm_gated_quant_fp8", Device::CPU, fusedRMSNormGatedQuantKernel);
  r.add("fused_rms_norm_quant_fp8", Device::CPU, normQuantKernel<false, false, false>);
  r.add("fused_rms_norm_quant_fp8_static", Device::CPU, normQuantKernel<false, false, true>);
  r.add("fused_add_rms_norm_quant_fp8", Device::CPU, normQuantKernel<true, false, false>);
  r.add("fused_add_rms_norm_quant_fp8_static", Device::CPU, normQuantKernel<true, false, true>);
  r.add("fused_all_reduce_rms_norm_quant_fp8", Device::CPU, normQuantKernel<false, true, false>);
  r.add("fused_all_reduce_rms_norm_quant_fp8_static", Device::CPU,
        normQuantKernel<false, true, true>);
  r.add("fused_all_reduce_add_rms_norm_quant_fp8", Device::CPU, normQuantKernel<true, true, false>);
  r.add("fused_all_reduce_add_rms_norm_quant_fp8_static", Device::CPU,
        normQuantKernel<true, true, true>);
}

} // namespace llmf::cpu
