//===- Compare.cpp - is a program's output what the reference computes? -===//

#include "runtime/Compare.h"
#include "runtime/cpu/CpuBackend.h"

#include "runtime/Error.h"
#include "runtime/Parallel.h"
#include "runtime/RankRun.h"
#include "runtime/cpu/Reference.h"

#include <cmath>
#include <cstring>
#include <map>
#include <mutex>

namespace llmf {

std::optional<CheckMode> parseCheckMode(std::string_view name) {
  for (CheckMode m : {CheckMode::Accuracy, CheckMode::Exact, CheckMode::Tolerance})
    if (checkModeName(m) == name)
      return m;
  return std::nullopt;
}

std::string_view checkModeName(CheckMode mode) {
  switch (mode) {
  case CheckMode::Accuracy:
    return "accuracy";
  case CheckMode::Exact:
    return "exact";
  case CheckMode::Tolerance:
    return "tolerance";
  }
  return "accuracy";
}

Tolerance defaultTolerance(DType t) {
  switch (t) {
  case DType::F32:
    return {1e-5, 1e-5};
  case DType::F16:
    return {1e-3, 1e-5};
  case DType::BF16:
    return {1.6e-2, 1e-5};
  case DType::F8E4M3FN:
    return {0.125, 1.0 / 512}; // one e4m3 step; its tiniest subnormal
  default:
    return {0.0, 0.0};
  }
}

namespace {

bool floatsMatch(double a, double b, const Tolerance &tol) {
  if (std::isnan(a) || std::isnan(b))
    return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b))
    return a == b;
  return std::fabs(a - b) <= tol.atol + tol.rtol * std::fabs(b);
}

/// Bit for bit, except that every NaN matches every NaN.
bool floatsIdentical(double a, double b) {
  if (std::isnan(a) || std::isnan(b))
    return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, sizeof a) == 0;
}

double valueAt(const Tensor &t, int64_t i) {
  return isFloat(t.dtype()) ? loadFloat(t, i) : static_cast<double>(loadInt(t, i));
}

/// How one element compares; `tie` decides index differences.
template <typename Match, typename Tie>
OutputDiff elementwise(const Tensor &a, const Tensor &b, const Match &match, const Tie &tie) {
  OutputDiff diff;
  diff.elements = a.numel();
  // Chunks on host threads, merged in order: the same result for any split.
  std::mutex mutex;
  std::map<int64_t, OutputDiff> parts;
  parallelFor(diff.elements, 16, [&](int64_t begin, int64_t end) {
    OutputDiff part;
    for (int64_t i = begin; i < end; ++i) {
      double va = valueAt(a, i), vb = valueAt(b, i);
      if (std::isfinite(va) && std::isfinite(vb)) {
        double abs = std::fabs(va - vb);
        part.maxAbs = std::max(part.maxAbs, abs);
        if (vb != 0.0)
          part.maxRel = std::max(part.maxRel, abs / std::fabs(vb));
      }
      if (match(va, vb))
        continue;
      if (tie(i, va, vb)) {
        ++part.ties;
        continue;
      }
      if (part.firstMismatch < 0) {
        part.firstMismatch = i;
        part.firstA = va;
        part.firstB = vb;
      }
      ++part.mismatches;
    }
    std::lock_guard<std::mutex> lock(mutex);
    parts[begin] = part;
  });
  for (const auto &[begin, part] : parts) {
    diff.maxAbs = std::max(diff.maxAbs, part.maxAbs);
    diff.maxRel = std::max(diff.maxRel, part.maxRel);
    diff.ties += part.ties;
    diff.mismatches += part.mismatches;
    if (diff.firstMismatch < 0 && part.firstMismatch >= 0) {
      diff.firstMismatch = part.firstMismatch;
      diff.firstA = part.firstA;
      diff.firstB = part.firstB;
    }
  }
  return diff;
}

bool comparable(const Tensor &a, const Tensor &b, OutputDiff &diff) {
  if (a.dtype() != b.dtype())
    diff.what = "dtype";
  else if (a.shape() != b.shape())
    diff.what = "shape";
  return diff.what.empty();
}

/// Errors of `x` against the wide evaluation: RMS and largest, over the
/// elements where both are finite.
struct ErrorStats {
  double sumSq = 0.0, maxErr = 0.0;
};

ErrorStats errorsAgainst(const Tensor &x, const Tensor &wide) {
  ErrorStats s;
  for (int64_t i = 0, n = x.numel(); i < n; ++i) {
    double v = loadFloat(x, i), w = loadFloat(wide, i);
    if (!std::isfinite(v) || !std::isfinite(w))
      continue;
    s.sumSq += (v - w) * (v - w);
    s.maxErr = std::max(s.maxErr, std::fabs(v - w));
  }
  return s;
}

/// Accuracy mode for one float output: see Compare.h.
void judgeAccuracy(const Tensor &cand, const Tensor &ref, const Tensor &wide, OutputDiff &diff) {
  int64_t n = cand.numel();
  double sumSqWide = 0.0, maxWide = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double w = loadFloat(wide, i);
    if (std::isfinite(w)) {
      sumSqWide += w * w;
      maxWide = std::max(maxWide, std::fabs(w));
    }
    // Non-finite values must agree with the reference program's.
    double c = loadFloat(cand, i), r = loadFloat(ref, i);
    if (std::isfinite(c) != std::isfinite(r) ||
        (!std::isfinite(c) && !floatsIdentical(c, r) && !(std::isnan(c) && std::isnan(r)))) {
      if (diff.firstMismatch < 0) {
        diff.firstMismatch = i;
        diff.firstA = c;
        diff.firstB = r;
      }
      ++diff.mismatches;
    }
  }
  ErrorStats ec = errorsAgainst(cand, wide), er = errorsAgainst(ref, wide);
  double count = std::max<int64_t>(n, 1);
  double rmsWide = std::sqrt(sumSqWide / count);
  double scale = rmsWide > 0.0 ? rmsWide : 1.0;
  diff.errRef = std::sqrt(er.sumSq / count) / scale;
  diff.errCand = std::sqrt(ec.sumSq / count) / scale;
  Tolerance tol = defaultTolerance(cand.dtype());
  double floor = tol.rtol / 10.0;
  bool rmsOk = diff.errCand <= kAccuracyFactor * diff.errRef + floor;
  bool maxOk = ec.maxErr <= kAccuracyFactor * er.maxErr + tol.rtol * maxWide + tol.atol;
  diff.accuracyOk = rmsOk && maxOk;
}

OutputDiff compareOutputValues(const Tensor &cand, const Tensor &ref, CheckMode mode,
                               std::optional<Tolerance> tolerance, const Tensor *ranking,
                               const Tensor *wide);

} // namespace

OutputDiff compareTensors(const Tensor &a, const Tensor &b, std::optional<Tolerance> tolerance,
                          const Tensor *partnerA, const Tensor *partnerB) {
  OutputDiff diff;
  if (!comparable(a, b, diff))
    return diff;
  bool isF = isFloat(a.dtype());
  Tolerance tol = tolerance.value_or(defaultTolerance(a.dtype()));
  bool partners = !isF && partnerA && partnerB && partnerA->shape() == a.shape() &&
                  partnerB->shape() == b.shape();
  return elementwise(
      a, b, [&](double va, double vb) { return isF ? floatsMatch(va, vb, tol) : va == vb; },
      [&](int64_t i, double, double) {
        return partners && floatsMatch(loadFloat(*partnerA, i), loadFloat(*partnerB, i),
                                       defaultTolerance(partnerA->dtype()));
      });
}

OutputDiff compareOutput(const Tensor &cand, const Tensor &ref, CheckMode mode,
                         std::optional<Tolerance> tolerance, const Tensor *ranking,
                         const Tensor *wide) {
  OutputDiff diff = compareOutputValues(cand, ref, mode, tolerance, ranking, wide);
  diff.dtype = ref.dtype();
  diff.shape = ref.shape();
  diff.candidateType = std::string(dtypeName(cand.dtype())) + " " + shapeToString(cand.shape());
  return diff;
}

namespace {
OutputDiff compareOutputValues(const Tensor &cand, const Tensor &ref, CheckMode mode,
                               std::optional<Tolerance> tolerance, const Tensor *ranking,
                               const Tensor *wide) {
  OutputDiff diff;
  if (!comparable(cand, ref, diff))
    return diff;
  if (!isFloat(cand.dtype())) {
    // Index outputs: a different index is a tie when its ranking value
    // equals the reference index's (exactly, in exact mode).
    int64_t k = cand.rowLength();
    int64_t e = ranking ? ranking->rowLength() : 0;
    Tolerance keyTol = mode == CheckMode::Exact ? Tolerance{} : defaultTolerance(DType::F32);
    return elementwise(
        cand, ref, [](double va, double vb) { return va == vb; },
        [&](int64_t i, double va, double vb) {
          if (!ranking || k == 0 || va < 0 || vb < 0 || va >= e || vb >= e)
            return false;
          int64_t row = i / k;
          double ka = loadFloat(*ranking, row * e + static_cast<int64_t>(va));
          double kb = loadFloat(*ranking, row * e + static_cast<int64_t>(vb));
          return mode == CheckMode::Exact ? floatsIdentical(ka, kb) : floatsMatch(ka, kb, keyTol);
        });
  }
  Tolerance tol = tolerance.value_or(defaultTolerance(cand.dtype()));
  auto noTie = [](int64_t, double, double) { return false; };
  switch (mode) {
  case CheckMode::Exact:
    return elementwise(cand, ref, floatsIdentical, noTie);
  case CheckMode::Tolerance:
    return elementwise(
        cand, ref, [&](double va, double vb) { return floatsMatch(va, vb, tol); }, noTie);
  case CheckMode::Accuracy:
    break;
  }
  // Accuracy: the per-element counts are shown, the verdict is the model's.
  diff = elementwise(
      cand, ref, [&](double va, double vb) { return floatsMatch(va, vb, tol); }, noTie);
  diff.mismatches = 0;
  diff.firstMismatch = -1;
  if (!wide || wide->shape() != cand.shape())
    fail("accuracy check: no wide evaluation of this output");
  judgeAccuracy(cand, ref, *wide, diff);
  return diff;
}
} // namespace

Tensor rankingValues(const RankKey &key, const Tensor &a, const Tensor *b) {
  Tensor out(DType::F32, a.shape(),
             allocateHostBuffer(checkedTensorBytes(a.numel(), DType::F32, "ranking values")));
  auto *dst = static_cast<float *>(out.data());
  int64_t e = a.rowLength();
  for (int64_t i = 0, n = a.numel(); i < n; ++i) {
    float v = loadFloat(a, i);
    if (key.kind == RankKey::Kind::Router) {
      if (!b || b->numel() != e)
        fail("ranking values: the router's bias does not match its logits");
      v = cpu::sigmoid(v) + loadFloat(*b, i % e);
    }
    dst[i] = v;
  }
  return out;
}

PlanFunction withRankKeyOutputs(const PlanFunction &fn,
                                std::vector<std::pair<int64_t, int64_t>> &at) {
  PlanFunction out = fn;
  at.assign(fn.outputs.size(), {-1, -1});
  auto addOutput = [&](int64_t buffer) -> int64_t {
    if (buffer < 0)
      return -1;
    out.outputs.push_back(buffer);
    return static_cast<int64_t>(out.outputs.size()) - 1;
  };
  for (size_t i = 0; i < fn.rankKeys.size() && i < fn.outputs.size(); ++i) {
    const RankKey &key = fn.rankKeys[i];
    if (key.kind == RankKey::Kind::None)
      continue;
    at[i] = {addOutput(key.a), addOutput(key.b)};
  }
  out.rankKeys.resize(out.outputs.size());
  return out;
}

Plan widenedPlan(const Plan &plan) {
  Plan wide = plan;
  wide.source = plan.source + " (widened to f32)";
  for (PlanFunction &fn : wide.functions)
    for (PlanBuffer &b : fn.buffers) {
      if (b.type.dtype != DType::BF16 && b.type.dtype != DType::F16)
        continue;
      // A constant keeps the value its own type gives it.
      for (double &v : b.constantData) {
        uint16_t bits = 0;
        writeFloat(b.type.dtype, &bits, static_cast<float>(v));
        v = readFloat(b.type.dtype, &bits);
      }
      b.type.dtype = DType::F32;
    }
  validatePlan(wide);
  return wide;
}

Tensor widenTensor(const Tensor &t) {
  if (t.dtype() != DType::BF16 && t.dtype() != DType::F16)
    return t;
  Tensor out(DType::F32, t.shape(),
             allocateHostBuffer(checkedTensorBytes(t.numel(), DType::F32, "a widened input")));
  auto *dst = static_cast<float *>(out.data());
  for (int64_t i = 0, n = t.numel(); i < n; ++i)
    dst[i] = loadFloat(t, i);
  return out;
}

int ProgramComparison::failures() const {
  if (!outputCountMismatch.empty())
    return 1;
  int bad = 0;
  for (const auto &rank : diffs)
    for (const OutputDiff &d : rank)
      bad += !d.ok();
  return bad;
}

ProgramComparison comparePrograms(const Plan &ref, const PlanFunction &refFn, const Plan &cand,
                                  const PlanFunction &candFn,
                                  const std::vector<std::vector<Tensor>> &inputs, CheckMode mode,
                                  std::optional<Tolerance> tolerance, const Backend &refBackend,
                                  const Backend &candBackend, bool poison) {
  RankRunOptions ro;
  ro.poison = poison;
  ProgramComparison result;
  result.mode = mode;
  int ranks = static_cast<int>(inputs.size());
  // The reference also returns what its index outputs are ranked by.
  std::vector<std::pair<int64_t, int64_t>> at;
  PlanFunction keyed = withRankKeyOutputs(refFn, at);
  RankRunResult refRun = runOnRanks(ref, keyed, inputs, refBackend, ro);
  RankRunResult candRun = runOnRanks(cand, candFn, inputs, candBackend, ro);
  if (candFn.outputs.size() != refFn.outputs.size()) {
    result.outputCountMismatch = "the candidate returns " + std::to_string(candFn.outputs.size()) +
                                 " outputs, the reference " + std::to_string(refFn.outputs.size());
    return result;
  }
  RankRunResult wide;
  if (mode == CheckMode::Accuracy) {
    Plan widePlan = widenedPlan(ref);
    std::vector<std::vector<Tensor>> wideInputs;
    for (const std::vector<Tensor> &rank : inputs) {
      wideInputs.emplace_back();
      for (const Tensor &t : rank)
        wideInputs.back().push_back(widenTensor(t));
    }
    wide = runOnRanks(widePlan, widePlan.function(refFn.name), wideInputs, cpuBackend(), ro);
  }
  result.diffs.resize(ranks);
  for (int r = 0; r < ranks; ++r)
    for (size_t i = 0; i < refFn.outputs.size(); ++i) {
      Tensor ranking;
      if (at[i].first >= 0)
        ranking = rankingValues(refFn.rankKeys[i], refRun.outputs[r][at[i].first],
                                at[i].second >= 0 ? &refRun.outputs[r][at[i].second] : nullptr);
      result.diffs[r].push_back(
          compareOutput(candRun.outputs[r][i], refRun.outputs[r][i], mode, tolerance,
                        ranking.defined() ? &ranking : nullptr,
                        mode == CheckMode::Accuracy ? &wide.outputs[r][i] : nullptr));
    }
  return result;
}

} // namespace llmf
