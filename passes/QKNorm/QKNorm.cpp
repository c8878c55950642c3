//===- QKNorm.cpp - per-head Q/K RMSNorm out of one fused qkv tensor ------===//

#include "passes/FusionPass.h"
#include "passes/Patterns.h"

#include "ir/LLMOps.h"

#include "mlir/Parser/Parser.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMFUSEQKNORM
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace mlir::llm {

//===----------------------------------------------------------------------===//
// Q/K RMSNorm
//===----------------------------------------------------------------------===//

/// `reshape` turns [T, H*D] into [T*H, D]: it only splits off heads. A
/// null reshape is one head, `part` read as is: [T, D] with a static D.
static bool isHeadSplit(Operation *reshape, Value part) {
  if (!reshape) {
    auto t = cast<RankedTensorType>(part.getType());
    return t.getRank() == 2 && !t.isDynamicDim(1) && t.getDimSize(1) > 0;
  }
  auto in = cast<RankedTensorType>(reshape->getOperand(0).getType());
  auto out = cast<RankedTensorType>(reshape->getResult(0).getType());
  if (in.getRank() != 2 || out.getRank() != 2 || in.isDynamicDim(1) ||
      out.isDynamicDim(1) || out.getDimSize(1) == 0)
    return false;
  return in.getDimSize(1) % out.getDimSize(1) == 0;
}

/// The two norms in block order.
static std::pair<Operation *, Operation *> inOrder(Operation *a, Operation *b) {
  return a->isBeforeInBlock(b) ? std::make_pair(a, b) : std::make_pair(b, a);
}

MissReason checkQKNorm(Operation *split, Operation *reshapeQ,
                                  Operation *reshapeK, Operation *normQ,
                                  Operation *normK) {
  if (normQ == normK)
    return std::string("q and k bind the same norm");
  auto s = cast<SplitOp>(split);
  auto qkvType = cast<RankedTensorType>(s.getX().getType());
  if (static_cast<int64_t>(s.getDim()) != qkvType.getRank() - 1)
    return reason("the qkv split is along dim ", s.getDim(),
                  ", not the feature dim");
  if (!isHeadSplit(reshapeQ, s.getResult(0)) || !isHeadSplit(reshapeK, s.getResult(1)))
    return std::string("a q/k reshape is not a head split [T, H*D] -> [T*H, D]");
  auto nq = cast<RMSNormOp>(normQ), nk = cast<RMSNormOp>(normK);
  if (nq.getEpsilon() != nk.getEpsilon())
    return reason("q and k norms use different epsilon (",
                  nq.getEpsilonValue(), " vs ", nk.getEpsilonValue(), ")");
  if (nq.getWeightBias() != nk.getWeightBias())
    return reason("q and k norms use different weight_bias (",
                  nq.getWeightBiasValue(), " vs ", nk.getWeightBiasValue(), ")");
  if (normQ->getBlock() != normK->getBlock())
    return std::string("the q and k norms are in different blocks");
  auto [first, second] = inOrder(normQ, normK);
  return checkPlacement({first, second},
                        {nq.getX(), nk.getX(), nq.getW(), nk.getW()});
}

void fuseQKNorm(PatternRewriter &rewriter, Operation *normQ,
                           Operation *normK) {
  auto nq = cast<RMSNormOp>(normQ), nk = cast<RMSNormOp>(normK);
  auto [first, second] = inOrder(normQ, normK);
  setFusedInsertionPoint(rewriter, {first, second},
                         {nq.getX(), nk.getX(), nq.getW(), nk.getW()});
  auto fused = FusedQKRMSNormOp::create(
      rewriter, fusedLoc(rewriter, {normQ, normK}),
      TypeRange{nq.getY().getType(), nk.getY().getType()}, nq.getX(),
      nk.getX(), nq.getW(), nk.getW(), nq.getEpsilon(), nq.getWeightBias());
  rewriter.replaceOp(normQ, fused.getQOut());
  rewriter.replaceOp(normK, fused.getKOut());
}

} // namespace mlir::llm

namespace qk_norm_pdll {
#include "passes/QKNorm/QKNorm.h.inc"
} // namespace qk_norm_pdll

void mlir::llm::populateQKNormPatterns(RewritePatternSet &patterns) {
  qk_norm_pdll::populateGeneratedPDLLPatterns(patterns);
}

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

  static void populate(RewritePatternSet &set) { populateQKNormPatterns(set); }

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
