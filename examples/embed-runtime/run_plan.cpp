//===- run_plan.cpp - run a plan with the MLIR-free runtime ---------------===//
//
//   run-plan PLAN.json FUNCTION [TOKENS]
//
// Loads a plan (fusion-translate --llm-to-plan), runs one function on the
// CPU backend on random inputs, one thread per tensor-parallel rank, and
// prints each output's shape and a checksum. Links LLMFusion::Runtime only.
//
//===----------------------------------------------------------------------===//

#include "runtime/Error.h"
#include "runtime/Executor.h"
#include "runtime/Inputs.h"
#include "runtime/Plan.h"
#include "runtime/RankRun.h"
#include "runtime/cpu/CpuBackend.h"

#include <cmath>
#include <iostream>

int main(int argc, char **argv) {
  if (argc < 3) {
    std::cerr << "usage: run-plan PLAN.json FUNCTION [TOKENS]\n";
    return 2;
  }
  try {
    llmf::Plan plan = llmf::loadPlanFile(argv[1]);
    const llmf::PlanFunction &fn = plan.function(argv[2]);
    int64_t tokens = argc > 3 ? std::stoll(argv[3]) : 4;
    std::vector<std::vector<llmf::Tensor>> inputs;
    for (int r = 0; r < plan.worldSize; ++r)
      inputs.push_back(llmf::randomInputs(fn, tokens, /*seed=*/0, r));
    llmf::RankRunResult run = llmf::runOnRanks(plan, fn, inputs, llmf::cpuBackend());
    for (size_t i = 0; i < run.outputs[0].size(); ++i) {
      const llmf::Tensor &t = run.outputs[0][i];
      double sum = 0;
      for (int64_t k = 0; k < t.numel(); ++k)
        sum += llmf::isFloat(t.dtype()) ? std::fabs(llmf::loadFloat(t, k))
                                        : static_cast<double>(llmf::loadInt(t, k));
      std::cout << "out " << i << ": " << t.describe() << " sum|x| " << sum << "\n";
    }
  } catch (const llmf::Error &e) {
    std::cerr << "run-plan: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
