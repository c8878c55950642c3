//===- Quant.cu - FP8 e4m3 quantization, alone and fused with gated norm --===//
//
// A warp owns a quantization group: it reduces amax (NaN-aware), writes the
// scale and the codes. The fused kernel first normalizes a token's H heads
// (a warp per head) into shared memory, rounded to x's type exactly where
// the unfused graph stores the norm's output, then quantizes that token's
// groups from shared memory: one read of x and z, one write of q and scale.
//
//===----------------------------------------------------------------------===//

#include "kernels/Common.cuh"
#include "kernels/Launch.h"

namespace llmf::kernels {
namespace {

/// Quantizes `g` f32 values at `vals` (stride 1) into q, lane-parallel; the
/// scale goes to *scale. Every lane of the warp calls it.
__device__ __forceinline__ void quantGroupWarp(const float *vals, int64_t g, uint8_t *q,
                                               float *scale, int lane) {
  float amax = 0.0f;
  bool nan = false;
  for (int64_t e = lane; e < g; e += 32) {
    float a = fabsf(vals[e]);
    nan |= isnan(a);
    amax = fmaxf(amax, a);
  }
  amax = teamMax(amax, 32);
  nan = __any_sync(0xffffffffu, nan);
  float s = nan ? __int_as_float(0x7fc00000) : fmaxf(amax, 1e-10f) / 448.0f;
  if (lane == 0)
    *scale = s;
  for (int64_t e = lane; e < g; e += 32)
    q[e] = toFp8(vals[e] / s);
}

template <typename T>
__global__ void quantKernel(RowView x, int64_t groupSize, int64_t groups, uint8_t *q,
                            float *scale) {
  int warpsPerBlock = blockDim.x / 32, lane = threadIdx.x % 32;
  int64_t id = int64_t(blockIdx.x) * warpsPerBlock + threadIdx.x / 32;
  if (id >= x.rows * groups)
    return;
  int64_t row = id / groups, grp = id % groups;
  const T *xs = rowPtr<T>(x, row) + grp * groupSize;
  float amax = 0.0f;
  bool nan = false;
  for (int64_t e = lane; e < groupSize; e += 32) {
    float a = fabsf(toFloat(xs[e]));
    nan |= isnan(a);
    amax = fmaxf(amax, a);
  }
  amax = teamMax(amax, 32);
  nan = __any_sync(0xffffffffu, nan);
  float s = nan ? __int_as_float(0x7fc00000) : fmaxf(amax, 1e-10f) / 448.0f;
  if (lane == 0)
    scale[id] = s;
  uint8_t *qs = q + row * x.rowLength + grp * groupSize;
  for (int64_t e = lane; e < groupSize; e += 32)
    qs[e] = toFp8(toFloat(xs[e]) / s);
}

template <typename T>
__global__ void quantStaticKernel(const T *x, int64_t n, const float *scale, uint8_t *q) {
  float s = *scale;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    q[i] = toFp8(toFloat(x[i]) / s);
}

/// NaN-propagating max over `width` lanes (fmaxf alone would drop NaN).
__device__ __forceinline__ float teamMaxNaN(float v, int width) {
  for (int o = width / 2; o > 0; o /= 2) {
    float other = __shfl_xor_sync(0xffffffffu, v, o, width);
    v = (isnan(v) || isnan(other)) ? __int_as_float(0x7fc00000) : fmaxf(v, other);
  }
  return v;
}

/// The fast path: q [N, H*D] is the same memory as [N*H, D] and a group
/// never straddles two heads, so a team of TEAM = D / VEC lanes owns one
/// head row: 16-byte loads of x and z, the norm in registers, rounding to
/// x's type, then groups of G = group / VEC lanes reduce amax by shuffles and
/// write their codes (VEC bytes a lane) and scale. No shared memory.
template <typename T, typename W, int VEC, int TEAM>
__global__ void gatedQuantTeamKernel(RowView x, RowView z, NormParams p, bool beforeGate,
                                     int groupLanes, int64_t groupSize, uint8_t *q,
                                     float *scale) {
  int lane = threadIdx.x % TEAM;
  int64_t row = int64_t(blockIdx.x) * (blockDim.x / TEAM) + threadIdx.x / TEAM;
  bool active = row < x.rows;
  int64_t d = x.rowLength, e = int64_t(lane) * VEC;
  float v[VEC], g[VEC], y[VEC];
  float ss = 0.0f;
  if (active) {
    loadVec<T, VEC>(rowPtr<T>(x, row) + e, v);
    float zv[VEC];
    loadVec<T, VEC>(rowPtr<T>(z, row) + e, zv);
#pragma unroll
    for (int j = 0; j < VEC; ++j) {
      g[j] = siluf(zv[j]);
      if (!beforeGate)
        v[j] *= g[j];
      ss += v[j] * v[j];
    }
  }
  ss = teamSum(ss, TEAM);
  float r = 1.0f / sqrtf(ss / float(d) + p.epsilon);
  float wv[VEC];
  loadVec<W, VEC>(static_cast<const W *>(p.weight) + e, wv);
  float amax = 0.0f;
#pragma unroll
  for (int j = 0; j < VEC; ++j) {
    float out = (v[j] * r) * (wv[j] + p.weightBias);
    if (beforeGate)
      out *= g[j];
    y[j] = roundTo<T>(out);
    float a = fabsf(y[j]);
    amax = (isnan(a) || isnan(amax)) ? __int_as_float(0x7fc00000) : fmaxf(amax, a);
  }
  amax = teamMaxNaN(amax, groupLanes);
  if (!active)
    return;
  float s = isnan(amax) ? amax : fmaxf(amax, 1e-10f) / 448.0f;
  uint8_t codes[VEC];
#pragma unroll
  for (int j = 0; j < VEC; ++j)
    codes[j] = toFp8(y[j] / s);
  uint8_t *qr = q + row * d + e;
  if constexpr (VEC == 8)
    *reinterpret_cast<uint2 *>(qr) = *reinterpret_cast<const uint2 *>(codes);
  else if constexpr (VEC == 4)
    *reinterpret_cast<uint32_t *>(qr) = *reinterpret_cast<const uint32_t *>(codes);
  else
    for (int j = 0; j < VEC; ++j)
      qr[j] = codes[j];
  if (lane % groupLanes == 0)
    scale[row * (d / groupSize) + e / groupSize] = s;
}

/// Team size for the fast path, or 0 when it does not apply.
int gatedQuantTeam(const RowView &x, const RowView &z, const NormParams &p, size_t elemSize,
                   size_t weightSize, int vec, int64_t groupSize, int &groupLanes) {
  int64_t d = x.rowLength;
  auto aligned = [&](const RowView &v) {
    return reinterpret_cast<uintptr_t>(v.data) % 16 == 0 && (d * elemSize) % 16 == 0 &&
           (v.groupStride * elemSize) % 16 == 0;
  };
  if (d % vec != 0 || groupSize % vec != 0 || !aligned(x) || !aligned(z) ||
      reinterpret_cast<uintptr_t>(p.weight) % 16 != 0 || (d * weightSize) % 16 != 0)
    return 0;
  int64_t team = d / vec, lanes = groupSize / vec;
  bool pow2 = (team & (team - 1)) == 0 && (lanes & (lanes - 1)) == 0;
  if (!pow2 || team > 32 || team < 1)
    return 0;
  groupLanes = int(lanes);
  return int(team);
}

/// One token per block: normalize its heads (a warp per head) into shared
/// memory, then quantize its groups (a warp per group). The general path.
template <typename T, typename W>
__global__ void gatedQuantKernel(RowView x, RowView z, NormParams p, bool beforeGate,
                                 int64_t heads, int64_t groupSize, uint8_t *q, float *scale) {
  extern __shared__ float buf[];
  int64_t n = blockIdx.x, d = x.rowLength, width = heads * d;
  int warps = blockDim.x / 32, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const W *w = static_cast<const W *>(p.weight);
  for (int64_t h = warp; h < heads; h += warps) {
    int64_t row = n * heads + h;
    const T *xr = rowPtr<T>(x, row), *zr = rowPtr<T>(z, row);
    float *out = buf + h * d;
    float ss = 0.0f;
    for (int64_t e = lane; e < d; e += 32) {
      float v = toFloat(xr[e]);
      if (!beforeGate)
        v *= siluf(toFloat(zr[e]));
      out[e] = v;
      ss += v * v;
    }
    ss = teamSum(ss, 32);
    float r = 1.0f / sqrtf(ss / float(d) + p.epsilon);
    for (int64_t e = lane; e < d; e += 32) {
      float y = (out[e] * r) * (toFloat(w[e]) + p.weightBias);
      if (beforeGate)
        y *= siluf(toFloat(zr[e]));
      out[e] = roundTo<T>(y);
    }
  }
  __syncthreads();
  int64_t groups = width / groupSize;
  for (int64_t g = warp; g < groups; g += warps)
    quantGroupWarp(buf + g * groupSize, groupSize, q + n * width + g * groupSize,
                   scale + n * groups + g, lane);
}

} // namespace

cudaError_t quantFp8(RowView x, int64_t groupSize, uint8_t *q, float *scale,
                     cudaStream_t stream) {
  if (groupSize < 1 || x.rowLength % groupSize != 0)
    return invalid("quantFp8: group_size must divide the row length");
  int64_t groups = x.rowLength / groupSize, total = x.rows * groups;
  if (total == 0)
    return cudaSuccess;
  dim3 block(256), grid((total + 7) / 8);
  switch (x.type) {
  case ElemType::F32: quantKernel<float><<<grid, block, 0, stream>>>(x, groupSize, groups, q, scale); break;
  case ElemType::F16: quantKernel<__half><<<grid, block, 0, stream>>>(x, groupSize, groups, q, scale); break;
  case ElemType::BF16: quantKernel<__nv_bfloat16><<<grid, block, 0, stream>>>(x, groupSize, groups, q, scale); break;
  default: return invalid("quantFp8: x must be f32, f16 or bf16");
  }
  return cudaGetLastError();
}

cudaError_t quantFp8Static(const void *x, ElemType type, int64_t n, const float *scale,
                           uint8_t *q, cudaStream_t stream) {
  if (n == 0)
    return cudaSuccess;
  dim3 block(256), grid(std::min<int64_t>((n + 255) / 256, 132 * 16));
  switch (type) {
  case ElemType::F32: quantStaticKernel<float><<<grid, block, 0, stream>>>(static_cast<const float *>(x), n, scale, q); break;
  case ElemType::F16: quantStaticKernel<__half><<<grid, block, 0, stream>>>(static_cast<const __half *>(x), n, scale, q); break;
  case ElemType::BF16: quantStaticKernel<__nv_bfloat16><<<grid, block, 0, stream>>>(static_cast<const __nv_bfloat16 *>(x), n, scale, q); break;
  default: return invalid("quantFp8Static: x must be f32, f16 or bf16");
  }
  return cudaGetLastError();
}

cudaError_t rmsNormGatedQuantFp8(RowView x, RowView z, NormParams p, bool normBeforeGate,
                                 int64_t heads, int64_t groupSize, uint8_t *q, float *scale,
                                 cudaStream_t stream) {
  int64_t d = x.rowLength;
  if (heads < 1 || x.rows % heads != 0)
    return invalid("rmsNormGatedQuantFp8: rows must be a multiple of the head count");
  if (groupSize < 1 || d % groupSize != 0)
    return invalid("rmsNormGatedQuantFp8: group_size must divide the head dim");
  size_t smem = size_t(heads * d) * sizeof(float);
  bool smemOk = smem <= 200 * 1024;
  int64_t tokens = x.rows / heads;
  if (tokens == 0)
    return cudaSuccess;
  int threads = int(std::min<int64_t>(512, std::max<int64_t>(64, heads * 32)));
  ElemType t = x.type, w = p.weightType;
#define LLMF_GQ(TT, TE, WT, WE)                                                          \
  if (t == TE && w == WE) {                                                              \
    constexpr int kVec = 16 / sizeof(TT);                                                \
    int lanes = 0;                                                                       \
    int team = gatedQuantTeam(x, z, p, sizeof(TT), sizeof(WT), kVec, groupSize, lanes);  \
    if (team > 0) {                                                                      \
      dim3 grid((x.rows * team + 255) / 256);                                            \
      switch (team) {                                                                    \
      case 1: gatedQuantTeamKernel<TT, WT, kVec, 1><<<grid, 256, 0, stream>>>(x, z, p, normBeforeGate, lanes, groupSize, q, scale); break; \
      case 2: gatedQuantTeamKernel<TT, WT, kVec, 2><<<grid, 256, 0, stream>>>(x, z, p, normBeforeGate, lanes, groupSize, q, scale); break; \
      case 4: gatedQuantTeamKernel<TT, WT, kVec, 4><<<grid, 256, 0, stream>>>(x, z, p, normBeforeGate, lanes, groupSize, q, scale); break; \
      case 8: gatedQuantTeamKernel<TT, WT, kVec, 8><<<grid, 256, 0, stream>>>(x, z, p, normBeforeGate, lanes, groupSize, q, scale); break; \
      case 16: gatedQuantTeamKernel<TT, WT, kVec, 16><<<grid, 256, 0, stream>>>(x, z, p, normBeforeGate, lanes, groupSize, q, scale); break; \
      default: gatedQuantTeamKernel<TT, WT, kVec, 32><<<grid, 256, 0, stream>>>(x, z, p, normBeforeGate, lanes, groupSize, q, scale); break; \
      }                                                                                  \
      return cudaGetLastError();                                                         \
    }                                                                                    \
    if (!smemOk)                                                                         \
      return invalid("rmsNormGatedQuantFp8: off the fast path (head dim D = 2^k * 16 B "  \
                     "vectors, up to 32 of them, group a power-of-two multiple of a "     \
                     "vector), a token's H*D values must fit in 200 KiB of shared memory"); \
    auto k = gatedQuantKernel<TT, WT>;                                                   \
    if (smem > 48 * 1024)                                                                \
      cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));   \
    k<<<tokens, threads, smem, stream>>>(x, z, p, normBeforeGate, heads, groupSize, q,   \
                                          scale);                                        \
    return cudaGetLastError();                                                           \
  }
#define LLMF_GQ_W(TT, TE)                                                                \
  LLMF_GQ(TT, TE, float, ElemType::F32)                                                  \
  LLMF_GQ(TT, TE, __half, ElemType::F16)                                                 \
  LLMF_GQ(TT, TE, __nv_bfloat16, ElemType::BF16)
  LLMF_GQ_W(float, ElemType::F32)
  LLMF_GQ_W(__half, ElemType::F16)
  LLMF_GQ_W(__nv_bfloat16, ElemType::BF16)
#undef LLMF_GQ_W
#undef LLMF_GQ
  return invalid("rmsNormGatedQuantFp8: x must be f32, f16 or bf16 and w f32, f16 or bf16");
}

} // namespace llmf::kernels
