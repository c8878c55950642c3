//===- NormQuant.cpp - the FP8 serving chains into one op -----------------===//
//
// FP8 checkpoints quantize the input of every linear; the ops feeding those
// quantizers (a norm after the residual add or the all-reduce, the MLP's
// SiLU-and-mul) fuse with the quantization into one op that rounds the
// value to x's type where the unfused graph stores it, then quantizes.
//
//===----------------------------------------------------------------------===//

#include "passes/FusionPass.h"
#include "passes/Patterns.h"

#include "ir/LLMOps.h"

#include "mlir/Parser/Parser.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMFUSENORMQUANT
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace mlir::llm {

/// The operands of the fused op: the norm's (or gate, up), then a static
/// scale.
static SmallVector<Value, 5> chainOperands(Operation *producer, Operation *quant) {
  SmallVector<Value, 5> operands(producer->getOperands());
  if (auto s = dyn_cast<QuantFP8StaticOp>(quant))
    operands.push_back(s.getScale());
  return operands;
}

MissReason checkNormQuant(Operation *norm, Operation *quant) {
  if (!onlyUsedBy(norm->getResult(0), {quant}))
    return reason("the normalized value", kOtherUsers,
                  " (the fused op returns q and the scales, not the norm's output)");
  auto x = cast<RankedTensorType>(norm->getOperand(0).getType());
  if (x.getRank() < 1 || x.isDynamicDim(x.getRank() - 1))
    return reason("the normalized ", x, " has no static last dim");
  return checkPlacement({norm, quant}, chainOperands(norm, quant));
}

void fuseNormQuant(PatternRewriter &rewriter, Operation *norm, Operation *quant) {
  SmallVector<Value, 5> operands = chainOperands(norm, quant);
  setFusedInsertionPoint(rewriter, {norm, quant}, operands);
  Location loc = fusedLoc(rewriter, {quant, norm});
  auto n = cast<NormOpInterface>(norm);
  FloatAttr eps = rewriter.getF32FloatAttr(n.getEpsilonValue());
  FloatAttr bias = rewriter.getF32FloatAttr(n.getWeightBiasValue());
  bool isStatic = isa<QuantFP8StaticOp>(quant);
  IntegerAttr group =
      isStatic ? IntegerAttr() : rewriter.getI64IntegerAttr(cast<QuantFP8Op>(quant).getGroupSize());
  // The fused op writes the scales in the layout the quantization's
  // consumers were promised.
  BoolAttr colMajor = isStatic ? BoolAttr()
                               : rewriter.getBoolAttr(cast<QuantFP8Op>(quant).getScaleColMajor());
  Type q = quant->getResult(0).getType();
  Type scale = isStatic ? Type() : quant->getResult(1).getType();
  Value x = norm->getOperand(0);
  Operation *fused =
      TypeSwitch<Operation *, Operation *>(norm)
          .Case([&](RMSNormOp op) -> Operation * {
            if (isStatic)
              return FusedRMSNormQuantFP8StaticOp::create(rewriter, loc, q, x, op.getW(),
                                                         operands.back(), eps, bias);
            return FusedRMSNormQuantFP8Op::create(rewriter, loc, TypeRange{q, scale}, x,
                                                  op.getW(), group, colMajor, eps, bias);
          })
          .Case([&](FusedAddRMSNormOp op) -> Operation * {
            Type r = op.getResidualOut().getType();
            if (isStatic)
              return FusedAddRMSNormQuantFP8StaticOp::create(
                  rewriter, loc, TypeRange{q, r}, x, op.getResidual(), op.getW(),
                  operands.back(), eps, bias);
            return FusedAddRMSNormQuantFP8Op::create(rewriter, loc, TypeRange{q, scale, r}, x,
                                                     op.getResidual(), op.getW(), group,
                                                     colMajor, eps, bias);
          })
          .Case([&](FusedAllReduceRMSNormOp op) -> Operation * {
            Type a = op.getAllReduceOut().getType();
            if (isStatic)
              return FusedAllReduceRMSNormQuantFP8StaticOp::create(
                  rewriter, loc, TypeRange{q, a}, x, op.getW(), operands.back(), eps, bias);
            return FusedAllReduceRMSNormQuantFP8Op::create(rewriter, loc, TypeRange{q, scale, a},
                                                           x, op.getW(), group, colMajor, eps,
                                                           bias);
          })
          .Case([&](FusedAllReduceAddRMSNormOp op) -> Operation * {
            Type r = op.getResidualOut().getType();
            if (isStatic)
              return FusedAllReduceAddRMSNormQuantFP8StaticOp::create(
                  rewriter, loc, TypeRange{q, r}, x, op.getResidual(), op.getW(),
                  operands.back(), eps, bias);
            return FusedAllReduceAddRMSNormQuantFP8Op::create(
                rewriter, loc, TypeRange{q, scale, r}, x, op.getResidual(), op.getW(), group,
                colMajor, eps, bias);
          });
  // q (and the scales) replace the quantization; the pass-through result
  // (residual_out / all_reduce_out) replaces the norm's second result.
  rewriter.replaceOp(quant, fused->getResults().take_front(quant->getNumResults()));
  if (norm->getNumResults() > 1)
    rewriter.replaceAllUsesWith(norm->getResult(1), fused->getResults().back());
  rewriter.eraseOp(norm);
}

/// silu(gate) * up: the mul's operand that is not the SiLU.
static Value upOperand(Operation *silu, Operation *mul) {
  return mul->getOperand(0) == silu->getResult(0) ? mul->getOperand(1) : mul->getOperand(0);
}

MissReason checkSiluMulQuant(Operation *silu, Operation *mul, Operation *quant) {
  if (!onlyUsedBy(silu->getResult(0), {mul}))
    return reason("the SiLU output", kOtherUsers);
  if (!onlyUsedBy(mul->getResult(0), {quant}))
    return reason("the SiLU-and-mul output", kOtherUsers);
  Value gate = silu->getOperand(0), up = upOperand(silu, mul);
  if (gate.getType() != up.getType())
    return reason("gate ", gate.getType(), " and up ", up.getType(),
                  " differ (a broadcast product is not the MLP's activation)");
  auto g = cast<RankedTensorType>(gate.getType());
  if (g.getRank() < 1 || g.isDynamicDim(g.getRank() - 1))
    return reason("the activation ", g, " has no static last dim");
  SmallVector<Value, 3> operands{gate, up};
  if (auto s = dyn_cast<QuantFP8StaticOp>(quant))
    operands.push_back(s.getScale());
  return checkPlacement({silu, mul, quant}, operands);
}

void fuseSiluMulQuant(PatternRewriter &rewriter, Operation *silu, Operation *mul,
                      Operation *quant) {
  Value gate = silu->getOperand(0), up = upOperand(silu, mul);
  SmallVector<Value, 3> operands{gate, up};
  if (auto s = dyn_cast<QuantFP8StaticOp>(quant))
    operands.push_back(s.getScale());
  setFusedInsertionPoint(rewriter, {silu, mul, quant}, operands);
  Location loc = fusedLoc(rewriter, {quant, mul, silu});
  Operation *fused;
  if (auto s = dyn_cast<QuantFP8StaticOp>(quant))
    fused = FusedSiluMulQuantFP8StaticOp::create(rewriter, loc, s.getQ().getType(), gate, up,
                                                 s.getScale());
  else
    fused = FusedSiluMulQuantFP8Op::create(rewriter, loc, quant->getResultTypes(), gate, up,
                                           cast<QuantFP8Op>(quant).getGroupSizeAttr(),
                                           cast<QuantFP8Op>(quant).getScaleColMajorAttr());
  rewriter.replaceOp(quant, fused->getResults());
  rewriter.eraseOp(mul);
  rewriter.eraseOp(silu);
}

} // namespace mlir::llm

namespace norm_quant_pdll {
#include "passes/NormQuant/NormQuant.h.inc"
} // namespace norm_quant_pdll

void mlir::llm::populateNormQuantPatterns(RewritePatternSet &patterns) {
  norm_quant_pdll::populateGeneratedPDLLPatterns(patterns);
}

namespace {

/// The report name of a chain by its producer (or fused op).
std::string normName(Operation *op) {
  return TypeSwitch<Operation *, std::string>(op)
      .Case<RMSNormOp, FusedRMSNormQuantFP8Op, FusedRMSNormQuantFP8StaticOp>(
          [](auto) { return "RMSNormQuantFP8"; })
      .Case<FusedAddRMSNormOp, FusedAddRMSNormQuantFP8Op, FusedAddRMSNormQuantFP8StaticOp>(
          [](auto) { return "FusedAddRMSNormQuantFP8"; })
      .Case<FusedAllReduceRMSNormOp, FusedAllReduceRMSNormQuantFP8Op,
            FusedAllReduceRMSNormQuantFP8StaticOp>(
          [](auto) { return "AllReduceRMSNormQuantFP8"; })
      .Case<FusedAllReduceAddRMSNormOp, FusedAllReduceAddRMSNormQuantFP8Op,
            FusedAllReduceAddRMSNormQuantFP8StaticOp>(
          [](auto) { return "AllReduceFusedAddRMSNormQuantFP8"; })
      .Case<FusedSiluMulQuantFP8Op, FusedSiluMulQuantFP8StaticOp>(
          [](auto) { return "SiluMulQuantFP8"; })
      .Default([](Operation *) { return ""; });
}

/// Walks back from every quantization left to a norm or a SiLU-and-mul.
void explainMisses(Operation *root, SmallVectorImpl<NearMiss> &misses) {
  root->walk([&](Operation *quant) {
    if (!isa<QuantFP8Op, QuantFP8StaticOp>(quant))
      return;
    Operation *producer = quant->getOperand(0).getDefiningOp();
    if (!producer)
      return;
    if (isa<RMSNormOp, FusedAddRMSNormOp, FusedAllReduceRMSNormOp, FusedAllReduceAddRMSNormOp>(
            producer)) {
      if (quant->getOperand(0) != producer->getResult(0))
        return;
      if (MissReason r = checkNormQuant(producer, quant))
        misses.push_back({normName(producer), *r, quant});
      return;
    }
    auto mul = dyn_cast<MulOp>(producer);
    if (!mul)
      return;
    for (Value side : {mul.getA(), mul.getB()})
      if (auto silu = side.getDefiningOp<SiluOp>()) {
        if (MissReason r = checkSiluMulQuant(silu, mul, quant))
          misses.push_back({"SiluMulQuantFP8", *r, quant});
        return;
      }
  });
}

/// Fuses the FP8 serving chains (Passes.td has the details).
struct LLMFuseNormQuantPass
    : FusionPass<LLMFuseNormQuantPass, ::mlir::llm::impl::LLMFuseNormQuantBase> {
  using FusionPass::FusionPass;

  static void populate(RewritePatternSet &set) { populateNormQuantPatterns(set); }

  static FusionFamily family() { return {"llm-fuse-norm-quant", normName, explainMisses}; }
};

} // namespace

std::unique_ptr<Pass>
mlir::llm::createLLMFuseNormQuantPass(const LLMFuseNormQuantOptions &options,
                                      std::shared_ptr<FusionReport> report) {
  return std::make_unique<LLMFuseNormQuantPass>(options, std::move(report));
}
