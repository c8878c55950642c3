//===- Parallel.h - split a loop over host threads ---------------*- C++ -*-===//
//
// The CPU reference is written for clarity, one row at a time; this runs the
// row loop on a few threads when there is enough work to pay for them (as do
// random inputs and output comparison). Each item is computed the same way
// whatever the split, so results do not depend on the thread count.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_PARALLEL_H
#define LLM_FUSION_RUNTIME_PARALLEL_H

#include <cstdint>
#include <functional>

namespace llmf {

/// Calls fn(begin, end) over [0, n) in chunks, on up to
/// hardware_concurrency threads when n * costPerItem is large; rethrows the
/// first exception a chunk threw.
void parallelFor(int64_t n, int64_t costPerItem,
                 const std::function<void(int64_t, int64_t)> &fn);

/// Upper bound on the threads parallelFor uses (0: hardware concurrency).
void setMaxThreads(int threads);

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_PARALLEL_H
