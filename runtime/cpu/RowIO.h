//===- RowIO.h - rows of any tensor layout as f32 ---------------*- C++ -*-===//
//
// CPU kernels work on rows of the last dim widened to f32. These read a row
// from any layout the executor's views produce (contiguous, a strided 2-D
// view, q inside qkv) and write a row with one rounding to the tensor's type.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_CPU_ROWIO_H
#define LLM_FUSION_RUNTIME_CPU_ROWIO_H

#include "runtime/Tensor.h"

#include <vector>

namespace llmf::cpu {

/// Row r of `t` (shape [..., D]) widened to f32 into dst[0..D).
void loadRow(const Tensor &t, int64_t r, float *dst);
/// Writes src[0..D) into row r of `t`, rounding once to t's type.
void storeRow(const Tensor &t, int64_t r, const float *src);
/// A whole tensor widened to f32, row-major.
std::vector<float> loadAll(const Tensor &t);

} // namespace llmf::cpu

#endif // LLM_FUSION_RUNTIME_CPU_ROWIO_H
