//===- Compare.cpp ---------------------------------------------------------===//

#include "runtime/Compare.h"
#include "runtime/Parallel.h"

#include <cmath>
#include <map>
#include <mutex>

namespace llmf {

Tolerance defaultTolerance(DType t) {
  switch (t) {
  case DType::F32: return {1e-5, 1e-5};
  case DType::F16: return {1e-3, 1e-5};
  case DType::BF16: return {1.6e-2, 1e-5};
  case DType::F8E4M3FN: return {0.125, 1.0 / 512}; // one e4m3 step; its tiniest subnormal
  default: return {0.0, 0.0};
  }
}

static bool floatsMatch(double a, double b, const Tolerance &tol) {
  if (std::isnan(a) || std::isnan(b))
    return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b))
    return a == b;
  return std::fabs(a - b) <= tol.atol + tol.rtol * std::fabs(b);
}

OutputDiff compareTensors(const Tensor &a, const Tensor &b,
                          std::optional<Tolerance> tolerance,
                          const Tensor *partnerA, const Tensor *partnerB) {
  OutputDiff diff;
  if (a.dtype() != b.dtype()) {
    diff.what = "dtype";
    return diff;
  }
  if (a.shape() != b.shape()) {
    diff.what = "shape";
    return diff;
  }
  diff.elements = a.numel();
  bool isF = isFloat(a.dtype());
  Tolerance tol = tolerance.value_or(defaultTolerance(a.dtype()));
  bool partners = !isF && partnerA && partnerB && partnerA->shape() == a.shape() &&
                  partnerB->shape() == b.shape();
  // Chunks on host threads, merged in order: the same result for any split.
  std::mutex mutex;
  std::map<int64_t, OutputDiff> parts;
  parallelFor(diff.elements, 16, [&](int64_t begin, int64_t end) {
    OutputDiff part;
    for (int64_t i = begin; i < end; ++i) {
      double va = isF ? loadFloat(a, i) : static_cast<double>(loadInt(a, i));
      double vb = isF ? loadFloat(b, i) : static_cast<double>(loadInt(b, i));
      bool match = isF ? floatsMatch(va, vb, tol) : va == vb;
      if (std::isfinite(va) && std::isfinite(vb)) {
        double abs = std::fabs(va - vb);
        part.maxAbs = std::max(part.maxAbs, abs);
        if (vb != 0.0)
          part.maxRel = std::max(part.maxRel, abs / std::fabs(vb));
      }
      if (match)
        continue;
      if (partners && floatsMatch(loadFloat(*partnerA, i), loadFloat(*partnerB, i),
                                  defaultTolerance(partnerA->dtype()))) {
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

} // namespace llmf
