//===- Fp8.cuh - FP8 e4m3 group quantization helpers ----------*- CUDA -*-===//
//
// What every quantizing kernel shares (Quant.cu, NormQuant.cu): the spec's
// group scale, NaN-aware amax reductions over lanes, the division by a
// group's scale, and four codes to a word.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_KERNELS_FP8_CUH
#define LLM_FUSION_KERNELS_FP8_CUH

#include "kernels/Common.cuh"

namespace llmf::kernels {

/// The spec's group scale: max(amax, 1e-10) / 448, NaN if the group has one.
__device__ __forceinline__ float groupScale(float amax, bool nan) {
  return nan ? __int_as_float(0x7fc00000) : fmaxf(amax, 1e-10f) / 448.0f;
}

/// NaN-propagating max over `width` lanes (fmaxf alone would drop NaN).
__device__ __forceinline__ float teamMaxNaN(float v, int width) {
  for (int o = width / 2; o > 0; o /= 2)
    v = maxNaN(v, __shfl_xor_sync(0xffffffffu, v, o, width));
  return v;
}

/// The same over aligned groups of `width` lanes (a power of two <= 32)
/// whose width is known only at run time: unrolled, each step predicated
/// on a uniform condition, where the loop above computed its shuffle
/// operands and branched every step. An xor below the width never leaves
/// its group.
__device__ __forceinline__ float groupMaxNaN(float v, int width) {
#pragma unroll
  for (int o = 16; o > 0; o /= 2)
    if (o < width)
      v = maxNaN(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

/// x / s from s and inv = 1 / s (s finite and nonzero): a multiply and one
/// FMA residual correction, the last steps of CUDA's own correctly rounded
/// division without its per-value reciprocal and range check.
__device__ __forceinline__ float quotient(float x, float s, float inv) {
  float q = __fmul_rn(x, inv);
  return fmaf(fmaf(-q, s, x), inv, q);
}

/// x / s for one group's scale. A non-finite scale (NaN or an infinity in
/// the group) divides plainly, so an infinity still zeroes its group and
/// yields NaN itself.
struct GroupDivider {
  float s, inv;
  bool plain;
  __device__ __forceinline__ explicit GroupDivider(float scale)
      : s(scale), inv(1.0f / scale), plain(!isfinite(scale)) {}
  __device__ __forceinline__ float operator()(float x) const {
    return plain ? x / s : quotient(x, s, inv);
  }
};

/// The codes of N values of one group with scale s, four to a word. A
/// finite scale means every value of the group is finite (amax propagates
/// NaN and infinity), so that path needs neither the NaN rule nor a branch
/// per value.
template <int N>
__device__ __forceinline__ void groupCodes(const float (&v)[N], float s, uint32_t (&words)[N / 4]) {
  if (isfinite(s)) {
    float inv = 1.0f / s;
#pragma unroll
    for (int j = 0; j < N; j += 4) {
      uint32_t lo = __nv_cvt_float2_to_fp8x2(
          make_float2(quotient(v[j], s, inv), quotient(v[j + 1], s, inv)), __NV_SATFINITE,
          __NV_E4M3);
      uint32_t hi = __nv_cvt_float2_to_fp8x2(
          make_float2(quotient(v[j + 2], s, inv), quotient(v[j + 3], s, inv)), __NV_SATFINITE,
          __NV_E4M3);
      words[j / 4] = (lo & 0xffffu) | (hi & 0xffffu) << 16;
    }
  } else {
#pragma unroll
    for (int j = 0; j < N; j += 4)
      words[j / 4] = uint32_t(toFp8x2(v[j] / s, v[j + 1] / s)) |
                     uint32_t(toFp8x2(v[j + 2] / s, v[j + 3] / s)) << 16;
  }
}

/// Quantizes `g` values at `vals` (any float type, stride 1) into q,
/// lane-parallel, and returns the group's scale to every lane. Every lane
/// of the warp calls it.
template <typename S>
__device__ __forceinline__ float quantGroupWarp(const S *vals, int64_t g, uint8_t *q, int lane) {
  float amax = 0.0f;
  for (int64_t e = lane; e < g; e += 32)
    amax = maxNaN(amax, fabsf(toFloat(vals[e])));
  amax = teamMaxNaN(amax, 32);
  float s = groupScale(amax, isnan(amax));
  GroupDivider div(s);
  for (int64_t e = lane; e < g; e += 32)
    q[e] = toFp8(div(toFloat(vals[e])));
  return s;
}

/// Stores group `grp`'s scale of `row` (of `rows`): row-major [rows, groups]
/// when colStride is 0, else column-major [groups, colStride >= rows]
/// (DeepGEMM's layout), where the last row's writer also zeroes the
/// padding rows, so every element of the tensor is defined.
__device__ __forceinline__ void storeGroupScale(float *scale, int64_t row, int64_t grp,
                                                int64_t groups, int64_t rows,
                                                int64_t colStride, float s) {
  if (colStride == 0) {
    scale[row * groups + grp] = s;
    return;
  }
  scale[grp * colStride + row] = s;
  if (row == rows - 1)
    for (int64_t r = rows; r < colStride; ++r)
      scale[grp * colStride + r] = 0.0f;
}

/// NaN-propagating max over the whole block (blockDim.x a multiple of 32).
__device__ __forceinline__ float blockMaxNaN(float v) {
  return blockReduce(v, [](float x) { return teamMaxNaN(x, 32); });
}

} // namespace llmf::kernels

#endif // LLM_FUSION_KERNELS_FP8_CUH
