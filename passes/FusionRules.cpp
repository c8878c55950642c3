//===- FusionRules.cpp - checks and rewrites of every fusion --------------===//
//
// Each check names, in its reason, the thing a user could change. Each
// rewrite builds the fused op at a point that keeps dominance (see
// fusedInsertionPoint) with a location fused from the chain's ops.
//
//===----------------------------------------------------------------------===//

#include "passes/FusionRules.h"

#include "ir/LLMDialect.h"
#include "ir/LLMOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::llm;

namespace {

/// Formats a reason with MLIR's printers for types and attributes.
template <typename... Args>
std::string reason(const Args &...args) {
  std::string text;
  llvm::raw_string_ostream os(text);
  (os << ... << args);
  return text;
}

/// The fused op's location: the root first, so diagnostics on the fused op
/// point where the user's chain produced its result.
Location fusedLoc(PatternRewriter &rewriter, ArrayRef<Operation *> ops) {
  SmallVector<Location> locs;
  for (Operation *op : ops)
    locs.push_back(op->getLoc());
  return rewriter.getFusedLoc(locs);
}

/// Sets the rewriter before the fused op's insertion point; the match has
/// already proven one exists.
void setFusedInsertionPoint(PatternRewriter &rewriter,
                            ArrayRef<Operation *> chain, ValueRange operands) {
  Operation *point = fusedInsertionPoint(chain, operands);
  assert(point && "rewrite called on a chain its check rejected");
  rewriter.setInsertionPoint(point);
}

MissReason checkPlacement(ArrayRef<Operation *> chain, ValueRange operands) {
  if (fusedInsertionPoint(chain, operands))
    return std::nullopt;
  for (Value v : operands)
    if (llvm::is_contained(chain, v.getDefiningOp()))
      return reason("a value the chain defines (", v.getDefiningOp()->getName(),
                    ") also feeds the fused op as another operand");
  return std::string("no point in the block dominates the fused op's "
                     "operands and precedes every user of the chain");
}

const char *kOtherUsers = " has users outside the chain";

} // namespace

//===----------------------------------------------------------------------===//
// Norm ops and Gemma weights
//===----------------------------------------------------------------------===//

bool mlir::llm::isSplatOneConstant(Operation *c) {
  auto constant = dyn_cast_or_null<ConstantOp>(c);
  if (!constant)
    return false;
  auto dense = dyn_cast<DenseFPElementsAttr>(constant.getValue());
  return dense && dense.isSplat() &&
         dense.getSplatValue<APFloat>().convertToDouble() == 1.0;
}

bool mlir::llm::isWideningCastToF32(Operation *cast) {
  auto c = dyn_cast<CastOp>(cast);
  if (!c || !elementTypeOf(c.getOutput()).isF32())
    return false;
  Type src = elementTypeOf(c.getX());
  return src.isF32() || src.isBF16() || src.isF16();
}

bool mlir::llm::isPlusOneOfSameType(Operation *add, Operation *one) {
  auto a = dyn_cast<AddOp>(add);
  return a && a.getB().getDefiningOp() == one && isSplatOneConstant(one) &&
         a.getA().getType() == a.getOutput().getType();
}

bool mlir::llm::isRoundingDropAllowed(Type dropped, Type output) {
  auto d = dyn_cast<FloatType>(dropped), o = dyn_cast<FloatType>(output);
  return d && o && d.getFPMantissaWidth() >= o.getFPMantissaWidth();
}

/// `user` reads `w1` once, as its weight, with weight_bias 0, and folding
/// drops no rounding coarser than one of the norm's output type (a bf16
/// `w + 1` on an f32 input would change the result by a bf16 step).
static bool isFoldableGemmaUser(Operation *user, Value w1) {
  auto norm = dyn_cast<NormOpInterface>(user);
  std::optional<unsigned> idx = norm ? norm.getSingleWeightOperandIndex() : std::nullopt;
  if (!idx || user->getOperand(*idx) != w1 || norm.getWeightBiasValue() != 0.0f)
    return false;
  if (!isRoundingDropAllowed(elementTypeOf(w1), elementTypeOf(user->getOperand(0))))
    return false;
  return llvm::count(user->getOperands(), w1) == 1;
}

bool mlir::llm::hasFoldableGemmaUser(Value w1) {
  return llvm::any_of(w1.getUsers(), [&](Operation *user) {
    return isFoldableGemmaUser(user, w1);
  });
}

void mlir::llm::foldGemmaWeightIntoNorms(PatternRewriter &rewriter, Value w1,
                                         Value w) {
  SmallVector<Operation *> users(w1.getUsers());
  for (Operation *user : users) {
    if (!isFoldableGemmaUser(user, w1))
      continue;
    auto norm = cast<NormOpInterface>(user);
    unsigned idx = *norm.getSingleWeightOperandIndex();
    rewriter.modifyOpInPlace(user, [&] {
      user->setOperand(idx, w);
      norm.setWeightBiasValue(1.0f);
    });
  }
}

//===----------------------------------------------------------------------===//
// Cleanup
//===----------------------------------------------------------------------===//

bool mlir::llm::isSameTypeAdd(Operation *add) {
  auto a = dyn_cast<AddOp>(add);
  return a && a.getA().getType() == a.getB().getType() &&
         a.getA().getType() == a.getOutput().getType();
}

MissReason mlir::llm::checkAddRMSNorm(Operation *add, Operation *norm) {
  if (!isSameTypeAdd(add))
    return reason("the residual add broadcasts (", add->getOperand(0).getType(),
                  " + ", add->getOperand(1).getType(), ")");
  auto n = cast<RMSNormOp>(norm);
  return checkPlacement({add, norm}, {add->getOperand(0), add->getOperand(1),
                                      n.getW()});
}

void mlir::llm::fuseAddRMSNorm(PatternRewriter &rewriter, Operation *add,
                               Operation *norm) {
  auto a = cast<AddOp>(add);
  auto n = cast<RMSNormOp>(norm);
  setFusedInsertionPoint(rewriter, {add, norm}, {a.getA(), a.getB(), n.getW()});
  auto fused = FusedAddRMSNormOp::create(
      rewriter, fusedLoc(rewriter, {norm, add}),
      TypeRange{n.getY().getType(), a.getOutput().getType()}, a.getA(),
      a.getB(), n.getW(), n.getEpsilon(), n.getWeightBias());
  rewriter.replaceOp(norm, fused.getY());
  rewriter.replaceOp(add, fused.getResidualOut());
}

//===----------------------------------------------------------------------===//
// All-reduce + RMSNorm
//===----------------------------------------------------------------------===//

MissReason mlir::llm::checkAllReduceRMSNorm(Operation *ar, Operation *norm) {
  auto n = cast<RMSNormOp>(norm);
  if (MissReason r = checkNormInputWeightDTypeMatch(n.getX(), n.getW()))
    return r;
  return checkPlacement({ar, norm}, {ar->getOperand(0), n.getW()});
}

void mlir::llm::fuseAllReduceRMSNorm(PatternRewriter &rewriter, Operation *ar,
                                     Operation *norm) {
  auto n = cast<RMSNormOp>(norm);
  Value x = ar->getOperand(0);
  setFusedInsertionPoint(rewriter, {ar, norm}, {x, n.getW()});
  auto fused = FusedAllReduceRMSNormOp::create(
      rewriter, fusedLoc(rewriter, {norm, ar}),
      TypeRange{n.getY().getType(), ar->getResult(0).getType()}, x, n.getW(),
      n.getEpsilon(), n.getWeightBias());
  rewriter.replaceOp(norm, fused.getY());
  rewriter.replaceOp(ar, fused.getAllReduceOut());
}

/// The operand of `norm` (x or residual) that is not the all-reduce result.
static Value otherAddend(FusedAddRMSNormOp norm, Value arOut) {
  return norm.getX() == arOut ? norm.getResidual() : norm.getX();
}

MissReason mlir::llm::checkAllReduceFusedAddRMSNorm(Operation *ar,
                                                    Operation *norm) {
  auto n = cast<FusedAddRMSNormOp>(norm);
  Value arOut = ar->getResult(0);
  if (n.getX() == arOut && n.getResidual() == arOut)
    return std::string("the all-reduce result is both the input and the residual");
  if (MissReason r = checkNormInputWeightDTypeMatch(n.getX(), n.getW()))
    return r;
  if (!onlyUsedBy(arOut, {norm}))
    return reason("the all-reduce result", kOtherUsers,
                  " (the fused op returns only the sum with the residual)");
  return checkPlacement({ar, norm},
                        {ar->getOperand(0), otherAddend(n, arOut), n.getW()});
}

void mlir::llm::fuseAllReduceFusedAddRMSNorm(PatternRewriter &rewriter,
                                             Operation *ar, Operation *norm) {
  auto n = cast<FusedAddRMSNormOp>(norm);
  Value x = ar->getOperand(0), residual = otherAddend(n, ar->getResult(0));
  setFusedInsertionPoint(rewriter, {ar, norm}, {x, residual, n.getW()});
  auto fused = FusedAllReduceAddRMSNormOp::create(
      rewriter, fusedLoc(rewriter, {norm, ar}), norm->getResultTypes(), x,
      residual, n.getW(), n.getEpsilon(), n.getWeightBias());
  rewriter.replaceOp(norm, fused->getResults());
  rewriter.eraseOp(ar);
}

MissReason mlir::llm::checkAllReduceAddRMSNorm(Operation *ar, Operation *add,
                                               Operation *norm) {
  auto a = cast<AddOp>(add);
  auto n = cast<RMSNormOp>(norm);
  Value arOut = ar->getResult(0);
  if (a.getA() == arOut && a.getB() == arOut)
    return std::string("the all-reduce result is added to itself");
  if (!isSameTypeAdd(add))
    return reason("the residual add broadcasts (", a.getA().getType(), " + ",
                  a.getB().getType(), ")");
  if (MissReason r = checkNormInputWeightDTypeMatch(n.getX(), n.getW()))
    return r;
  if (!onlyUsedBy(arOut, {add}))
    return reason("the all-reduce result", kOtherUsers,
                  " (the fused op returns only the sum with the residual)");
  Value residual = a.getA() == arOut ? a.getB() : a.getA();
  return checkPlacement({ar, add, norm}, {ar->getOperand(0), residual, n.getW()});
}

void mlir::llm::fuseAllReduceAddRMSNorm(PatternRewriter &rewriter,
                                        Operation *ar, Operation *add,
                                        Operation *norm) {
  auto a = cast<AddOp>(add);
  auto n = cast<RMSNormOp>(norm);
  Value arOut = ar->getResult(0), x = ar->getOperand(0);
  Value residual = a.getA() == arOut ? a.getB() : a.getA();
  setFusedInsertionPoint(rewriter, {ar, add, norm}, {x, residual, n.getW()});
  auto fused = FusedAllReduceAddRMSNormOp::create(
      rewriter, fusedLoc(rewriter, {norm, add, ar}),
      TypeRange{n.getY().getType(), a.getOutput().getType()}, x, residual,
      n.getW(), n.getEpsilon(), n.getWeightBias());
  rewriter.replaceOp(norm, fused.getY());
  rewriter.replaceOp(add, fused.getResidualOut());
  rewriter.eraseOp(ar);
}

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

MissReason mlir::llm::checkGatedNormQuant(Operation *gated, Operation *reshape,
                                          Operation *quant) {
  auto g = cast<RMSNormGatedOp>(gated);
  auto q = cast<QuantFP8Op>(quant);
  if (!onlyUsedBy(g.getY(), {reshape ? reshape : quant}))
    return reason("the gated norm output", kOtherUsers);
  if (reshape && !onlyUsedBy(reshape->getResult(0), {quant}))
    return reason("the reshape to tokens", kOtherUsers);
  auto in = cast<RankedTensorType>(g.getX().getType());
  auto out = cast<RankedTensorType>(quant->getOperand(0).getType());
  int64_t d = in.getRank() == 2 ? in.getDimSize(1) : ShapedType::kDynamic;
  if (in.getRank() != 2 || out.getRank() != 2 || ShapedType::isDynamic(d) ||
      d < 1 || out.isDynamicDim(1) || out.getDimSize(1) % d != 0)
    return reason(reshape ? "the reshape " : "the gated norm ", in, " -> ", out,
                  " does not regroup whole heads [N*H, D] -> [N, H*D]");
  int64_t groupSize = q.getGroupSize();
  if (groupSize < 1 || d % groupSize != 0)
    return reason("group size ", groupSize, " does not divide the head dim ",
                  d, " (a group would straddle two heads)");
  return checkPlacement(gatedChain(gated, reshape, quant),
                        {g.getX(), g.getZ(), g.getW()});
}

void mlir::llm::fuseGatedNormQuant(PatternRewriter &rewriter, Operation *gated,
                                   Operation *reshape, Operation *quant) {
  auto g = cast<RMSNormGatedOp>(gated);
  auto q = cast<QuantFP8Op>(quant);
  SmallVector<Operation *, 3> chain = gatedChain(gated, reshape, quant);
  setFusedInsertionPoint(rewriter, chain, {g.getX(), g.getZ(), g.getW()});
  auto fused = FusedRMSNormGatedQuantFP8Op::create(
      rewriter, fusedLoc(rewriter, llvm::to_vector(llvm::reverse(chain))),
      quant->getResultTypes(), g.getX(), g.getZ(), g.getW(), g.getEpsilon(),
      g.getWeightBias(), g.getNormBeforeGate(), q.getGroupSize());
  rewriter.replaceOp(quant, fused->getResults());
  if (reshape)
    rewriter.eraseOp(reshape);
  rewriter.eraseOp(gated);
}

//===----------------------------------------------------------------------===//
// MoE routing
//===----------------------------------------------------------------------===//

/// The ops a router fusion replaces (producer first) and its two operands.
struct RouterChain {
  SmallVector<Operation *, 4> ops;
  Value logits, bias;
};

static RouterChain routerChain(Operation *cast, Operation *sigmoid,
                               Operation *add, Operation *topk) {
  RouterChain chain;
  if (cast)
    chain.ops.push_back(cast);
  chain.ops.append({sigmoid, add, topk});
  chain.logits = cast ? cast->getOperand(0) : sigmoid->getOperand(0);
  Value scores = sigmoid->getResult(0);
  chain.bias =
      add->getOperand(0) == scores ? add->getOperand(1) : add->getOperand(0);
  return chain;
}

MissReason mlir::llm::checkMoERouter(Operation *cast, Operation *sigmoid,
                                     Operation *add, Operation *topk) {
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
    return reason("the bias ", biasType, " is not an f32 tensor [",
                  scoresType.getDimSize(1), "] with one value per expert");
  if (biased.getType() != scores.getType())
    return reason("the bias add changes the scores' shape to ", biased.getType());
  if (!onlyUsedBy(scores, {add, topk}))
    return reason("the sigmoid scores", kOtherUsers);
  if (!onlyUsedBy(biased, {topk}))
    return reason("the biased scores", kOtherUsers);
  return checkPlacement(chain.ops, {chain.logits, chain.bias});
}

void mlir::llm::fuseMoERouter(PatternRewriter &rewriter, Operation *cast,
                              Operation *sigmoid, Operation *add,
                              Operation *topk) {
  auto t = llvm::cast<GroupedTopKOp>(topk);
  RouterChain chain = routerChain(cast, sigmoid, add, topk);
  setFusedInsertionPoint(rewriter, chain.ops, {chain.logits, chain.bias});
  auto fused = FusedMoERouterOp::create(
      rewriter, fusedLoc(rewriter, llvm::to_vector(llvm::reverse(chain.ops))),
      topk->getResultTypes(), chain.logits, chain.bias,
      t.getNGroup(), t.getTopkGroup(), t.getTopk(), t.getRenormalize(),
      t.getRoutedScalingFactor());
  rewriter.replaceOp(topk, fused->getResults());
  rewriter.eraseOp(add);
  rewriter.eraseOp(sigmoid);
  if (cast)
    rewriter.eraseOp(cast);
}

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

MissReason mlir::llm::checkQKNorm(Operation *split, Operation *reshapeQ,
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

void mlir::llm::fuseQKNorm(PatternRewriter &rewriter, Operation *normQ,
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
