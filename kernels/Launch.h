//===- Launch.h - launcher helpers shared by the kernel files ---*- C++ -*-===//

#ifndef LLM_FUSION_KERNELS_LAUNCH_H
#define LLM_FUSION_KERNELS_LAUNCH_H

#include "kernels/Kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <type_traits>
#include <utility>

namespace llmf::kernels {

/// Records why a launcher refused its arguments; returns
/// cudaErrorInvalidValue.
cudaError_t invalid(const char *reason);

/// Multiprocessors of the current device (read once; 0 if unknown).
int smCount();

/// Whether launches use programmatic dependent launch (setProgrammaticLaunch).
bool programmaticLaunch();

/// Launches `kernel`, with the programmatic-stream-serialization attribute
/// when programmatic launch is on: the kernel may then be scheduled once
/// every block of its predecessor has started (each triggers in
/// pdlEnter()), so its launch overlaps the predecessor's last wave, and it
/// waits for the predecessor in pdlEnter(). Returns the launch error.
template <typename... Params, typename... Args>
cudaError_t launchKernel(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem,
                         cudaStream_t stream, Args &&...args) {
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = smem;
  config.stream = stream;
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  config.attrs = &attribute;
  config.numAttrs = programmaticLaunch() ? 1 : 0;
  return cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
}

/// Calls f(std::integral_constant<int, S>{}) for the first S of SIZES equal
/// to n, or for the last one when none is: launchers pass a team size they
/// have checked, so the last size is the largest they allow.
template <int FIRST, int... REST, typename F> void withSize(int64_t n, F &&f) {
  if constexpr (sizeof...(REST) == 0)
    f(std::integral_constant<int, FIRST>{});
  else if (n == FIRST)
    f(std::integral_constant<int, FIRST>{});
  else
    withSize<REST...>(n, std::forward<F>(f));
}

template <typename T> struct TypeTag {
  using type = T;
};

/// Calls f(TypeTag<T>{}) with T the C++ type of a float ElemType (f32, f16,
/// bf16); any other type is refused with `what`.
template <typename F> cudaError_t withFloatType(ElemType t, const char *what, F &&f) {
  switch (t) {
  case ElemType::F32: return f(TypeTag<float>{});
  case ElemType::F16: return f(TypeTag<__half>{});
  case ElemType::BF16: return f(TypeTag<__nv_bfloat16>{});
  default: return invalid(what);
  }
}

} // namespace llmf::kernels

#endif // LLM_FUSION_KERNELS_LAUNCH_H
