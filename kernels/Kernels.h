//===- Kernels.h - host API of the CUDA kernels -----------------*- C++ -*-===//
//
// Hand-written CUDA kernels for the ops of the llm dialect, as plain
// launchers: pointers, sizes, strides and a stream. They know nothing of the
// IR or of the runtime; runtime/cuda adapts the runtime's tensors to them.
//
// Rows: every per-row kernel reads rows through RowView, row r starting at
// data + ((r / rowsPerGroup) * groupStride + (r % rowsPerGroup) * rowLength)
// elements. That covers contiguous rows (rowsPerGroup = 1, groupStride =
// rowLength), 2-D strided views, and per-head q/k inside a fused qkv tensor
// (rowsPerGroup = heads, groupStride = the qkv row width). Launchers fill
// rowsDivision (withRowDivision) so kernels divide by rowsPerGroup with a
// multiply-high; a view without it still divides correctly, only slower.
//
// Every launcher returns cudaSuccess or the launch error; a size a kernel
// cannot take is cudaErrorInvalidValue with the reason in lastKernelError().
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_KERNELS_KERNELS_H
#define LLM_FUSION_KERNELS_KERNELS_H

#include "common/RowDivision.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace llmf::kernels {

enum class ElemType : int { F32 = 0, F16 = 1, BF16 = 2, F8E4M3FN = 3, I32 = 4, I64 = 5 };

struct RowView {
  void *data = nullptr;
  ElemType type = ElemType::F32;
  int64_t rows = 0;
  int64_t rowLength = 0;
  int64_t rowsPerGroup = 1;
  int64_t groupStride = 0;
  RowDivision rowsDivision; // of rowsPerGroup; shift 0 = not filled in
};

/// v with rowsDivision filled in for its rowsPerGroup (launchers call it;
/// row counts and rowsPerGroup fit in 31 bits, which they check).
inline RowView withRowDivision(RowView v) {
  if (v.rowsPerGroup > 1 && v.rowsPerGroup < (int64_t(1) << 31))
    v.rowsDivision = RowDivision::make(uint32_t(v.rowsPerGroup));
  return v;
}

/// Contiguous rows of a [rows, rowLength] tensor.
inline RowView contiguousRows(void *data, ElemType type, int64_t rows, int64_t rowLength) {
  return RowView{data, type, rows, rowLength, 1, rowLength};
}

/// A norm weight [D] and the epsilon / weight_bias attributes.
struct NormParams {
  const void *weight = nullptr;
  ElemType weightType = ElemType::F32;
  float epsilon = 0.0f;
  float weightBias = 0.0f;
};

/// The reason of the last cudaErrorInvalidValue a launcher returned.
const char *lastKernelError();

/// Programmatic dependent launch (Hopper): each kernel may be scheduled
/// while its predecessor's last wave runs, and waits for it on the device.
/// Off by default (fusion-run --pdl turns it on).
void setProgrammaticLaunch(bool on);

// Norms ---------------------------------------------------------------------
/// y = x * rsqrt(mean(x^2) + eps) * (w + weight_bias).
cudaError_t rmsNorm(RowView x, NormParams p, RowView y, cudaStream_t stream);
/// residualOut = x + residual (rounded); y = rms_norm(residualOut).
cudaError_t addRmsNorm(RowView x, RowView residual, NormParams p, RowView y,
                       RowView residualOut, cudaStream_t stream);
/// Gated RMSNorm (before gate: rms(x) * w * silu(z); after: rms(x * silu(z)) * w).
cudaError_t rmsNormGated(RowView x, RowView z, NormParams p, bool normBeforeGate,
                         RowView y, cudaStream_t stream);
/// Per-head q and k norms in one launch.
cudaError_t qkRmsNorm(RowView q, RowView k, NormParams pq, NormParams pk,
                      RowView qOut, RowView kOut, cudaStream_t stream);
/// rms_norm_gated on [N*H, D] rounded to x's type, then FP8 group quant of
/// each token's H*D values: q [N, H*D] (e4m3 bytes), scale [N, H*D/group]
/// (scaleColStride 0), or column-major [H*D/group, scaleColStride >= N]
/// with the padding zeroed (DeepGEMM's layout).
cudaError_t rmsNormGatedQuantFp8(RowView x, RowView z, NormParams p, bool normBeforeGate,
                                 int64_t heads, int64_t groupSize, uint8_t *q,
                                 float *scale, int64_t scaleColStride, cudaStream_t stream);


// Quantization ----------------------------------------------------------------
/// Per-group dynamic FP8: scale = max(amax, 1e-10) / 448, q = fp8(x / scale);
/// scales row-major, or column-major as rmsNormGatedQuantFp8's.
cudaError_t quantFp8(RowView x, int64_t groupSize, uint8_t *q, float *scale,
                     int64_t scaleColStride, cudaStream_t stream);
/// q = fp8(x / scale[0]) over n contiguous elements.
cudaError_t quantFp8Static(const void *x, ElemType type, int64_t n, const float *scale,
                           uint8_t *q, cudaStream_t stream);

/// The FP8 serving chains (NormQuant.cu): Norm is rms_norm(x) (after an
/// all-reduce at world size 1, x itself goes to passOut), AddNorm
/// rms_norm(x + aux) with residual_out in passOut, SiluMul silu(x) * aux;
/// the value rounded to x's type is quantized per group (groupSize > 0:
/// q and scale [rows, D / groupSize]) or by *staticScale (groupSize == 0).
enum class QuantChainMode { Norm, AddNorm, SiluMul };
struct QuantChainArgs {
  RowView x, aux, passOut; // aux, passOut: data null when absent
  NormParams p;
  int64_t groupSize = 0;
  const float *staticScale = nullptr;
  uint8_t *q = nullptr;
  float *scale = nullptr;
  /// 0: scales row-major [rows, groups]; > 0 (>= rows): column-major, group
  /// g of row r at g * scaleColumnStride + r (DeepGEMM's layout).
  int64_t scaleColumnStride = 0;
};
cudaError_t quantChainFp8(QuantChainMode mode, QuantChainArgs args, cudaStream_t stream);

/// out[r, c] = e4m3(q[r, c]) * scale[(r / rowBlock) * scaleStride + c / colBlock]
/// (f32 out, rows x cols contiguous): the FP8 linear's fallback dequantizes
/// its operands with it.
cudaError_t dequantFp8(const uint8_t *q, int64_t rows, int64_t cols, const float *scale,
                       int64_t rowBlock, int64_t colBlock, int64_t scaleStride, float *out,
                       cudaStream_t stream);

/// y[r, c] = acc[r, c] * rowScale[r] * colScale[c] (acc f32 [rows, cols],
/// y of `type`): per-token and per-channel scales applied after an FP8 GEMM
/// run with unit scales.
cudaError_t scaleOuterFp8(const float *acc, int64_t rows, int64_t cols, const float *rowScale,
                          const float *colScale, ElemType type, void *y, cudaStream_t stream);
/// out [cols, rows] = in [rows, cols]^T, f32 (scale tensors into the major
/// order a GEMM library wants).
cudaError_t transposeF32(const float *in, int64_t rows, int64_t cols, float *out,
                         cudaStream_t stream);

// Routing ---------------------------------------------------------------------
struct RoutingParams {
  int64_t nGroup = 1, topkGroup = 1, topk = 1;
  bool renormalize = false;
  float routedScalingFactor = 1.0f;
};
/// DeepSeek-V3 noaux_tc routing of [T, E] f32 scores / biased.
cudaError_t groupedTopk(RowView scores, RowView biased, RoutingParams p, float *weights,
                        int32_t *ids, cudaStream_t stream);
/// cast(logits) -> sigmoid -> + bias -> grouped top-k, one launch.
cudaError_t moeRouter(RowView logits, const float *bias, RoutingParams p, float *weights,
                      int32_t *ids, cudaStream_t stream);
/// The k largest per row (NaN first, ties to the lower index).
cudaError_t topk(RowView x, int64_t k, void *values, int32_t *indices, cudaStream_t stream);
/// y[r, j] = x[r, idx[r, j]] (any element size); out-of-range indices write
/// zero and set *badIndex to 1.
cudaError_t gather(RowView x, RowView indices, void *y, int *badIndex, cudaStream_t stream);

// Elementwise -------------------------------------------------------------------
inline constexpr int kMaxDims = 8;
/// Maps a row-major linear index of an output shape to an element offset
/// of an operand: broadcast strides over the output's dims, then the
/// operand's own layout (sizes and strides, outermost first).
struct IndexMap {
  int outRank = 0;
  int64_t outSizes[kMaxDims] = {};
  int64_t bcastStrides[kMaxDims] = {}; // logical strides, 0 where broadcast
  int layoutRank = 0;
  int64_t layoutSizes[kMaxDims] = {};
  int64_t layoutStrides[kMaxDims] = {};
  int64_t offset = 0;
  bool identity = false; // linear index == element offset - offset
};

/// Eq and Ne give 1 or 0 in the operands' type.
enum class BinaryOp : int { Add, Sub, Mul, Div, Eq, Ne };
/// Fill ignores x and writes `param` (full_like).
enum class UnaryOp : int { Sigmoid, Silu, Relu, Copy, Rsqrt, Pow, Neg, Exp, Softplus, Gelu,
                           GeluTanh, Fill };

/// out[i] = a[i] op b[i] over n contiguous output elements (fp32 math, or
/// int64 for integer types; division by zero sets *error).
cudaError_t binary(BinaryOp op, ElemType type, IndexMap a, const void *aData, IndexMap b,
                   const void *bData, void *out, int64_t n, int *error, cudaStream_t stream);
/// out[i] = f(x[i]); Copy with another output type is a cast. `param` is
/// Pow's exponent (2 is exactly x * x).
cudaError_t unary(UnaryOp op, ElemType inType, IndexMap x, const void *xData,
                  ElemType outType, void *out, int64_t n, cudaStream_t stream,
                  float param = 0.0f);
/// One input of a concatenation: x, viewed as [outer, extent, inner] (its
/// elements reached through `x`), copied into out [outer, outExtent, inner]
/// at `offset` along the middle dim. `elemBytes` is 1, 2, 4 or 8.
cudaError_t concatInto(int elemBytes, IndexMap x, const void *xData, int64_t outer,
                       int64_t extent, int64_t inner, int64_t outExtent, int64_t offset,
                       void *out, cudaStream_t stream);
/// The mean over the middle dim of x viewed as [outer, extent, inner] (x's
/// elements reached through `x`), double sums, one rounding: out [outer, inner].
cudaError_t mean(ElemType type, IndexMap x, const void *xData, int64_t outer, int64_t extent,
                 int64_t inner, void *out, cudaStream_t stream);
/// The sum over the middle dim, as `mean` but without the division.
cudaError_t sum(ElemType type, IndexMap x, const void *xData, int64_t outer, int64_t extent,
                int64_t inner, void *out, cudaStream_t stream);
/// Softmax over the middle dim of x viewed as [outer, extent, inner]: fp32
/// max-subtracted exponentials, a double sum, one rounding; out contiguous.
cudaError_t softmax(ElemType type, IndexMap x, const void *xData, int64_t outer, int64_t extent,
                    int64_t inner, void *out, cudaStream_t stream);
/// out[i] = cond[i] != 0 ? a[i] : b[i] over n output elements, every
/// operand read through its map; a, b and out have `elemBytes`-byte elements.
cudaError_t select(ElemType condType, IndexMap cond, const void *condData, int elemBytes,
                   IndexMap a, const void *aData, IndexMap b, const void *bData, void *out,
                   int64_t n, cudaStream_t stream);
/// y [rows, d] (already holding x): y[r, idx[r, j]] = value for j < k. An
/// index outside [0, d) sets *error and is skipped.
cudaError_t scatterValue(ElemType type, void *y, int64_t rows, int64_t d, ElemType idxType,
                         const void *idx, int64_t k, float value, int *error,
                         cudaStream_t stream);

/// An empty kernel, for the launch floor.
cudaError_t emptyKernel(cudaStream_t stream);

} // namespace llmf::kernels

#endif // LLM_FUSION_KERNELS_KERNELS_H
