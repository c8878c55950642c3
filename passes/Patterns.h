//===- Patterns.h - every fusion family's patterns, for reuse ----*- C++ -*-===//
//
// Engines that build their own pipelines add a family's rewrite patterns to
// their pattern set, as IREE and CIRCT export theirs. Each family lives in
// passes/<Family>/ (PDLL, checks, rewrites, near-miss explainer, pass). The
// PDL patterns need the PDL and PDLInterp dialects loaded (the passes declare
// them as dependent dialects). The patterns alone emit no remarks: the
// passes explain near misses after the patterns ran.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_PASSES_PATTERNS_H
#define LLM_FUSION_PASSES_PATTERNS_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::llm {

/// decomposed RMSNorms (torch.export's arithmetic) into rms_norm.
void populateRaiseNormsPatterns(RewritePatternSet &patterns);
/// add + RMSNorm into fused_add_rms_norm, Gemma weight folds, all_reduce at
/// world size 1.
void populateCleanupPatterns(RewritePatternSet &patterns);
/// all_reduce + (residual add) + RMSNorm, plain and Gemma.
void populateAllReduceNormPatterns(RewritePatternSet &patterns);
/// gated RMSNorm + reshape + dynamic group FP8 quant.
void populateGatedNormQuantPatterns(RewritePatternSet &patterns);
/// cast + sigmoid + bias + grouped top-k routing.
void populateMoERouterPatterns(RewritePatternSet &patterns);
/// per-head Q and K RMSNorm of one qkv split.
void populateQKNormPatterns(RewritePatternSet &patterns);
/// a norm (after the residual add, the all-reduce) or SiLU-and-mul, then
/// FP8 quantization (dynamic per group or static).
void populateNormQuantPatterns(RewritePatternSet &patterns);

/// One fusion family as an engine, a test or the docs see it.
struct FusionFamilyInfo {
  /// The pass flag, e.g. "llm-fuse-allreduce-norm".
  StringRef passName;
  void (*populate)(RewritePatternSet &);
  /// The names fusions and misses are reported and remarked under. A PDLL
  /// pattern is named after one of them, with `_Form` for another form of
  /// the same fusion.
  ArrayRef<StringRef> reportNames;
  /// PDLL patterns that normalize the graph (weight folds) and report
  /// nothing.
  ArrayRef<StringRef> normalizations;
};

/// Every family, in pipeline order.
ArrayRef<FusionFamilyInfo> fusionFamilies();

} // namespace mlir::llm

#endif // LLM_FUSION_PASSES_PATTERNS_H
