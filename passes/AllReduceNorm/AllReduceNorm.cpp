//===- AllReduceNorm.cpp - all-reduce + (residual add) + RMSNorm ----------===//

#include "passes/FusionPass.h"
#include "passes/GemmaWeight/GemmaWeight.h"
#include "passes/Patterns.h"

#include "ir/LLMOps.h"

#include "mlir/Parser/Parser.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMFUSEALLREDUCENORM
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace mlir::llm {

//===----------------------------------------------------------------------===//
// All-reduce + RMSNorm
//===----------------------------------------------------------------------===//

MissReason checkAllReduceRMSNorm(Operation *ar, Operation *norm) {
  auto n = cast<RMSNormOp>(norm);
  if (MissReason r = checkNormInputWeightDTypeMatch(n.getX(), n.getW()))
    return r;
  return checkPlacement({ar, norm}, {ar->getOperand(0), n.getW()});
}

void fuseAllReduceRMSNorm(PatternRewriter &rewriter, Operation *ar, Operation *norm) {
  auto n = cast<RMSNormOp>(norm);
  Value x = ar->getOperand(0);
  setFusedInsertionPoint(rewriter, {ar, norm}, {x, n.getW()});
  auto fused =
      FusedAllReduceRMSNormOp::create(rewriter, fusedLoc(rewriter, {norm, ar}),
                                      TypeRange{n.getY().getType(), ar->getResult(0).getType()}, x,
                                      n.getW(), n.getEpsilon(), n.getWeightBias());
  rewriter.replaceOp(norm, fused.getY());
  rewriter.replaceOp(ar, fused.getAllReduceOut());
}

/// The operand of `norm` (x or residual) that is not the all-reduce result.
static Value otherAddend(FusedAddRMSNormOp norm, Value arOut) {
  return norm.getX() == arOut ? norm.getResidual() : norm.getX();
}

MissReason checkAllReduceFusedAddRMSNorm(Operation *ar, Operation *norm) {
  auto n = cast<FusedAddRMSNormOp>(norm);
  Value arOut = ar->getResult(0);
  if (n.getX() == arOut && n.getResidual() == arOut)
    return std::string("the all-reduce result is both the input and the residual");
  if (MissReason r = checkNormInputWeightDTypeMatch(n.getX(), n.getW()))
    return r;
  if (!onlyUsedBy(arOut, {norm}))
    return reason("the all-reduce result", kOtherUsers,
                  " (the fused op returns only the sum with the residual)");
  return checkPlacement({ar, norm}, {ar->getOperand(0), otherAddend(n, arOut), n.getW()});
}

void fuseAllReduceFusedAddRMSNorm(PatternRewriter &rewriter, Operation *ar, Operation *norm) {
  auto n = cast<FusedAddRMSNormOp>(norm);
  Value x = ar->getOperand(0), residual = otherAddend(n, ar->getResult(0));
  setFusedInsertionPoint(rewriter, {ar, norm}, {x, residual, n.getW()});
  auto fused = FusedAllReduceAddRMSNormOp::create(rewriter, fusedLoc(rewriter, {norm, ar}),
                                                  norm->getResultTypes(), x, residual, n.getW(),
                                                  n.getEpsilon(), n.getWeightBias());
  rewriter.replaceOp(norm, fused->getResults());
  rewriter.eraseOp(ar);
}

MissReason checkAllReduceAddRMSNorm(Operation *ar, Operation *add, Operation *norm) {
  auto a = cast<AddOp>(add);
  auto n = cast<RMSNormOp>(norm);
  Value arOut = ar->getResult(0);
  if (a.getA() == arOut && a.getB() == arOut)
    return std::string("the all-reduce result is added to itself");
  if (!isSameTypeAdd(add))
    return reason("the residual add broadcasts (", a.getA().getType(), " + ", a.getB().getType(),
                  ")");
  if (MissReason r = checkNormInputWeightDTypeMatch(n.getX(), n.getW()))
    return r;
  if (!onlyUsedBy(arOut, {add}))
    return reason("the all-reduce result", kOtherUsers,
                  " (the fused op returns only the sum with the residual)");
  Value residual = a.getA() == arOut ? a.getB() : a.getA();
  return checkPlacement({ar, add, norm}, {ar->getOperand(0), residual, n.getW()});
}

void fuseAllReduceAddRMSNorm(PatternRewriter &rewriter, Operation *ar, Operation *add,
                             Operation *norm) {
  auto a = cast<AddOp>(add);
  auto n = cast<RMSNormOp>(norm);
  Value arOut = ar->getResult(0), x = ar->getOperand(0);
  Value residual = a.getA() == arOut ? a.getB() : a.getA();
  setFusedInsertionPoint(rewriter, {ar, add, norm}, {x, residual, n.getW()});
  auto fused =
      FusedAllReduceAddRMSNormOp::create(rewriter, fusedLoc(rewriter, {norm, add, ar}),
                                         TypeRange{n.getY().getType(), a.getOutput().getType()}, x,
                                         residual, n.getW(), n.getEpsilon(), n.getWeightBias());
  rewriter.replaceOp(norm, fused.getY());
  rewriter.replaceOp(add, fused.getResidualOut());
  rewriter.eraseOp(ar);
}

} // namespace mlir::llm

namespace allreduce_norm_pdll {
#include "passes/AllReduceNorm/AllReduceNorm.h.inc"
} // namespace allreduce_norm_pdll

void mlir::llm::populateAllReduceNormPatterns(RewritePatternSet &patterns) {
  allreduce_norm_pdll::populateGeneratedPDLLPatterns(patterns);
}

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

  static void populate(RewritePatternSet &set) { populateAllReduceNormPatterns(set); }

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

std::unique_ptr<Pass>
mlir::llm::createLLMFuseAllReduceNormPass(const LLMFuseAllReduceNormOptions &options,
                                          std::shared_ptr<FusionReport> report) {
  return std::make_unique<LLMFuseAllReduceNormPass>(options, std::move(report));
}
