//===- MoERouter.cpp - cast + sigmoid + bias + grouped top-k --------------===//

#include "passes/FusionPass.h"
#include "passes/Patterns.h"

#include "ir/LLMOps.h"

#include "mlir/Parser/Parser.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMFUSEMOEROUTER
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace mlir::llm {

//===----------------------------------------------------------------------===//
// MoE routing
//===----------------------------------------------------------------------===//

/// The ops a router fusion replaces (producer first) and its two operands.
struct RouterChain {
  SmallVector<Operation *, 4> ops;
  Value logits, bias;
};

static RouterChain routerChain(Operation *cast, Operation *sigmoid, Operation *add,
                               Operation *topk) {
  RouterChain chain;
  if (cast)
    chain.ops.push_back(cast);
  chain.ops.append({sigmoid, add, topk});
  chain.logits = cast ? cast->getOperand(0) : sigmoid->getOperand(0);
  Value scores = sigmoid->getResult(0);
  chain.bias = add->getOperand(0) == scores ? add->getOperand(1) : add->getOperand(0);
  return chain;
}

MissReason checkMoERouter(Operation *cast, Operation *sigmoid, Operation *add, Operation *topk) {
  Value scores = sigmoid->getResult(0), biased = add->getResult(0);
  RouterChain chain = routerChain(cast, sigmoid, add, topk);
  if (add->getOperand(0) == add->getOperand(1))
    return std::string("the scores are added to themselves, not to a bias");
  if (cast) {
    Type src = elementTypeOf(cast->getOperand(0));
    if (!(src.isF32() || src.isBF16() || src.isF16()))
      return reason("the logits have element type ", src,
                    "; the fused router reads f32, bf16 or f16");
    if (!onlyUsedBy(cast->getResult(0), {sigmoid}))
      return reason("the f32 logits", kOtherUsers);
  }
  auto biasType = llvm::cast<RankedTensorType>(chain.bias.getType());
  auto scoresType = llvm::cast<RankedTensorType>(scores.getType());
  if (biasType.getRank() != 1 || !biasType.getElementType().isF32() ||
      biasType.getDimSize(0) != scoresType.getDimSize(1))
    return reason("the bias ", biasType, " is not an f32 tensor [", scoresType.getDimSize(1),
                  "] with one value per expert");
  if (biased.getType() != scores.getType())
    return reason("the bias add changes the scores' shape to ", biased.getType());
  if (!onlyUsedBy(scores, {add, topk}))
    return reason("the sigmoid scores", kOtherUsers);
  if (!onlyUsedBy(biased, {topk}))
    return reason("the biased scores", kOtherUsers);
  return checkPlacement(chain.ops, {chain.logits, chain.bias});
}

void fuseMoERouter(PatternRewriter &rewriter, Operation *cast, Operation *sigmoid, Operation *add,
                   Operation *topk) {
  auto t = llvm::cast<GroupedTopKOp>(topk);
  RouterChain chain = routerChain(cast, sigmoid, add, topk);
  setFusedInsertionPoint(rewriter, chain.ops, {chain.logits, chain.bias});
  auto fused = FusedMoERouterOp::create(
      rewriter, fusedLoc(rewriter, llvm::to_vector(llvm::reverse(chain.ops))),
      topk->getResultTypes(), chain.logits, chain.bias, t.getNGroup(), t.getTopkGroup(),
      t.getTopk(), t.getRenormalize(), t.getRoutedScalingFactor());
  rewriter.replaceOp(topk, fused->getResults());
  rewriter.eraseOp(add);
  rewriter.eraseOp(sigmoid);
  if (cast)
    rewriter.eraseOp(cast);
}

} // namespace mlir::llm

namespace moe_router_pdll {
#include "passes/MoERouter/MoERouter.h.inc"
} // namespace moe_router_pdll

void mlir::llm::populateMoERouterPatterns(RewritePatternSet &patterns) {
  moe_router_pdll::populateGeneratedPDLLPatterns(patterns);
}

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

  static void populate(RewritePatternSet &set) { populateMoERouterPatterns(set); }

  static FusionFamily family() {
    return {"llm-fuse-moe-router",
            [](Operation *op) -> std::string { return isa<FusedMoERouterOp>(op) ? kPattern : ""; },
            explainMisses};
  }
};

} // namespace

std::unique_ptr<Pass> mlir::llm::createLLMFuseMoERouterPass(const LLMFuseMoERouterOptions &options,
                                                            std::shared_ptr<FusionReport> report) {
  return std::make_unique<LLMFuseMoERouterPass>(options, std::move(report));
}
