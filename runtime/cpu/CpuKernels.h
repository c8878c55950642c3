//===- CpuKernels.h - registration of the CPU reference kernels -*- C++ -*-===//

#ifndef LLM_FUSION_RUNTIME_CPU_CPUKERNELS_H
#define LLM_FUSION_RUNTIME_CPU_CPUKERNELS_H

#include "runtime/KernelRegistry.h"
#include "runtime/Tensor.h"

namespace llmf::cpu {

void registerElementwiseKernels(KernelRegistry &registry);
void registerNormKernels(KernelRegistry &registry);
void registerQuantKernels(KernelRegistry &registry);
void registerRoutingKernels(KernelRegistry &registry);
void registerMatmulKernels(KernelRegistry &registry);

/// The quantization step of the FP8 chains (Quant.cpp): `y` quantized per
/// group into q and scale, or with the rank-0 static `scale` into q.
void quantizeGroups(const Tensor &y, int64_t groupSize, const Tensor &q, const Tensor &scale,
                    bool colMajor = false);
/// Lays out row-major scales [rows, groups] as column-major `scale`
/// [groups, stride >= rows], the padding 0 (DeepGEMM's layout).
void storeColMajorScales(const float *rowMajor, int64_t rows, int64_t groups,
                         const Tensor &scale);
void quantizeStatic(const Tensor &y, const Tensor &scale, const Tensor &q);
/// A host tensor shaped like `like`, for an intermediate a fused kernel
/// keeps to itself.
Tensor scratchLike(const Tensor &like);

} // namespace llmf::cpu

#endif // LLM_FUSION_RUNTIME_CPU_CPUKERNELS_H
