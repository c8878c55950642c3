//===- MoERouter.cpp - cast + sigmoid + bias + grouped top-k --------------===//

#include "passes/FusionPass.h"
#include "passes/FusionRules.h"

#include "ir/LLMOps.h"

#include "mlir/Parser/Parser.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMFUSEMOEROUTER
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace moe_router_pdll {
#include "patterns/MoERouter.h.inc"
} // namespace moe_router_pdll

namespace {

constexpr const char *kPattern = "MoERouter";

/// Walks back from every grouped_topk that is left.
void explainMisses(Operation *root, SmallVectorImpl<NearMiss> &misses) {
  root->walk([&](GroupedTopKOp topk) {
    Value scores = topk.getScores();
    // sigmoid in bf16/f16, then cast to f32: a different function.
    if (auto cast = scores.getDefiningOp<CastOp>()) {
      if (auto sigmoid = cast.getX().getDefiningOp<SigmoidOp>()) {
        std::string reason;
        llvm::raw_string_ostream os(reason);
        os << "the sigmoid is computed in " << elementTypeOf(sigmoid.getX())
           << " before the cast to f32; fusing would change the numerics";
        misses.push_back({kPattern, reason, topk});
      }
      return;
    }
    auto sigmoid = scores.getDefiningOp<SigmoidOp>();
    auto add = topk.getBiased().getDefiningOp<AddOp>();
    if (!sigmoid || !add || !llvm::is_contained(add->getOperands(), scores))
      return;
    auto cast = sigmoid.getX().getDefiningOp<CastOp>();
    // A cast that is not a float widening to f32 is outside the chain: the
    // f32-logits pattern reads its result.
    if (cast && !isWideningCastToF32(cast))
      cast = nullptr;
    if (MissReason r = checkMoERouter(cast, sigmoid, add, topk))
      misses.push_back({kPattern, *r, topk});
  });
}

/// Fuses MoE routing into one op (Passes.td has the details).
struct LLMFuseMoERouterPass
    : FusionPass<LLMFuseMoERouterPass, ::mlir::llm::impl::LLMFuseMoERouterBase> {
  using FusionPass::FusionPass;

  static void populate(RewritePatternSet &set) {
    moe_router_pdll::populateGeneratedPDLLPatterns(set);
  }

  static FusionFamily family() {
    return {"llm-fuse-moe-router",
            [](Operation *op) -> std::string {
              return isa<FusedMoERouterOp>(op) ? kPattern : "";
            },
            explainMisses};
  }
};

} // namespace

std::unique_ptr<Pass>
mlir::llm::createLLMFuseMoERouterPass(const LLMFuseMoERouterOptions &options,
                                      std::shared_ptr<FusionReport> report) {
  return std::make_unique<LLMFuseMoERouterPass>(options, std::move(report));
}
