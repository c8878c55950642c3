//===- GemmaWeight.h - Gemma's (1 + w) weight into weight_bias --*- C++ -*-===//
//
// The weight folds two families share (the cleanup and the all-reduce +
// norm patterns include GemmaWeight.pdll): `cast(w) to f32 + 1` and `w + 1`
// become the original w with weight_bias = 1 on every norm that reads them.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_PASSES_GEMMAWEIGHT_GEMMAWEIGHT_H
#define LLM_FUSION_PASSES_GEMMAWEIGHT_GEMMAWEIGHT_H

#include "passes/FusionSupport.h"

namespace mlir::llm {

/// `c` is an `llm.constant` whose value is a splat 1.0.
bool isSplatOneConstant(Operation *c);
/// `add` is `w' + 1.0` with the constant `one` and the result type of w'.
bool isPlusOneOfSameType(Operation *add, Operation *one);
/// Folding away a rounding to `dropped` changes a result of type `output` by
/// less than one of its own roundings: `dropped` is at least as precise.
bool isRoundingDropAllowed(Type dropped, Type output);
/// Some norm uses `w1` as its weight with weight_bias 0, and may fold it.
bool hasFoldableGemmaUser(Value w1);
/// Every such norm reads `w` instead and gets weight_bias = 1.
void foldGemmaWeightIntoNorms(PatternRewriter &rewriter, Value w1, Value w);

} // namespace mlir::llm

#endif // LLM_FUSION_PASSES_GEMMAWEIGHT_GEMMAWEIGHT_H
