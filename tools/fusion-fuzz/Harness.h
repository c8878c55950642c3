//===- Harness.h - what every fuzz and differential check runs --*- C++ -*-===//
//
// The steps a hostile input goes through, each returning a finding (a bug:
// the tool broke a promise) or nothing. Errors the tools report cleanly are
// not findings; crashes, hangs, invalid IR after the pipeline, a pipeline
// that is not idempotent and exceptions other than llmf::Error are.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_TOOLS_FUSION_FUZZ_HARNESS_H
#define LLM_FUSION_TOOLS_FUSION_FUZZ_HARNESS_H

#include "passes/Passes.h"
#include "runtime/Plan.h"
#include "runtime/Tensor.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <optional>
#include <string>
#include <vector>

namespace llmf::fuzz {

/// A broken promise found by a check, in words.
using Finding = std::optional<std::string>;

/// A context with the dialects the tools load (unregistered ops allowed,
/// as under fusion-opt --allow-unregistered-dialect).
std::unique_ptr<mlir::MLIRContext> makeContext();

/// Parses and verifies `text`; null when it does not (the diagnostics, which
/// are the expected answer to bad input, go to `diagnostics`).
mlir::OwningOpRef<mlir::ModuleOp> parseModule(mlir::MLIRContext &context, const std::string &text,
                                              std::string &diagnostics);

std::string printModule(mlir::ModuleOp module);

/// Runs the pipeline with `options` on a verified module: a finding when it
/// fails (a verifier error after a pass is an invalid module; a
/// non-converging rewrite is a bug too).
Finding runPipeline(mlir::ModuleOp module, const mlir::llm::LLMFusionPipelineOptions &options,
                    std::shared_ptr<mlir::llm::FusionReport> report = nullptr);

/// The pipeline on a verified module, then again on its result: a finding
/// when either run fails or the second changes anything.
Finding checkPipeline(mlir::ModuleOp module, const mlir::llm::LLMFusionPipelineOptions &options);

/// Every function of `plan` on the CPU with random inputs (dynamic dims
/// bound to `dim`): Errors are fine, anything else is a finding.
Finding runPlanOnCpu(const Plan &plan, int64_t dim, uint64_t seed);

/// How deep the inputs got: each counter counts inputs that passed the step.
struct DepthStats {
  int64_t accepted = 0; ///< parsed and verified (.mlir), loaded (plan, .npy)
  int64_t lowered = 0;  ///< .mlir: lowered to a plan after the pipeline
  int64_t ran = 0;      ///< ran on the CPU without an error
};
DepthStats &depthStats();

/// The fuzz targets: one input each.
Finding fuzzMlir(const std::string &text);
Finding fuzzPlan(const std::string &text);
Finding fuzzNpy(const std::string &bytes);

} // namespace llmf::fuzz

#endif // LLM_FUSION_TOOLS_FUSION_FUZZ_HARNESS_H
