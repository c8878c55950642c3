//===- Launch.h - launcher helpers shared by the kernel files ---*- C++ -*-===//

#ifndef LLM_FUSION_KERNELS_LAUNCH_H
#define LLM_FUSION_KERNELS_LAUNCH_H

#include "kernels/Kernels.h"

#include <algorithm>

namespace llmf::kernels {

/// Records why a launcher refused its arguments; returns
/// cudaErrorInvalidValue.
cudaError_t invalid(const char *reason);

} // namespace llmf::kernels

#endif // LLM_FUSION_KERNELS_LAUNCH_H
