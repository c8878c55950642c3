//===- Reference.h - the spec's math on one row, in fp32 --------*- C++ -*-===//
//
// The CPU backend's definition of every op, one row at a time, on f32
// values. Unfused and fused kernels call the same functions, so the only
// differences between a graph and its fused form are the roundings the
// spec says the unfused graph makes (intermediates stored in their type).
// Reductions (sums of squares, renormalization) accumulate in double: the
// reference should be closer to the exact value than any fp32 kernel.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_CPU_REFERENCE_H
#define LLM_FUSION_RUNTIME_CPU_REFERENCE_H

#include "common/ExpNeg.h"

#include <cmath>
#include <cstdint>

namespace llmf::cpu {

/// exp(-x) from IEEE operations only (common/ExpNeg.h): the CUDA kernels
/// compute the same bits, so they make the same routing decisions.
inline float expNeg(float x) { return expNegF(x); }
inline float sigmoid(float x) { return 1.0f / (1.0f + expNeg(x)); }
/// PyTorch's form; silu(-inf) is NaN as in PyTorch.
inline float silu(float x) { return x / (1.0f + expNeg(x)); }
inline float relu(float x) { return std::isnan(x) ? x : (x > 0.0f ? x : 0.0f); }
inline float neg(float x) { return -x; }
inline float expf32(float x) { return std::exp(x); }
/// torch.nn.functional.softplus (beta 1, threshold 20): x above 20.
inline float softplus(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }
/// GELU with the erf, x * Phi(x).
inline float gelu(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f)); }
/// GELU with the tanh approximation (torch's approximate='tanh').
inline float geluTanh(float x) {
  float inner = 0.7978845608028654f * (x + 0.044715f * x * x * x);
  return 0.5f * x * (1.0f + std::tanh(inner));
}
/// 1 / sqrt(x), one rounding of each (as torch.rsqrt on the CPU).
inline float rsqrt(float x) { return 1.0f / std::sqrt(x); }
/// x ^ e; e = 2 is exactly x * x (as a decomposed RMSNorm squares).
inline float powScalar(float x, float e) { return e == 2.0f ? x * x : std::pow(x, e); }

/// Ranking order of top-k and routing: larger first, NaN above everything
/// (as torch.topk), equal values by lower index.
inline bool ranksBefore(float a, int64_t ia, float b, int64_t ib) {
  bool na = std::isnan(a), nb = std::isnan(b);
  if (na != nb)
    return na;
  if (!na && a != b)
    return a > b;
  return ia < ib;
}

/// 1 / sqrt(mean(x^2) + epsilon) over n values.
float rmsScale(const float *x, int64_t n, float epsilon);

/// y = x * rsqrt(mean(x^2) + eps) * (w + weightBias), before rounding.
void rmsNormRow(const float *x, const float *w, int64_t n, float epsilon,
                float weightBias, float *y);

/// Gated RMSNorm (Qwen3-Next), before rounding.
void rmsNormGatedRow(const float *x, const float *z, const float *w, int64_t n,
                     float epsilon, float weightBias, bool normBeforeGate,
                     float *y);

/// Quantizes n values in groups: scale[g] = max(amax, 1e-10) / 448 (NaN
/// propagates), q = fp8(x / scale) as e4m3fn bits.
void quantFP8Row(const float *x, int64_t n, int64_t groupSize, uint8_t *q,
                 float *scale);

/// Indices of the k largest of n values, in ranking order.
void topkRow(const float *x, int64_t n, int64_t k, int32_t *indices);

struct RoutingParams {
  int64_t nGroup, topkGroup, topk;
  bool renormalize;
  float routedScalingFactor;
};

/// DeepSeek-V3 noaux_tc routing of one token over e experts.
void groupedTopKRow(const float *scores, const float *biased, int64_t e,
                    const RoutingParams &p, float *weights, int32_t *ids);

} // namespace llmf::cpu

#endif // LLM_FUSION_RUNTIME_CPU_REFERENCE_H
