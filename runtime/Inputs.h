//===- Inputs.h - deterministic random inputs for a plan function -*- C++ -*-===//
//
// fusion-run's inputs: one stream per (seed, rank, argument), values in the
// range of the argument's role (activations ~N(0,1), norm weights in
// [0.5, 1.5], linear weights ~N(0, 1/K), router bias in [-0.1, 0.1], static
// scales in [0.01, 0.02], indices in range) and never all zeros.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_INPUTS_H
#define LLM_FUSION_RUNTIME_INPUTS_H

#include "runtime/Plan.h"

#include <cstdint>
#include <vector>

namespace llmf {

/// The concrete shape of an argument: every dynamic dim becomes `dim`.
Shape bindDynamicDims(const Shape &shape, int64_t dim);

/// Host tensors for every argument of `fn` on `rank`.
std::vector<Tensor> randomInputs(const PlanFunction &fn, int64_t dim,
                                 uint64_t seed, int rank);

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_INPUTS_H
