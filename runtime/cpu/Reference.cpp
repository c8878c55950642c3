//===- Reference.cpp - row math of every op -------------------------------===//

#include "runtime/cpu/Reference.h"

#include "runtime/DType.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace llmf::cpu {

float rmsScale(const float *x, int64_t n, float epsilon) {
  double sumSquares = 0.0;
  for (int64_t i = 0; i < n; ++i)
    sumSquares += static_cast<double>(x[i]) * x[i];
  float meanSquare = static_cast<float>(sumSquares / static_cast<double>(n));
  return 1.0f / std::sqrt(meanSquare + epsilon);
}

void rmsNormRow(const float *x, const float *w, int64_t n, float epsilon,
                float weightBias, float *y) {
  float r = rmsScale(x, n, epsilon);
  for (int64_t i = 0; i < n; ++i)
    y[i] = (x[i] * r) * (w[i] + weightBias);
}

void rmsNormGatedRow(const float *x, const float *z, const float *w, int64_t n,
                     float epsilon, float weightBias, bool normBeforeGate,
                     float *y) {
  if (normBeforeGate) {
    float r = rmsScale(x, n, epsilon);
    for (int64_t i = 0; i < n; ++i)
      y[i] = ((x[i] * r) * (w[i] + weightBias)) * silu(z[i]);
    return;
  }
  std::vector<float> gated(n);
  for (int64_t i = 0; i < n; ++i)
    gated[i] = x[i] * silu(z[i]);
  float r = rmsScale(gated.data(), n, epsilon);
  for (int64_t i = 0; i < n; ++i)
    y[i] = (gated[i] * r) * (w[i] + weightBias);
}

void quantFP8Row(const float *x, int64_t n, int64_t groupSize, uint8_t *q,
                 float *scale) {
  for (int64_t g = 0; g * groupSize < n; ++g) {
    const float *xs = x + g * groupSize;
    float amax = 0.0f;
    bool sawNaN = false;
    for (int64_t i = 0; i < groupSize; ++i) {
      float a = std::fabs(xs[i]);
      sawNaN |= std::isnan(a);
      amax = std::max(amax, a);
    }
    float s = sawNaN ? std::nanf("") : std::max(amax, 1e-10f) / kF8E4M3FNMax;
    scale[g] = s;
    for (int64_t i = 0; i < groupSize; ++i)
      q[g * groupSize + i] = floatToF8E4M3FNBits(xs[i] / s);
  }
}

void topkRow(const float *x, int64_t n, int64_t k, int32_t *indices) {
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int32_t a, int32_t b) { return ranksBefore(x[a], a, x[b], b); });
  std::copy(order.begin(), order.begin() + k, indices);
}

void groupedTopKRow(const float *scores, const float *biased, int64_t e,
                    const RoutingParams &p, float *weights, int32_t *ids) {
  int64_t groupSize = e / p.nGroup;
  // A group's score: the sum of its two largest biased values (the one value
  // when a group has one expert).
  std::vector<float> groupScores(p.nGroup);
  std::vector<int32_t> top2(2);
  for (int64_t g = 0; g < p.nGroup; ++g) {
    const float *b = biased + g * groupSize;
    int64_t m = std::min<int64_t>(2, groupSize);
    topkRow(b, groupSize, m, top2.data());
    groupScores[g] = m == 1 ? b[top2[0]] : b[top2[0]] + b[top2[1]];
  }
  std::vector<int32_t> keptGroups(p.topkGroup);
  topkRow(groupScores.data(), p.nGroup, p.topkGroup, keptGroups.data());
  // Experts outside the kept groups cannot be picked.
  std::vector<int32_t> candidates;
  for (int32_t g : keptGroups)
    for (int64_t i = 0; i < groupSize; ++i)
      candidates.push_back(static_cast<int32_t>(g * groupSize + i));
  std::partial_sort(candidates.begin(), candidates.begin() + p.topk,
                    candidates.end(), [&](int32_t a, int32_t b) {
                      return ranksBefore(biased[a], a, biased[b], b);
                    });
  float sum = 0.0f;
  for (int64_t j = 0; j < p.topk; ++j) {
    ids[j] = candidates[j];
    weights[j] = scores[candidates[j]];
    sum += weights[j];
  }
  for (int64_t j = 0; j < p.topk; ++j) {
    if (p.renormalize)
      weights[j] = weights[j] / (sum + 1e-20f);
    weights[j] *= p.routedScalingFactor;
  }
}

} // namespace llmf::cpu
