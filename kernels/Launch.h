//===- Launch.h - launcher helpers shared by the kernel files ---*- C++ -*-===//

#ifndef LLM_FUSION_KERNELS_LAUNCH_H
#define LLM_FUSION_KERNELS_LAUNCH_H

#include "kernels/Kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>

namespace llmf::kernels {

/// Records why a launcher refused its arguments; returns
/// cudaErrorInvalidValue.
cudaError_t invalid(const char *reason);

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
