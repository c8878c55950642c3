//===- AllReduceNorm.cpp - all-reduce + (residual add) + RMSNorm ----------===//

#include "passes/FusionPass.h"
#include "passes/FusionRules.h"

#include "ir/LLMOps.h"

#include "mlir/Parser/Parser.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMFUSEALLREDUCENORM
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace allreduce_norm_pdll {
#include "patterns/AllReduceNorm.h.inc"
} // namespace allreduce_norm_pdll

namespace {

/// "Gemma" in a pattern name when the norm adds 1 to its weight.
std::string named(StringRef base, Operation *norm) {
  bool gemma = cast<NormOpInterface>(norm).getWeightBiasValue() == 1.0f;
  return (base + (gemma ? "GemmaRMSNorm" : "RMSNorm")).str();
}

/// Every all-reduce -> norm chain that is left: each failed one check.
void explainMisses(Operation *root, SmallVectorImpl<NearMiss> &misses) {
  root->walk([&](Operation *op) {
    if (auto norm = dyn_cast<RMSNormOp>(op)) {
      if (auto ar = norm.getX().getDefiningOp<AllReduceOp>()) {
        if (MissReason r = checkAllReduceRMSNorm(ar, norm))
          misses.push_back({named("AllReduce", norm), *r, norm});
        return;
      }
      auto add = norm.getX().getDefiningOp<AddOp>();
      if (!add)
        return;
      for (Value addend : add->getOperands())
        if (auto ar = addend.getDefiningOp<AllReduceOp>()) {
          if (MissReason r = checkAllReduceAddRMSNorm(ar, add, norm))
            misses.push_back({named("AllReduceFusedAdd", norm), *r, norm});
          return;
        }
    } else if (auto norm = dyn_cast<FusedAddRMSNormOp>(op)) {
      for (Value addend : {norm.getX(), norm.getResidual()})
        if (auto ar = addend.getDefiningOp<AllReduceOp>()) {
          if (MissReason r = checkAllReduceFusedAddRMSNorm(ar, norm))
            misses.push_back({named("AllReduceFusedAdd", norm), *r, norm});
          return;
        }
    }
  });
}

/// Fuses all_reduce with the RMSNorm after it (Passes.td has the details).
struct LLMFuseAllReduceNormPass
    : FusionPass<LLMFuseAllReduceNormPass, ::mlir::llm::impl::LLMFuseAllReduceNormBase> {
  using FusionPass::FusionPass;

  static void populate(RewritePatternSet &set) {
    allreduce_norm_pdll::populateGeneratedPDLLPatterns(set);
  }

  static FusionFamily family() {
    return {"llm-fuse-allreduce-norm",
            [](Operation *op) -> std::string {
              if (isa<FusedAllReduceRMSNormOp>(op))
                return named("AllReduce", op);
              if (isa<FusedAllReduceAddRMSNormOp>(op))
                return named("AllReduceFusedAdd", op);
              return "";
            },
            explainMisses};
  }
};

} // namespace

std::unique_ptr<Pass> mlir::llm::createLLMFuseAllReduceNormPass(
    const LLMFuseAllReduceNormOptions &options,
    std::shared_ptr<FusionReport> report) {
  return std::make_unique<LLMFuseAllReduceNormPass>(options, std::move(report));
}
