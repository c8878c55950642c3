//===- CpuKernels.h - registration of the CPU reference kernels -*- C++ -*-===//

#ifndef LLM_FUSION_RUNTIME_CPU_CPUKERNELS_H
#define LLM_FUSION_RUNTIME_CPU_CPUKERNELS_H

#include "runtime/KernelRegistry.h"

namespace llmf::cpu {

void registerElementwiseKernels(KernelRegistry &registry);
void registerNormKernels(KernelRegistry &registry);
void registerQuantKernels(KernelRegistry &registry);
void registerRoutingKernels(KernelRegistry &registry);
void registerMatmulKernels(KernelRegistry &registry);

} // namespace llmf::cpu

#endif // LLM_FUSION_RUNTIME_CPU_CPUKERNELS_H
