//===- NormQuant.cu - norm / add + norm / SiLU-and-mul, then FP8 quant ----===//
//
// The FP8 serving chains in one launch: a block owns a token's row, holds
// it in registers (16-byte vectors, ITEMS a thread), applies the residual
// add (storing residual_out) or SiLU-and-mul, reduces the sum of squares,
// rounds the normalized value to x's type exactly where the unfused graph
// stores it, then quantizes: per group by shuffles within the group's
// lanes (a group of 128 bf16 values is 16 lanes), per token by a block
// reduction, or by a static scale. One read of the inputs, one write of q,
// the scales and the pass-through. Rows the register path cannot hold (a
// row length that is not 32 vectors a warp, odd alignment) take a general
// path that stages the row in shared memory.
//
//===----------------------------------------------------------------------===//

#include "kernels/Common.cuh"
#include "kernels/Fp8.cuh"
#include "kernels/Launch.h"

#include <algorithm>
#include <cstdlib>

namespace llmf::kernels {
namespace {

/// One row a block, in registers. groupShift >= 0: a group is 2^groupShift
/// consecutive lanes (at most 32); -1: the whole row is one group (per
/// token).
template <QuantChainMode MODE, typename T, typename W, int VEC, int ITEMS, bool STATIC,
          bool PASS>
__global__ void __launch_bounds__(1024)
    quantChainRowKernel(QuantChainArgs a, float invD, int groupShift, int64_t groupsPerRow) {
  pdlEnter();
  const int64_t row = blockIdx.x;
  const int t = threadIdx.x, threads = blockDim.x;
  float v[ITEMS][VEC];
  {
    float aux[ITEMS][VEC];
#pragma unroll
    for (int i = 0; i < ITEMS; ++i) {
      const int64_t e = (int64_t(i) * threads + t) * VEC;
      loadVec<T, VEC>(rowPtr<T>(a.x, row) + e, v[i]);
      if constexpr (MODE != QuantChainMode::Norm)
        loadVec<T, VEC>(rowPtr<T>(a.aux, row) + e, aux[i]);
    }
#pragma unroll
    for (int i = 0; i < ITEMS; ++i)
#pragma unroll
      for (int j = 0; j < VEC; ++j) {
        if constexpr (MODE == QuantChainMode::AddNorm)
          v[i][j] = roundTo<T>(v[i][j] + aux[i][j]);
        if constexpr (MODE == QuantChainMode::SiluMul)
          v[i][j] = roundTo<T>(roundTo<T>(siluf(v[i][j])) * aux[i][j]);
      }
  }
  if constexpr (PASS) {
#pragma unroll
    for (int i = 0; i < ITEMS; ++i)
      storeVec<T, VEC>(rowPtr<T>(a.passOut, row) + (int64_t(i) * threads + t) * VEC, v[i]);
  }
  if constexpr (MODE != QuantChainMode::SiluMul) {
    float ss = 0.0f;
#pragma unroll
    for (int i = 0; i < ITEMS; ++i)
#pragma unroll
      for (int j = 0; j < VEC; ++j)
        ss += v[i][j] * v[i][j];
    const float rs = rmsScale(blockSum(ss), invD, a.p.epsilon);
#pragma unroll
    for (int i = 0; i < ITEMS; ++i) {
      // After the reduction: loading the weight with the row measured
      // slower on the H200 (T = 1: 2.77 against 2.59 us; docs/fp8.md).
      float w[VEC];
      loadVec<W, VEC>(static_cast<const W *>(a.p.weight) + (int64_t(i) * threads + t) * VEC, w);
#pragma unroll
      for (int j = 0; j < VEC; ++j)
        v[i][j] = (v[i][j] * rs) * (w[j] + a.p.weightBias);
#pragma unroll
      for (int j = 0; j < VEC; j += 2)
        roundPairTo<T>(v[i][j], v[i][j + 1]);
    }
  }
  float s[ITEMS];
  if constexpr (STATIC) {
    const float st = *a.staticScale;
#pragma unroll
    for (int i = 0; i < ITEMS; ++i)
      s[i] = st;
  } else {
    float amax[ITEMS];
#pragma unroll
    for (int i = 0; i < ITEMS; ++i) {
      amax[i] = 0.0f;
#pragma unroll
      for (int j = 0; j < VEC; ++j)
        amax[i] = maxNaN(amax[i], fabsf(v[i][j]));
    }
    const int groupLanes = groupShift >= 0 ? 1 << groupShift : 0;
    if (groupLanes > 0) {
#pragma unroll
      for (int i = 0; i < ITEMS; ++i)
        amax[i] = groupMaxNaN(amax[i], groupLanes);
    } else {
      float m = 0.0f;
#pragma unroll
      for (int i = 0; i < ITEMS; ++i)
        m = maxNaN(m, amax[i]);
      m = blockMaxNaN(m);
#pragma unroll
      for (int i = 0; i < ITEMS; ++i)
        amax[i] = m;
    }
#pragma unroll
    for (int i = 0; i < ITEMS; ++i) {
      s[i] = groupScale(amax[i], isnan(amax[i]));
      if (groupLanes > 0) {
        if ((t & (groupLanes - 1)) == 0)
          storeGroupScale(a.scale, row, (i * threads + t) >> groupShift, groupsPerRow,
                          a.x.rows, a.scaleColumnStride, s[i]);
      } else if (t == 0 && i == 0) {
        storeGroupScale(a.scale, row, 0, 1, a.x.rows, a.scaleColumnStride, s[i]);
      }
    }
  }
  const int64_t d = a.x.rowLength;
#pragma unroll
  for (int i = 0; i < ITEMS; ++i) {
    uint32_t words[VEC / 4];
    groupCodes(v[i], s[i], words);
    uint8_t *qr = a.q + row * d + (int64_t(i) * threads + t) * VEC;
    if constexpr (VEC == 8)
      *reinterpret_cast<uint2 *>(qr) = make_uint2(words[0], words[1]);
    else
      *reinterpret_cast<uint32_t *>(qr) = words[0];
  }
}

/// SiLU-and-mul + FP8 per group (or static): nothing spans a row, so a team
/// of TEAM lanes (one 16-byte vector each) owns a group of TEAM * VEC values
/// and a flat grid of 256-thread blocks covers every (row, group). A block
/// per row would leave long MLP rows (I = 14336: 896 threads of many
/// registers) at one block an SM, and one SM at T = 1. Static scales run
/// TEAM = 1 over chunks of one vector.
template <typename T, int VEC, int TEAM, bool STATIC>
__global__ void __launch_bounds__(256)
    siluMulQuantTeamKernel(QuantChainArgs a, int64_t groupSize, int64_t groups) {
  pdlEnter();
  const int lane = threadIdx.x % TEAM;
  const int64_t rows = a.x.rows;
  const int64_t id = int64_t(blockIdx.x) * (blockDim.x / TEAM) + threadIdx.x / TEAM;
  const bool active = id < rows * groups;
  const int64_t row = active ? id / groups : 0, grp = active ? id % groups : 0;
  const int64_t e = grp * groupSize + int64_t(lane) * VEC;
  float v[VEC], amax = 0.0f;
  if (active) {
    float u[VEC];
    loadVec<T, VEC>(rowPtr<T>(a.x, row) + e, v);
    loadVec<T, VEC>(rowPtr<T>(a.aux, row) + e, u);
#pragma unroll
    for (int j = 0; j < VEC; ++j) {
      v[j] = roundTo<T>(roundTo<T>(siluf(v[j])) * u[j]);
      amax = maxNaN(amax, fabsf(v[j]));
    }
  }
  float s;
  if constexpr (STATIC) {
    s = *a.staticScale;
  } else {
    amax = teamMaxNaN(amax, TEAM); // every lane takes part: inactive ones return after
    s = groupScale(amax, isnan(amax));
  }
  if (!active)
    return;
  uint32_t words[VEC / 4];
  groupCodes(v, s, words);
  uint8_t *qr = a.q + row * a.x.rowLength + e;
  if constexpr (VEC == 8)
    *reinterpret_cast<uint2 *>(qr) = make_uint2(words[0], words[1]);
  else
    *reinterpret_cast<uint32_t *>(qr) = words[0];
  if (!STATIC && lane == 0)
    storeGroupScale(a.scale, row, grp, groups, rows, a.scaleColumnStride, s);
}

/// The general path: a block per row, the row staged in shared memory as
/// floats (the value before quantization, rounded to x's type), then a warp
/// per group.
template <QuantChainMode MODE, typename T, typename W>
__global__ void quantChainGeneralKernel(QuantChainArgs a, float invD, int64_t groupSize) {
  pdlEnter();
  extern __shared__ float buf[];
  const int64_t row = blockIdx.x, d = a.x.rowLength;
  const T *xr = rowPtr<T>(a.x, row);
  float ss = 0.0f;
  for (int64_t e = threadIdx.x; e < d; e += blockDim.x) {
    float v = toFloat(xr[e]);
    if constexpr (MODE == QuantChainMode::AddNorm)
      v = roundTo<T>(v + toFloat(rowPtr<T>(a.aux, row)[e]));
    if constexpr (MODE == QuantChainMode::SiluMul)
      v = roundTo<T>(roundTo<T>(siluf(v)) * toFloat(rowPtr<T>(a.aux, row)[e]));
    if (a.passOut.data)
      rowPtr<T>(a.passOut, row)[e] = fromFloat<T>(v);
    buf[e] = v;
    ss += v * v;
  }
  if constexpr (MODE != QuantChainMode::SiluMul) {
    const float rs = rmsScale(blockSum(ss), invD, a.p.epsilon);
    const W *w = static_cast<const W *>(a.p.weight);
    for (int64_t e = threadIdx.x; e < d; e += blockDim.x)
      buf[e] = roundTo<T>((buf[e] * rs) * (toFloat(w[e]) + a.p.weightBias));
  }
  __syncthreads();
  if (groupSize == 0) {
    GroupDivider div(*a.staticScale);
    for (int64_t e = threadIdx.x; e < d; e += blockDim.x)
      a.q[row * d + e] = toFp8(div(buf[e]));
    return;
  }
  const int64_t groups = d / groupSize;
  const int warps = blockDim.x / 32, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  for (int64_t g = warp; g < groups; g += warps) {
    float s = quantGroupWarp(buf + g * groupSize, groupSize, a.q + row * d + g * groupSize, lane);
    if (lane == 0)
      storeGroupScale(a.scale, row, g, groups, a.x.rows, a.scaleColumnStride, s);
  }
}

bool aligned16(const void *p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

bool rowsAligned(const RowView &v, size_t elem) {
  return !v.data || (aligned16(v.data) && (v.rowLength * elem) % 16 == 0 &&
                     (v.groupStride * elem) % 16 == 0);
}

template <QuantChainMode MODE, typename T, typename W>
cudaError_t launchQuantChain(QuantChainArgs a, cudaStream_t stream) {
  constexpr int kVec = 16 / sizeof(T);
  const int64_t d = a.x.rowLength, rows = a.x.rows;
  const float invD = 1.0f / float(d);
  const bool isStatic = a.groupSize == 0, pass = a.passOut.data != nullptr;
  // The register path: 32 lanes' vectors divide the row into ITEMS per
  // thread at <= 512 threads; groups are a power-of-two number of vectors
  // up to 32 lanes, or the row.
  int items = 0;
  static const int64_t maxThreads = [] {
    const char *cap = std::getenv("LLMF_NORM_QUANT_THREADS");
    return cap ? int64_t(std::atoi(cap)) : int64_t(1024);
  }();
  if (d % (kVec * 32) == 0)
    for (int it : {1, 2, 4, 8})
      if ((d / kVec) % it == 0 && (d / kVec / it) % 32 == 0 && d / kVec / it <= maxThreads) {
        items = it;
        break;
      }
  int groupShift = -1;
  bool groupsFit = isStatic || a.groupSize == d;
  if (!isStatic && a.groupSize != d && a.groupSize % kVec == 0) {
    int64_t lanes = a.groupSize / kVec;
    if (lanes <= 32 && (lanes & (lanes - 1)) == 0) {
      groupShift = __builtin_ctzll(uint64_t(lanes));
      groupsFit = true;
    }
  }
  const bool regs = items > 0 && groupsFit && rowsAligned(a.x, sizeof(T)) &&
                    rowsAligned(a.aux, sizeof(T)) && rowsAligned(a.passOut, sizeof(T)) &&
                    (MODE == QuantChainMode::SiluMul || aligned16(a.p.weight)) &&
                    aligned16(a.q) && (d % 16) == 0;
  // SiLU-and-mul by groups of a power-of-two number of vectors (or static):
  // the flat team grid, except where a block per row holds its row in one
  // item a thread and the rows fill the GPU (H200, 2026-12-02, I = 8192:
  // 58 vs 62 us at T = 4096, 213 vs 229 us at 16384; the team grid wins at
  // T = 1, 3.1 vs 2.0 us, and at I = 14336 everywhere: docs/fp8.md).
  const bool rowsFill = items == 1 && rows > int64_t(std::max(smCount(), 1));
  const bool siluTeams = MODE == QuantChainMode::SiluMul && (isStatic || groupShift >= 0) &&
                         !rowsFill && d % kVec == 0 && rowsAligned(a.x, sizeof(T)) &&
                         rowsAligned(a.aux, sizeof(T)) && aligned16(a.q);
  if (siluTeams) {
    const int team = isStatic ? 1 : 1 << groupShift;
    const int64_t groupSize = isStatic ? kVec : a.groupSize, groups = d / groupSize;
    const int64_t threads = rows * groups * team;
    if (threads / team / groups != rows || threads > (int64_t(1) << 31) * 255)
      return invalid("quantChainFp8: too many SiLU-and-mul groups for one launch");
    dim3 grid(unsigned((threads + 255) / 256));
    auto launch = [&](auto teamTag) {
      constexpr int kTeam = decltype(teamTag)::value;
      if (isStatic)
        launchKernel(siluMulQuantTeamKernel<T, kVec, 1, true>, grid, 256, 0, stream, a,
                     groupSize, groups);
      else
        launchKernel(siluMulQuantTeamKernel<T, kVec, kTeam, false>, grid, 256, 0, stream, a,
                     groupSize, groups);
    };
    withSize<1, 2, 4, 8, 16, 32>(team, launch);
    return cudaGetLastError();
  }
  if (regs) {
    const int threads = int(d / kVec / items);
    const int64_t groupsPerRow = isStatic ? 1 : d / a.groupSize;
    auto launch = [&](auto itemsTag, auto staticTag, auto passTag) {
      launchKernel(quantChainRowKernel<MODE, T, W, kVec, decltype(itemsTag)::value,
                                       decltype(staticTag)::value, decltype(passTag)::value>,
                   dim3(unsigned(rows)), threads, 0, stream, a, invD, groupShift, groupsPerRow);
    };
    auto withFlags = [&](auto itemsTag) {
      using B0 = std::false_type;
      using B1 = std::true_type;
      if (isStatic)
        pass ? launch(itemsTag, B1{}, B1{}) : launch(itemsTag, B1{}, B0{});
      else
        pass ? launch(itemsTag, B0{}, B1{}) : launch(itemsTag, B0{}, B0{});
    };
    withSize<1, 2, 4, 8>(items, withFlags);
    return cudaGetLastError();
  }
  const size_t smem = size_t(d) * sizeof(float);
  if (smem > 200 * 1024)
    return invalid("quantChainFp8: off the register path (rows of 32-vector multiples, groups "
                   "of a power-of-two number of vectors up to 32 or the whole row), a row "
                   "must fit in 200 KiB of shared memory");
  auto kernel = quantChainGeneralKernel<MODE, T, W>;
  if (smem > 48 * 1024)
    cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
  launchKernel(kernel, dim3(unsigned(rows)), 256, smem, stream, a, invD, a.groupSize);
  return cudaGetLastError();
}

} // namespace

cudaError_t quantChainFp8(QuantChainMode mode, QuantChainArgs a, cudaStream_t stream) {
  const int64_t d = a.x.rowLength;
  if (a.groupSize < 0 || (a.groupSize > 0 && d % a.groupSize != 0))
    return invalid("quantChainFp8: group_size must divide the row length");
  if (a.groupSize == 0 && !a.staticScale)
    return invalid("quantChainFp8: a static chain needs its scale");
  if (mode == QuantChainMode::AddNorm && !a.passOut.data)
    return invalid("quantChainFp8: add + norm writes residual_out");
  if (a.x.rows >= (int64_t(1) << 31))
    return invalid("quantChainFp8: at most 2^31 - 1 rows");
  if (a.x.rows == 0 || d == 0)
    return cudaSuccess;
  a.x = withRowDivision(a.x);
  if (a.aux.data)
    a.aux = withRowDivision(a.aux);
  if (a.passOut.data)
    a.passOut = withRowDivision(a.passOut);
  const char *types = "quantChainFp8: x must be f32, f16 or bf16 and w f32, f16 or bf16";
  return withFloatType(a.x.type, types, [&](auto t) {
    using T = typename decltype(t)::type;
    if (mode == QuantChainMode::SiluMul)
      return launchQuantChain<QuantChainMode::SiluMul, T, T>(a, stream);
    return withFloatType(a.p.weightType, types, [&](auto w) {
      using W = typename decltype(w)::type;
      return mode == QuantChainMode::AddNorm
                 ? launchQuantChain<QuantChainMode::AddNorm, T, W>(a, stream)
                 : launchQuantChain<QuantChainMode::Norm, T, W>(a, stream);
    });
  });
}

} // namespace llmf::kernels
