//===- QKNorm.cpp - per-head Q/K RMSNorm out of one fused qkv tensor ------===//

#include "passes/FusionPass.h"
#include "passes/FusionRules.h"

#include "ir/LLMOps.h"

#include "mlir/Parser/Parser.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMFUSEQKNORM
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace qk_norm_pdll {
#include "patterns/QKNorm.h.inc"
} // namespace qk_norm_pdll

namespace {

std::string named(Operation *norm) {
  return cast<NormOpInterface>(norm).getWeightBiasValue() == 1.0f ? "QKGemmaRMSNorm"
                                                                  : "QKRMSNorm";
}

/// The norm reached from `part` through a reshape, with that reshape, or
/// the norm that reads `part` itself (one head; null reshape).
std::pair<Operation *, Operation *> headNorm(Value part) {
  for (Operation *user : part.getUsers())
    if (auto reshape = dyn_cast<ReshapeOp>(user))
      for (Operation *u : reshape->getUsers())
        if (auto norm = dyn_cast<RMSNormOp>(u); norm && norm.getX() == reshape)
          return {reshape, norm};
  for (Operation *user : part.getUsers())
    if (auto norm = dyn_cast<RMSNormOp>(user); norm && norm.getX() == part)
      return {nullptr, norm};
  return {nullptr, nullptr};
}

/// A split whose q and k both still feed a norm: one check failed. A lone
/// norm (only q or only k normalized) is not a near miss.
void explainMisses(Operation *root, SmallVectorImpl<NearMiss> &misses) {
  root->walk([&](SplitOp split) {
    if (split.getNumResults() != 3)
      return;
    auto [rq, nq] = headNorm(split.getResult(0));
    auto [rk, nk] = headNorm(split.getResult(1));
    if (!nq || !nk)
      return;
    if (MissReason r = checkQKNorm(split, rq, rk, nq, nk))
      misses.push_back({named(nq), *r, nq});
  });
}

/// Fuses the Q and K per-head norms (Passes.td has the details).
struct LLMFuseQKNormPass
    : FusionPass<LLMFuseQKNormPass, ::mlir::llm::impl::LLMFuseQKNormBase> {
  using FusionPass::FusionPass;

  static void populate(RewritePatternSet &set) {
    qk_norm_pdll::populateGeneratedPDLLPatterns(set);
  }

  static FusionFamily family() {
    return {"llm-fuse-qk-norm",
            [](Operation *op) -> std::string {
              return isa<FusedQKRMSNormOp>(op) ? named(op) : "";
            },
            explainMisses};
  }
};

} // namespace

std::unique_ptr<Pass>
mlir::llm::createLLMFuseQKNormPass(const LLMFuseQKNormOptions &options,
                                   std::shared_ptr<FusionReport> report) {
  return std::make_unique<LLMFuseQKNormPass>(options, std::move(report));
}
