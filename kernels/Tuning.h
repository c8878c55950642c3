//===- Tuning.h - launch-shape overrides for benchmark sweeps ---*- C++ -*-===//
//
// Not part of the kernels' public API (kernels/Kernels.h) and not
// installed: the benchmark (bench/BenchApi.cpp) and the GPU tests use these
// to time and check every launch shape a launcher can choose. 0 (or -1)
// leaves the launcher's own choice. Not thread-safe; models never need it.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_KERNELS_TUNING_H
#define LLM_FUSION_KERNELS_TUNING_H

namespace llmf::kernels {

/// Launch-shape overrides for benchmark sweeps (0 = the launcher's choice):
/// threads per row on the block-per-row path, rows per team on the short-row
/// path (1 or 2), and a persistent grid of blocksPerSm blocks per SM that
/// strides over the rows. Not thread-safe; models never need it.
struct NormTuning {
  int rowThreads = 0;
  int teamRows = 0;
  int blocksPerSm = 0;
  int teamRegisterBound = 0; // 1: the team path at 32 registers (8 blocks an SM)
};
void setNormTuning(NormTuning tuning);

/// Launch-shape overrides of rmsNormGatedQuantFp8's register path for
/// benchmark sweeps (0 = default): head rows per team (1 or 2) and a
/// persistent grid of blocksPerSm blocks per SM. Not thread-safe.
struct GatedQuantTuning {
  int rowsPerTeam = 0;
  int blocksPerSm = 0;
};
void setGatedQuantTuning(GatedQuantTuning tuning);

/// Benchmark override: unbounded = 1 lets the routing kernel of 4 or 8
/// experts a lane use more than 32 registers (fewer tokens per SM).
struct RoutingTuning {
  int unbounded = 0;
  int blockPerTokenUpTo = -1; // tokens up to which a block per token routes; -1: 256
};
void setRoutingTuning(RoutingTuning tuning);

} // namespace llmf::kernels

#endif // LLM_FUSION_KERNELS_TUNING_H
