//===- Common.cuh - device helpers shared by the kernels ------*- CUDA -*-===//
//
// Conversions with one rounding (RNE; e4m3 saturating), row addressing,
// 16-byte vector access and warp/block reductions.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_KERNELS_COMMON_CUH
#define LLM_FUSION_KERNELS_COMMON_CUH

#include "common/ExpNeg.h"
#include "kernels/Kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <cstdint>
#include <type_traits>

namespace llmf::kernels {

/// The first statement of every kernel, without exception. Under
/// programmatic dependent launch a kernel may start while its predecessor
/// still runs: wait for it (its writes visible) before touching global
/// memory, since this kernel may read its outputs or reuse its inputs'
/// memory; then let the successor launch early. Waiting everywhere keeps
/// the order transitive: a kernel that skipped it could finish before its
/// predecessor. Without the launch attribute both are no-ops.
__device__ __forceinline__ void pdlEnter() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

__device__ __forceinline__ float toFloat(float v) { return v; }
__device__ __forceinline__ float toFloat(__half v) { return __half2float(v); }
__device__ __forceinline__ float toFloat(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T> __device__ __forceinline__ T fromFloat(float v);
template <> __device__ __forceinline__ float fromFloat<float>(float v) { return v; }
template <> __device__ __forceinline__ __half fromFloat<__half>(float v) {
  return __float2half_rn(v);
}
template <> __device__ __forceinline__ __nv_bfloat16 fromFloat<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

/// f32 -> e4m3fn bits: nearest even, +-448 for anything larger (inf too),
/// NaN -> 0x7f, as the CPU reference.
__device__ __forceinline__ uint8_t toFp8(float v) {
  if (isnan(v))
    return 0x7f;
  return static_cast<uint8_t>(__nv_cvt_float_to_fp8(v, __NV_SATFINITE, __NV_E4M3));
}

/// Two f32 -> e4m3fn codes in one conversion (low byte = a), with toFp8's
/// NaN rule.
__device__ __forceinline__ uint16_t toFp8x2(float a, float b) {
  uint16_t codes = static_cast<uint16_t>(
      __nv_cvt_float2_to_fp8x2(make_float2(a, b), __NV_SATFINITE, __NV_E4M3));
  if (isnan(a))
    codes = (codes & 0xff00u) | 0x7fu;
  if (isnan(b))
    codes = (codes & 0x00ffu) | 0x7f00u;
  return codes;
}

/// max that propagates NaN (one instruction; fmaxf would drop the NaN).
__device__ __forceinline__ float maxNaN(float a, float b) {
  float r;
  asm("max.NaN.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
  return r;
}

/// Rounds to T and back: the value a store in T keeps.
template <typename T> __device__ __forceinline__ float roundTo(float v) {
  return toFloat(fromFloat<T>(v));
}

/// Rounds two values to T and back, as two stores in T would keep them:
/// one paired conversion where T is 16-bit (the same bits as roundTo each).
template <typename T> __device__ __forceinline__ void roundPairTo(float &a, float &b) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    float2 r = __bfloat1622float2(__floats2bfloat162_rn(a, b));
    a = r.x;
    b = r.y;
  } else if constexpr (std::is_same_v<T, __half>) {
    float2 r = __half22float2(__floats2half2_rn(a, b));
    a = r.x;
    b = r.y;
  }
}

/// exp(-x) from IEEE operations only (common/ExpNeg.h): the CPU reference
/// computes the same bits, so sigmoid scores (and the experts they pick)
/// agree bit for bit.
__device__ __forceinline__ float expNeg(float x) { return expNegF(x); }
__device__ __forceinline__ float sigmoidf(float x) { return 1.0f / (1.0f + expNeg(x)); }
/// SiLU in norms and elementwise: the hardware exp2 and an approximate
/// divide (a few ulp, far inside one rounding of any stored type). Only
/// sigmoid ranks anything, so only sigmoid needs the host's exact bits.
/// exp2 flushes a subnormal result to zero (ex2.approx.ftz: no range
/// fix-up around MUFU.EX2, three instructions a value fewer), which no SiLU
/// can see: 1 + e^-x is 1 either way.
__device__ __forceinline__ float siluf(float x) {
  float e;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(e) : "f"(x * -1.44269504088896341f));
  return __fdividef(x, 1.0f + e);
}

/// An RMSNorm's scale, rsqrt(mean(x^2) + eps), from the row's sum of
/// squares and 1/D (computed once on the host): a multiply-add and the
/// hardware rsqrt (2 ulp) instead of a division, a square root and a
/// reciprocal, each with its own range check. Every GPU norm uses it, so
/// fused and unfused GPU graphs agree bit for bit; against the CPU's
/// correctly rounded 1 / sqrt the outputs agree within one rounding of
/// their type.
__device__ __forceinline__ float rmsScale(float sumSquares, float invD, float epsilon) {
  return rsqrtf(fmaf(sumSquares, invD, epsilon));
}

/// Element offset of row r. Row counts fit in 31 bits (launchers check),
/// so the division is 32-bit, and a multiply-high where the launcher filled
/// in rowsDivision (a 32-bit division is ~20 instructions a row).
__device__ __forceinline__ int64_t rowOffset(const RowView &v, int64_t r) {
  if (v.rowsPerGroup == 1)
    return r * v.groupStride;
  uint32_t rr = uint32_t(r), h = uint32_t(v.rowsPerGroup);
  uint32_t g = v.rowsDivision.shift != 0 ? v.rowsDivision.divide(rr) : rr / h;
  return int64_t(g) * v.groupStride + int64_t(rr - g * h) * v.rowLength;
}

template <typename T> __device__ __forceinline__ T *rowPtr(const RowView &v, int64_t r) {
  return static_cast<T *>(v.data) + rowOffset(v, r);
}

/// N consecutive elements as f32 (N * sizeof(T) == 16 for vector access).
template <typename T, int N>
__device__ __forceinline__ void loadVec(const T *p, float (&out)[N]) {
  if constexpr (N * sizeof(T) == 16) {
    uint4 raw = *reinterpret_cast<const uint4 *>(p);
    const T *e = reinterpret_cast<const T *>(&raw);
#pragma unroll
    for (int i = 0; i < N; ++i)
      out[i] = toFloat(e[i]);
  } else if constexpr (N * sizeof(T) == 32) {
    uint4 raw[2] = {reinterpret_cast<const uint4 *>(p)[0], reinterpret_cast<const uint4 *>(p)[1]};
    const T *e = reinterpret_cast<const T *>(raw);
#pragma unroll
    for (int i = 0; i < N; ++i)
      out[i] = toFloat(e[i]);
  } else if constexpr (N * sizeof(T) == 8) {
    uint2 raw = *reinterpret_cast<const uint2 *>(p);
    const T *e = reinterpret_cast<const T *>(&raw);
#pragma unroll
    for (int i = 0; i < N; ++i)
      out[i] = toFloat(e[i]);
  } else {
#pragma unroll
    for (int i = 0; i < N; ++i)
      out[i] = toFloat(p[i]);
  }
}

template <typename T, int N>
__device__ __forceinline__ void storeVec(T *p, const float (&in)[N]) {
  if constexpr (N * sizeof(T) == 16) {
    uint4 raw;
    T *e = reinterpret_cast<T *>(&raw);
#pragma unroll
    for (int i = 0; i < N; ++i)
      e[i] = fromFloat<T>(in[i]);
    *reinterpret_cast<uint4 *>(p) = raw;
  } else {
#pragma unroll
    for (int i = 0; i < N; ++i)
      p[i] = fromFloat<T>(in[i]);
  }
}

/// Ranking of top-k and routing: larger first, NaN above everything, equal
/// values by lower index; an invalid candidate (index < 0) ranks last.
__device__ __forceinline__ bool ranksBefore(float a, int ia, float b, int ib) {
  if (ia < 0 || ib < 0)
    return ib < 0 && ia >= 0;
  bool na = isnan(a), nb = isnan(b);
  if (na != nb)
    return na;
  if (!na && a != b)
    return a > b;
  return ia < ib;
}

/// The spec's ranking as one unsigned key, larger = ranks first: the float's
/// bits made order-preserving (NaN above everything, -0 equal to +0), then
/// the inverted index (equal values: lower index first). 0 is no candidate.
/// The value part of the key alone: order-preserving bits (NaN highest,
/// -0 as +0), for rankings where equal values need no index order.
__device__ __forceinline__ uint32_t orderedBits(float v) {
  uint32_t u = __float_as_uint(v == 0.0f ? 0.0f : v);
  return isnan(v) ? 0xffffffffu : (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ float orderedValue(uint32_t ordered) {
  uint32_t u = (ordered & 0x80000000u) ? (ordered & 0x7fffffffu) : ~ordered;
  return __uint_as_float(u);
}
__device__ __forceinline__ uint64_t rankKey(float v, int index) {
  return (uint64_t(orderedBits(v)) << 32) | uint32_t(~uint32_t(index));
}
__device__ __forceinline__ int keyIndex(uint64_t key) { return int(~uint32_t(key)); }
__device__ __forceinline__ float keyValue(uint64_t key) { return orderedValue(uint32_t(key >> 32)); }

/// Max of a 64-bit key over the warp: two warp reductions (redux.sync), the
/// high words, then the low words of the lanes holding the highest one.
__device__ __forceinline__ uint64_t warpMaxKey(uint64_t k) {
  uint32_t hi = uint32_t(k >> 32), lo = uint32_t(k);
  uint32_t maxHi = __reduce_max_sync(0xffffffffu, hi);
  uint32_t maxLo = __reduce_max_sync(0xffffffffu, hi == maxHi ? lo : 0u);
  return (uint64_t(maxHi) << 32) | maxLo;
}

/// The best (value, index) over the warp under ranksBefore.
__device__ __forceinline__ void warpBest(float &v, int &i) {
  for (int o = 16; o > 0; o /= 2) {
    float ov = __shfl_xor_sync(0xffffffffu, v, o);
    int oi = __shfl_xor_sync(0xffffffffu, i, o);
    if (ranksBefore(ov, oi, v, i)) {
      v = ov;
      i = oi;
    }
  }
}

/// Sum over the `width` lanes of a team (width a power of two <= 32).
__device__ __forceinline__ float teamSum(float v, int width) {
  for (int o = width / 2; o > 0; o /= 2)
    v += __shfl_xor_sync(0xffffffffu, v, o, width);
  return v;
}

__device__ __forceinline__ float teamMax(float v, int width) {
  for (int o = width / 2; o > 0; o /= 2)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o, width));
  return v;
}

/// A reduction over the whole block (blockDim.x a multiple of 32, <= 1024):
/// `warp` reduces over a warp's 32 lanes; 0 is the identity (sums, and the
/// maxima of magnitudes).
template <typename WarpReduce>
__device__ __forceinline__ float blockReduce(float v, WarpReduce warp) {
  __shared__ float partial[32];
  v = warp(v);
  int w = threadIdx.x / 32, lane = threadIdx.x % 32;
  __syncthreads(); // partial may still be read by a previous call
  if (lane == 0)
    partial[w] = v;
  __syncthreads();
  int warps = blockDim.x / 32;
  v = lane < warps ? partial[lane] : 0.0f;
  return warp(v);
}

/// Sum over the whole block (blockDim.x a multiple of 32, <= 1024).
__device__ __forceinline__ float blockSum(float v) {
  return blockReduce(v, [](float x) { return teamSum(x, 32); });
}

} // namespace llmf::kernels

#endif // LLM_FUSION_KERNELS_COMMON_CUH
