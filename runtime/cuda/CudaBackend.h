//===- CudaBackend.h - the CUDA backend of the runtime ----------*- C++ -*-===//
//
// Registers a CUDA kernel (kernels/) for every op of the spec and runs plans
// on the current GPU: device memory from cudaMalloc through the executor's
// pool, kernels on the per-thread default stream, matmul through cuBLAS.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_CUDA_CUDABACKEND_H
#define LLM_FUSION_RUNTIME_CUDA_CUDABACKEND_H

#include "runtime/Executor.h"

#include <string>

namespace llmf {

/// True when a CUDA device can be used; otherwise `why` says why not.
bool cudaAvailable(std::string *why = nullptr);
/// The CUDA backend; throws Error when no device is available.
const Backend &cudaBackend();
/// The CUDA kernels, by op name (readable without a GPU).
const KernelRegistry &cudaKernelRegistry();
/// Launch kernels with programmatic dependent launch (Hopper): a kernel may
/// be scheduled while its predecessor's last wave runs. Off by default.
void setCudaProgrammaticLaunch(bool on);

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_CUDA_CUDABACKEND_H
