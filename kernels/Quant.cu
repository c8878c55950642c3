//===- Quant.cu - FP8 e4m3 quantization, alone and fused with gated norm --===//
//
// A team of lanes (a 16-byte vector each) or, off that path, a warp owns a
// quantization group: it reduces amax (NaN-aware), writes the scale and the
// codes. The fused gated kernel keeps a head row in a team's registers:
// the norm, rounded to x's type exactly where the unfused graph stores its
// output, then each group's amax and codes; one read of x and z, one write
// of q and scale. Off that path it stages a token in shared memory.
//
//===----------------------------------------------------------------------===//

#include "kernels/Common.cuh"
#include "kernels/Fp8.cuh"
#include "kernels/Launch.h"
#include "kernels/Tuning.h"

#include <type_traits>

namespace llmf::kernels {
namespace {

/// Column-major scales of the gated kernel (stride 0: row-major): a
/// token's groups are its heads' groups in order.
struct ColScales {
  int64_t stride = 0, groupsPerToken = 1, tokens = 0;
};

/// A warp per (row, group).
template <typename T>
__global__ void quantKernel(RowView x, int64_t groupSize, int64_t groups, uint8_t *q,
                            float *scale, int64_t colStride) {
  pdlEnter();
  int warpsPerBlock = blockDim.x / 32, lane = threadIdx.x % 32;
  int64_t id = int64_t(blockIdx.x) * warpsPerBlock + threadIdx.x / 32;
  if (id >= x.rows * groups)
    return;
  int64_t row = id / groups, grp = id % groups;
  float s = quantGroupWarp(rowPtr<T>(x, row) + grp * groupSize, groupSize,
                           q + row * x.rowLength + grp * groupSize, lane);
  if (lane == 0)
    storeGroupScale(scale, row, grp, groups, x.rows, colStride, s);
}

/// A team of TEAM = group / VEC lanes per (row, group): one 16-byte load a
/// lane, amax by shuffles, VEC codes a lane. Where the group is a
/// power-of-two number of vectors up to 32 (every model's 128).
template <typename T, int VEC, int TEAM>
__global__ void quantTeamKernel(RowView x, int64_t groupSize, int64_t groups, uint8_t *q,
                                float *scale, int64_t colStride) {
  pdlEnter();
  const int lane = threadIdx.x % TEAM;
  const int64_t id = int64_t(blockIdx.x) * (blockDim.x / TEAM) + threadIdx.x / TEAM;
  const bool active = id < x.rows * groups;
  const int64_t row = active ? id / groups : 0, grp = active ? id % groups : 0;
  const int64_t e = grp * groupSize + int64_t(lane) * VEC;
  float v[VEC], amax = 0.0f;
  if (active) {
    loadVec<T, VEC>(rowPtr<T>(x, row) + e, v);
#pragma unroll
    for (int j = 0; j < VEC; ++j)
      amax = maxNaN(amax, fabsf(v[j]));
  }
  amax = teamMaxNaN(amax, TEAM);
  if (!active)
    return;
  float s = groupScale(amax, isnan(amax));
  uint32_t words[VEC / 4];
  groupCodes(v, s, words);
  uint8_t *qr = q + row * x.rowLength + e;
  if constexpr (VEC == 8)
    *reinterpret_cast<uint2 *>(qr) = make_uint2(words[0], words[1]);
  else
    *reinterpret_cast<uint32_t *>(qr) = words[0];
  if (lane == 0)
    storeGroupScale(scale, row, grp, groups, x.rows, colStride, s);
}

template <typename T>
__global__ void quantStaticKernel(const T *x, int64_t n, const float *scale, uint8_t *q) {
  pdlEnter();
  GroupDivider div(*scale);
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    q[i] = toFp8(div(toFloat(x[i])));
}

/// The fast path: q [N, H*D] is the same memory as [N*H, D] and a group
/// never straddles two heads, so a team of TEAM = D / VEC lanes owns one
/// head row: 16-byte loads of x, z and w, the norm in registers, rounding to
/// x's type, then groups of G = group / VEC lanes reduce amax by shuffles and
/// write their codes (VEC bytes a lane, two per conversion) and scale. No
/// shared memory. Instruction count per element decides its speed (the
/// bytes are few), hence the cheap SiLU, divider and paired conversions.
/// The register bound keeps one row a team at 5 blocks an SM, as measured
/// before the persistent loop added live registers.
template <typename T, typename W, int VEC, int TEAM, bool BEFORE, int ROWS>
__global__ void __launch_bounds__(256, ROWS == 1 ? 5 : 3)
    gatedQuantTeamKernel(RowView x, RowView z, NormParams p, float invD, int groupLanes,
                         int groupsPerRow, uint8_t *q, float *scale, ColScales cols) {
  pdlEnter();
  const int lane = threadIdx.x % TEAM;
  const int64_t teams = blockDim.x / TEAM, d = x.rowLength, e = int64_t(lane) * VEC;
  float wv[VEC];
  loadVec<W, VEC>(static_cast<const W *>(p.weight) + e, wv);
  // A team owns ROWS consecutive head rows a step; a persistent grid strides
  // over the steps (the trip count is the block's: every lane reaches the
  // team reductions).
  for (int64_t blk = blockIdx.x; blk * teams * ROWS < x.rows; blk += gridDim.x) {
    const int64_t base = (blk * teams + threadIdx.x / TEAM) * ROWS;
    float v[ROWS][VEC], g[ROWS][VEC], ss[ROWS], amax[ROWS];
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {
      ss[r] = 0.0f;
      if (base + r >= x.rows)
        continue;
      loadVec<T, VEC>(rowPtr<T>(x, base + r) + e, v[r]);
      loadVec<T, VEC>(rowPtr<T>(z, base + r) + e, g[r]);
    }
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {
      if (base + r >= x.rows)
        continue;
#pragma unroll
      for (int j = 0; j < VEC; ++j) {
        g[r][j] = siluf(g[r][j]);
        if constexpr (!BEFORE)
          v[r][j] *= g[r][j];
        ss[r] += v[r][j] * v[r][j];
      }
    }
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {
      ss[r] = teamSum(ss[r], TEAM);
      float rs = rmsScale(ss[r], invD, p.epsilon);
      amax[r] = 0.0f;
#pragma unroll
      for (int j = 0; j < VEC; ++j) {
        v[r][j] = (v[r][j] * rs) * (wv[j] + p.weightBias);
        if constexpr (BEFORE)
          v[r][j] *= g[r][j];
      }
#pragma unroll
      for (int j = 0; j < VEC; j += 2) {
        roundPairTo<T>(v[r][j], v[r][j + 1]);
        amax[r] = maxNaN(maxNaN(amax[r], fabsf(v[r][j])), fabsf(v[r][j + 1]));
      }
      amax[r] = groupMaxNaN(amax[r], groupLanes);
    }
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {
      const int64_t row = base + r;
      if (row >= x.rows)
        continue;
      float s = groupScale(amax[r], isnan(amax[r]));
      uint32_t words[VEC / 4];
      groupCodes(v[r], s, words);
      uint8_t *qr = q + row * d + e;
      if constexpr (VEC == 8)
        *reinterpret_cast<uint2 *>(qr) = make_uint2(words[0], words[1]);
      else
        *reinterpret_cast<uint32_t *>(qr) = words[0];
      // groupLanes is a power of two: the group's first lane and its index.
      if ((lane & (groupLanes - 1)) == 0) {
        const int64_t id = row * groupsPerRow + (lane >> (__ffs(groupLanes) - 1));
        if (cols.stride == 0)
          scale[id] = s;
        else // a token's groups are its heads' groups in order
          storeGroupScale(scale, id / cols.groupsPerToken, id % cols.groupsPerToken,
                          cols.groupsPerToken, cols.tokens, cols.stride, s);
      }
    }
  }
}

GatedQuantTuning gGatedTuning;

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
                                 int64_t heads, int64_t groupSize, uint8_t *q, float *scale,
                                 int64_t colStride) {
  pdlEnter();
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
    float r = rmsScale(ss, 1.0f / float(d), p.epsilon);
    for (int64_t e = lane; e < d; e += 32) {
      float y = (out[e] * r) * (toFloat(w[e]) + p.weightBias);
      if (beforeGate)
        y *= siluf(toFloat(zr[e]));
      out[e] = roundTo<T>(y);
    }
  }
  __syncthreads();
  int64_t groups = width / groupSize;
  for (int64_t g = warp; g < groups; g += warps) {
    float s = quantGroupWarp(buf + g * groupSize, groupSize, q + n * width + g * groupSize, lane);
    if (lane == 0)
      storeGroupScale(scale, n, g, groups, x.rows / heads, colStride, s);
  }
}

/// Launches the gated norm + quant for x of type T and w of type W: the
/// register-resident team path where it applies, else the shared-memory one.
template <typename T, typename W>
cudaError_t launchGatedQuant(RowView x, RowView z, NormParams p, bool beforeGate,
                             int64_t heads, int64_t groupSize, uint8_t *q, float *scale,
                             int64_t colStride, cudaStream_t stream) {
  constexpr int kVec = 16 / sizeof(T);
  int lanes = 0;
  int team = gatedQuantTeam(x, z, p, sizeof(T), sizeof(W), kVec, groupSize, lanes);
  if (team > 0) {
    int rows = gGatedTuning.rowsPerTeam == 2 ? 2 : 1;
    int64_t steps = (x.rows * team + 256 * rows - 1) / (256 * rows);
    if (gGatedTuning.blocksPerSm > 0 && smCount() > 0)
      steps = std::min<int64_t>(steps, int64_t(smCount()) * gGatedTuning.blocksPerSm);
    dim3 grid(steps);
    auto launch = [&](auto teamTag) {
      constexpr int kTeam = decltype(teamTag)::value;
      auto kernel = beforeGate ? gatedQuantTeamKernel<T, W, kVec, kTeam, true, 1>
                               : gatedQuantTeamKernel<T, W, kVec, kTeam, false, 1>;
      if (rows == 2)
        kernel = beforeGate ? gatedQuantTeamKernel<T, W, kVec, kTeam, true, 2>
                            : gatedQuantTeamKernel<T, W, kVec, kTeam, false, 2>;
      ColScales cols{colStride, heads * (x.rowLength / groupSize), x.rows / heads};
      launchKernel(kernel, grid, 256, 0, stream, x, z, p, 1.0f / float(x.rowLength), lanes,
                   int(x.rowLength / groupSize), q, scale, cols);
    };
    withSize<1, 2, 4, 8, 16, 32>(team, launch);
    return cudaGetLastError();
  }
  int64_t d = x.rowLength, tokens = x.rows / heads;
  size_t smem = size_t(heads * d) * sizeof(float);
  if (smem > 200 * 1024)
    return invalid("rmsNormGatedQuantFp8: off the fast path (head dim D = 2^k * 16 B "
                   "vectors, up to 32 of them, group a power-of-two multiple of a "
                   "vector), a token's H*D values must fit in 200 KiB of shared memory");
  int threads = int(std::min<int64_t>(512, std::max<int64_t>(64, heads * 32)));
  auto kernel = gatedQuantKernel<T, W>;
  if (smem > 48 * 1024)
    cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
  launchKernel(kernel, tokens, threads, smem, stream, x, z, p, beforeGate, heads, groupSize, q,
               scale, colStride);
  return cudaGetLastError();
}

__global__ void dequantKernel(const uint8_t *q, int64_t rows, int64_t cols, const float *scale,
                              int64_t rowBlock, int64_t colBlock, int64_t scaleStride,
                              float *out) {
  pdlEnter();
  const int64_t n = rows * cols;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / cols, c = i % cols;
    __nv_fp8_e4m3 v;
    v.__x = q[i];
    out[i] = float(v) * scale[(r / rowBlock) * scaleStride + c / colBlock];
  }
}

__global__ void scaleOuterKernel(const float *acc, int64_t rows, int64_t cols,
                                 const float *rowScale, const float *colScale, ElemType type,
                                 void *y) {
  pdlEnter();
  const int64_t n = rows * cols;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    float v = acc[i] * rowScale[i / cols] * colScale[i % cols];
    if (type == ElemType::BF16)
      static_cast<__nv_bfloat16 *>(y)[i] = __float2bfloat16_rn(v);
    else if (type == ElemType::F16)
      static_cast<__half *>(y)[i] = __float2half_rn(v);
    else
      static_cast<float *>(y)[i] = v;
  }
}

__global__ void transposeF32Kernel(const float *in, int64_t rows, int64_t cols, float *out) {
  pdlEnter();
  const int64_t n = rows * cols;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    out[(i % cols) * rows + i / cols] = in[i];
}

} // namespace

cudaError_t scaleOuterFp8(const float *acc, int64_t rows, int64_t cols, const float *rowScale,
                          const float *colScale, ElemType type, void *y, cudaStream_t stream) {
  if (rows * cols == 0)
    return cudaSuccess;
  if (type != ElemType::F32 && type != ElemType::F16 && type != ElemType::BF16)
    return invalid("scaleOuterFp8: y must be f32, f16 or bf16");
  dim3 grid(unsigned(std::min<int64_t>((rows * cols + 255) / 256, 132 * 16)));
  launchKernel(scaleOuterKernel, grid, 256, 0, stream, acc, rows, cols, rowScale, colScale, type,
               y);
  return cudaGetLastError();
}

cudaError_t transposeF32(const float *in, int64_t rows, int64_t cols, float *out,
                         cudaStream_t stream) {
  if (rows * cols == 0)
    return cudaSuccess;
  dim3 grid(unsigned(std::min<int64_t>((rows * cols + 255) / 256, 132 * 16)));
  launchKernel(transposeF32Kernel, grid, 256, 0, stream, in, rows, cols, out);
  return cudaGetLastError();
}

cudaError_t dequantFp8(const uint8_t *q, int64_t rows, int64_t cols, const float *scale,
                       int64_t rowBlock, int64_t colBlock, int64_t scaleStride, float *out,
                       cudaStream_t stream) {
  if (rows * cols == 0)
    return cudaSuccess;
  if (rowBlock < 1 || colBlock < 1)
    return invalid("dequantFp8: blocks must be >= 1");
  dim3 grid(unsigned(std::min<int64_t>((rows * cols + 255) / 256, 132 * 16)));
  launchKernel(dequantKernel, grid, 256, 0, stream, q, rows, cols, scale, rowBlock, colBlock,
               scaleStride, out);
  return cudaGetLastError();
}

void setGatedQuantTuning(GatedQuantTuning t) { gGatedTuning = t; }

cudaError_t quantFp8(RowView x, int64_t groupSize, uint8_t *q, float *scale,
                     int64_t scaleColStride, cudaStream_t stream) {
  if (groupSize < 1 || x.rowLength % groupSize != 0)
    return invalid("quantFp8: group_size must divide the row length");
  int64_t groups = x.rowLength / groupSize, total = x.rows * groups;
  if (total == 0)
    return cudaSuccess;
  x = withRowDivision(x);
  dim3 block(256), grid((total + 7) / 8);
  return withFloatType(x.type, "quantFp8: x must be f32, f16 or bf16", [&](auto t) {
    using T = typename decltype(t)::type;
    constexpr int kVec = 16 / sizeof(T);
    int64_t team = groupSize / kVec;
    bool teamPath = groupSize % kVec == 0 && team <= 32 && (team & (team - 1)) == 0 &&
                    reinterpret_cast<uintptr_t>(x.data) % 16 == 0 &&
                    (x.rowLength * sizeof(T)) % 16 == 0 && (x.groupStride * sizeof(T)) % 16 == 0 &&
                    reinterpret_cast<uintptr_t>(q) % 16 == 0;
    if (teamPath) {
      dim3 teamGrid((total * team + 255) / 256);
      auto launch = [&](auto tag) {
        launchKernel(quantTeamKernel<T, kVec, decltype(tag)::value>, teamGrid, block, 0, stream,
                     x, groupSize, groups, q, scale, scaleColStride);
      };
      withSize<1, 2, 4, 8, 16, 32>(team, launch);
      return cudaGetLastError();
    }
    launchKernel(quantKernel<T>, grid, block, 0, stream, x, groupSize, groups, q, scale,
                 scaleColStride);
    return cudaGetLastError();
  });
}

cudaError_t quantFp8Static(const void *x, ElemType type, int64_t n, const float *scale,
                           uint8_t *q, cudaStream_t stream) {
  if (n == 0)
    return cudaSuccess;
  dim3 block(256), grid(std::min<int64_t>((n + 255) / 256, 132 * 16));
  return withFloatType(type, "quantFp8Static: x must be f32, f16 or bf16", [&](auto t) {
    using T = typename decltype(t)::type;
    launchKernel(quantStaticKernel<T>, grid, block, 0, stream, static_cast<const T *>(x), n, scale,
                 q);
    return cudaGetLastError();
  });
}

cudaError_t rmsNormGatedQuantFp8(RowView x, RowView z, NormParams p, bool normBeforeGate,
                                 int64_t heads, int64_t groupSize, uint8_t *q, float *scale,
                                 int64_t scaleColStride, cudaStream_t stream) {
  if (heads < 1 || x.rows % heads != 0)
    return invalid("rmsNormGatedQuantFp8: rows must be a multiple of the head count");
  if (groupSize < 1 || x.rowLength % groupSize != 0)
    return invalid("rmsNormGatedQuantFp8: group_size must divide the head dim");
  if (x.rows >= (int64_t(1) << 31))
    return invalid("rmsNormGatedQuantFp8: at most 2^31 - 1 head rows (tokens x heads)");
  if (x.rows == 0)
    return cudaSuccess;
  const char *types = "rmsNormGatedQuantFp8: x must be f32, f16 or bf16 and w f32, f16 or bf16";
  return withFloatType(x.type, types, [&](auto t) {
    return withFloatType(p.weightType, types, [&](auto w) {
      return launchGatedQuant<typename decltype(t)::type, typename decltype(w)::type>(
          withRowDivision(x), withRowDivision(z), p, normBeforeGate, heads, groupSize, q, scale,
          scaleColStride, stream);
    });
  });
}

} // namespace llmf::kernels
