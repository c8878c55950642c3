//===- Norm.cu - the RMSNorm family: plain, residual add, gated, Q/K ------===//
//
// One kernel template serves every norm: a team of threads owns a row, holds
// it in registers (16-byte vectors when the layout allows), reduces the sum
// of squares within the team (shuffles for teams of <= 32 lanes, the block
// for larger rows), and writes the row once. Rows longer than the register
// cache (or not vectorizable) take a two-pass path that re-reads the row.
//
//===----------------------------------------------------------------------===//

#include "kernels/Common.cuh"
#include "kernels/Launch.h"
#include "kernels/Tuning.h"

#include <type_traits>

namespace llmf::kernels {
namespace {

enum class NormMode { Plain, Add, GatedBefore, GatedAfter };

struct NormArgs {
  RowView x, aux, y, auxOut; // aux: residual (Add) or z (Gated)
  RowView x2, y2;            // a second tensor (q/k): rows past x.rows
  NormParams p, p2;
  int64_t totalRows;
  float invD; // 1 / row length, for rmsScale
};

/// Row `row` of the launch: a row of x, or (past x.rows) of the second
/// tensor, with its output and norm parameters.
struct SelectedRow {
  RowView x, y;
  NormParams p;
  int64_t r;
};
__device__ __forceinline__ SelectedRow selectRow(const NormArgs &a, int64_t row) {
  if (row >= a.x.rows)
    return SelectedRow{a.x2, a.y2, a.p2, row - a.x.rows};
  return SelectedRow{a.x, a.y, a.p, row};
}

template <typename W>
__device__ __forceinline__ float weightAt(const NormParams &p, int64_t i) {
  return toFloat(static_cast<const W *>(p.weight)[i]) + p.weightBias;
}

/// Reduces within the row's team: a warp slice (TEAM <= 32) or the block.
template <int TEAM> __device__ __forceinline__ float rowSum(float v) {
  if constexpr (TEAM > 0)
    return teamSum(v, TEAM);
  else
    return blockSum(v);
}

/// TEAM > 0: a team of TEAM lanes owns ITEMS consecutive rows (a vector of
/// each per lane: more loads in flight per thread), several teams a block.
/// TEAM == 0: the block owns one row, ITEMS vectors of it per thread. The
/// weight (an L2 hit) is read after the reduction. Loading it with the row
/// cost registers, hence resident blocks, at large T, and was slower at
/// small T too (H100: add + RMSNorm D=4096 T=32 3.82 vs 3.61 us, Q/K T=32
/// 2.85 vs 2.54). One step: the rows of block index `blk`.
template <NormMode MODE, typename T, typename W, int N, int ITEMS, int TEAM>
__device__ __forceinline__ void normStep(const NormArgs &a, int64_t blk) {
  constexpr bool kTeam = TEAM > 0;
  const int teamSize = kTeam ? TEAM : blockDim.x;
  const int lane = kTeam ? threadIdx.x % TEAM : threadIdx.x;
  const int64_t d = a.x.rowLength;
  const int64_t base = kTeam ? (blk * (blockDim.x / TEAM) + threadIdx.x / TEAM) * ITEMS : blk;
  auto rowOf = [&](int i) { return kTeam ? base + i : base; };
  auto colOf = [&](int i) { return (int64_t(lane) + (kTeam ? 0 : int64_t(i) * teamSize)) * N; };
  auto active = [&](int i) { return rowOf(i) < a.totalRows && colOf(i) < d; };
  // Every load of every item first: the residual store below may alias x
  // for all the compiler knows, so loads after it would wait for it.
  float v[ITEMS][N], aux[ITEMS][N], ss[ITEMS];
#pragma unroll
  for (int i = 0; i < ITEMS; ++i) {
    if (!active(i))
      continue;
    const SelectedRow sel = selectRow(a, rowOf(i));
    const int64_t e = colOf(i);
    loadVec<T, N>(rowPtr<T>(sel.x, sel.r) + e, v[i]);
    if constexpr (MODE != NormMode::Plain)
      loadVec<T, N>(rowPtr<T>(a.aux, sel.r) + e, aux[i]);
  }
  // aux becomes silu(z) in the gated modes.
#pragma unroll
  for (int i = 0; i < ITEMS; ++i) {
    ss[i] = 0.0f;
    if (!active(i))
      continue;
#pragma unroll
    for (int j = 0; j < N; ++j) {
      if constexpr (MODE == NormMode::Add)
        v[i][j] = roundTo<T>(v[i][j] + aux[i][j]);
      if constexpr (MODE == NormMode::GatedBefore || MODE == NormMode::GatedAfter)
        aux[i][j] = siluf(aux[i][j]);
      if constexpr (MODE == NormMode::GatedAfter)
        v[i][j] *= aux[i][j];
      ss[i] += v[i][j] * v[i][j];
    }
    if constexpr (MODE == NormMode::Add)
      storeVec<T, N>(rowPtr<T>(a.auxOut, selectRow(a, rowOf(i)).r) + colOf(i), v[i]);
  }
  if constexpr (kTeam) {
#pragma unroll
    for (int i = 0; i < ITEMS; ++i)
      ss[i] = teamSum(ss[i], TEAM);
  } else {
    float total = 0.0f;
#pragma unroll
    for (int i = 0; i < ITEMS; ++i)
      total += ss[i];
    total = blockSum(total);
#pragma unroll
    for (int i = 0; i < ITEMS; ++i)
      ss[i] = total;
  }
#pragma unroll
  for (int i = 0; i < ITEMS; ++i) {
    if (!active(i))
      continue;
    const SelectedRow sel = selectRow(a, rowOf(i));
    float scale = rmsScale(ss[i], a.invD, sel.p.epsilon);
    float out[N], w[N];
    loadVec<W, N>(static_cast<const W *>(sel.p.weight) + colOf(i), w);
#pragma unroll
    for (int j = 0; j < N; ++j) {
      out[j] = (v[i][j] * scale) * (w[j] + sel.p.weightBias);
      if constexpr (MODE == NormMode::GatedBefore)
        out[j] *= aux[i][j];
    }
    storeVec<T, N>(rowPtr<T>(sel.y, sel.r) + colOf(i), out);
  }
}

/// The norm kernel: one step per block, or (PERSISTENT, a grid smaller than
/// the rows) a stride over the steps. MIN_BLOCKS > 1 bounds registers for
/// that many 256-thread team blocks an SM (a sweep option). The
/// loop's trip count is the block's, so every lane of a warp reaches the
/// team reductions. Only the sweep launches the persistent form: its loop
/// costs registers (32 -> 53 for add + RMSNorm at 512 threads), hence
/// resident blocks. Compiled for the threads it launches with: the block
/// path up to 1024 (at most 64 registers; 4 vectors a thread in the gated
/// modes would otherwise take up to 111 registers and fail to launch),
/// teams 256 (the 1024 bound cost the Q/K kernel a register). One vector a
/// thread stays at 32 registers, as on main, where add + RMSNorm at 512
/// threads keeps 4 blocks an SM (the step function alone took 35).
template <NormMode MODE, typename T, typename W, int N, int ITEMS, int TEAM, bool PERSISTENT,
          int MIN_BLOCKS = 1>
__global__ void __launch_bounds__(
    TEAM > 0 ? 256 : 1024,
    TEAM == 0 && ITEMS == 1 && MODE != NormMode::GatedBefore ? 2 : MIN_BLOCKS)
    normKernel(NormArgs a) {
  pdlEnter();
  if constexpr (!PERSISTENT) {
    normStep<MODE, T, W, N, ITEMS, TEAM>(a, blockIdx.x);
  } else {
    const int64_t rowsPerBlock = TEAM > 0 ? int64_t(blockDim.x / TEAM) * ITEMS : 1;
    for (int64_t blk = blockIdx.x; blk * rowsPerBlock < a.totalRows; blk += gridDim.x)
      normStep<MODE, T, W, N, ITEMS, TEAM>(a, blk);
  }
}

/// Any row length, any layout: two passes, the second re-reads the row
/// (from L2). One row per block.
template <NormMode MODE, typename T, typename W>
__global__ void normKernelLong(NormArgs a) {
  pdlEnter();
  int64_t row = blockIdx.x;
  const SelectedRow sel = selectRow(a, row);
  const RowView &x = sel.x, &y = sel.y;
  const NormParams &p = sel.p;
  const int64_t r = sel.r;
  int64_t d = x.rowLength;
  const T *xr = rowPtr<T>(x, r);
  auto value = [&](int64_t e) {
    float v = toFloat(xr[e]);
    if constexpr (MODE == NormMode::Add)
      v = roundTo<T>(v + toFloat(rowPtr<T>(a.aux, r)[e]));
    if constexpr (MODE == NormMode::GatedAfter)
      v *= siluf(toFloat(rowPtr<T>(a.aux, r)[e]));
    return v;
  };
  float ss = 0.0f;
  for (int64_t e = threadIdx.x; e < d; e += blockDim.x) {
    float v = value(e);
    ss += v * v;
  }
  ss = blockSum(ss);
  float scale = rmsScale(ss, a.invD, p.epsilon);
  // Residual outputs are written after every thread has read its inputs:
  // residual_out may alias nothing, but x and residual are only read above.
  T *yr = rowPtr<T>(y, r);
  for (int64_t e = threadIdx.x; e < d; e += blockDim.x) {
    float v = value(e);
    if constexpr (MODE == NormMode::Add)
      rowPtr<T>(a.auxOut, r)[e] = fromFloat<T>(v);
    float out = (v * scale) * weightAt<W>(p, e);
    if constexpr (MODE == NormMode::GatedBefore)
      out *= siluf(toFloat(rowPtr<T>(a.aux, r)[e]));
    yr[e] = fromFloat<T>(out);
  }
}

/// True when every row of v starts on a 16-byte boundary and holds whole
/// 16-byte vectors.
bool vectorizable(const RowView &v, size_t elemSize) {
  if (!v.data)
    return true;
  size_t bytes = 16;
  return reinterpret_cast<uintptr_t>(v.data) % bytes == 0 &&
         (v.rowLength * elemSize) % bytes == 0 && (v.groupStride * elemSize) % bytes == 0;
}

NormTuning gTuning;

/// Threads per row for the block-per-row path: a vector a thread up to 1024
/// threads. Measured on an H100 (docs/gpu-kernels.md): with 128 threads of
/// 4 vectors instead of 512 of one, add + RMSNorm at D = 4096 ran 1.3x
/// (T >= 4096) to 2x (T <= 32) slower.
int64_t rowThreads(int64_t vectors) {
  if (gTuning.rowThreads > 0)
    return gTuning.rowThreads;
  return std::min<int64_t>(1024, (vectors + 31) / 32 * 32);
}

/// Blocks to launch for `steps` block steps: all of them, or with
/// gTuning.blocksPerSm a persistent grid of that many blocks per SM that
/// strides over the steps (one row a team, or one vector a thread).
int64_t cappedGrid(int64_t steps) {
  if (gTuning.blocksPerSm <= 0 || smCount() == 0)
    return steps;
  return std::min<int64_t>(steps, int64_t(smCount()) * gTuning.blocksPerSm);
}

template <NormMode MODE, typename T, typename W, int N>
cudaError_t launchCached(const NormArgs &a, int64_t vectors, cudaStream_t s) {
  if (a.totalRows == 0)
    return cudaSuccess;
  // Short rows: a team of <= 32 lanes per row, 256 threads per block, one
  // row a team (two measured slower on Q/K norm).
  if (vectors <= 32) {
    int team = 4;
    while (team < vectors)
      team *= 2;
    int64_t teamsPerBlock = 256 / team;
    int rows = gTuning.teamRows == 2 ? 2 : 1;
    dim3 grid(rows == 1 ? cappedGrid((a.totalRows + teamsPerBlock - 1) / teamsPerBlock)
                        : (a.totalRows + teamsPerBlock * 2 - 1) / (teamsPerBlock * 2));
    bool persistent = gTuning.blocksPerSm > 0;
    auto launch = [&](auto tag) {
      constexpr int kTeam = decltype(tag)::value;
      if (rows == 2)
        launchKernel(normKernel<MODE, T, W, N, 2, kTeam, false>, grid, 256, 0, s, a);
      else if (gTuning.teamRegisterBound) // 32 registers: 8 blocks an SM, some spills
        launchKernel(normKernel<MODE, T, W, N, 1, kTeam, false, 8>, grid, 256, 0, s, a);
      else if (persistent)
        launchKernel(normKernel<MODE, T, W, N, 1, kTeam, true>, grid, 256, 0, s, a);
      else
        launchKernel(normKernel<MODE, T, W, N, 1, kTeam, false>, grid, 256, 0, s, a);
    };
    withSize<4, 8, 16, 32>(team, launch);
    return cudaGetLastError();
  }
  // One row per block, up to 4 vectors per thread in registers.
  int64_t threads = rowThreads(vectors);
  int64_t items = (vectors + threads - 1) / threads;
  dim3 grid(a.totalRows);
  if (items == 1 && gTuning.blocksPerSm > 0) { // the sweep's persistent form
    launchKernel(normKernel<MODE, T, W, N, 1, 0, true>, dim3(cappedGrid(a.totalRows)), threads, 0,
                 s, a);
    return cudaGetLastError();
  }
  switch (items) {
  case 1: launchKernel(normKernel<MODE, T, W, N, 1, 0, false>, grid, threads, 0, s, a); break;
  case 2: launchKernel(normKernel<MODE, T, W, N, 2, 0, false>, grid, threads, 0, s, a); break;
  case 3: launchKernel(normKernel<MODE, T, W, N, 3, 0, false>, grid, threads, 0, s, a); break;
  case 4: launchKernel(normKernel<MODE, T, W, N, 4, 0, false>, grid, threads, 0, s, a); break;
  // Wider rows (over 4096 vectors) re-read from L2: 8 vectors a thread
  // spilled up to 876 bytes at the 64 registers 1024 threads allow.
  default: launchKernel(normKernelLong<MODE, T, W>, grid, 512, 0, s, a); break;
  }
  return cudaGetLastError();
}

bool weightVectorizable(const NormParams &p, int64_t d, size_t elemSize) {
  return !p.weight || (reinterpret_cast<uintptr_t>(p.weight) % 16 == 0 &&
                       (d * elemSize) % 16 == 0);
}

template <NormMode MODE, typename T, typename W>
cudaError_t launchTyped(const NormArgs &a, cudaStream_t s) {
  constexpr int kVec = 16 / sizeof(T);
  bool vec = weightVectorizable(a.p, a.x.rowLength, sizeof(W)) &&
             weightVectorizable(a.p2, a.x.rowLength, sizeof(W)) &&
             vectorizable(a.x, sizeof(T)) && vectorizable(a.y, sizeof(T)) &&
             vectorizable(a.aux, sizeof(T)) && vectorizable(a.auxOut, sizeof(T)) &&
             vectorizable(a.x2, sizeof(T)) && vectorizable(a.y2, sizeof(T));
  int64_t d = a.x.rowLength;
  if (vec)
    return launchCached<MODE, T, W, kVec>(a, (d + kVec - 1) / kVec, s);
  return launchCached<MODE, T, W, 1>(a, d, s);
}

template <NormMode MODE>
cudaError_t launchNorm(const NormArgs &a, cudaStream_t s) {
  if (a.totalRows >= (int64_t(1) << 31))
    return invalid("norm: at most 2^31 - 1 rows per launch");
  if (a.x2.rows > 0 && (a.x2.rowLength != a.x.rowLength || a.x2.type != a.x.type ||
                        a.p2.weightType != a.p.weightType))
    return invalid("qkRmsNorm: q and k need one head dim and element types");
  const char *types = "norm: x must be f32, f16 or bf16 and w f32, f16 or bf16";
  NormArgs b = a;
  for (RowView *v : {&b.x, &b.aux, &b.y, &b.auxOut, &b.x2, &b.y2})
    *v = withRowDivision(*v);
  b.invD = 1.0f / float(a.x.rowLength);
  return withFloatType(a.x.type, types, [&](auto t) {
    return withFloatType(a.p.weightType, types, [&](auto w) {
      return launchTyped<MODE, typename decltype(t)::type, typename decltype(w)::type>(b, s);
    });
  });
}

NormArgs makeArgs(RowView x, NormParams p, RowView y) {
  NormArgs a{};
  a.x = x;
  a.y = y;
  a.p = p;
  a.totalRows = x.rows;
  return a;
}

} // namespace

void setNormTuning(NormTuning t) { gTuning = t; }

cudaError_t rmsNorm(RowView x, NormParams p, RowView y, cudaStream_t stream) {
  return launchNorm<NormMode::Plain>(makeArgs(x, p, y), stream);
}

cudaError_t addRmsNorm(RowView x, RowView residual, NormParams p, RowView y,
                       RowView residualOut, cudaStream_t stream) {
  NormArgs a = makeArgs(x, p, y);
  a.aux = residual;
  a.auxOut = residualOut;
  return launchNorm<NormMode::Add>(a, stream);
}

cudaError_t rmsNormGated(RowView x, RowView z, NormParams p, bool normBeforeGate, RowView y,
                         cudaStream_t stream) {
  NormArgs a = makeArgs(x, p, y);
  a.aux = z;
  return normBeforeGate ? launchNorm<NormMode::GatedBefore>(a, stream)
                        : launchNorm<NormMode::GatedAfter>(a, stream);
}

cudaError_t qkRmsNorm(RowView q, RowView k, NormParams pq, NormParams pk, RowView qOut,
                      RowView kOut, cudaStream_t stream) {
  NormArgs a = makeArgs(q, pq, qOut);
  a.x2 = k;
  a.y2 = kOut;
  a.p2 = pk;
  a.totalRows = q.rows + k.rows;
  return launchNorm<NormMode::Plain>(a, stream);
}

} // namespace llmf::kernels
