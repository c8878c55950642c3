//===- Compare.h - is a program's output what the reference computes? -*- C++ -*-===//
//
// How fusion-run --compare decides that a fused graph computes what the
// unfused one does. Three checks:
//  - accuracy (the default): both programs are judged against a wide
//    evaluation of the reference program (every 16-bit float widened to f32,
//    inputs exact). The candidate passes when its error is at most
//    kAccuracyFactor times the reference program's error plus a floor of a
//    tenth of one rounding of the output type, both as RMS over the tensor
//    and as the largest element error. What the spec allows (one rounding of
//    a Gemma weight dropped, then amplified by later ops) passes; a changed
//    epsilon or weight does not. The idea of PyTorch's compiler tests, which
//    judge against a float64 run.
//  - exact: bit for bit (NaN matches NaN), for CPU-vs-CPU checks.
//  - tolerance: |a - b| <= atol + rtol * |b| per element, per output type.
// Integer outputs are compared exactly in every mode, except that an index
// output of a top-k or routing step may pick another index whose ranking
// value (the routing's biased score, not the returned weight) ties.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_COMPARE_H
#define LLM_FUSION_RUNTIME_COMPARE_H

#include "runtime/Executor.h"
#include "runtime/Plan.h"
#include "runtime/Tensor.h"

#include <optional>
#include <string>
#include <vector>

namespace llmf {

enum class CheckMode : uint8_t { Accuracy, Exact, Tolerance };
std::optional<CheckMode> parseCheckMode(std::string_view name);
std::string_view checkModeName(CheckMode mode);

/// The candidate's error may be this many times the reference program's.
inline constexpr double kAccuracyFactor = 2.0;

struct Tolerance {
  double rtol = 0.0, atol = 0.0;
};
/// One rounding of the type: f32 1e-5, f16 1e-3, bf16 1.6e-2, fp8 0.125.
Tolerance defaultTolerance(DType t);

struct OutputDiff {
  std::string what; // "shape", "dtype" or empty when comparable
  int64_t elements = 0;
  int64_t mismatches = 0; // elements outside the check (per-element modes)
  int64_t ties = 0;       // index differences explained by equal ranking values
  double maxAbs = 0.0, maxRel = 0.0;
  int64_t firstMismatch = -1;
  double firstA = 0.0, firstB = 0.0;
  /// Accuracy mode: RMS errors against the wide evaluation, relative to its
  /// RMS (-1 when not computed), and whether the candidate is within bounds.
  double errRef = -1.0, errCand = -1.0;
  bool accuracyOk = true;
  /// The reference output's type, and the candidate's (for messages).
  DType dtype = DType::F32;
  Shape shape;
  std::string candidateType;
  bool ok() const { return what.empty() && mismatches == 0 && accuracyOk; }
};

/// Per-element comparison of a (the candidate) with b (the reference)
/// within `tolerance` (the type's default when absent). `partnerA/B` are
/// the ranked-value outputs of an index output (null when it has none): an
/// index difference where they agree is a tie.
OutputDiff compareTensors(const Tensor &a, const Tensor &b, std::optional<Tolerance> tolerance,
                          const Tensor *partnerA = nullptr, const Tensor *partnerB = nullptr);

/// One output under `mode`. `ranking` is the [rows, E] f32 ranking values
/// of an index output (from rankingValues; null for other outputs), `wide`
/// the wide evaluation's output (accuracy mode).
OutputDiff compareOutput(const Tensor &cand, const Tensor &ref, CheckMode mode,
                         std::optional<Tolerance> tolerance, const Tensor *ranking,
                         const Tensor *wide);

/// The ranking values of `key` from the reference run's tensors at key.a
/// and key.b: [rows, E] f32.
Tensor rankingValues(const RankKey &key, const Tensor &a, const Tensor *b);

/// A copy of `fn` that also returns the buffers its rank keys read; the
/// positions of key.a and key.b among its outputs are written to `at`
/// (pairs, -1 when unused), one per output of `fn`.
PlanFunction withRankKeyOutputs(const PlanFunction &fn,
                                std::vector<std::pair<int64_t, int64_t>> &at);

/// Every output of every rank of two programs run on the same inputs.
struct ProgramComparison {
  CheckMode mode = CheckMode::Accuracy;
  /// diffs[rank][output]; empty when the output counts differ.
  std::vector<std::vector<OutputDiff>> diffs;
  std::string outputCountMismatch; // set when the programs return different counts
  int failures() const;
};

/// Runs `refFn` of `ref` on `refBackend` and `candFn` of `cand` on
/// `candBackend` with `inputs` (one list a rank) and compares every output
/// under `mode`: index outputs judged on the reference's ranking values,
/// float outputs in accuracy mode against the widened reference on the CPU.
/// Throws Error when either program fails to run.
ProgramComparison comparePrograms(const Plan &ref, const PlanFunction &refFn, const Plan &cand,
                                  const PlanFunction &candFn,
                                  const std::vector<std::vector<Tensor>> &inputs, CheckMode mode,
                                  std::optional<Tolerance> tolerance, const Backend &refBackend,
                                  const Backend &candBackend, bool poison = true);

/// The plan with every bf16 and f16 buffer widened to f32 (fp8 and integer
/// buffers stay): the reference evaluation of accuracy mode.
Plan widenedPlan(const Plan &plan);
/// A host tensor widened to f32 when it is bf16 or f16 (values exact).
Tensor widenTensor(const Tensor &t);

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_COMPARE_H
