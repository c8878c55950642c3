//===- FusionSupport.h - what every fusion family shares --------*- C++ -*-===//
//
// Small helpers the native PDLL constraints and rewrites of every family use
// (element types, single-use checks, where a fused op may be placed), and the
// driver that runs one family: apply its patterns, count what fused per
// pattern, explain every near miss as a remark and in the report.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_PASSES_FUSIONSUPPORT_H
#define LLM_FUSION_PASSES_FUSIONSUPPORT_H

#include "passes/FusionReport.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Operation.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <optional>
#include <string>

namespace mlir::llm {

/// Element type of a tensor value.
Type elementTypeOf(Value v);

/// A reason a chain did not fuse; nullopt when the check passed.
using MissReason = std::optional<std::string>;

/// `value`'s only users are `users` (each may use it more than once).
bool onlyUsedBy(Value value, ArrayRef<Operation *> users);

/// Where a fused op replacing `chain` (ops of one block, producer first,
/// root last) and reading `operands` may be inserted without breaking
/// dominance: before the first op of the chain when every operand is already
/// available there, else before the root when no value of the chain is used
/// between the first op and the root outside the chain. Null when neither.
Operation *fusedInsertionPoint(ArrayRef<Operation *> chain, ValueRange operands);

/// The dtype-match check of vLLM's `_norm_input_weight_dtype_match`: a norm
/// whose weight element type differs from its input's (a plain f32 weight on
/// a bf16 input) must not be fused into a kernel that reads both alike.
MissReason checkNormInputWeightDTypeMatch(Value input, Value weight);

/// Formats a reason with MLIR's printers for types and attributes.
template <typename... Args> std::string reason(const Args &...args) {
  std::string text;
  llvm::raw_string_ostream os(text);
  (os << ... << args);
  return text;
}

/// The end of a reason: an intermediate has users outside the chain.
inline constexpr const char *kOtherUsers = " has users outside the chain";

/// The fused op's location: the chain's ops fused, root first, so
/// diagnostics on the fused op point where the user's chain produced its
/// result.
Location fusedLoc(PatternRewriter &rewriter, ArrayRef<Operation *> ops);

/// Sets the rewriter before the fused op's insertion point; the match has
/// already proven one exists.
void setFusedInsertionPoint(PatternRewriter &rewriter, ArrayRef<Operation *> chain,
                            ValueRange operands);

/// Why no fused op reading `operands` can replace `chain` (a value of the
/// chain among the operands, or no point keeping dominance), or nullopt.
MissReason checkPlacement(ArrayRef<Operation *> chain, ValueRange operands);

/// Whether every value of `values` is available before `point`, or is
/// defined in its block after it by pure ops whose own operands are (or can
/// be made) available there, none of them in `chain`: then
/// hoistDefinitionsBefore can move those definitions up.
bool canHoistBefore(ValueRange values, Operation *point, ArrayRef<Operation *> chain);
/// Moves the definitions of `values` (and what they need) before `point`.
void hoistDefinitionsBefore(PatternRewriter &rewriter, ValueRange values, Operation *point);

/// `add` does not broadcast: both operands and the result have one type.
bool isSameTypeAdd(Operation *add);

/// `cast` widens a float to f32 (bf16/f16/f32 -> f32): folding it into an op
/// that computes in f32 anyway loses no rounding.
bool isWideningCastToF32(Operation *cast);

/// A chain that matched every structural step of a pattern but failed one
/// check, and the op a remark about it points at.
struct NearMiss {
  std::string pattern;
  std::string reason;
  Operation *anchor;
};

/// One fusion family as the shared driver sees it.
struct FusionFamily {
  /// The pass flag, e.g. "llm-fuse-allreduce-norm".
  StringRef passName;
  /// The pattern name that produced `op` if it is one of this family's fused
  /// ops, else empty.
  std::function<std::string(Operation *)> fusedPatternName;
  /// Appends every near miss left in `root` (a function) after the patterns ran.
  std::function<void(Operation *, SmallVectorImpl<NearMiss> &)> explainMisses;
};

/// Counts of one family run, for the pass statistics.
struct FusionCounts {
  int64_t fused = 0;
  int64_t missed = 0;
};

/// Applies `patterns` to `root` (a function) until fixpoint, then records fused chains
/// per pattern and near misses in `report` (if any), emitting a remark per
/// near miss when `emitRemarks`. Fails only if the rewrite did not converge.
FailureOr<FusionCounts> runFusionFamily(Operation *root, const FrozenRewritePatternSet &patterns,
                                        const FusionFamily &family, bool emitRemarks,
                                        FusionReport *report);

} // namespace mlir::llm

#endif // LLM_FUSION_PASSES_FUSIONSUPPORT_H
