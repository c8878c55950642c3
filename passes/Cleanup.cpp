//===- Cleanup.cpp - make real graphs match the fusion patterns -----------===//

#include "passes/FusionPass.h"
#include "passes/FusionRules.h"

#include "ir/LLMOps.h"

#include "mlir/Parser/Parser.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMFUSIONCLEANUP
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace cleanup_pdll {
#include "patterns/Cleanup.h.inc"
} // namespace cleanup_pdll

namespace {

/// Folds view chains, identity casts, world-size-1 all-reduces, add + norm and
/// Gemma weights (Passes.td has the details).
struct LLMFusionCleanupPass
    : FusionPass<LLMFusionCleanupPass, ::mlir::llm::impl::LLMFusionCleanupBase> {
  using FusionPass::FusionPass;

  static void populate(RewritePatternSet &set) {
    cleanup_pdll::populateGeneratedPDLLPatterns(set);
    AllReduceOp::getCanonicalizationPatterns(set, set.getContext());
  }

  static FusionFamily family() {
    return {"llm-fusion-cleanup",
            [](Operation *op) -> std::string {
              return isa<FusedAddRMSNormOp>(op) ? "AddRMSNorm" : "";
            },
            [](Operation *root, SmallVectorImpl<NearMiss> &misses) {
              root->walk([&](RMSNormOp norm) {
                auto add = norm.getX().getDefiningOp<AddOp>();
                if (!add)
                  return;
                if (MissReason r = checkAddRMSNorm(add, norm))
                  misses.push_back({"AddRMSNorm", *r, norm});
              });
            }};
  }
};

} // namespace

std::unique_ptr<Pass>
mlir::llm::createLLMFusionCleanupPass(const LLMFusionCleanupOptions &options,
                                      std::shared_ptr<FusionReport> report) {
  return std::make_unique<LLMFusionCleanupPass>(options, std::move(report));
}
