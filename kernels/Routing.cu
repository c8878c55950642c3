//===- Routing.cu - MoE routing (grouped top-k, the fused router) ---------===//
//
// Routing: one warp per token. Lane l holds experts l, l + 32, ... in
// registers (coalesced loads, E <= 32 * 16 = 512). Group scores (sum of the
// two largest biased values) come from a per-warp copy in shared memory and
// are skipped when every group is kept. Selection is topk rounds of a warp
// argmax under the spec's ranking (NaN first, ties to the lower index), so
// the ids come out in descending order of biased. At small token counts a
// block per token (a thread per expert) shortens the dependent chain that a
// single warp's serial picks make: see routeBlockKernel.
//
//===----------------------------------------------------------------------===//

#include "kernels/Common.cuh"
#include "kernels/Launch.h"
#include "kernels/Tuning.h"

namespace llmf::kernels {
namespace {

constexpr int kMaxPerLane = 16;
constexpr int kWarpsPerBlock = 4;
constexpr int kMaxGroups = 64;
/// Token counts up to which a block per token routes (routeBlockKernel):
/// the grid is then at most about two blocks an SM.
constexpr int64_t kBlockPerTokenUpTo = 256;

RoutingTuning gRoutingTuning;

template <typename T> __device__ __forceinline__ float loadElem(const void *base, int64_t i) {
  return toFloat(static_cast<const T *>(base)[i]);
}

/// FUSED: `src` holds logits of type T (sigmoid and + bias here); else
/// `src` holds f32 scores and `biasedView` the f32 biased values.
template <typename T, bool FUSED, int PER>
__global__ void routeKernel(RowView src, RowView biasedView, const float *bias, RoutingParams p,
                            float *weights, int32_t *ids) {
  pdlEnter();
  extern __shared__ float smem[];
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  int64_t token = int64_t(blockIdx.x) * kWarpsPerBlock + warp;
  if (token >= src.rows)
    return; // whole warps leave together
  int e = int(src.rowLength);
  int groupSize = e / int(p.nGroup);
  float s[PER], b[PER];
  const T *row = rowPtr<T>(src, token);
  const float *brow = FUSED ? bias : rowPtr<float>(biasedView, token);
  // Issue every load before the first use: one memory latency, not PER.
  T raw[PER];
  float rawBias[PER];
#pragma unroll
  for (int i = 0; i < PER; ++i) {
    int x = min(lane + 32 * i, e - 1); // clamped: in bounds, value unused past e
    raw[i] = row[x];
    rawBias[i] = brow[x];
  }
#pragma unroll
  for (int i = 0; i < PER; ++i) {
    if constexpr (FUSED) {
      s[i] = sigmoidf(toFloat(raw[i]));
      b[i] = s[i] + rawBias[i];
    } else {
      s[i] = toFloat(raw[i]);
      b[i] = rawBias[i];
    }
  }
  // Kept groups: all of them, or the topk_group best by top-2 sum.
  uint64_t kept = p.topkGroup >= p.nGroup ? ~0ull : 0ull;
  if (!kept) {
    float *buf = smem + warp * e;
#pragma unroll
    for (int i = 0; i < PER; ++i)
      if (lane + 32 * i < e)
        buf[lane + 32 * i] = b[i];
    __syncwarp();
    uint64_t groupKeys[kMaxGroups / 32];
#pragma unroll
    for (int j = 0; j < kMaxGroups / 32; ++j) {
      int g = lane + 32 * j;
      groupKeys[j] = 0;
      if (g >= p.nGroup)
        continue;
      // The two largest values of the group (ranking keys, so NaN counts).
      uint64_t k1 = 0, k2 = 0;
      for (int k = 0; k < groupSize; ++k) {
        uint64_t key = rankKey(buf[g * groupSize + k], k);
        uint64_t lo = key > k1 ? k1 : key;
        k1 = key > k1 ? key : k1;
        k2 = lo > k2 ? lo : k2;
      }
      float v1 = keyValue(k1), v2 = keyValue(k2);
      groupKeys[j] = rankKey(groupSize == 1 ? v1 : v1 + v2, g);
    }
    for (int round = 0; round < p.topkGroup; ++round) {
      uint64_t best = 0;
#pragma unroll
      for (int j = 0; j < kMaxGroups / 32; ++j)
        best = groupKeys[j] > best ? groupKeys[j] : best;
      best = warpMaxKey(best);
      int g = keyIndex(best);
      kept |= 1ull << g;
#pragma unroll
      for (int j = 0; j < kMaxGroups / 32; ++j)
        if (lane + 32 * j == g)
          groupKeys[j] = 0;
    }
  }
  // Each lane's candidates as keys (0 outside kept groups), then topk rounds
  // of a warp max; the winner's owner clears it.
  uint64_t keys[PER];
#pragma unroll
  for (int i = 0; i < PER; ++i) {
    int x = lane + 32 * i;
    keys[i] = (x < e && (kept >> (x / groupSize) & 1)) ? rankKey(b[i], x) : 0;
  }
  float picked = 0.0f, sum = 0.0f;
  for (int j = 0; j < p.topk; ++j) {
    uint64_t best = 0;
#pragma unroll
    for (int i = 0; i < PER; ++i)
      best = keys[i] > best ? keys[i] : best;
    best = warpMaxKey(best);
    int id = keyIndex(best), owner = id % 32, slot = id / 32;
    float w = 0.0f;
#pragma unroll
    for (int i = 0; i < PER; ++i)
      if (i == slot && lane == owner) {
        w = s[i];
        keys[i] = 0;
      }
    w = __shfl_sync(0xffffffffu, w, owner);
    sum += w; // in id order, as the reference sums
    if (lane == j)
      picked = w;
    if (lane == 0)
      ids[token * p.topk + j] = id;
  }
  // Weights need the final sum; lane j holds weight j (topk <= 32).
  if (lane < p.topk) {
    float w = p.renormalize ? picked / (sum + 1e-20f) : picked;
    weights[token * p.topk + lane] = w * p.routedScalingFactor;
  }
}

/// The sum of a group's two largest values. The group spans `lanes` aligned
/// lanes (a power of two), each holding its own two largest as
/// order-preserving bits (0: none); every lane of the group gets the sum.
/// Equal values give equal sums, so the value bits alone rank them (32-bit
/// compares). A one-expert group's score is its value.
__device__ __forceinline__ float groupTop2Sum(uint32_t k1, uint32_t k2, int lanes,
                                              bool oneExpert) {
  for (int o = 1; o < lanes; o *= 2) {
    uint32_t o1 = __shfl_xor_sync(0xffffffffu, k1, o);
    uint32_t o2 = __shfl_xor_sync(0xffffffffu, k2, o);
    k2 = max(min(k1, o1), max(k2, o2));
    k1 = max(k1, o1);
  }
  return oneExpert ? orderedValue(k1) : orderedValue(k1) + orderedValue(k2);
}

/// Small T: one block per token, one thread per expert (E a multiple of 32,
/// at most 512). A warp per token spends most of its time in one long
/// dependent chain: 8 sigmoids a lane, a sort, then 4 + 8 rounds of warp
/// maxima, one after another. Here every expert's sigmoid runs on its own
/// thread, group selection and both top-k stages are ranks (each candidate
/// counts the candidates that rank before it: independent compares, no
/// rounds), and the chain is: sigmoid, the group's top-2 by shuffles, the
/// group ranks through shared memory, each warp's top-k by a rank within
/// the warp, then the final rank among the warps' top-k lists. Ranking is
/// the spec's: larger first, NaN above everything, ties to the lower index
/// (the 64-bit keys of rankKey, unique per expert). Group selection needs a
/// group to be an aligned run of lanes (a power of two <= 32 experts).
template <typename T, bool FUSED>
__global__ void __launch_bounds__(512)
    routeBlockKernel(RowView src, RowView biasedView, const float *bias, RoutingParams p,
                     float *weights, int32_t *ids) {
  pdlEnter();
  __shared__ float scoreOf[32 * kMaxPerLane];
  __shared__ float groupScore[kMaxGroups];
  __shared__ uint64_t warpBest[kMaxPerLane * 32]; // each warp's top-k keys, by rank
  __shared__ float pickScore[32];
  const int t = threadIdx.x, lane = t % 32, warp = t / 32, warps = blockDim.x / 32;
  const int64_t token = blockIdx.x;
  const int topk = int(p.topk);
  float v = toFloat(rowPtr<T>(src, token)[t]);
  float s = FUSED ? sigmoidf(v) : v;
  float b = FUSED ? s + bias[t] : rowPtr<float>(biasedView, token)[t];
  scoreOf[t] = s;
  uint64_t key = rankKey(b, t);
  if (p.topkGroup < p.nGroup) {
    const int groupSize = int(src.rowLength / p.nGroup), group = t / groupSize;
    float score = groupTop2Sum(uint32_t(key >> 32), 0, groupSize, groupSize == 1);
    if (t % groupSize == 0)
      groupScore[group] = score;
    __syncthreads();
    const uint64_t mine = rankKey(score, group);
    int before = 0;
    for (int h = 0; h < p.nGroup; ++h)
      before += rankKey(groupScore[h], h) > mine;
    // A dropped group's experts are no candidates: a key whose value word
    // is 0 (no float's is) ranks below every candidate and stays unique.
    if (before >= p.topkGroup)
      key = uint64_t(~uint32_t(t));
  }
  // Each warp's top-k: a lane's rank is the number of lanes whose key is
  // larger. Keys are unique and, within a warp, a lower lane has the larger
  // low word, so the value words and the lane order decide: one shuffle a
  // lane. Ranks are a permutation of 0..31: slots 0..topk-1 are each
  // written once.
  const uint32_t hi = uint32_t(key >> 32);
  int rank = 0;
#pragma unroll 8
  for (int l = 0; l < 32; ++l) {
    uint32_t other = __shfl_sync(0xffffffffu, hi, l);
    rank += other > hi || (other == hi && l < lane);
  }
  if (rank < topk)
    warpBest[warp * topk + rank] = key;
  __syncthreads();
  // The final rank among the warps' lists: a thread per listed candidate.
  const int listed = warps * topk;
  if (t < listed) {
    const uint64_t mineKey = warpBest[t];
    int final = 0;
    for (int c = 0; c < listed; ++c)
      final += warpBest[c] > mineKey;
    if ((mineKey >> 32) != 0 && final < topk) {
      int id = keyIndex(mineKey);
      ids[token * topk + final] = id;
      pickScore[final] = scoreOf[id];
    }
  }
  __syncthreads();
  // The sum runs in pick order, as the reference sums.
  if (t < topk) {
    float sum = 0.0f;
    for (int j = 0; j < topk; ++j)
      sum += pickScore[j];
    float w = pickScore[t];
    float out = p.renormalize ? w / (sum + 1e-20f) : w;
    weights[token * topk + t] = out * p.routedScalingFactor;
  }
}

/// Sorts a lane's keys, largest first: the optimal 19-exchange network for
/// 8 keys and 5 for 4; odd-even transposition for other counts.
template <int N> __device__ __forceinline__ void sortDescending(uint64_t (&k)[N]) {
  auto exchange = [&](int i, int j) {
    uint64_t a = k[i], c = k[j];
    k[i] = a > c ? a : c;
    k[j] = a > c ? c : a;
  };
  if constexpr (N == 8) {
    constexpr int kNet[19][2] = {{0, 2}, {1, 3}, {4, 6}, {5, 7}, {0, 4}, {1, 5}, {2, 6},
                                 {3, 7}, {0, 1}, {2, 3}, {4, 5}, {6, 7}, {2, 4}, {3, 5},
                                 {1, 4}, {3, 6}, {1, 2}, {3, 4}, {5, 6}};
#pragma unroll
    for (int e = 0; e < 19; ++e)
      exchange(kNet[e][0], kNet[e][1]);
  } else if constexpr (N == 4) {
    constexpr int kNet[5][2] = {{0, 1}, {2, 3}, {0, 2}, {1, 3}, {1, 2}};
#pragma unroll
    for (int e = 0; e < 5; ++e)
      exchange(kNet[e][0], kNet[e][1]);
  } else {
#pragma unroll
    for (int pass = 0; pass < N; ++pass)
#pragma unroll
      for (int i = pass % 2; i + 1 < N; i += 2)
        exchange(i, i + 1);
  }
}

/// Contiguous layout: lane l holds experts [l * PER, (l + 1) * PER), so a
/// group of G experts is G / PER consecutive lanes (a power of two), a
/// lane's logits are one or two 16-byte loads, and a group's top-2 is a
/// local top-2 plus log2(G / PER) shuffle rounds. Each lane sorts its keys
/// once; every pick is then one warp max over the lanes' heads, and the
/// winner shifts its sorted keys. MIN_BLOCKS = 16 holds a lane to 32
/// registers, so 64 warps (tokens) fit on an SM: 8192 tokens in one wave on
/// 132 SMs instead of a full wave and a thin second one.
template <typename T, bool FUSED, int PER, int MIN_BLOCKS>
__global__ void __launch_bounds__(32 * kWarpsPerBlock, MIN_BLOCKS)
    routeContiguousKernel(RowView src, RowView biasedView, const float *bias, RoutingParams p,
                          int lanesPerGroup, float *weights, int32_t *ids) {
  pdlEnter();
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  int64_t token = int64_t(blockIdx.x) * kWarpsPerBlock + warp;
  if (token >= src.rows)
    return;
  int first = lane * PER;
  const T *row = rowPtr<T>(src, token) + first;
  const float *brow = (FUSED ? bias : rowPtr<float>(biasedView, token)) + first;
  float s[PER], b[PER];
  loadVec<T, PER>(row, s);
  loadVec<float, PER>(brow, b);
#pragma unroll
  for (int i = 0; i < PER; ++i) {
    if constexpr (FUSED) {
      s[i] = sigmoidf(s[i]);
      b[i] = s[i] + b[i];
    }
  }
  uint64_t keys[PER];
#pragma unroll
  for (int i = 0; i < PER; ++i)
    keys[i] = rankKey(b[i], first + i);
  int groupSize = PER * lanesPerGroup;
  int group = lane / lanesPerGroup;
  if (p.topkGroup < p.nGroup) {
    // The lane's two largest biased values, then the group's.
    uint32_t k1 = 0, k2 = 0;
#pragma unroll
    for (int i = 0; i < PER; ++i) {
      uint32_t key = uint32_t(keys[i] >> 32);
      k2 = max(k2, min(k1, key));
      k1 = max(k1, key);
    }
    float score = groupTop2Sum(k1, k2, lanesPerGroup, groupSize == 1);
    uint64_t gkey = lane % lanesPerGroup == 0 ? rankKey(score, group) : 0;
    uint64_t kept = 0;
    for (int round = 0; round < p.topkGroup; ++round) {
      uint64_t best = warpMaxKey(gkey);
      int g = keyIndex(best);
      kept |= 1ull << g;
      if (g == group)
        gkey = 0;
    }
    if (!(kept >> group & 1)) {
#pragma unroll
      for (int i = 0; i < PER; ++i)
        keys[i] = 0;
    }
  }
  sortDescending(keys);
  int myId = 0;
  for (int j = 0; j < p.topk; ++j) {
    uint64_t best = warpMaxKey(keys[0]);
    int id = keyIndex(best);
    if (id / PER == lane) {
#pragma unroll
      for (int i = 0; i + 1 < PER; ++i)
        keys[i] = keys[i + 1];
      keys[PER - 1] = 0;
    }
    if (lane == j)
      myId = id;
  }
  // Lane j < topk re-reads its pick's score (an L1 hit); the sum runs in
  // pick order, as the reference sums.
  float w = 0.0f;
  if (lane < p.topk) {
    float v = toFloat(rowPtr<T>(src, token)[myId]);
    w = FUSED ? sigmoidf(v) : v;
  }
  float sum = 0.0f;
  for (int j = 0; j < p.topk; ++j)
    sum += __shfl_sync(0xffffffffu, w, j);
  if (lane < p.topk) {
    ids[token * p.topk + lane] = myId;
    float out = p.renormalize ? w / (sum + 1e-20f) : w;
    weights[token * p.topk + lane] = out * p.routedScalingFactor;
  }
}

template <typename T, bool FUSED>
cudaError_t launchRoute(RowView src, RowView biased, const float *bias, RoutingParams p,
                        float *w, int32_t *ids, cudaStream_t s) {
  int64_t e = src.rowLength;
  if (e > 32 * kMaxPerLane)
    return invalid("routing: at most 512 experts per token");
  if (p.nGroup < 1 || p.nGroup > kMaxGroups || e % p.nGroup != 0)
    return invalid("routing: n_group must divide the expert count and be <= 64");
  if (p.topk < 1 || p.topk > 32 || p.topkGroup < 1 || p.topkGroup > p.nGroup ||
      p.topk > p.topkGroup * (e / p.nGroup))
    return invalid("routing: needs 1 <= topk <= 32 and <= the experts of the kept groups");
  if (src.rows == 0)
    return cudaSuccess;
  int64_t groupExperts = e / p.nGroup;
  int64_t blockUpTo = gRoutingTuning.blockPerTokenUpTo >= 0 ? gRoutingTuning.blockPerTokenUpTo
                     : p.topkGroup < p.nGroup                ? kBlockPerTokenUpTo / 2
                                                             : kBlockPerTokenUpTo;
  bool groupsAreLaneRuns = p.topkGroup == p.nGroup ||
                           (groupExperts <= 32 && (groupExperts & (groupExperts - 1)) == 0);
  if (src.rows <= blockUpTo && e % 32 == 0 && groupsAreLaneRuns) {
    launchKernel(routeBlockKernel<T, FUSED>, dim3(src.rows), dim3(e), 0, s, src, biased, bias, p,
                 w, ids);
    return cudaGetLastError();
  }
  dim3 grid((src.rows + kWarpsPerBlock - 1) / kWarpsPerBlock), block(32 * kWarpsPerBlock);
  size_t smem = p.topkGroup < p.nGroup ? size_t(kWarpsPerBlock * e) * sizeof(float) : 0;
  int per = int((e + 31) / 32);
  int64_t groupSize = e / p.nGroup;
  bool contiguous = e % 32 == 0 && (per == 4 || per == 8 || per == 12 || per == 16) &&
                    groupSize % per == 0;
  int lanesPerGroup = contiguous ? int(groupSize / per) : 0;
  contiguous = contiguous && (lanesPerGroup & (lanesPerGroup - 1)) == 0 &&
               reinterpret_cast<uintptr_t>(src.data) % 16 == 0 &&
               (src.groupStride * sizeof(T)) % 16 == 0 &&
               (FUSED ? reinterpret_cast<uintptr_t>(bias) % 16 == 0
                      : reinterpret_cast<uintptr_t>(biased.data) % 16 == 0 &&
                            (biased.groupStride * 4) % 16 == 0);
  if (contiguous && src.rowsPerGroup == 1 && (FUSED || biased.rowsPerGroup == 1)) {
    switch (per) {
    case 4:
      launchKernel(gRoutingTuning.unbounded ? routeContiguousKernel<T, FUSED, 4, 1>
                                            : routeContiguousKernel<T, FUSED, 4, 16>,
                   grid, block, 0, s, src, biased, bias, p, lanesPerGroup, w, ids);
      break;
    case 8:
      launchKernel(gRoutingTuning.unbounded ? routeContiguousKernel<T, FUSED, 8, 1>
                                            : routeContiguousKernel<T, FUSED, 8, 16>,
                   grid, block, 0, s, src, biased, bias, p, lanesPerGroup, w, ids);
      break;
    case 12:
      launchKernel(routeContiguousKernel<T, FUSED, 12, 1>, grid, block, 0, s, src, biased, bias, p,
                   lanesPerGroup, w, ids);
      break;
    default:
      launchKernel(routeContiguousKernel<T, FUSED, 16, 1>, grid, block, 0, s, src, biased, bias, p,
                   lanesPerGroup, w, ids);
      break;
    }
    return cudaGetLastError();
  }
  if (per <= 4)
    launchKernel(routeKernel<T, FUSED, 4>, grid, block, smem, s, src, biased, bias, p, w, ids);
  else if (per <= 8)
    launchKernel(routeKernel<T, FUSED, 8>, grid, block, smem, s, src, biased, bias, p, w, ids);
  else if (per <= 12)
    launchKernel(routeKernel<T, FUSED, 12>, grid, block, smem, s, src, biased, bias, p, w, ids);
  else
    launchKernel(routeKernel<T, FUSED, 16>, grid, block, smem, s, src, biased, bias, p, w, ids);
  return cudaGetLastError();
}

} // namespace

void setRoutingTuning(RoutingTuning t) { gRoutingTuning = t; }

cudaError_t groupedTopk(RowView scores, RowView biased, RoutingParams p, float *weights,
                        int32_t *ids, cudaStream_t stream) {
  if (scores.type != ElemType::F32 || biased.type != ElemType::F32)
    return invalid("groupedTopk: scores and biased must be f32");
  return launchRoute<float, false>(scores, biased, nullptr, p, weights, ids, stream);
}

cudaError_t moeRouter(RowView logits, const float *bias, RoutingParams p, float *weights,
                      int32_t *ids, cudaStream_t stream) {
  return withFloatType(logits.type, "moeRouter: logits must be f32, f16 or bf16", [&](auto t) {
    return launchRoute<typename decltype(t)::type, true>(logits, {}, bias, p, weights, ids,
                                                         stream);
  });
}

} // namespace llmf::kernels
