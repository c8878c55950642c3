//===- TopK.cu - top-k and gather along the last dim ---------------------===//
//
// topk: one row per block, the row in shared memory, k rounds of a block-wide
// best under the spec's ranking (NaN first, ties to the lower index).
// gather: a grid-stride copy of any element size; an index out of range
// writes zero and raises a flag the backend turns into an error.
//
//===----------------------------------------------------------------------===//

#include "kernels/Kernels.h"

#include "kernels/Common.cuh"
#include "kernels/Launch.h"

#include <algorithm>

namespace llmf::kernels {
namespace {

/// topk of one row per block, the row in shared memory.
template <typename T>
__global__ void topkKernel(RowView x, int64_t k, T *values, int32_t *indices) {
  pdlEnter();
  extern __shared__ float row[];
  __shared__ float bestV[32];
  __shared__ int bestI[32];
  int64_t r = blockIdx.x, d = x.rowLength;
  const T *xr = rowPtr<T>(x, r);
  for (int64_t e = threadIdx.x; e < d; e += blockDim.x)
    row[e] = toFloat(xr[e]);
  __syncthreads();
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  int lastIndex = -1;
  for (int64_t j = 0; j < k; ++j) {
    float bv = 0.0f;
    int bi = -1;
    // Candidates rank strictly after the previous pick.
    float pv = lastIndex >= 0 ? row[lastIndex] : 0.0f;
    for (int64_t e = threadIdx.x; e < d; e += blockDim.x) {
      float v = row[e];
      if (lastIndex >= 0 && !ranksBefore(pv, lastIndex, v, int(e)))
        continue;
      if (ranksBefore(v, int(e), bv, bi)) {
        bv = v;
        bi = int(e);
      }
    }
    warpBest(bv, bi);
    if (lane == 0) {
      bestV[warp] = bv;
      bestI[warp] = bi;
    }
    __syncthreads();
    if (warp == 0) {
      bv = lane < warps ? bestV[lane] : 0.0f;
      bi = lane < warps ? bestI[lane] : -1;
      warpBest(bv, bi);
      if (lane == 0) {
        bestI[0] = bi;
        values[r * k + j] = fromFloat<T>(row[bi]);
        indices[r * k + j] = bi;
      }
    }
    __syncthreads();
    lastIndex = bestI[0];
    __syncthreads();
  }
}

template <typename I>
__global__ void gatherKernel(RowView x, size_t elemSize, RowView idx, char *y, int *bad) {
  pdlEnter();
  int64_t n = idx.rows * idx.rowLength;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t r = i / idx.rowLength, j = i % idx.rowLength;
    int64_t at = static_cast<const I *>(idx.data)[rowOffset(idx, r) + j];
    char *dst = y + i * elemSize;
    if (at < 0 || at >= x.rowLength) {
      *bad = 1;
      for (size_t b = 0; b < elemSize; ++b)
        dst[b] = 0;
      continue;
    }
    const char *src = static_cast<const char *>(x.data) + (rowOffset(x, r) + at) * elemSize;
    for (size_t b = 0; b < elemSize; ++b)
      dst[b] = src[b];
  }
}

size_t elemSize(ElemType t) {
  switch (t) {
  case ElemType::F32: case ElemType::I32: return 4;
  case ElemType::F16: case ElemType::BF16: return 2;
  case ElemType::F8E4M3FN: return 1;
  case ElemType::I64: return 8;
  }
  return 0;
}

} // namespace

cudaError_t topk(RowView x, int64_t k, void *values, int32_t *indices, cudaStream_t stream) {
  if (k < 1 || k > x.rowLength)
    return invalid("topk: k must be in [1, row length]");
  size_t smem = size_t(x.rowLength) * sizeof(float);
  if (smem > 200 * 1024)
    return invalid("topk: rows longer than 51200 elements are not supported");
  if (x.rows == 0)
    return cudaSuccess;
  return withFloatType(x.type, "topk: x must be f32, f16 or bf16", [&](auto t) {
    using T = typename decltype(t)::type;
    auto kernel = topkKernel<T>;
    if (smem > 48 * 1024)
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
    launchKernel(kernel, x.rows, 256, smem, stream, x, k, static_cast<T *>(values), indices);
    return cudaGetLastError();
  });
}

cudaError_t gather(RowView x, RowView indices, void *y, int *badIndex, cudaStream_t stream) {
  int64_t n = indices.rows * indices.rowLength;
  if (n == 0)
    return cudaSuccess;
  dim3 block(256), grid(std::min<int64_t>((n + 255) / 256, 4096));
  size_t es = elemSize(x.type);
  if (indices.type == ElemType::I32)
    launchKernel(gatherKernel<int32_t>, grid, block, 0, stream, x, es, indices,
                 static_cast<char *>(y), badIndex);
  else if (indices.type == ElemType::I64)
    launchKernel(gatherKernel<int64_t>, grid, block, 0, stream, x, es, indices,
                 static_cast<char *>(y), badIndex);
  else
    return invalid("gather: indices must be i32 or i64");
  return cudaGetLastError();
}

} // namespace llmf::kernels
