//===- CpuBackend.h - the CPU reference backend -----------------*- C++ -*-===//
//
// The exact reference every other backend is checked against: one row at a
// time in fp32 with double accumulation (Reference.h). Its registry holds a
// kernel for every op of the runtime's op table (OpSchema.h) that is not a
// view.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_CPU_CPUBACKEND_H
#define LLM_FUSION_RUNTIME_CPU_CPUBACKEND_H

#include "runtime/Executor.h"

namespace llmf {

/// The CPU backend (host memory, synchronous).
const Backend &cpuBackend();
/// Its kernels, by op name.
const KernelRegistry &cpuKernelRegistry();

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_CPU_CPUBACKEND_H
