//===- Cleanup.cpp - make real graphs match the fusion patterns -----------===//

#include "passes/FusionPass.h"
#include "passes/GemmaWeight/GemmaWeight.h"
#include "passes/Patterns.h"

#include "ir/LLMOps.h"

#include "mlir/Parser/Parser.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMFUSIONCLEANUP
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace mlir::llm {

//===----------------------------------------------------------------------===//
// Cleanup
//===----------------------------------------------------------------------===//

MissReason checkAddRMSNorm(Operation *add, Operation *norm) {
  if (!isSameTypeAdd(add))
    return reason("the residual add broadcasts (", add->getOperand(0).getType(), " + ",
                  add->getOperand(1).getType(), ")");
  auto n = cast<RMSNormOp>(norm);
  return checkPlacement({add, norm}, {add->getOperand(0), add->getOperand(1), n.getW()});
}

void fuseAddRMSNorm(PatternRewriter &rewriter, Operation *add, Operation *norm) {
  auto a = cast<AddOp>(add);
  auto n = cast<RMSNormOp>(norm);
  setFusedInsertionPoint(rewriter, {add, norm}, {a.getA(), a.getB(), n.getW()});
  auto fused =
      FusedAddRMSNormOp::create(rewriter, fusedLoc(rewriter, {norm, add}),
                                TypeRange{n.getY().getType(), a.getOutput().getType()}, a.getA(),
                                a.getB(), n.getW(), n.getEpsilon(), n.getWeightBias());
  rewriter.replaceOp(norm, fused.getY());
  rewriter.replaceOp(add, fused.getResidualOut());
}

} // namespace mlir::llm

namespace cleanup_pdll {
#include "passes/Cleanup/Cleanup.h.inc"
} // namespace cleanup_pdll

void mlir::llm::populateCleanupPatterns(RewritePatternSet &patterns) {
  cleanup_pdll::populateGeneratedPDLLPatterns(patterns);
  AllReduceOp::getCanonicalizationPatterns(patterns, patterns.getContext());
}

namespace {

/// Folds view chains, identity casts, world-size-1 all-reduces, add + norm and
/// Gemma weights (Passes.td has the details).
struct LLMFusionCleanupPass
    : FusionPass<LLMFusionCleanupPass, ::mlir::llm::impl::LLMFusionCleanupBase> {
  using FusionPass::FusionPass;

  static void populate(RewritePatternSet &set) { populateCleanupPatterns(set); }

  static FusionFamily family() {
    return {
        "llm-fusion-cleanup",
        [](Operation *op) -> std::string { return isa<FusedAddRMSNormOp>(op) ? "AddRMSNorm" : ""; },
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

std::unique_ptr<Pass> mlir::llm::createLLMFusionCleanupPass(const LLMFusionCleanupOptions &options,
                                                            std::shared_ptr<FusionReport> report) {
  return std::make_unique<LLMFusionCleanupPass>(options, std::move(report));
}
