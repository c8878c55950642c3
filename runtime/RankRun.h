//===- RankRun.h - one function on every rank of a group --------*- C++ -*-===//
//
// Runs a plan function once per tensor-parallel rank, one host thread a rank
// over a ThreadGroup, and brings every output back to the host: what
// fusion-run does for a run, a comparison and a benchmark, and what the
// fuzzers do for each input. Optionally captures one run in the backend's
// graph (CUDA graphs) and replays it.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_RANKRUN_H
#define LLM_FUSION_RUNTIME_RANKRUN_H

#include "runtime/Executor.h"
#include "runtime/Plan.h"

#include <vector>

namespace llmf {

struct RankRunOptions {
  bool poison = true; ///< fill fresh results with NaN bytes before kernels
  bool graph = false; ///< capture one run and replay it (backends with graphs)
  int warmup = 0, repeat = 1;
};

/// Every rank's outputs (on the host), rank 0's stats, and the time of each
/// timed repetition in milliseconds (a graph replay's time is per replay).
struct RankRunResult {
  std::vector<std::vector<Tensor>> outputs;
  RunStats stats;
  std::vector<double> millis;
};

/// Runs `fn` on `inputs.size()` ranks. Throws Error with the first failing
/// rank's message ("rank R: ...") when any rank fails; the others are
/// released from their collectives, never left waiting.
RankRunResult runOnRanks(const Plan &plan, const PlanFunction &fn,
                         const std::vector<std::vector<Tensor>> &inputs, const Backend &backend,
                         const RankRunOptions &options = {});

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_RANKRUN_H
