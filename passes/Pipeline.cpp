//===- Pipeline.cpp - the fusion pipeline and pass registration -----------===//

#include "passes/Passes.h"
#include "passes/Patterns.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/CommandLine.h"

#include <atomic>

using namespace mlir;
using namespace mlir::llm;

namespace {

/// Writes the shared fusion report after the fusion passes. Internal to the
/// pipeline (it reads the in-memory report the family passes filled), so it
/// has no flag of its own.
struct WriteFusionReportPass
    : PassWrapper<WriteFusionReportPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(WriteFusionReportPass)

  WriteFusionReportPass(std::shared_ptr<FusionReport> report, std::string path)
      : report(std::move(report)), path(std::move(path)) {}

  StringRef getArgument() const final { return "llm-fusion-write-report"; }
  StringRef getDescription() const final {
    return "Write the fusion report of the pipeline's passes";
  }

  void runOnOperation() override {
    std::string error;
    if (!report->writeFile(path, error)) {
      getOperation().emitError() << error;
      signalPassFailure();
    }
  }

  std::shared_ptr<FusionReport> report;
  std::string path;
};

/// `--llm-fusion-remarks` and `--llm-fusion-report=FILE`: shorthands for the
/// pipeline options of the same meaning.
llvm::cl::opt<bool> clRemarks(
    "llm-fusion-remarks",
    llvm::cl::desc("llm-fusion-pipeline: emit a missed-fusion remark for every "
                   "near miss"),
    llvm::cl::init(false));
llvm::cl::opt<std::string> clReport(
    "llm-fusion-report",
    llvm::cl::desc("llm-fusion-pipeline: write the fusion report (JSON) here"),
    llvm::cl::value_desc("file"));

/// Set when the registered pipeline is built: --llm-fusion-remarks and
/// --llm-fusion-report mean nothing without it.
std::atomic<bool> registeredPipelineBuilt{false};

/// Adds one family's pass, when enabled, with the shared remarks and report.
template <typename OptionsT>
void addFamily(OpPassManager &fpm, bool enabled, bool remarks,
               const std::shared_ptr<FusionReport> &report,
               std::unique_ptr<Pass> (*create)(const OptionsT &,
                                               std::shared_ptr<FusionReport>)) {
  if (!enabled)
    return;
  OptionsT options;
  options.emitRemarks = remarks;
  fpm.addPass(create(options, report));
}

void buildPipeline(OpPassManager &pm, const LLMFusionPipelineOptions &options,
                   bool remarks, const std::string &reportPath,
                   std::shared_ptr<FusionReport> report) {
  if (!report && !reportPath.empty())
    report = std::make_shared<FusionReport>();
  // Every family runs on each function, functions in parallel.
  OpPassManager &fpm = pm.nest<func::FuncOp>();
  addFamily(fpm, options.raiseNorms, remarks, report, createLLMRaiseNormsPass);
  addFamily(fpm, options.cleanup, remarks, report, createLLMFusionCleanupPass);
  // Larger chains first: the 4-op router, the 3-op gated quant and
  // all-reduce chains, then the Q/K pair.
  addFamily(fpm, options.moeRouter, remarks, report, createLLMFuseMoERouterPass);
  addFamily(fpm, options.gatedNormQuant, remarks, report,
            createLLMFuseGatedNormQuantPass);
  addFamily(fpm, options.allReduceNorm, remarks, report,
            createLLMFuseAllReduceNormPass);
  addFamily(fpm, options.qkNorm, remarks, report, createLLMFuseQKNormPass);
  // Last: the quantizations take the norms the families above produced.
  addFamily(fpm, options.normQuant, remarks, report, createLLMFuseNormQuantPass);
  if (!reportPath.empty())
    pm.addPass(std::make_unique<WriteFusionReportPass>(report, reportPath));
}

} // namespace

ArrayRef<FusionFamilyInfo> mlir::llm::fusionFamilies() {
  static const StringRef gemmaFolds[] = {"FoldGemmaWeightCast", "FoldGemmaWeightAdd"};
  static const StringRef raise[] = {"RaiseRMSNorm", "RaiseRMSNormGated"};
  static const StringRef cleanup[] = {"AddRMSNorm"};
  static const StringRef router[] = {"MoERouter", "RaiseGroupedTopK"};
  static const StringRef gated[] = {"RMSNormGatedQuantFP8"};
  static const StringRef allReduce[] = {"AllReduceRMSNorm", "AllReduceGemmaRMSNorm",
                                        "AllReduceFusedAddRMSNorm",
                                        "AllReduceFusedAddGemmaRMSNorm"};
  static const StringRef qk[] = {"QKRMSNorm", "QKGemmaRMSNorm"};
  static const StringRef normQuant[] = {"RMSNormQuantFP8", "FusedAddRMSNormQuantFP8",
                                        "AllReduceRMSNormQuantFP8",
                                        "AllReduceFusedAddRMSNormQuantFP8", "SiluMulQuantFP8"};
  static const FusionFamilyInfo families[] = {
      {"llm-raise-norms", populateRaiseNormsPatterns, raise, {}},
      {"llm-fusion-cleanup", populateCleanupPatterns, cleanup, gemmaFolds},
      {"llm-fuse-moe-router", populateMoERouterPatterns, router, {}},
      {"llm-fuse-gated-norm-quant", populateGatedNormQuantPatterns, gated, {}},
      {"llm-fuse-allreduce-norm", populateAllReduceNormPatterns, allReduce, gemmaFolds},
      {"llm-fuse-qk-norm", populateQKNormPatterns, qk, {}},
      {"llm-fuse-norm-quant", populateNormQuantPatterns, normQuant, {}},
  };
  return families;
}

void mlir::llm::buildLLMFusionPipeline(OpPassManager &pm,
                                       const LLMFusionPipelineOptions &options,
                                       std::shared_ptr<FusionReport> report) {
  buildPipeline(pm, options, options.remarks, options.report, std::move(report));
}

void mlir::llm::registerLLMFusionPipeline() {
  PassPipelineRegistration<LLMFusionPipelineOptions>(
      "llm-fusion-pipeline",
      "Run the llm fusion pipeline: cleanup, then every fusion family",
      [](OpPassManager &pm, const LLMFusionPipelineOptions &options) {
        registeredPipelineBuilt = true;
        std::string reportPath = options.report;
        if (reportPath.empty())
          reportPath = clReport;
        buildPipeline(pm, options, options.remarks || clRemarks, reportPath,
                      nullptr);
      });
}

std::optional<std::string> mlir::llm::unusedPipelineShorthand() {
  if (registeredPipelineBuilt)
    return std::nullopt;
  if (!clReport.empty())
    return std::string("--llm-fusion-report");
  if (clRemarks)
    return std::string("--llm-fusion-remarks");
  return std::nullopt;
}
