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



//===----------------------------------------------------------------------===//
// Raising the decomposed grouped top-k (DeepSeek-V3, GLM-4.5 in PyTorch)
//===----------------------------------------------------------------------===//

/// The decomposed grouped top-k as torch.export writes transformers'
/// DeepseekV3TopkRouter, from the biased scores to the scaled weights:
///   g = sum(topk(reshape(biased) [T, G, E/G], 2).values, -1)
///   keep = scatter(full_like(g, 0), topk(g, topk_group).indices, 1)
///   masked = select(eq(ne(reshape(broadcast(reshape(keep))), 0), 0), -inf, biased)
///   ids = topk(masked, topk).indices; w = gather(scores, ids)
///   [w = w / (sum(w, -1, keepdim) + 1e-20)]; w = w * routed_scaling_factor
struct DecomposedGroupedTopK {
  Value scores, biased;
  int64_t nGroup = 0, topkGroup = 0, topk = 0;
  bool renormalize = false;
  float scale = 1.0f;
  TopKOp expertTopK;
  Operation *weights; // the root
};

static std::optional<float> splatValue(Value v) {
  auto c = v.getDefiningOp<ConstantOp>();
  auto dense = c ? dyn_cast<DenseFPElementsAttr>(c.getValue()) : nullptr;
  if (!dense || !dense.isSplat())
    return std::nullopt;
  return static_cast<float>(dense.getSplatValue<APFloat>().convertToDouble());
}

/// `v` through reshapes and broadcasts (the group mask's expansion).
static Value throughLayout(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<ReshapeOp, BroadcastOp>(def))
      break;
    v = def->getOperand(0);
  }
  return v;
}

static std::optional<DecomposedGroupedTopK> matchGroupedTopK(Operation *root, MissReason &why) {
  auto mul = dyn_cast<MulOp>(root);
  if (!mul)
    return std::nullopt;
  DecomposedGroupedTopK d;
  d.weights = root;
  std::optional<float> scale = splatValue(mul.getB());
  if (!scale)
    return std::nullopt;
  d.scale = *scale;
  Value w = mul.getA();
  // Optional renormalization: w / (sum(w, -1, keepdim) + eps).
  if (auto div = w.getDefiningOp<DivOp>()) {
    auto add = div.getB().getDefiningOp<AddOp>();
    auto sum = add ? add.getA().getDefiningOp<SumOp>() : SumOp(nullptr);
    if (!sum || sum.getX() != div.getA())
      return std::nullopt;
    std::optional<float> eps = splatValue(add.getB());
    if (!eps || *eps != 1e-20f)
      why = reason("the renormalization adds ", eps ? *eps : 0.0f, ", not 1e-20");
    d.renormalize = true;
    w = div.getA();
  }
  auto gather = w.getDefiningOp<GatherOp>();
  if (!gather)
    return std::nullopt;
  auto topk = gather.getIndices().getDefiningOp<TopKOp>();
  auto select = topk ? topk.getX().getDefiningOp<SelectOp>() : SelectOp(nullptr);
  if (!select || gather.getIndices() != topk.getIndices())
    return std::nullopt;
  d.expertTopK = topk;
  d.topk = topk.getK();
  d.scores = gather.getX();
  d.biased = select.getB();
  // The mask: select(eq(ne(expanded keep, 0), 0), -inf, biased).
  auto eq = select.getCond().getDefiningOp<EqOp>();
  auto ne = eq ? eq.getA().getDefiningOp<NeOp>() : NeOp(nullptr);
  if (!ne)
    return std::nullopt;
  auto scatter = throughLayout(ne.getA()).getDefiningOp<ScatterOp>();
  auto full = scatter ? scatter.getX().getDefiningOp<FullLikeOp>() : FullLikeOp(nullptr);
  auto groupTopK = scatter ? scatter.getIndices().getDefiningOp<TopKOp>() : TopKOp(nullptr);
  if (!full || !groupTopK || scatter.getIndices() != groupTopK.getIndices())
    return std::nullopt;
  d.topkGroup = groupTopK.getK();
  auto groupSum = groupTopK.getX().getDefiningOp<SumOp>();
  auto pairTopK = groupSum ? groupSum.getX().getDefiningOp<TopKOp>() : TopKOp(nullptr);
  auto view = pairTopK ? pairTopK.getX().getDefiningOp<ReshapeOp>() : ReshapeOp(nullptr);
  if (!pairTopK || groupSum.getX() != pairTopK.getValues() || !view)
    return std::nullopt;
  auto viewType = cast<RankedTensorType>(view.getOutput().getType());
  if (viewType.getRank() != 3 || viewType.isDynamicDim(1))
    return std::nullopt;
  d.nGroup = viewType.getDimSize(1);
  // The structure is the decomposition; now the checks a user could fix.
  auto biasedAdd = d.biased.getDefiningOp<AddOp>();
  if (view.getX() != d.biased)
    why = std::string("the group view does not read the masked scores");
  else if (!biasedAdd || (biasedAdd.getA() != d.scores && biasedAdd.getB() != d.scores))
    why = std::string("the weights are not gathered from the scores the bias is added to");
  else if (pairTopK.getK() != 2)
    why = reason("a group's score sums its top ", pairTopK.getK(), ", not its top 2");
  else if (full.getValue().convertToFloat() != 0.0f || scatter.getValue().convertToFloat() != 1.0f)
    why = std::string("the group mask is not zeros with ones at the kept groups");
  else if (auto fill = splatValue(select.getA()); !fill || !std::isinf(*fill) || *fill > 0)
    why = std::string("dropped groups are not filled with -inf");
  else if (!cast<RankedTensorType>(d.scores.getType()).getElementType().isF32() ||
           d.scores.getType() != d.biased.getType() ||
           cast<RankedTensorType>(d.scores.getType()).getRank() != 2)
    why = reason("the scores are ", d.scores.getType(), " and ", d.biased.getType(),
                 "; grouped_topk takes [T, E] f32");
  else if (cast<RankedTensorType>(groupSum.getOutput().getType()).getRank() != 2)
    why = std::string("the group scores are not [T, G]");
  else if (!std::isfinite(d.scale))
    why = reason("the routed scaling factor ", d.scale, " is not finite");
  else if (auto e = cast<RankedTensorType>(d.scores.getType()).getDimSize(1);
           ShapedType::isDynamic(e) || d.nGroup < 1 || e % d.nGroup != 0 ||
           d.topkGroup < 1 || d.topkGroup > d.nGroup || d.topk < 1 ||
           d.topk > d.topkGroup * (e / d.nGroup))
    why = reason("the routing sizes (", e, " experts, ", d.nGroup, " groups, top ",
                 d.topkGroup, " groups, top ", d.topk, ") are not a grouped top-k's");
  return d;
}

bool isRaisableGroupedTopK(Operation *root) {
  MissReason why;
  return matchGroupedTopK(root, why) && !why;
}

void raiseGroupedTopK(PatternRewriter &rewriter, Operation *root) {
  MissReason why;
  std::optional<DecomposedGroupedTopK> d = matchGroupedTopK(root, why);
  assert(d && !why && "rewrite called on a chain its check rejected");
  // The expert top-k may come before the weights' ops: build the raised op
  // at the later of the two places every operand dominates.
  Operation *at = d->expertTopK;
  rewriter.setInsertionPoint(at);
  auto raised = GroupedTopKOp::create(
      rewriter, fusedLoc(rewriter, {d->expertTopK, root}),
      TypeRange{root->getResult(0).getType(), d->expertTopK.getIndices().getType()}, d->scores,
      d->biased, rewriter.getI64IntegerAttr(d->nGroup), rewriter.getI64IntegerAttr(d->topkGroup),
      rewriter.getI64IntegerAttr(d->topk), rewriter.getBoolAttr(d->renormalize),
      rewriter.getF32FloatAttr(d->scale));
  rewriter.replaceAllUsesWith(d->expertTopK.getIndices(), raised.getIds());
  rewriter.replaceOp(root, raised.getWeights());
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

/// Walks back from every grouped_topk that is left, and from every weight
/// scaling that ends a decomposed grouped top-k that did not raise.
void explainMisses(Operation *root, SmallVectorImpl<NearMiss> &misses) {
  root->walk([&](MulOp mul) {
    MissReason why;
    if (matchGroupedTopK(mul, why) && why)
      misses.push_back({"RaiseGroupedTopK", *why, mul});
  });
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
            [](Operation *op) -> std::string {
              if (isa<GroupedTopKOp>(op))
                return "RaiseGroupedTopK";
              return isa<FusedMoERouterOp>(op) ? kPattern : "";
            },
            explainMisses};
  }
};

} // namespace

std::unique_ptr<Pass> mlir::llm::createLLMFuseMoERouterPass(const LLMFuseMoERouterOptions &options,
                                                            std::shared_ptr<FusionReport> report) {
  return std::make_unique<LLMFuseMoERouterPass>(options, std::move(report));
}
