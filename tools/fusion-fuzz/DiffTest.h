//===- DiffTest.h - fused against unfused on random valid graphs -*- C++ -*-===//
//
// For each random graph (GraphGen.h) and a random subset of the pipeline's
// passes, checks that:
//  - each pass leaves a module that verifies, and the fused ops of its family
//    grew by exactly what its report counts;
//  - the whole subset run again changes nothing and fuses nothing;
//  - the fused module computes on the CPU what the original does, bit for
//    bit (the accuracy model where a spec-allowed rounding was dropped), at
//    the module's world size, with ranking-value ties for routing ids.
// A failing graph shrinks (chains dropped, world size 1, static tokens)
// to a minimal reproducer written as a `.mlir` file with the options that
// fail it.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_TOOLS_FUSION_FUZZ_DIFFTEST_H
#define LLM_FUSION_TOOLS_FUSION_FUZZ_DIFFTEST_H

#include <cstdint>
#include <string>

namespace llmf::fuzz {

struct DiffTestOptions {
  int64_t graphs = 200;
  uint64_t seed = 1;
  std::string work = "fuzz-work";
  /// Also write every graph as WORK/graph-N.mlir (to read or replay them).
  bool emitGraphs = false;
};

/// Runs the tester; returns 0 when every graph passed, 1 otherwise.
int runDiffTest(const DiffTestOptions &options);

} // namespace llmf::fuzz

#endif // LLM_FUSION_TOOLS_FUSION_FUZZ_DIFFTEST_H
