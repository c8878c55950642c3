//===- ExpNeg.h - exp(-x) in f32, bit-identical on host and device -*- C++ -*-===//
//
// Sigmoid scores decide which experts a token goes to, so the CPU reference
// and the CUDA kernels must compute them identically. Library exp differs
// by an ulp between glibc and CUDA; this one is built only from IEEE
// operations with one defined rounding each (fmaf, rintf, ldexpf,
// comparisons), so every conforming implementation returns the same bits.
// Accuracy: within 2 ulp of exp(-x) over the whole f32 range.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_COMMON_EXPNEG_H
#define LLM_FUSION_COMMON_EXPNEG_H

#include <cmath>

#if defined(__CUDACC__)
#define LLMF_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define LLMF_HOST_DEVICE inline
#endif

namespace llmf {

LLMF_HOST_DEVICE float expNegF(float x) {
  float y = -x;
  if (y != y)
    return y; // NaN
  if (y > 88.72283935546875f)
    return INFINITY;
  if (y < -103.972084045410156f)
    return 0.0f;
  // y = k * ln2 + r, |r| <= ln2 / 2, with ln2 split in two (Cody-Waite).
  float k = rintf(y * 1.44269502162933349609f);
  float r = fmaf(k, -0.693145751953125f, y);
  r = fmaf(k, -1.428606765330187045e-06f, r);
  // e^r by its Taylor polynomial to degree 7, Horner with fused steps.
  float p = 1.98412698e-4f;
  p = fmaf(p, r, 1.38888889e-3f);
  p = fmaf(p, r, 8.33333333e-3f);
  p = fmaf(p, r, 4.16666667e-2f);
  p = fmaf(p, r, 1.66666667e-1f);
  p = fmaf(p, r, 0.5f);
  p = fmaf(p, r, 1.0f);
  p = fmaf(p, r, 1.0f);
  int n = static_cast<int>(k);
#if defined(__CUDA_ARCH__)
  // p * 2^n is exact while the result is normal (p >= 0.7, so n >= -125),
  // so the product equals ldexpf's; __fmul_rn keeps it out of any FMA.
  if (n >= -125 && n <= 127)
    return __fmul_rn(p, __int_as_float((n + 127) << 23));
#endif
  return ldexpf(p, n);
}

} // namespace llmf

#endif // LLM_FUSION_COMMON_EXPNEG_H
