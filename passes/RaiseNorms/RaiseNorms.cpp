//===- RaiseNorms.cpp - decomposed RMSNorms into rms_norm -----------------===//
//
// What torch.export gives for an RMSNorm becomes one `llm.rms_norm`, so that
// imported graphs meet the fusion patterns. The raised op rounds once where
// the decomposition rounds the normalized value to x's type before the
// weight multiply: one rounding of the output type, as a fusion may.
//
//===----------------------------------------------------------------------===//

#include "passes/FusionPass.h"
#include "passes/Patterns.h"

#include "ir/LLMOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Parser/Parser.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMRAISENORMS
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace mlir::llm {

constexpr const char *kRaisePattern = "RaiseRMSNorm";

/// The ops of a decomposed RMSNorm, from its input to the weight multiply.
struct DecomposedRMSNorm {
  Value x, w;
  CastOp castIn; // x to f32; null when the chain runs on x itself
  PowOp pow;
  MeanOp mean;
  Value eps;
  AddOp addEps;
  RsqrtOp rsqrt;
  MulOp norm;
  CastOp castOut; // back to x's type before the weight; null without castIn
  MulOp root;     // the weight multiply
  /// Gemma: the weight multiply runs in f32 (`n * (1 + w.float())`) and this
  /// cast back to x's type ends the chain; null otherwise.
  CastOp finalCast;
  Operation *end() { return finalCast ? finalCast.getOperation() : root.getOperation(); }
};

/// The epsilon of a splat float constant, or nullopt.
static std::optional<float> splatEpsilon(Value v) {
  auto c = v.getDefiningOp<ConstantOp>();
  auto dense = c ? dyn_cast<DenseFPElementsAttr>(c.getValue()) : nullptr;
  if (!dense || !dense.isSplat())
    return std::nullopt;
  return static_cast<float>(dense.getSplatValue<APFloat>().convertToDouble());
}

/// Walks back from `root` (a mul) over each operand order. Returns the chain
/// when its structure is a decomposed RMSNorm; `why` is then the check it
/// fails, or empty when it may be raised.
static std::optional<DecomposedRMSNorm> matchDecomposedRMSNorm(Operation *rootOp, MissReason &why) {
  CastOp finalCast = dyn_cast<CastOp>(rootOp);
  auto root = finalCast ? finalCast.getX().getDefiningOp<MulOp>() : dyn_cast<MulOp>(rootOp);
  if (!root)
    return std::nullopt;
  for (unsigned side = 0; side < 2; ++side) {
    DecomposedRMSNorm c;
    c.root = root;
    c.finalCast = finalCast;
    c.w = root->getOperand(1 - side);
    Value normed = root->getOperand(side);
    if (!finalCast && (c.castOut = normed.getDefiningOp<CastOp>()))
      normed = c.castOut.getX();
    c.norm = normed.getDefiningOp<MulOp>();
    if (!c.norm)
      continue;
    for (unsigned s2 = 0; s2 < 2; ++s2) {
      Value xf = c.norm->getOperand(1 - s2);
      c.rsqrt = c.norm->getOperand(s2).getDefiningOp<RsqrtOp>();
      c.addEps = c.rsqrt ? c.rsqrt.getX().getDefiningOp<AddOp>() : nullptr;
      if (!c.addEps)
        continue;
      c.mean = c.addEps.getA().getDefiningOp<MeanOp>();
      c.eps = c.addEps.getB();
      if (!c.mean) {
        c.mean = c.addEps.getB().getDefiningOp<MeanOp>();
        c.eps = c.addEps.getA();
      }
      c.pow = c.mean ? c.mean.getX().getDefiningOp<PowOp>() : nullptr;
      if (!c.pow || c.pow.getX() != xf)
        continue;
      // A chain. The input is what the cast to f32 read when the result is
      // cast back to that type; otherwise the chain's own input.
      c.castIn = xf.getDefiningOp<CastOp>();
      CastOp back = finalCast ? finalCast : c.castOut;
      // Gemma's f32 weight multiply, seen from the multiply: the chain ends
      // at the cast after it (the cast-rooted pattern raises it whole).
      if (!finalCast && !c.castOut && c.castIn && root->hasOneUse())
        if (auto after = dyn_cast<CastOp>(*root->getUsers().begin());
            after && after.getType() == c.castIn.getX().getType())
          return std::nullopt;
      if (back && c.castIn && c.castIn.getX().getType() == back.getType())
        c.x = c.castIn.getX();
      else if (finalCast) {
        continue; // a cast that does not return to the input's type
      } else {
        c.castIn = nullptr;
        c.x = xf;
      }
      why = std::nullopt;
      auto xType = cast<RankedTensorType>(c.x.getType());
      auto wType = cast<RankedTensorType>(c.w.getType());
      int64_t rank = xType.getRank();
      std::optional<float> eps = splatEpsilon(c.eps);
      if (c.pow.getExponent().convertToFloat() != 2.0f)
        why = reason("the square is pow(x, ", c.pow.getExponent().convertToFloat(), ")");
      else if (int64_t dim = static_cast<int64_t>(c.mean.getDim());
               (dim != -1 && dim != rank - 1) || !c.mean.getKeepdim())
        why = reason("the mean is over dim ", dim, c.mean.getKeepdim() ? "" : " without keepdim",
                     ", not the last dim with keepdim");
      else if (!eps || !std::isfinite(*eps) || *eps < 0.0f)
        why = std::string("epsilon is not a finite, non-negative splat constant");
      else if (wType.getRank() != 1 || rank < 1 ||
               (!wType.isDynamicDim(0) && !xType.isDynamicDim(rank - 1) &&
                wType.getDimSize(0) != xType.getDimSize(rank - 1)))
        why = reason("the weight ", wType, " is not a vector over the last dim of ", xType);
      else if (c.end()->getResult(0).getType() != c.x.getType())
        why = reason("the result ", c.end()->getResult(0).getType(), " is not of the input's type ",
                     xType);
      else if (finalCast && !onlyUsedBy(c.root, {finalCast}))
        why = reason("the f32 weighted value", kOtherUsers);
      else if (!onlyUsedBy(c.pow, {c.mean}) || !onlyUsedBy(c.mean, {c.addEps}) ||
               !onlyUsedBy(c.addEps, {c.rsqrt}) || !onlyUsedBy(c.rsqrt, {c.norm}))
        why = reason("an intermediate of the mean square", kOtherUsers);
      else if (!onlyUsedBy(c.norm,
                           {c.castOut ? c.castOut.getOperation() : c.root.getOperation()}) ||
               (c.castOut && !onlyUsedBy(c.castOut, {c.root})))
        why = reason("the normalized value", kOtherUsers);
      return c;
    }
  }
  return std::nullopt;
}

bool isRaisableRMSNorm(Operation *root) {
  MissReason why;
  return matchDecomposedRMSNorm(root, why) && !why;
}

void raiseRMSNorm(PatternRewriter &rewriter, Operation *rootOp) {
  MissReason why;
  std::optional<DecomposedRMSNorm> c = matchDecomposedRMSNorm(rootOp, why);
  assert(c && !why && "rewrite called on a chain its check rejected");
  rewriter.setInsertionPoint(rootOp);
  SmallVector<Operation *> ops{c->end(), c->norm, c->rsqrt, c->mean};
  auto raised = RMSNormOp::create(
      rewriter, fusedLoc(rewriter, ops), c->end()->getResult(0).getType(), c->x, c->w,
      rewriter.getF32FloatAttr(*splatEpsilon(c->eps)), rewriter.getF32FloatAttr(0.0f));
  // The chain's other ops are dead now; the greedy driver erases them.
  rewriter.replaceOp(rootOp, raised.getY());
}

/// Qwen3-Next's gated norm after its norm is raised:
///   cast(mul(cast(rms_norm(x, w)) to f32, silu(cast(z) to f32))) to x's type
/// (either mul operand order; without the inner casts when x is f32).
struct GatedNorm {
  RMSNormOp norm;
  Value z;
  SiluOp silu;
  MulOp gateMul;
};

/// `v` itself, or what a cast to f32 reads.
static Value throughF32Cast(Value v) {
  if (auto c = v.getDefiningOp<CastOp>())
    return c.getX();
  return v;
}

static std::optional<GatedNorm> matchGatedNorm(Operation *rootOp, MissReason &why) {
  auto root = dyn_cast<CastOp>(rootOp);
  auto mul = root ? root.getX().getDefiningOp<MulOp>() : MulOp(nullptr);
  if (!mul)
    return std::nullopt;
  for (int order = 0; order < 2; ++order) {
    Value normSide = order ? mul.getB() : mul.getA(), gateSide = order ? mul.getA() : mul.getB();
    auto norm = throughF32Cast(normSide).getDefiningOp<RMSNormOp>();
    auto silu = gateSide.getDefiningOp<SiluOp>();
    if (!norm || !silu || norm.getY().getType() != root.getOutput().getType())
      continue;
    GatedNorm g{norm, throughF32Cast(silu.getX()), silu, mul};
    if (g.z.getType() != norm.getX().getType())
      why = reason("the gate ", g.z.getType(), " differs from the normed ", norm.getX().getType());
    else if (!norm.getY().hasOneUse() || !mul.getOutput().hasOneUse() ||
             !silu.getOutput().hasOneUse())
      why = std::string("an intermediate of the gated norm has other users");
    return g;
  }
  return std::nullopt;
}

bool isRaisableGatedNorm(Operation *root) {
  MissReason why;
  return matchGatedNorm(root, why) && !why;
}

void raiseGatedNorm(PatternRewriter &rewriter, Operation *rootOp) {
  MissReason why;
  std::optional<GatedNorm> g = matchGatedNorm(rootOp, why);
  assert(g && !why && "rewrite called on a chain its check rejected");
  rewriter.setInsertionPoint(rootOp);
  auto raised = RMSNormGatedOp::create(
      rewriter, fusedLoc(rewriter, {g->norm, g->gateMul, rootOp}), rootOp->getResult(0).getType(),
      g->norm.getX(), g->z, g->norm.getW(), g->norm.getEpsilonAttr(),
      g->norm.getWeightBiasAttr(), rewriter.getBoolAttr(true));
  rewriter.replaceOp(rootOp, raised.getY());
}

} // namespace mlir::llm

namespace raise_norms_pdll {
#include "passes/RaiseNorms/RaiseNorms.h.inc"
} // namespace raise_norms_pdll

void mlir::llm::populateRaiseNormsPatterns(RewritePatternSet &patterns) {
  raise_norms_pdll::populateGeneratedPDLLPatterns(patterns);
}

namespace {

/// Every decomposed RMSNorm left: a chain whose structure matched but a
/// check failed.
void explainMisses(Operation *root, SmallVectorImpl<NearMiss> &misses) {
  root->walk([&](Operation *op) {
    if (!isa<MulOp, CastOp>(op))
      return;
    MissReason why;
    if (matchDecomposedRMSNorm(op, why) && why)
      misses.push_back({kRaisePattern, *why, op});
    MissReason gatedWhy;
    if (matchGatedNorm(op, gatedWhy) && gatedWhy)
      misses.push_back({"RaiseRMSNormGated", *gatedWhy, op});
  });
}

/// Raises decomposed RMSNorms (Passes.td has the details).
struct LLMRaiseNormsPass : FusionPass<LLMRaiseNormsPass, ::mlir::llm::impl::LLMRaiseNormsBase> {
  using FusionPass::FusionPass;

  static void populate(RewritePatternSet &set) { populateRaiseNormsPatterns(set); }

  static FusionFamily family() {
    return {"llm-raise-norms",
            [](Operation *op) -> std::string {
              if (isa<RMSNormGatedOp>(op))
                return "RaiseRMSNormGated";
              return isa<RMSNormOp>(op) ? kRaisePattern : "";
            },
            explainMisses};
  }
};

} // namespace

std::unique_ptr<Pass> mlir::llm::createLLMRaiseNormsPass(const LLMRaiseNormsOptions &options,
                                                         std::shared_ptr<FusionReport> report) {
  return std::make_unique<LLMRaiseNormsPass>(options, std::move(report));
}
