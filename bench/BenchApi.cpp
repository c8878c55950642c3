//===- BenchApi.cpp - a C API over the kernels for the benchmark ----------===//
//
// bench/gpu_bench.py times our kernels and PyTorch's in one process, with
// one method (CUDA graph replays, CUDA events): it calls these functions
// through ctypes on PyTorch's current stream, so graph capture records them.
// Each returns a cudaError_t; llmf_last_error() says why a launcher refused.
//
//===----------------------------------------------------------------------===//

#include "kernels/Kernels.h"
#include "kernels/Tuning.h"

#include <cstdint>

using namespace llmf::kernels;

namespace {
cudaStream_t asStream(void *s) { return static_cast<cudaStream_t>(s); }
ElemType asType(int t) { return static_cast<ElemType>(t); }
NormParams norm(const void *w, int wType, float eps, float bias) {
  return NormParams{w, asType(wType), eps, bias};
}
IndexMap contiguous(int64_t n) {
  IndexMap m;
  m.identity = true;
  m.outRank = 1;
  m.outSizes[0] = n;
  return m;
}
} // namespace

extern "C" {

const char *llmf_last_error() { return lastKernelError(); }

int llmf_empty(void *stream) { return emptyKernel(asStream(stream)); }

/// Programmatic dependent launch on (1) or off (0) for the launches after it.
int llmf_set_pdl(int64_t on, void *) {
  setProgrammaticLaunch(on != 0);
  return 0;
}

/// Routing register bound off (1) or on (0, the default) for --sweep-norm.
int llmf_set_routing_tuning(int64_t unbounded, int64_t blockPerTokenUpTo, void *) {
  setRoutingTuning(RoutingTuning{int(unbounded), int(blockPerTokenUpTo)});
  return 0;
}

/// Gated norm + quant launch-shape overrides for --sweep-norm (0 = default).
int llmf_set_gated_tuning(int64_t rowsPerTeam, int64_t blocksPerSm, void *) {
  setGatedQuantTuning(GatedQuantTuning{int(rowsPerTeam), int(blocksPerSm)});
  return 0;
}

/// Norm launch-shape overrides for --sweep-norm (0 = the launcher's choice).
int llmf_set_norm_tuning(int64_t rowThreads, int64_t teamRows, int64_t blocksPerSm,
                         int64_t teamRegisterBound, void *) {
  setNormTuning(
      NormTuning{int(rowThreads), int(teamRows), int(blocksPerSm), int(teamRegisterBound)});
  return 0;
}

int llmf_rms_norm(void *x, const void *w, void *y, int64_t rows, int64_t d, int type, int wType,
                  float eps, float bias, void *stream) {
  return rmsNorm(contiguousRows(x, asType(type), rows, d), norm(w, wType, eps, bias),
                 contiguousRows(y, asType(type), rows, d), asStream(stream));
}

int llmf_add(const void *a, const void *b, void *out, int64_t n, int type, void *stream) {
  return binary(BinaryOp::Add, asType(type), contiguous(n), a, contiguous(n), b, out, n,
                nullptr, asStream(stream));
}

int llmf_add_rms_norm(void *x, void *r, const void *w, void *y, void *rOut, int64_t rows,
                      int64_t d, int type, float eps, float bias, void *stream) {
  ElemType t = asType(type);
  return addRmsNorm(contiguousRows(x, t, rows, d), contiguousRows(r, t, rows, d),
                    norm(w, type, eps, bias), contiguousRows(y, t, rows, d),
                    contiguousRows(rOut, t, rows, d), asStream(stream));
}

/// q and k read inside qkv [T, (hq + 2 hk) * d]; fused: one launch.
int llmf_qk_norm(void *qkv, const void *wq, const void *wk, void *qo, void *ko, int64_t tokens,
                 int64_t hq, int64_t hk, int64_t d, int type, float eps, float bias, int fused,
                 void *stream) {
  ElemType t = asType(type);
  int64_t width = (hq + 2 * hk) * d;
  size_t es = t == ElemType::F32 ? 4 : 2;
  RowView q{qkv, t, tokens * hq, d, hq, width};
  RowView k{static_cast<char *>(qkv) + hq * d * es, t, tokens * hk, d, hk, width};
  NormParams pq = norm(wq, type, eps, bias), pk = norm(wk, type, eps, bias);
  RowView qOut = contiguousRows(qo, t, tokens * hq, d), kOut = contiguousRows(ko, t, tokens * hk, d);
  if (fused)
    return qkRmsNorm(q, k, pq, pk, qOut, kOut, asStream(stream));
  cudaError_t e = rmsNorm(q, pq, qOut, asStream(stream));
  return e != cudaSuccess ? e : rmsNorm(k, pk, kOut, asStream(stream));
}

int llmf_rms_norm_gated(void *x, void *z, const void *w, void *y, int64_t rows, int64_t d,
                        int type, int wType, float eps, int beforeGate, void *stream) {
  ElemType t = asType(type);
  return rmsNormGated(contiguousRows(x, t, rows, d), contiguousRows(z, t, rows, d),
                      norm(w, wType, eps, 0.0f), beforeGate != 0,
                      contiguousRows(y, t, rows, d), asStream(stream));
}

/// The FP8 chains (quantChainFp8): mode 0 norm, 1 add + norm (r, rOut),
/// 2 SiLU-and-mul (r is up); group 0 quantizes by *staticScale; colStride
/// > 0 writes the scales column-major with that stride (DeepGEMM's layout).
int llmf_quant_chain(int64_t mode, void *x, void *r, const void *w, void *rOut, void *q,
                     void *scale, const void *staticScale, int64_t rows, int64_t d, int64_t group,
                     int type, float eps, float bias, int64_t colStride, void *stream) {
  ElemType t = asType(type);
  QuantChainArgs a;
  a.x = contiguousRows(x, t, rows, d);
  if (r)
    a.aux = contiguousRows(r, t, rows, d);
  if (rOut)
    a.passOut = contiguousRows(rOut, t, rows, d);
  if (w)
    a.p = norm(w, type, eps, bias);
  a.groupSize = group;
  a.staticScale = static_cast<const float *>(staticScale);
  a.q = static_cast<uint8_t *>(q);
  a.scale = static_cast<float *>(scale);
  a.scaleColumnStride = colStride;
  return quantChainFp8(static_cast<QuantChainMode>(mode), a, asStream(stream));
}

int llmf_quant_fp8(void *x, void *q, void *scale, int64_t rows, int64_t d, int64_t group,
                   int type, void *stream) {
  return quantFp8(contiguousRows(x, asType(type), rows, d), group, static_cast<uint8_t *>(q),
                  static_cast<float *>(scale), 0, asStream(stream));
}

int llmf_gated_quant(void *x, void *z, const void *w, void *q, void *scale, int64_t tokens,
                     int64_t heads, int64_t d, int64_t group, int type, int wType, float eps,
                     int beforeGate, void *stream) {
  ElemType t = asType(type);
  return rmsNormGatedQuantFp8(contiguousRows(x, t, tokens * heads, d),
                              contiguousRows(z, t, tokens * heads, d),
                              norm(w, wType, eps, 0.0f), beforeGate != 0, heads, group,
                              static_cast<uint8_t *>(q), static_cast<float *>(scale), 0,
                              asStream(stream));
}

int llmf_cast(const void *x, void *y, int64_t n, int from, int to, void *stream) {
  return unary(UnaryOp::Copy, asType(from), contiguous(n), x, asType(to), y, n,
               asStream(stream));
}

int llmf_sigmoid(const void *x, void *y, int64_t n, void *stream) {
  return unary(UnaryOp::Sigmoid, ElemType::F32, contiguous(n), x, ElemType::F32, y, n,
               asStream(stream));
}

/// y[T, E] = x[T, E] + bias[E] (f32).
int llmf_add_bias(const void *x, const void *bias, void *y, int64_t tokens, int64_t experts,
                  void *stream) {
  IndexMap b;
  b.outRank = 2;
  b.outSizes[0] = tokens;
  b.outSizes[1] = experts;
  b.bcastStrides[0] = 0;
  b.bcastStrides[1] = 1;
  b.layoutRank = 1;
  b.layoutSizes[0] = experts;
  b.layoutStrides[0] = 1;
  return binary(BinaryOp::Add, ElemType::F32, contiguous(tokens * experts), x, b, bias, y,
                tokens * experts, nullptr, asStream(stream));
}

int llmf_grouped_topk(void *scores, void *biased, void *w, void *ids, int64_t tokens,
                      int64_t experts, int64_t nGroup, int64_t topkGroup, int64_t topk,
                      int renormalize, float scale, void *stream) {
  RoutingParams p{nGroup, topkGroup, topk, renormalize != 0, scale};
  return groupedTopk(contiguousRows(scores, ElemType::F32, tokens, experts),
                     contiguousRows(biased, ElemType::F32, tokens, experts), p,
                     static_cast<float *>(w), static_cast<int32_t *>(ids), asStream(stream));
}

int llmf_moe_router(void *logits, int type, const void *bias, void *w, void *ids, int64_t tokens,
                    int64_t experts, int64_t nGroup, int64_t topkGroup, int64_t topk,
                    int renormalize, float scale, void *stream) {
  RoutingParams p{nGroup, topkGroup, topk, renormalize != 0, scale};
  return moeRouter(contiguousRows(logits, asType(type), tokens, experts),
                   static_cast<const float *>(bias), p, static_cast<float *>(w),
                   static_cast<int32_t *>(ids), asStream(stream));
}

} // extern "C"
