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

/// One token per block: normalize its heads (a warp per head) into shared
/// memory, then quantize its groups (a warp per group).
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
  if (smem > 200 * 1024)
    return invalid("rmsNormGatedQuantFp8: a token's H*D values must fit in 200 KiB of "
                   "shared memory (H*D <= 51200)");
  int64_t tokens = x.rows / heads;
  if (tokens == 0)
    return cudaSuccess;
  int threads = int(std::min<int64_t>(512, std::max<int64_t>(64, heads * 32)));
  ElemType t = x.type, w = p.weightType;
#define LLMF_GQ(TT, TE, WT, WE)                                                          \
  if (t == TE && w == WE) {                                                              \
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
