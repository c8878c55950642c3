//===- Passes.h - llm-fusion passes and pipeline ----------------*- C++ -*-===//
//
// The fusion passes (one per family, generated from Passes.td), their
// registration, and the pipeline entry point for users who link the library.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_PASSES_PASSES_H
#define LLM_FUSION_PASSES_PASSES_H

#include "ir/LLMDialect.h"
#include "passes/FusionReport.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/PDL/IR/PDL.h"
#include "mlir/Dialect/PDLInterp/IR/PDLInterp.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <memory>
#include <optional>
#include <string>

namespace mlir::llm {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

/// Each family's pass recording into `report` (shared by the pipeline).
std::unique_ptr<Pass>
createLLMRaiseNormsPass(const LLMRaiseNormsOptions &options,
                        std::shared_ptr<FusionReport> report);
std::unique_ptr<Pass>
createLLMFusionCleanupPass(const LLMFusionCleanupOptions &options,
                           std::shared_ptr<FusionReport> report);
std::unique_ptr<Pass>
createLLMFuseAllReduceNormPass(const LLMFuseAllReduceNormOptions &options,
                               std::shared_ptr<FusionReport> report);
std::unique_ptr<Pass>
createLLMFuseGatedNormQuantPass(const LLMFuseGatedNormQuantOptions &options,
                                std::shared_ptr<FusionReport> report);
std::unique_ptr<Pass>
createLLMFuseMoERouterPass(const LLMFuseMoERouterOptions &options,
                           std::shared_ptr<FusionReport> report);
std::unique_ptr<Pass>
createLLMFuseQKNormPass(const LLMFuseQKNormOptions &options,
                        std::shared_ptr<FusionReport> report);
std::unique_ptr<Pass>
createLLMFuseNormQuantPass(const LLMFuseNormQuantOptions &options,
                           std::shared_ptr<FusionReport> report);

/// Options of `--llm-fusion-pipeline`.
struct LLMFusionPipelineOptions
    : public PassPipelineOptions<LLMFusionPipelineOptions> {
  PassOptions::Option<bool> raiseNorms{
      *this, "raise-norms",
      llvm::cl::desc("Raise decomposed RMSNorms (torch.export's arithmetic) first"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> cleanup{*this, "cleanup",
                                    llvm::cl::desc("Run the cleanup pass first"),
                                    llvm::cl::init(true)};
  PassOptions::Option<bool> allReduceNorm{
      *this, "allreduce-norm",
      llvm::cl::desc("Fuse all-reduce + (residual add) + RMSNorm"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> gatedNormQuant{
      *this, "gated-norm-quant",
      llvm::cl::desc("Fuse gated RMSNorm + reshape + FP8 group quant"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> moeRouter{
      *this, "moe-router",
      llvm::cl::desc("Fuse cast + sigmoid + bias + grouped top-k routing"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> normQuant{
      *this, "norm-quant",
      llvm::cl::desc("Fuse norm / add + norm / all-reduce + norm / SiLU-and-mul + FP8 quant"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> qkNorm{*this, "qk-norm",
                                   llvm::cl::desc("Fuse per-head Q/K RMSNorm"),
                                   llvm::cl::init(true)};
  PassOptions::Option<bool> remarks{
      *this, "remarks",
      llvm::cl::desc("Emit a missed-fusion remark for every near miss"),
      llvm::cl::init(false)};
  PassOptions::Option<std::string> report{
      *this, "report",
      llvm::cl::desc("Write the fusion report (JSON) to this file")};
};

/// Adds the fusion pipeline to `pm` (a ModuleOp pass manager; the families run
/// nested on each func.func, functions in parallel): cleanup, then
/// the families, larger chains before the smaller ones that would consume
/// their roots. Every pass records into `report` when given; with
/// `options.report` set, the pipeline also writes it there at the end.
void buildLLMFusionPipeline(OpPassManager &pm,
                            const LLMFusionPipelineOptions &options,
                            std::shared_ptr<FusionReport> report = nullptr);

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Registers `--llm-fusion-pipeline` (with the global `--llm-fusion-remarks`
/// and `--llm-fusion-report=FILE` shorthands). registerLLMFusionPasses(),
/// generated from Passes.td, registers each pass.
void registerLLMFusionPipeline();

/// The shorthand flag given on the command line (`--llm-fusion-report` or
/// `--llm-fusion-remarks`) when the registered pipeline never ran, so a
/// driver can reject it instead of ignoring it silently; nullopt otherwise.
std::optional<std::string> unusedPipelineShorthand();

} // namespace mlir::llm

#endif // LLM_FUSION_PASSES_PASSES_H
