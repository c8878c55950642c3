//===- CudaBackend.cpp - runtime tensors -> CUDA kernel launches ---------===//
//
// Each adapter checks what its kernel needs (a row layout, contiguous
// weights), copies an operand to a contiguous temporary only when its layout
// cannot be read in place, and turns a launcher's refusal into an Error
// naming the size the fast path needs.
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/CudaBackend.h"

#include "kernels/Kernels.h"
#include "runtime/Error.h"
#include "runtime/OpSchema.h"

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <mutex>
#include <optional>

namespace llmf {
namespace {

namespace k = kernels;

cudaStream_t stream() { return cudaStreamPerThread; }

void check(cudaError_t e, const char *what) {
  if (e == cudaErrorInvalidValue && k::lastKernelError()[0])
    fail(what, ": ", k::lastKernelError());
  if (e != cudaSuccess)
    fail(what, ": CUDA error: ", cudaGetErrorString(e));
}

k::ElemType elem(DType t) {
  switch (t) {
  case DType::F32: return k::ElemType::F32;
  case DType::F16: return k::ElemType::F16;
  case DType::BF16: return k::ElemType::BF16;
  case DType::F8E4M3FN: return k::ElemType::F8E4M3FN;
  case DType::I32: return k::ElemType::I32;
  case DType::I64: return k::ElemType::I64;
  }
  return k::ElemType::F32;
}

/// A device temporary freed in stream order.
struct Scratch {
  void *data = nullptr;
  explicit Scratch(size_t bytes) {
    check(cudaMallocAsync(&data, bytes ? bytes : 1, stream()), "cudaMallocAsync");
  }
  ~Scratch() { cudaFreeAsync(data, stream()); }
};

/// Maps output linear indices to `t`'s elements, broadcasting t's logical
/// shape against `out`.
k::IndexMap indexMap(const Tensor &t, const Shape &out) {
  k::IndexMap m;
  if (out.size() > k::kMaxDims || t.layoutSizes().size() > k::kMaxDims)
    fail("more than ", k::kMaxDims, " dims");
  m.offset = t.offset();
  m.identity = t.shape() == out && t.isContiguous();
  m.outRank = static_cast<int>(out.size());
  int64_t stride = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    size_t d = out.size() - 1 - i;
    m.outSizes[d] = out[d];
    if (i < t.shape().size()) {
      int64_t size = t.shape()[t.shape().size() - 1 - i];
      m.bcastStrides[d] = size == 1 ? 0 : stride;
      stride *= size;
    }
  }
  m.layoutRank = static_cast<int>(t.layoutSizes().size());
  for (int i = 0; i < m.layoutRank; ++i) {
    m.layoutSizes[i] = t.layoutSizes()[i];
    m.layoutStrides[i] = t.layoutStrides()[i];
  }
  return m;
}

/// Copies t (any layout) into contiguous memory at dst.
void copyContiguous(const Tensor &t, void *dst) {
  check(k::unary(k::UnaryOp::Copy, elem(t.dtype()), indexMap(t, t.shape()),
                 t.buffer()->data, elem(t.dtype()), dst, t.numel(), stream()),
        "copy");
}

/// A tensor the row kernels can read: t itself, or a contiguous copy.
struct Rows {
  k::RowView view;
  std::unique_ptr<Scratch> scratch;
  explicit Rows(const Tensor &t) {
    auto layout = t.rowLayout();
    view.type = elem(t.dtype());
    view.rowLength = t.rowLength();
    view.rows = t.numRows();
    if (layout) {
      view.data = t.data();
      view.rowsPerGroup = layout->rowsPerGroup;
      view.groupStride = layout->groupStride;
      return;
    }
    scratch = std::make_unique<Scratch>(t.numel() * dtypeSize(t.dtype()));
    copyContiguous(t, scratch->data);
    view.data = scratch->data;
    view.groupStride = view.rowLength;
  }
};

/// Contiguous data of a small operand (weights, bias, scale).
struct Flat {
  const void *data;
  std::unique_ptr<Scratch> scratch;
  explicit Flat(const Tensor &t) {
    if (t.isContiguous()) {
      data = t.data();
      return;
    }
    scratch = std::make_unique<Scratch>(t.numel() * dtypeSize(t.dtype()));
    copyContiguous(t, scratch->data);
    data = scratch->data;
  }
};

k::RowView outRows(const Tensor &t) {
  return k::contiguousRows(t.data(), elem(t.dtype()), t.numRows(), t.rowLength());
}

k::NormParams norm(const Flat &w, const Tensor &wt, const OpAttrs &a) {
  return k::NormParams{w.data, elem(wt.dtype()), a.epsilon, a.weightBias};
}

void requireSingleRank(const KernelCall &c) {
  if (c.comm.worldSize() != 1)
    fail("the CUDA backend runs world size 1 only (multi-GPU all-reduce kernels come "
         "with the NCCL backend); got world size ",
         c.comm.worldSize());
}

/// Reads a device flag set by a kernel (waits for the stream; not possible
/// while a graph is being captured).
bool readFlag(int *flag) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  cudaStreamIsCapturing(stream(), &status);
  if (status != cudaStreamCaptureStatusNone)
    fail("integer division and gather check their inputs on the host and cannot run "
         "inside a CUDA graph; run without --cuda-graph");
  int host = 0;
  check(cudaMemcpyAsync(&host, flag, sizeof(int), cudaMemcpyDeviceToHost, stream()),
        "cudaMemcpyAsync");
  check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize");
  return host != 0;
}

//===--- kernels ---------------------------------------------------------===//

void castKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &y = c.outputs[0];
  check(k::unary(k::UnaryOp::Copy, elem(x.dtype()), indexMap(x, y.shape()), x.buffer()->data,
                 elem(y.dtype()), y.data(), y.numel(), stream()),
        "cast");
}

template <k::UnaryOp OP> void unaryKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &y = c.outputs[0];
  check(k::unary(OP, elem(x.dtype()), indexMap(x, y.shape()), x.buffer()->data,
                 elem(y.dtype()), y.data(), y.numel(), stream()),
        "elementwise");
}

void powKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &y = c.outputs[0];
  check(k::unary(k::UnaryOp::Pow, elem(x.dtype()), indexMap(x, y.shape()), x.buffer()->data,
                 elem(y.dtype()), y.data(), y.numel(), stream(), c.step.attrs.exponent),
        "pow");
}

/// A permutation: x made contiguous, then read through permuted strides.
void transposeKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &y = c.outputs[0];
  if (y.rank() > k::kMaxDims)
    fail("transpose: more than ", k::kMaxDims, " dims");
  Scratch dense(x.numel() * dtypeSize(x.dtype()));
  copyContiguous(x, dense.data);
  const std::vector<int64_t> &perm = c.step.attrs.permutation;
  std::vector<int64_t> strides(x.rank(), 1);
  for (int64_t d = x.rank() - 1; d > 0; --d)
    strides[d - 1] = strides[d] * x.dim(d);
  k::IndexMap m;
  m.outRank = static_cast<int>(y.rank());
  for (int d = 0; d < m.outRank; ++d) {
    m.outSizes[d] = y.dim(d);
    m.bcastStrides[d] = strides[perm[d]];
  }
  m.layoutRank = 1;
  m.layoutSizes[0] = std::max<int64_t>(x.numel(), 1);
  m.layoutStrides[0] = 1;
  check(k::unary(k::UnaryOp::Copy, elem(x.dtype()), m, dense.data, elem(y.dtype()), y.data(),
                 y.numel(), stream()),
        "transpose");
}

void concatKernel(const KernelCall &c) {
  const Tensor &y = c.outputs[0];
  int64_t dim = c.step.attrs.dim, outer = 1, inner = 1, offset = 0;
  for (int64_t d = 0; d < dim; ++d)
    outer *= y.dim(d);
  for (int64_t d = dim + 1; d < y.rank(); ++d)
    inner *= y.dim(d);
  for (const Tensor &x : c.inputs) {
    check(k::concatInto(static_cast<int>(dtypeSize(x.dtype())), indexMap(x, x.shape()),
                        x.buffer()->data, outer, x.dim(dim), inner, y.dim(dim), offset, y.data(),
                        stream()),
          "concat");
    offset += x.dim(dim);
  }
}

/// mean (MEAN) or sum over one dim.
template <bool MEAN> void reduceKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &y = c.outputs[0];
  AroundDim r(x, c.step.attrs.dim);
  auto launch = MEAN ? k::mean : k::sum;
  check(launch(elem(x.dtype()), indexMap(x, x.shape()), x.buffer()->data, r.outer, r.extent,
               r.inner, y.data(), stream()),
        MEAN ? "mean" : "sum");
}

void softmaxKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &y = c.outputs[0];
  AroundDim r(x, c.step.attrs.dim);
  check(k::softmax(elem(x.dtype()), indexMap(x, x.shape()), x.buffer()->data, r.outer, r.extent,
                   r.inner, y.data(), stream()),
        "softmax");
}

void selectKernel(const KernelCall &c) {
  const Tensor &cond = c.inputs[0], &a = c.inputs[1], &b = c.inputs[2], &y = c.outputs[0];
  check(k::select(elem(cond.dtype()), indexMap(cond, y.shape()), cond.buffer()->data,
                  static_cast<int>(dtypeSize(y.dtype())), indexMap(a, y.shape()),
                  a.buffer()->data, indexMap(b, y.shape()), b.buffer()->data, y.data(),
                  y.numel(), stream()),
        "select");
}

/// broadcast and full_like: a copy through x's broadcast map, or a fill.
void broadcastKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &y = c.outputs[0];
  check(k::unary(k::UnaryOp::Copy, elem(x.dtype()), indexMap(x, y.shape()), x.buffer()->data,
                 elem(y.dtype()), y.data(), y.numel(), stream()),
        "broadcast");
}

void fullLikeKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &y = c.outputs[0];
  check(k::unary(k::UnaryOp::Fill, elem(x.dtype()), indexMap(x, y.shape()), x.buffer()->data,
                 elem(y.dtype()), y.data(), y.numel(), stream(), c.step.attrs.value),
        "full_like");
}

void scatterKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &idx = c.inputs[1], &y = c.outputs[0];
  copyContiguous(x, y.data());
  Scratch dense(idx.numel() * dtypeSize(idx.dtype()));
  copyContiguous(idx, dense.data);
  Scratch flag(sizeof(int));
  check(cudaMemsetAsync(flag.data, 0, sizeof(int), stream()), "cudaMemsetAsync");
  int64_t d = x.dim(x.rank() - 1), k = idx.dim(idx.rank() - 1);
  check(k::scatterValue(elem(y.dtype()), y.data(), d ? x.numel() / d : 0, d, elem(idx.dtype()),
                        dense.data, k, c.step.attrs.value, static_cast<int *>(flag.data),
                        stream()),
        "scatter");
  if (readFlag(static_cast<int *>(flag.data)))
    fail("scatter: an index is out of range [0, ", d, ")");
}

template <k::BinaryOp OP> void binaryKernel(const KernelCall &c) {
  const Tensor &a = c.inputs[0], &b = c.inputs[1], &y = c.outputs[0];
  // Only integer division can fail (by zero); only it needs the flag.
  bool intDiv = OP == k::BinaryOp::Div && !isFloat(y.dtype());
  std::optional<Scratch> flag;
  if (intDiv) {
    flag.emplace(sizeof(int));
    check(cudaMemsetAsync(flag->data, 0, sizeof(int), stream()), "cudaMemsetAsync");
  }
  int *error = flag ? static_cast<int *>(flag->data) : nullptr;
  check(k::binary(OP, elem(y.dtype()), indexMap(a, y.shape()), a.buffer()->data,
                  indexMap(b, y.shape()), b.buffer()->data, y.data(), y.numel(), error,
                  stream()),
        "elementwise");
  if (intDiv && readFlag(error))
    fail("integer division by zero");
}

void allReduceKernel(const KernelCall &c) {
  requireSingleRank(c);
  copyContiguous(c.inputs[0], c.outputs[0].data());
}

void copySliceKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &y = c.outputs[0];
  // Make x contiguous, where every slice is a view, then copy the slice.
  Scratch dense(x.numel() * dtypeSize(x.dtype()));
  copyContiguous(x, dense.data);
  auto buffer = std::shared_ptr<Buffer>(new Buffer);
  buffer->data = dense.data;
  buffer->device = Device::CUDA;
  Tensor slice = *Tensor(x.dtype(), x.shape(), buffer)
                      .sliceView(c.step.attrs.dim, c.step.attrs.k, y.dim(c.step.attrs.dim));
  copyContiguous(slice, y.data());
}

void sliceKernel(const KernelCall &c) {
  PlanStep step = c.step; // copy_slice reads the first index from k
  step.attrs.k = c.step.attrs.start;
  copySliceKernel(KernelCall{step, c.inputs, c.outputs, c.comm});
}

void rmsNormKernel(const KernelCall &c) {
  Rows x(c.inputs[0]);
  Flat w(c.inputs[1]);
  check(k::rmsNorm(x.view, norm(w, c.inputs[1], c.step.attrs), outRows(c.outputs[0]), stream()),
        "rms_norm");
}

void fusedAddRMSNormKernel(const KernelCall &c) {
  Rows x(c.inputs[0]), r(c.inputs[1]);
  Flat w(c.inputs[2]);
  check(k::addRmsNorm(x.view, r.view, norm(w, c.inputs[2], c.step.attrs),
                      outRows(c.outputs[0]), outRows(c.outputs[1]), stream()),
        "fused_add_rms_norm");
}

void fusedAllReduceRMSNormKernel(const KernelCall &c) {
  requireSingleRank(c);
  // World size 1: all_reduce_out is x.
  copyContiguous(c.inputs[0], c.outputs[1].data());
  Flat w(c.inputs[1]);
  check(k::rmsNorm(outRows(c.outputs[1]), norm(w, c.inputs[1], c.step.attrs),
                   outRows(c.outputs[0]), stream()),
        "fused_all_reduce_rms_norm");
}

void fusedAllReduceAddRMSNormKernel(const KernelCall &c) {
  requireSingleRank(c);
  fusedAddRMSNormKernel(c);
}

void rmsNormGatedKernel(const KernelCall &c) {
  Rows x(c.inputs[0]), z(c.inputs[1]);
  Flat w(c.inputs[2]);
  check(k::rmsNormGated(x.view, z.view, norm(w, c.inputs[2], c.step.attrs),
                        c.step.attrs.normBeforeGate, outRows(c.outputs[0]), stream()),
        "rms_norm_gated");
}

void fusedQKRMSNormKernel(const KernelCall &c) {
  Rows q(c.inputs[0]), kk(c.inputs[1]);
  Flat wq(c.inputs[2]), wk(c.inputs[3]);
  k::NormParams pq = norm(wq, c.inputs[2], c.step.attrs), pk = norm(wk, c.inputs[3], c.step.attrs);
  if (q.view.rowLength == kk.view.rowLength && q.view.type == kk.view.type &&
      pq.weightType == pk.weightType) {
    check(k::qkRmsNorm(q.view, kk.view, pq, pk, outRows(c.outputs[0]), outRows(c.outputs[1]),
                       stream()),
          "fused_qk_rms_norm");
    return;
  }
  check(k::rmsNorm(q.view, pq, outRows(c.outputs[0]), stream()), "fused_qk_rms_norm");
  check(k::rmsNorm(kk.view, pk, outRows(c.outputs[1]), stream()), "fused_qk_rms_norm");
}

/// The kernels' column stride of a quantization's scales: 0 for row-major,
/// else the padded token count (scale is [groups, pad]).
int64_t colStride(const OpAttrs &attrs, const Tensor &scale) {
  return attrs.scaleColMajor ? scale.rowLength() : 0;
}

void fusedRMSNormGatedQuantKernel(const KernelCall &c) {
  Rows x(c.inputs[0]), z(c.inputs[1]);
  Flat w(c.inputs[2]);
  const Tensor &q = c.outputs[0];
  int64_t heads = q.rowLength() / c.inputs[0].rowLength();
  check(k::rmsNormGatedQuantFp8(x.view, z.view, norm(w, c.inputs[2], c.step.attrs),
                                c.step.attrs.normBeforeGate, heads, c.step.attrs.groupSize,
                                static_cast<uint8_t *>(q.data()),
                                static_cast<float *>(c.outputs[1].data()),
                                colStride(c.step.attrs, c.outputs[1]), stream()),
        "fused_rms_norm_gated_quant_fp8");
}

/// The FP8 chains: ADD (x, residual, w), AR (an all-reduce first: the
/// identity at world size 1, x goes to all_reduce_out), SILU (gate, up),
/// STATIC (a scale operand last instead of group scales).
template <bool ADD, bool AR, bool SILU, bool STATIC> void quantChainKernel(const KernelCall &c) {
  if (AR)
    requireSingleRank(c);
  Rows x(c.inputs[0]);
  std::optional<Rows> aux;
  if (ADD || SILU)
    aux.emplace(c.inputs[1]);
  std::optional<Flat> w;
  k::QuantChainArgs a;
  a.x = x.view;
  if (aux)
    a.aux = aux->view;
  if (!SILU) {
    const Tensor &wt = c.inputs[ADD ? 2 : 1];
    w.emplace(wt);
    a.p = norm(*w, wt, c.step.attrs);
  }
  if (ADD || AR)
    a.passOut = outRows(c.outputs.back());
  std::optional<Flat> scaleIn;
  if (STATIC) {
    scaleIn.emplace(c.inputs.back());
    a.staticScale = static_cast<const float *>(scaleIn->data);
  } else {
    a.groupSize = c.step.attrs.groupSize;
    a.scale = static_cast<float *>(c.outputs[1].data());
    a.scaleColumnStride = colStride(c.step.attrs, c.outputs[1]);
  }
  a.q = static_cast<uint8_t *>(c.outputs[0].data());
  auto mode = SILU ? k::QuantChainMode::SiluMul
                   : ADD ? k::QuantChainMode::AddNorm : k::QuantChainMode::Norm;
  check(k::quantChainFp8(mode, a, stream()), c.step.op.c_str());
}

void quantFP8Kernel(const KernelCall &c) {
  Rows x(c.inputs[0]);
  check(k::quantFp8(x.view, c.step.attrs.groupSize, static_cast<uint8_t *>(c.outputs[0].data()),
                    static_cast<float *>(c.outputs[1].data()),
                    colStride(c.step.attrs, c.outputs[1]), stream()),
        "quant_fp8");
}

void quantFP8StaticKernel(const KernelCall &c) {
  Flat x(c.inputs[0]), s(c.inputs[1]);
  check(k::quantFp8Static(x.data, elem(c.inputs[0].dtype()), c.inputs[0].numel(),
                          static_cast<const float *>(s.data),
                          static_cast<uint8_t *>(c.outputs[0].data()), stream()),
        "quant_fp8_static");
}

void topkKernel(const KernelCall &c) {
  Rows x(c.inputs[0]);
  check(k::topk(x.view, c.step.attrs.k, c.outputs[0].data(),
                static_cast<int32_t *>(c.outputs[1].data()), stream()),
        "topk");
}

void gatherKernel(const KernelCall &c) {
  Rows x(c.inputs[0]), idx(c.inputs[1]);
  Scratch flag(sizeof(int));
  check(cudaMemsetAsync(flag.data, 0, sizeof(int), stream()), "cudaMemsetAsync");
  check(k::gather(x.view, idx.view, c.outputs[0].data(), static_cast<int *>(flag.data), stream()),
        "gather");
  if (readFlag(static_cast<int *>(flag.data)))
    fail("gather: an index is out of range [0, ", x.view.rowLength, ")");
}

k::RoutingParams routing(const OpAttrs &a) {
  return k::RoutingParams{a.nGroup, a.topkGroup, a.topk, a.renormalize, a.routedScalingFactor};
}

void groupedTopKKernel(const KernelCall &c) {
  Rows s(c.inputs[0]), b(c.inputs[1]);
  check(k::groupedTopk(s.view, b.view, routing(c.step.attrs),
                       static_cast<float *>(c.outputs[0].data()),
                       static_cast<int32_t *>(c.outputs[1].data()), stream()),
        "grouped_topk");
}

void fusedMoERouterKernel(const KernelCall &c) {
  Rows l(c.inputs[0]);
  Flat bias(c.inputs[1]);
  check(k::moeRouter(l.view, static_cast<const float *>(bias.data), routing(c.step.attrs),
                     static_cast<float *>(c.outputs[0].data()),
                     static_cast<int32_t *>(c.outputs[1].data()), stream()),
        "fused_moe_router");
}

cublasHandle_t cublas() {
  thread_local cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS)
      fail("cublasCreate failed");
    // fp32 accumulation everywhere, as the spec says: no reduced-precision
    // split-K reductions, no TF32 for f32.
    cublasSetMathMode(h, CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION);
    return h;
  }();
  cublasSetStream(handle, stream());
  return handle;
}

cudaDataType cudaType(DType t) {
  switch (t) {
  case DType::F16: return CUDA_R_16F;
  case DType::BF16: return CUDA_R_16BF;
  default: return CUDA_R_32F;
  }
}

/// Row-major out[M, N] = x[M, K] * w^T (w [N, K]) or x * w (w [K, N]),
/// computed as the column-major out^T = w' * x^T.
void matmulKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &w = c.inputs[1], &y = c.outputs[0];
  int64_t m = x.numRows(), kdim = x.rowLength(), n = y.rowLength();
  if (m == 0 || n == 0)
    return;
  Rows xr(x);
  if (xr.view.rowsPerGroup != 1 && xr.view.rows > xr.view.rowsPerGroup) {
    // Rows are not evenly spaced: make them so.
    xr.scratch = std::make_unique<Scratch>(x.numel() * dtypeSize(x.dtype()));
    copyContiguous(x, xr.scratch->data);
    xr.view.data = xr.scratch->data;
    xr.view.groupStride = kdim;
    xr.view.rowsPerGroup = 1;
  }
  int64_t ldx = xr.view.rowsPerGroup == 1 ? xr.view.groupStride : kdim;
  Flat wf(w);
  float one = 1.0f, zero = 0.0f;
  bool tw = c.step.attrs.transposeW;
  cudaDataType t = cudaType(x.dtype());
  cublasStatus_t st = cublasGemmEx(
      cublas(), tw ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(n),
      static_cast<int>(m), static_cast<int>(kdim), &one, wf.data, t,
      static_cast<int>(tw ? kdim : n), xr.view.data, t, static_cast<int>(ldx), &zero, y.data(),
      t, static_cast<int>(n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  if (st != CUBLAS_STATUS_SUCCESS)
    fail("matmul: cublasGemmEx failed with status ", static_cast<int>(st));
}

cublasLtHandle_t cublasLt() {
  thread_local cublasLtHandle_t handle = [] {
    cublasLtHandle_t h = nullptr;
    if (cublasLtCreate(&h) != CUBLAS_STATUS_SUCCESS)
      fail("cublasLtCreate failed");
    return h;
  }();
  return handle;
}

/// cuBLASLt's FP8 GEMM with the op's scaling mode: per tensor (scalar
/// scales), per token and channel (outer vectors), DeepSeek-V3's blocks
/// (128x128 weight blocks on A, 1x128 activation groups on B). Row-major
/// y [M, N] = x [M, K] w^T is column-major y^T = op(A) op(B) with A = w
/// (K x N, transposed: the TN layout FP8 needs) and B = x (K x M); both
/// scale tensors then have K's blocks innermost, as the op stores them.
/// Returns false (nothing launched) when cuBLASLt has no algorithm for the
/// mode on this device.
bool matmulFP8Lt(const void *x, const float *xs, const void *w, const float *ws,
                 Fp8ScaleMode mode, int64_t m, int64_t n, int64_t k, cudaDataType out, void *y,
                 std::string &why) {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  auto cleanup = [&] {
    if (pref)
      cublasLtMatmulPreferenceDestroy(pref);
    if (d)
      cublasLtMatrixLayoutDestroy(d);
    if (b)
      cublasLtMatrixLayoutDestroy(b);
    if (a)
      cublasLtMatrixLayoutDestroy(a);
    if (desc)
      cublasLtMatmulDescDestroy(desc);
  };
  auto lt = [&](cublasStatus_t st, const char *what) {
    if (st != CUBLAS_STATUS_SUCCESS) {
      cleanup();
      fail("matmul_fp8: ", what, " failed with cuBLAS status ", static_cast<int>(st));
    }
  };
  lt(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
  cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
  lt(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)), "TRANSA");
  lt(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)), "TRANSB");
  int32_t modeA = CUBLASLT_MATMUL_MATRIX_SCALE_SCALAR_32F, modeB = modeA;
  if (mode == Fp8ScaleMode::Block) {
    modeA = CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F;
    modeB = CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F;
  }
  lt(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, &modeA,
                                    sizeof(modeA)),
     "A_SCALE_MODE");
  lt(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, &modeB,
                                    sizeof(modeB)),
     "B_SCALE_MODE");
  // Null scale pointers are unit scales (the per-token path scales after).
  if (ws)
    lt(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &ws,
                                      sizeof(ws)),
       "A_SCALE_POINTER");
  if (xs)
    lt(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &xs,
                                      sizeof(xs)),
       "B_SCALE_POINTER");
  lt(cublasLtMatrixLayoutCreate(&a, CUDA_R_8F_E4M3, uint64_t(k), uint64_t(n), int64_t(k)), "A");
  lt(cublasLtMatrixLayoutCreate(&b, CUDA_R_8F_E4M3, uint64_t(k), uint64_t(m), int64_t(k)), "B");
  lt(cublasLtMatrixLayoutCreate(&d, out, uint64_t(n), uint64_t(m), int64_t(n)), "D");
  constexpr size_t kWorkspace = size_t(32) << 20;
  thread_local Scratch *workspace = new Scratch(kWorkspace);
  lt(cublasLtMatmulPreferenceCreate(&pref), "preference");
  size_t wsBytes = kWorkspace;
  lt(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                          &wsBytes, sizeof(wsBytes)),
     "workspace");
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  cublasStatus_t st =
      cublasLtMatmulAlgoGetHeuristic(cublasLt(), desc, a, b, d, d, pref, 1, &result, &found);
  if (st != CUBLAS_STATUS_SUCCESS || found == 0) {
    why = "cuBLASLt has no FP8 algorithm for this scaling mode (status " +
          std::to_string(static_cast<int>(st)) + ")";
    cleanup();
    return false;
  }
  float one = 1.0f, zero = 0.0f;
  lt(cublasLtMatmul(cublasLt(), desc, &one, w, a, x, b, &zero, y, d, y, d, &result.algo,
                    workspace->data, kWorkspace, stream()),
     "cublasLtMatmul");
  cleanup();
  return true;
}

/// y = x w^T from FP8 operands and their scales: cuBLASLt's FP8 GEMM, or,
/// where it has no algorithm for the mode (or LLMF_FP8_GEMM=fallback), both
/// operands dequantized to f32 and an f32 GEMM (slower; the same values
/// within f32 rounding).
void matmulFP8Kernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &xs = c.inputs[1], &w = c.inputs[2], &ws = c.inputs[3];
  const Tensor &y = c.outputs[0];
  auto type = [](const Tensor &t) { return TensorType{t.dtype(), t.shape()}; };
  const bool xColMajor = c.step.attrs.xScaleColMajor;
  Fp8ScaleMode mode = fp8ScaleMode(type(x), type(xs), type(w), type(ws), xColMajor);
  int64_t m = x.numRows(), k = x.rowLength(), n = w.dim(0);
  if (m == 0 || n == 0)
    return;
  // Column-major x scales: [K/128, pad] with pad = M rounded up to 4.
  const int64_t xsPad = xColMajor ? xs.rowLength() : 0;
  Flat xf(x), xsf(xs), wf(w), wsf(ws);
  static const bool fallback = [] {
    const char *force = std::getenv("LLMF_FP8_GEMM");
    return force && std::string(force) == "fallback";
  }();
  std::string why = fallback ? "LLMF_FP8_GEMM=fallback"
                             : "cuBLASLt's FP8 GEMM needs K and N multiples of 16";
  const auto *xsp = static_cast<const float *>(xsf.data);
  const auto *wsp = static_cast<const float *>(wsf.data);
  if (!fallback && k % 16 == 0 && n % 16 == 0) {
    if (mode == Fp8ScaleMode::TokenChannel) {
      // Hopper's cuBLASLt has no outer-vector FP8 scaling: unit scales, an
      // f32 product, then both scales in one epilogue pass (they factor out
      // of the sum, so this is the op's value).
      Scratch acc(size_t(m * n) * 4);
      if (matmulFP8Lt(xf.data, nullptr, wf.data, nullptr, Fp8ScaleMode::Tensor, m, n, k,
                      CUDA_R_32F, acc.data, why)) {
        check(k::scaleOuterFp8(static_cast<const float *>(acc.data), m, n, xsp, wsp,
                               elem(y.dtype()), y.data(), stream()),
              "matmul_fp8 scales");
        return;
      }
    } else if (mode == Fp8ScaleMode::Block) {
      // cuBLASLt reads the activations' 1x128 scales token-major ([K/128,
      // M] with M innermost; measured on an H200, 2026-12-02: the other
      // three orders of the two scale tensors miss the CPU reference), the
      // weights' 128x128 scales as the op stores them (K's blocks innermost).
      // DeepGEMM's column-major scales are that order already: used as they
      // are when M is a multiple of 4, else their padding is dropped.
      int64_t kb = (k + 127) / 128;
      Scratch xt(xColMajor && xsPad == m ? 0 : size_t(m * kb) * 4);
      const float *tokenMajor = xsp;
      if (!xColMajor) {
        check(k::transposeF32(xsp, m, kb, static_cast<float *>(xt.data), stream()), "transpose");
        tokenMajor = static_cast<const float *>(xt.data);
      } else if (xsPad != m) {
        check(cudaMemcpy2DAsync(xt.data, size_t(m) * 4, xsp, size_t(xsPad) * 4, size_t(m) * 4,
                                size_t(kb), cudaMemcpyDeviceToDevice, stream()),
              "matmul_fp8 scales");
        tokenMajor = static_cast<const float *>(xt.data);
      }
      if (matmulFP8Lt(xf.data, tokenMajor, wf.data, wsp, mode, m, n, k, cudaType(y.dtype()),
                      y.data(), why))
        return;
    } else if (matmulFP8Lt(xf.data, xsp, wf.data, wsp, mode, m, n, k, cudaType(y.dtype()),
                           y.data(), why)) {
      return;
    }
  }
  static bool warned = false;
  if (!warned) {
    std::fprintf(stderr, "matmul_fp8: the dequantize + f32 GEMM fallback: %s\n", why.c_str());
    warned = true;
  }
  int64_t kb = (k + 127) / 128;
  Scratch xd(size_t(m * k) * 4), wd(size_t(n * k) * 4), yd(size_t(m * n) * 4);
  // The dequantization reads x's block scales row-major.
  const float *xsRowMajor = xsp;
  Scratch xsr(xColMajor ? size_t(xsPad * kb) * 4 : 0);
  if (xColMajor) {
    check(k::transposeF32(xsp, kb, xsPad, static_cast<float *>(xsr.data), stream()),
          "transpose");
    xsRowMajor = static_cast<const float *>(xsr.data);
  }
  auto dq = [&](const Flat &q, const float *s, int64_t rows, bool isW) {
    int64_t rowBlock = 1, colBlock = k, stride = 1;
    if (mode == Fp8ScaleMode::Tensor) {
      rowBlock = rows;
      stride = 0;
    } else if (mode == Fp8ScaleMode::Block) {
      rowBlock = isW ? 128 : 1;
      colBlock = 128;
      stride = kb;
    }
    check(k::dequantFp8(static_cast<const uint8_t *>(q.data), rows, k, s, rowBlock, colBlock,
                        stride,
                        static_cast<float *>(isW ? wd.data : xd.data), stream()),
          "matmul_fp8 dequantize");
  };
  dq(xf, xsRowMajor, m, false);
  dq(wf, wsp, n, true);
  float one = 1.0f, zero = 0.0f;
  cublasStatus_t st = cublasGemmEx(cublas(), CUBLAS_OP_T, CUBLAS_OP_N, int(n), int(m), int(k),
                                   &one, wd.data, CUDA_R_32F, int(k), xd.data, CUDA_R_32F, int(k),
                                   &zero, yd.data, CUDA_R_32F, int(n), CUBLAS_COMPUTE_32F,
                                   CUBLAS_GEMM_DEFAULT);
  if (st != CUBLAS_STATUS_SUCCESS)
    fail("matmul_fp8: the fallback GEMM failed with status ", static_cast<int>(st));
  k::IndexMap id;
  id.outRank = 1;
  id.outSizes[0] = m * n;
  id.bcastStrides[0] = 1;
  id.layoutRank = 1;
  id.layoutSizes[0] = m * n;
  id.layoutStrides[0] = 1;
  id.identity = true;
  check(k::unary(k::UnaryOp::Copy, k::ElemType::F32, id, yd.data, elem(y.dtype()), y.data(), m * n,
                 stream()),
        "matmul_fp8 cast");
}

KernelRegistry makeRegistry() {
  KernelRegistry r;
  Device d = Device::CUDA;
  r.add("cast", d, castKernel);
  r.add("add", d, binaryKernel<k::BinaryOp::Add>);
  r.add("sub", d, binaryKernel<k::BinaryOp::Sub>);
  r.add("mul", d, binaryKernel<k::BinaryOp::Mul>);
  r.add("div", d, binaryKernel<k::BinaryOp::Div>);
  r.add("sigmoid", d, unaryKernel<k::UnaryOp::Sigmoid>);
  r.add("silu", d, unaryKernel<k::UnaryOp::Silu>);
  r.add("relu", d, unaryKernel<k::UnaryOp::Relu>);
  r.add("rsqrt", d, unaryKernel<k::UnaryOp::Rsqrt>);
  r.add("neg", d, unaryKernel<k::UnaryOp::Neg>);
  r.add("transpose", d, transposeKernel);
  r.add("slice", d, sliceKernel);
  r.add("concat", d, concatKernel);
  r.add("pow", d, powKernel);
  r.add("mean", d, reduceKernel<true>);
  r.add("sum", d, reduceKernel<false>);
  r.add("softmax", d, softmaxKernel);
  r.add("eq", d, binaryKernel<k::BinaryOp::Eq>);
  r.add("ne", d, binaryKernel<k::BinaryOp::Ne>);
  r.add("select", d, selectKernel);
  r.add("broadcast", d, broadcastKernel);
  r.add("full_like", d, fullLikeKernel);
  r.add("scatter", d, scatterKernel);
  r.add("exp", d, unaryKernel<k::UnaryOp::Exp>);
  r.add("softplus", d, unaryKernel<k::UnaryOp::Softplus>);
  r.add("gelu", d, unaryKernel<k::UnaryOp::Gelu>);
  r.add("gelu_tanh", d, unaryKernel<k::UnaryOp::GeluTanh>);
  r.add("all_reduce", d, allReduceKernel);
  r.add("copy_slice", d, copySliceKernel);
  r.add("matmul", d, matmulKernel);
  r.add("matmul_fp8", d, matmulFP8Kernel);
  r.add("rms_norm", d, rmsNormKernel);
  r.add("fused_add_rms_norm", d, fusedAddRMSNormKernel);
  r.add("rms_norm_gated", d, rmsNormGatedKernel);
  r.add("quant_fp8", d, quantFP8Kernel);
  r.add("quant_fp8_static", d, quantFP8StaticKernel);
  r.add("topk", d, topkKernel);
  r.add("gather", d, gatherKernel);
  r.add("grouped_topk", d, groupedTopKKernel);
  r.add("fused_all_reduce_rms_norm", d, fusedAllReduceRMSNormKernel);
  r.add("fused_all_reduce_add_rms_norm", d, fusedAllReduceAddRMSNormKernel);
  r.add("fused_rms_norm_gated_quant_fp8", d, fusedRMSNormGatedQuantKernel);
  r.add("fused_moe_router", d, fusedMoERouterKernel);
  r.add("fused_qk_rms_norm", d, fusedQKRMSNormKernel);
  r.add("fused_rms_norm_quant_fp8", d, quantChainKernel<false, false, false, false>);
  r.add("fused_rms_norm_quant_fp8_static", d, quantChainKernel<false, false, false, true>);
  r.add("fused_add_rms_norm_quant_fp8", d, quantChainKernel<true, false, false, false>);
  r.add("fused_add_rms_norm_quant_fp8_static", d, quantChainKernel<true, false, false, true>);
  r.add("fused_all_reduce_rms_norm_quant_fp8", d, quantChainKernel<false, true, false, false>);
  r.add("fused_all_reduce_rms_norm_quant_fp8_static", d, quantChainKernel<false, true, false, true>);
  r.add("fused_all_reduce_add_rms_norm_quant_fp8", d, quantChainKernel<true, true, false, false>);
  r.add("fused_all_reduce_add_rms_norm_quant_fp8_static", d,
        quantChainKernel<true, true, false, true>);
  r.add("fused_silu_mul_quant_fp8", d, quantChainKernel<false, false, true, false>);
  r.add("fused_silu_mul_quant_fp8_static", d, quantChainKernel<false, false, true, true>);
  return r;
}

} // namespace

const KernelRegistry &cudaKernelRegistry() {
  static const KernelRegistry registry = makeRegistry();
  return registry;
}

bool cudaAvailable(std::string *why) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    if (why)
      *why = e != cudaSuccess ? cudaGetErrorString(e) : "no CUDA device";
    cudaGetLastError();
    return false;
  }
  return true;
}

void setCudaProgrammaticLaunch(bool on) { k::setProgrammaticLaunch(on); }

const Backend &cudaBackend() {
  std::string why;
  if (!cudaAvailable(&why))
    fail("--device cuda: ", why);
  static const Backend backend = [] {
    Backend b;
    b.device = Device::CUDA;
    b.kernels = &cudaKernelRegistry();
    b.allocator.device = Device::CUDA;
    b.allocator.allocate = [](size_t bytes) {
      void *p = nullptr;
      check(cudaMalloc(&p, bytes ? bytes : 1), "cudaMalloc");
      return p;
    };
    b.allocator.deallocate = [](void *p) { cudaFree(p); };
    b.upload = [](const Tensor &host, MemoryPool &pool) {
      size_t bytes = host.numel() * dtypeSize(host.dtype());
      Tensor t(host.dtype(), host.shape(), pool.allocate(bytes));
      if (!host.isContiguous())
        fail("upload needs a contiguous host tensor");
      check(cudaMemcpyAsync(t.data(), host.data(), bytes, cudaMemcpyHostToDevice, stream()),
            "upload");
      check(cudaStreamSynchronize(stream()), "upload");
      return t;
    };
    b.download = [](const Tensor &t) {
      auto host = allocateHostBuffer(t.buffer()->bytes);
      check(cudaMemcpyAsync(host->data, t.buffer()->data, t.buffer()->bytes,
                            cudaMemcpyDeviceToHost, stream()),
            "download");
      check(cudaStreamSynchronize(stream()), "download");
      return t.rebased(host);
    };
    b.fill = [](void *data, size_t bytes, uint8_t byte) {
      check(cudaMemsetAsync(data, byte, bytes, stream()), "cudaMemsetAsync");
    };
    b.synchronize = [] { check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize"); };
    // Relaxed mode: the pool may still call cudaMalloc while capturing (a
    // warm-up run normally leaves every block it needs in the pool).
    b.beginCapture = [] {
      check(cudaStreamBeginCapture(stream(), cudaStreamCaptureModeRelaxed),
            "cudaStreamBeginCapture");
    };
    b.endCapture = []() -> void * {
      cudaGraph_t graph = nullptr;
      check(cudaStreamEndCapture(stream(), &graph), "cudaStreamEndCapture");
      cudaGraphExec_t exec = nullptr;
      cudaError_t e = cudaGraphInstantiate(&exec, graph, 0);
      cudaGraphDestroy(graph);
      check(e, "cudaGraphInstantiate");
      return exec;
    };
    b.replay = [](void *exec) {
      check(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec), stream()), "cudaGraphLaunch");
    };
    b.destroyGraph = [](void *exec) { cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec)); };
    return b;
  }();
  return backend;
}

} // namespace llmf
