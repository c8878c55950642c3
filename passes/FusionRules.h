//===- FusionRules.h - checks and rewrites of every fusion ------*- C++ -*-===//
//
// The named checks the PDLL patterns call as native constraints, and the
// rewrites they call to build fused ops. The near-miss explainers call the
// very same checks, so a remark's reason is exactly why the pattern failed.
// Each check returns the reason it fails, or nullopt.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_PASSES_FUSIONRULES_H
#define LLM_FUSION_PASSES_FUSIONRULES_H

#include "passes/FusionSupport.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::llm {

//===----------------------------------------------------------------------===//
// Norm ops and Gemma weights
//===----------------------------------------------------------------------===//

/// `c` is an `llm.constant` whose value is a splat 1.0.
bool isSplatOneConstant(Operation *c);
/// `cast` widens a float weight to f32 (bf16/f16/f32 -> f32): folding it into
/// the norm, which computes in f32 anyway, loses no rounding.
bool isWideningCastToF32(Operation *cast);
/// `add` is `w' + 1.0` with the constant `one` and the result type of w'.
bool isPlusOneOfSameType(Operation *add, Operation *one);
/// Folding away a rounding to `dropped` changes a result of type `output` by
/// less than one of its own roundings: `dropped` is at least as precise.
bool isRoundingDropAllowed(Type dropped, Type output);
/// Some norm uses `w1` as its weight with weight_bias 0.
bool hasFoldableGemmaUser(Value w1);
/// Every such norm reads `w` instead and gets weight_bias = 1.
void foldGemmaWeightIntoNorms(PatternRewriter &rewriter, Value w1, Value w);

//===----------------------------------------------------------------------===//
// Cleanup
//===----------------------------------------------------------------------===//

/// `add` does not broadcast: both operands and the result have one type.
bool isSameTypeAdd(Operation *add);
/// `add -> rms_norm` may become `fused_add_rms_norm`.
MissReason checkAddRMSNorm(Operation *add, Operation *norm);
void fuseAddRMSNorm(PatternRewriter &rewriter, Operation *add, Operation *norm);

//===----------------------------------------------------------------------===//
// All-reduce + RMSNorm
//===----------------------------------------------------------------------===//

MissReason checkAllReduceRMSNorm(Operation *ar, Operation *norm);
void fuseAllReduceRMSNorm(PatternRewriter &rewriter, Operation *ar,
                          Operation *norm);

/// `norm` is a `fused_add_rms_norm` reading `ar` as x or as residual.
MissReason checkAllReduceFusedAddRMSNorm(Operation *ar, Operation *norm);
void fuseAllReduceFusedAddRMSNorm(PatternRewriter &rewriter, Operation *ar,
                                  Operation *norm);

/// `ar -> add -> rms_norm` with `ar` as either operand of the add.
MissReason checkAllReduceAddRMSNorm(Operation *ar, Operation *add,
                                    Operation *norm);
void fuseAllReduceAddRMSNorm(PatternRewriter &rewriter, Operation *ar,
                             Operation *add, Operation *norm);

//===----------------------------------------------------------------------===//
// Gated RMSNorm + FP8 group quantization
//===----------------------------------------------------------------------===//

/// `reshape` is null for one head (the gated norm feeds the quant directly).
MissReason checkGatedNormQuant(Operation *gated, Operation *reshape,
                               Operation *quant);
void fuseGatedNormQuant(PatternRewriter &rewriter, Operation *gated,
                        Operation *reshape, Operation *quant);

//===----------------------------------------------------------------------===//
// MoE routing
//===----------------------------------------------------------------------===//

/// `cast` is null for f32 logits that go straight into the sigmoid.
MissReason checkMoERouter(Operation *cast, Operation *sigmoid, Operation *add,
                          Operation *topk);
void fuseMoERouter(PatternRewriter &rewriter, Operation *cast,
                   Operation *sigmoid, Operation *add, Operation *topk);

//===----------------------------------------------------------------------===//
// Q/K RMSNorm
//===----------------------------------------------------------------------===//

/// `reshapeQ` / `reshapeK` are null for one head (a split result normed as is).
MissReason checkQKNorm(Operation *split, Operation *reshapeQ,
                       Operation *reshapeK, Operation *normQ,
                       Operation *normK);
void fuseQKNorm(PatternRewriter &rewriter, Operation *normQ, Operation *normK);

} // namespace mlir::llm

#endif // LLM_FUSION_PASSES_FUSIONRULES_H
