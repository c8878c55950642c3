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
  if (in.getRank() != 2 || out.getRank() != 2 || in.isDynamicDim(1) || out.isDynamicDim(1) ||
      out.getDimSize(1) == 0)
    return false;
  return in.getDimSize(1) % out.getDimSize(1) == 0;
}

/// The two norms in block order.
static std::pair<Operation *, Operation *> inOrder(Operation *a, Operation *b) {
  return a->isBeforeInBlock(b) ? std::make_pair(a, b) : std::make_pair(b, a);
}

MissReason checkQKNormPair(Operation *normQ, Operation *normK);
MissReason checkQKNormAttrs(Operation *normQ, Operation *normK);

/// `reshape` only splits the last dim into heads: [..., H*D] -> [..., H, D]
/// (a per-head view of a projection, as imported graphs write q and k).
static bool isHeadView(Operation *reshape) {
  auto in = cast<RankedTensorType>(reshape->getOperand(0).getType());
  auto out = cast<RankedTensorType>(reshape->getResult(0).getType());
  if (in.getRank() < 1 || out.getRank() != in.getRank() + 1 || in.isDynamicDim(in.getRank() - 1) ||
      out.isDynamicDim(out.getRank() - 1) || out.getDimSize(out.getRank() - 1) <= 0)
    return false;
  int64_t d = out.getDimSize(out.getRank() - 1), hd = in.getDimSize(in.getRank() - 1);
  return out.isDynamicDim(out.getRank() - 2) || out.getDimSize(out.getRank() - 2) * d == hd;
}

/// q and k from separate projections of one hidden state, each viewed per
/// head: rms_norm(reshape(matmul(x, wq))), rms_norm(reshape(matmul(x, wk))).
MissReason checkQKNormSeparate(Operation *mq, Operation *mk, Operation *rq, Operation *rk,
                               Operation *nq, Operation *nk) {
  if (mq == mk)
    return std::string("q and k bind the same projection");
  // Either binding of two symmetric chains matches; the earlier norm is q,
  // so the fused op is the same whichever the driver tries first.
  if (nq->getBlock() == nk->getBlock() && nk->isBeforeInBlock(nq))
    return std::string("q is taken to be the earlier norm");
  if (!isHeadView(rq) || !isHeadView(rk))
    return std::string("a q/k reshape is not a per-head view [..., H*D] -> [..., H, D]");
  if (MissReason r = checkQKNormAttrs(nq, nk))
    return r;
  // At the q norm, q and its weight are available; k's projection often
  // comes later (the rotary embedding reads q first) and can move up.
  auto k = cast<RMSNormOp>(nk);
  if (!canHoistBefore({k.getX(), k.getW()}, nq, {nq, nk}))
    return checkQKNormPair(nq, nk);
  return std::nullopt;
}

/// A step between a per-head view and its norm that keeps the norm per
/// head: a transpose that leaves the last dim last (Gemma3 norms after
/// moving heads before tokens), or result 0 of a split of the last dim
/// (Qwen3-Next's q, viewed [..., H, 2D] and split into q and its gate).
static bool isPerHeadStep(Operation *step, Value used) {
  if (auto t = dyn_cast<TransposeOp>(step))
    return !t.getPermutation().empty() &&
           t.getPermutation().back() == static_cast<int64_t>(t.getPermutation().size()) - 1;
  if (auto s = dyn_cast<SplitOp>(step)) {
    auto in = cast<RankedTensorType>(s.getX().getType());
    return static_cast<int64_t>(s.getDim()) == in.getRank() - 1 && used == s.getResult(0);
  }
  return false;
}

MissReason checkQKNormSeparateVia(Operation *mq, Operation *mk, Operation *rq, Operation *rk,
                                  Operation *stepQ, Operation *stepK, Operation *nq,
                                  Operation *nk) {
  if (stepQ && !isPerHeadStep(stepQ, nq->getOperand(0)))
    return std::string("q reaches its norm through a step that is not per head (a transpose "
                       "moving the last dim, or a split not of the last dim)");
  if (stepK && !isPerHeadStep(stepK, nk->getOperand(0)))
    return std::string("k reaches its norm through a step that is not per head (a transpose "
                       "moving the last dim, or a split not of the last dim)");
  return checkQKNormSeparate(mq, mk, rq, rk, nq, nk);
}

void fuseQKNorm(PatternRewriter &rewriter, Operation *normQ, Operation *normK);

/// Fuses a separate-projection pair at the q norm, moving k's projection
/// (pure, as canHoistBefore checked) up first when it comes later.
void fuseQKNormSeparate(PatternRewriter &rewriter, Operation *normQ, Operation *normK) {
  auto nk = cast<RMSNormOp>(normK);
  hoistDefinitionsBefore(rewriter, {nk.getX(), nk.getW()}, normQ);
  fuseQKNorm(rewriter, normQ, normK);
}

MissReason checkQKNorm(Operation *split, Operation *reshapeQ, Operation *reshapeK, Operation *normQ,
                       Operation *normK) {
  auto s = cast<SplitOp>(split);
  auto qkvType = cast<RankedTensorType>(s.getX().getType());
  if (static_cast<int64_t>(s.getDim()) != qkvType.getRank() - 1)
    return reason("the qkv split is along dim ", s.getDim(), ", not the feature dim");
  if (!isHeadSplit(reshapeQ, s.getResult(0)) || !isHeadSplit(reshapeK, s.getResult(1)))
    return std::string("a q/k reshape is not a head split [T, H*D] -> [T*H, D]");
  return checkQKNormPair(normQ, normK);
}

/// The checks on the two norms' attributes, whatever q and k come from.
MissReason checkQKNormAttrs(Operation *normQ, Operation *normK) {
  if (normQ == normK)
    return std::string("q and k bind the same norm");
  auto nq = cast<RMSNormOp>(normQ), nk = cast<RMSNormOp>(normK);
  if (nq.getEpsilon() != nk.getEpsilon())
    return reason("q and k norms use different epsilon (", nq.getEpsilonValue(), " vs ",
                  nk.getEpsilonValue(), ")");
  if (nq.getWeightBias() != nk.getWeightBias())
    return reason("q and k norms use different weight_bias (", nq.getWeightBiasValue(), " vs ",
                  nk.getWeightBiasValue(), ")");
  if (normQ->getBlock() != normK->getBlock())
    return std::string("the q and k norms are in different blocks");
  return std::nullopt;
}

/// The attribute checks, then a place for the fused op.
MissReason checkQKNormPair(Operation *normQ, Operation *normK) {
  if (MissReason r = checkQKNormAttrs(normQ, normK))
    return r;
  auto nq = cast<RMSNormOp>(normQ), nk = cast<RMSNormOp>(normK);
  auto [first, second] = inOrder(normQ, normK);
  return checkPlacement({first, second}, {nq.getX(), nk.getX(), nq.getW(), nk.getW()});
}

void fuseQKNorm(PatternRewriter &rewriter, Operation *normQ, Operation *normK) {
  auto nq = cast<RMSNormOp>(normQ), nk = cast<RMSNormOp>(normK);
  auto [first, second] = inOrder(normQ, normK);
  setFusedInsertionPoint(rewriter, {first, second}, {nq.getX(), nk.getX(), nq.getW(), nk.getW()});
  auto fused = FusedQKRMSNormOp::create(rewriter, fusedLoc(rewriter, {normQ, normK}),
                                        TypeRange{nq.getY().getType(), nk.getY().getType()},
                                        nq.getX(), nk.getX(), nq.getW(), nk.getW(), nq.getEpsilon(),
                                        nq.getWeightBias());
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
  return cast<NormOpInterface>(norm).getWeightBiasValue() == 1.0f ? "QKGemmaRMSNorm" : "QKRMSNorm";
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
  // Separate projections: the per-head norms of two matmuls of one value,
  // each reached through a view and at most one transpose or split.
  llvm::SmallPtrSet<Value, 8> seen;
  root->walk([&](Operation *matmul) {
    if (!isa<MatmulOp, MatmulFP8Op>(matmul))
      return;
    Value x = matmul->getOperand(0);
    if (!seen.insert(x).second)
      return;
    SmallVector<std::array<Operation *, 4>> heads; // matmul, reshape, step, norm
    auto addNorms = [&](Operation *mm, Operation *reshape, Operation *step, Value v) {
      for (Operation *n : v.getUsers())
        if (auto norm = dyn_cast<RMSNormOp>(n); norm && norm.getX() == v)
          heads.push_back({mm, reshape, step, norm});
    };
    for (Operation *mm : x.getUsers()) {
      if (!isa<MatmulOp, MatmulFP8Op>(mm) || mm->getOperand(0) != x)
        continue;
      for (Operation *r : mm->getUsers()) {
        auto reshape = dyn_cast<ReshapeOp>(r);
        if (!reshape)
          continue;
        addNorms(mm, reshape, nullptr, reshape);
        for (Operation *step : reshape->getUsers())
          if (isa<TransposeOp, SplitOp>(step))
            for (Value part : step->getResults())
              addNorms(mm, reshape, step, part);
      }
    }
    if (heads.size() != 2)
      return;
    if (heads[1][3]->getBlock() == heads[0][3]->getBlock() &&
        heads[1][3]->isBeforeInBlock(heads[0][3]))
      std::swap(heads[0], heads[1]);
    if (MissReason r = checkQKNormSeparateVia(heads[0][0], heads[1][0], heads[0][1], heads[1][1],
                                              heads[0][2], heads[1][2], heads[0][3], heads[1][3]))
      misses.push_back({named(heads[0][3]), *r, heads[0][3]});
  });
}

/// Fuses the Q and K per-head norms (Passes.td has the details).
struct LLMFuseQKNormPass : FusionPass<LLMFuseQKNormPass, ::mlir::llm::impl::LLMFuseQKNormBase> {
  using FusionPass::FusionPass;

  static void populate(RewritePatternSet &set) { populateQKNormPatterns(set); }

  static FusionFamily family() {
    return {"llm-fuse-qk-norm",
            [](Operation *op) -> std::string { return isa<FusedQKRMSNormOp>(op) ? named(op) : ""; },
            explainMisses};
  }
};

} // namespace

std::unique_ptr<Pass> mlir::llm::createLLMFuseQKNormPass(const LLMFuseQKNormOptions &options,
                                                         std::shared_ptr<FusionReport> report) {
  return std::make_unique<LLMFuseQKNormPass>(options, std::move(report));
}
