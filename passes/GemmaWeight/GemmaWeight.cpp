//===- GemmaWeight.cpp - Gemma's (1 + w) weight into weight_bias ----------===//

#include "passes/GemmaWeight/GemmaWeight.h"

#include "ir/LLMOps.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mlir::llm;

bool mlir::llm::isSplatOneConstant(Operation *c) {
  auto constant = dyn_cast_or_null<ConstantOp>(c);
  if (!constant)
    return false;
  auto dense = dyn_cast<DenseFPElementsAttr>(constant.getValue());
  return dense && dense.isSplat() && dense.getSplatValue<APFloat>().convertToDouble() == 1.0;
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
  return llvm::any_of(w1.getUsers(),
                      [&](Operation *user) { return isFoldableGemmaUser(user, w1); });
}

void mlir::llm::foldGemmaWeightIntoNorms(PatternRewriter &rewriter, Value w1, Value w) {
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
