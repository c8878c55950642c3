//===- GatedNormQuant.cpp - gated RMSNorm + reshape + FP8 group quant -----===//

#include "passes/FusionPass.h"
#include "passes/FusionRules.h"

#include "ir/LLMOps.h"

#include "mlir/Parser/Parser.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMFUSEGATEDNORMQUANT
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace gated_norm_quant_pdll {
#include "patterns/GatedNormQuant.h.inc"
} // namespace gated_norm_quant_pdll

namespace {

constexpr const char *kPattern = "RMSNormGatedQuantFP8";

/// Walks back from a quantization through reshapes (none with one head) to
/// a gated norm.
void explainMisses(Operation *root, SmallVectorImpl<NearMiss> &misses) {
  root->walk([&](Operation *quant) {
    if (!isa<QuantFP8Op, QuantFP8StaticOp>(quant))
      return;
    SmallVector<ReshapeOp> reshapes;
    Value v = quant->getOperand(0);
    while (auto r = v.getDefiningOp<ReshapeOp>()) {
      reshapes.push_back(r);
      v = r.getX();
    }
    auto gated = v.getDefiningOp<RMSNormGatedOp>();
    if (!gated)
      return;
    if (isa<QuantFP8StaticOp>(quant)) {
      misses.push_back({kPattern,
                        "per-tensor static quantization (quant_fp8_static) "
                        "is not fused; only dynamic per-group quant_fp8 is",
                        quant});
      return;
    }
    if (reshapes.size() > 1) {
      misses.push_back({kPattern, "an intermediate reshape has users outside "
                                  "the chain, so the reshapes cannot be folded",
                        quant});
      return;
    }
    Operation *reshape = reshapes.empty() ? nullptr : reshapes.front().getOperation();
    if (MissReason r = checkGatedNormQuant(gated, reshape, quant))
      misses.push_back({kPattern, *r, quant});
  });
}

/// Fuses gated RMSNorm + reshape + FP8 group quant (Passes.td has the details).
struct LLMFuseGatedNormQuantPass
    : FusionPass<LLMFuseGatedNormQuantPass, ::mlir::llm::impl::LLMFuseGatedNormQuantBase> {
  using FusionPass::FusionPass;

  static void populate(RewritePatternSet &set) {
    gated_norm_quant_pdll::populateGeneratedPDLLPatterns(set);
  }

  static FusionFamily family() {
    return {"llm-fuse-gated-norm-quant",
            [](Operation *op) -> std::string {
              return isa<FusedRMSNormGatedQuantFP8Op>(op) ? kPattern : "";
            },
            explainMisses};
  }
};

} // namespace

std::unique_ptr<Pass> mlir::llm::createLLMFuseGatedNormQuantPass(
    const LLMFuseGatedNormQuantOptions &options,
    std::shared_ptr<FusionReport> report) {
  return std::make_unique<LLMFuseGatedNormQuantPass>(options, std::move(report));
}
