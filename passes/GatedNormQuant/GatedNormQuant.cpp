//===- GatedNormQuant.cpp - gated RMSNorm + reshape + FP8 group quant -----===//

#include "passes/FusionPass.h"
#include "passes/Patterns.h"

#include "ir/LLMOps.h"

#include "mlir/Parser/Parser.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMFUSEGATEDNORMQUANT
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace mlir::llm {

//===----------------------------------------------------------------------===//
// Gated RMSNorm + FP8 group quantization
//===----------------------------------------------------------------------===//

/// The gated chain's ops, producer first; the reshape is absent with one
/// head (cleanup removes the identity reshape [N, D] -> [N, D]).
static SmallVector<Operation *, 3> gatedChain(Operation *gated, Operation *reshape,
                                              Operation *quant) {
  SmallVector<Operation *, 3> chain{gated};
  if (reshape)
    chain.push_back(reshape);
  chain.push_back(quant);
  return chain;
}

MissReason checkGatedNormQuant(Operation *gated, Operation *reshape, Operation *quant) {
  auto g = cast<RMSNormGatedOp>(gated);
  auto q = cast<QuantFP8Op>(quant);
  if (!onlyUsedBy(g.getY(), {reshape ? reshape : quant}))
    return reason("the gated norm output", kOtherUsers);
  if (reshape && !onlyUsedBy(reshape->getResult(0), {quant}))
    return reason("the reshape to tokens", kOtherUsers);
  auto in = cast<RankedTensorType>(g.getX().getType());
  auto out = cast<RankedTensorType>(quant->getOperand(0).getType());
  int64_t d = in.getRank() == 2 ? in.getDimSize(1) : ShapedType::kDynamic;
  // [N*H, D] -> [N, H*D], or [..., H*D] with the tokens in the leading dims.
  if (in.getRank() != 2 || out.getRank() < 2 || ShapedType::isDynamic(d) || d < 1 ||
      out.isDynamicDim(out.getRank() - 1) || out.getShape().back() % d != 0 ||
      llvm::count_if(out.getShape().drop_back(), ShapedType::isDynamic) > 1)
    return reason(reshape ? "the reshape " : "the gated norm ", in, " -> ", out,
                  " does not regroup whole heads [N*H, D] -> [..., H*D]");
  int64_t groupSize = q.getGroupSize();
  if (groupSize < 1 || d % groupSize != 0)
    return reason("group size ", groupSize, " does not divide the head dim ", d,
                  " (a group would straddle two heads)");
  return checkPlacement(gatedChain(gated, reshape, quant), {g.getX(), g.getZ(), g.getW()});
}

void fuseGatedNormQuant(PatternRewriter &rewriter, Operation *gated, Operation *reshape,
                        Operation *quant) {
  auto g = cast<RMSNormGatedOp>(gated);
  auto q = cast<QuantFP8Op>(quant);
  SmallVector<Operation *, 3> chain = gatedChain(gated, reshape, quant);
  setFusedInsertionPoint(rewriter, chain, {g.getX(), g.getZ(), g.getW()});
  auto fused = FusedRMSNormGatedQuantFP8Op::create(
      rewriter, fusedLoc(rewriter, llvm::to_vector(llvm::reverse(chain))), quant->getResultTypes(),
      g.getX(), g.getZ(), g.getW(), g.getEpsilon(), g.getWeightBias(), g.getNormBeforeGate(),
      q.getGroupSize(), q.getScaleColMajor());
  rewriter.replaceOp(quant, fused->getResults());
  if (reshape)
    rewriter.eraseOp(reshape);
  rewriter.eraseOp(gated);
}

} // namespace mlir::llm

namespace gated_norm_quant_pdll {
#include "passes/GatedNormQuant/GatedNormQuant.h.inc"
} // namespace gated_norm_quant_pdll

void mlir::llm::populateGatedNormQuantPatterns(RewritePatternSet &patterns) {
  gated_norm_quant_pdll::populateGeneratedPDLLPatterns(patterns);
}

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
      misses.push_back({kPattern,
                        "an intermediate reshape has users outside "
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

  static void populate(RewritePatternSet &set) { populateGatedNormQuantPatterns(set); }

  static FusionFamily family() {
    return {"llm-fuse-gated-norm-quant",
            [](Operation *op) -> std::string {
              return isa<FusedRMSNormGatedQuantFP8Op>(op) ? kPattern : "";
            },
            explainMisses};
  }
};

} // namespace

std::unique_ptr<Pass>
mlir::llm::createLLMFuseGatedNormQuantPass(const LLMFuseGatedNormQuantOptions &options,
                                           std::shared_ptr<FusionReport> report) {
  return std::make_unique<LLMFuseGatedNormQuantPass>(options, std::move(report));
}
