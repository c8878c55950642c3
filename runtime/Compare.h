//===- Compare.h - outputs of two programs, within dtype tolerance -*- C++ -*-===//
//
// How fusion-run --compare decides that a fused graph computes what the
// unfused one does: floats within |a - b| <= atol + rtol * |b| of the
// output's type (NaN matches NaN, infinities match by sign), fp8 compared
// as values, integers exactly, except that an index output whose ranked
// partner output agrees at that position is a tie, not an error.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_COMPARE_H
#define LLM_FUSION_RUNTIME_COMPARE_H

#include "runtime/Tensor.h"

#include <optional>
#include <string>
#include <vector>

namespace llmf {

struct Tolerance {
  double rtol = 0.0, atol = 0.0;
};
/// One rounding of the type: f32 1e-5, f16 1e-3, bf16 1.6e-2, fp8 0.125.
Tolerance defaultTolerance(DType t);

struct OutputDiff {
  std::string what;  // "shape", "dtype" or empty when comparable
  int64_t elements = 0;
  int64_t mismatches = 0;
  int64_t ties = 0;  // index differences explained by equal ranked values
  double maxAbs = 0.0, maxRel = 0.0;
  int64_t firstMismatch = -1;
  double firstA = 0.0, firstB = 0.0;
  bool ok() const { return what.empty() && mismatches == 0; }
};

/// Compares a (the candidate) with b (the reference). `partnerA/B` are the
/// ranked-value outputs of an index output (null when it has none).
OutputDiff compareTensors(const Tensor &a, const Tensor &b,
                          std::optional<Tolerance> tolerance,
                          const Tensor *partnerA = nullptr,
                          const Tensor *partnerB = nullptr);

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_COMPARE_H
