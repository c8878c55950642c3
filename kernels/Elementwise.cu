//===- Elementwise.cu - cast, arithmetic and activations over any layout --===//
//
// Grid-stride loops over the output; each operand is read through an
// IndexMap (broadcast, then its own strided layout), with a fast path when
// an operand is contiguous and not broadcast. Element types are switched per
// launch-uniform value, so warps never diverge on them.
//
//===----------------------------------------------------------------------===//

#include "kernels/Common.cuh"
#include "kernels/Launch.h"

namespace llmf::kernels {
namespace {

__device__ __forceinline__ int64_t mapIndex(const IndexMap &m, int64_t i) {
  if (m.identity)
    return m.offset + i;
  int64_t logical = 0;
  for (int d = m.outRank - 1; d >= 0; --d) {
    logical += (i % m.outSizes[d]) * m.bcastStrides[d];
    i /= m.outSizes[d];
  }
  int64_t off = 0;
  for (int d = m.layoutRank - 1; d >= 0; --d) {
    off += (logical % m.layoutSizes[d]) * m.layoutStrides[d];
    logical /= m.layoutSizes[d];
  }
  return m.offset + off;
}

__device__ __forceinline__ float loadAsFloat(ElemType t, const void *p, int64_t i) {
  switch (t) {
  case ElemType::F32: return static_cast<const float *>(p)[i];
  case ElemType::F16: return __half2float(static_cast<const __half *>(p)[i]);
  case ElemType::BF16: return __bfloat162float(static_cast<const __nv_bfloat16 *>(p)[i]);
  case ElemType::F8E4M3FN: {
    __nv_fp8_e4m3 v;
    v.__x = static_cast<const uint8_t *>(p)[i];
    return float(v);
  }
  case ElemType::I32: return float(static_cast<const int32_t *>(p)[i]);
  case ElemType::I64: return float(static_cast<const int64_t *>(p)[i]);
  }
  return 0.0f;
}

__device__ __forceinline__ int64_t loadAsInt(ElemType t, const void *p, int64_t i) {
  if (t == ElemType::I32)
    return static_cast<const int32_t *>(p)[i];
  if (t == ElemType::I64)
    return static_cast<const int64_t *>(p)[i];
  return int64_t(loadAsFloat(t, p, i));
}

/// Float to integer: truncate, saturate, NaN -> 0 (the CPU reference's cast).
__device__ __forceinline__ int64_t floatToInt(float v, ElemType to) {
  if (isnan(v))
    return 0;
  double lo = to == ElemType::I32 ? -2147483648.0 : -9223372036854775808.0;
  double hi = to == ElemType::I32 ? 2147483647.0 : 9223372036854775807.0;
  double t = trunc(double(v));
  if (t <= lo)
    return to == ElemType::I32 ? INT32_MIN : INT64_MIN;
  if (t >= hi)
    return to == ElemType::I32 ? INT32_MAX : INT64_MAX;
  return int64_t(t);
}

__device__ __forceinline__ void storeFloat(ElemType t, void *p, int64_t i, float v) {
  switch (t) {
  case ElemType::F32: static_cast<float *>(p)[i] = v; return;
  case ElemType::F16: static_cast<__half *>(p)[i] = __float2half_rn(v); return;
  case ElemType::BF16: static_cast<__nv_bfloat16 *>(p)[i] = __float2bfloat16_rn(v); return;
  case ElemType::F8E4M3FN: static_cast<uint8_t *>(p)[i] = toFp8(v); return;
  case ElemType::I32: static_cast<int32_t *>(p)[i] = int32_t(floatToInt(v, t)); return;
  case ElemType::I64: static_cast<int64_t *>(p)[i] = floatToInt(v, t); return;
  }
}

__device__ __forceinline__ void storeInt(ElemType t, void *p, int64_t i, int64_t v) {
  if (t == ElemType::I32)
    static_cast<int32_t *>(p)[i] = int32_t(v);
  else if (t == ElemType::I64)
    static_cast<int64_t *>(p)[i] = v;
  else
    storeFloat(t, p, i, float(v));
}

__host__ __device__ bool isInt(ElemType t) {
  return t == ElemType::I32 || t == ElemType::I64;
}

/// The float math of a binary op, rounding aside (the caller stores it in
/// the output type). A compile-time op folds the switch away.
__device__ __forceinline__ float applyBinary(BinaryOp op, float u, float v) {
  switch (op) {
  case BinaryOp::Add: return u + v;
  case BinaryOp::Sub: return u - v;
  case BinaryOp::Mul: return u * v;
  case BinaryOp::Div: return u / v;
  case BinaryOp::Eq: return u == v ? 1.0f : 0.0f;
  case BinaryOp::Ne: return u != v ? 1.0f : 0.0f;
  }
  return 0.0f;
}

__global__ void binaryKernel(BinaryOp op, ElemType type, IndexMap a, const void *ad,
                             IndexMap b, const void *bd, void *out, int64_t n, int *error) {
  pdlEnter();
  bool integer = type == ElemType::I32 || type == ElemType::I64;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t ia = mapIndex(a, i), ib = mapIndex(b, i);
    if (integer) {
      int64_t u = loadAsInt(type, ad, ia), v = loadAsInt(type, bd, ib), r = 0;
      switch (op) {
      case BinaryOp::Add: r = u + v; break;
      case BinaryOp::Sub: r = u - v; break;
      case BinaryOp::Mul: r = u * v; break;
      case BinaryOp::Div:
        if (v == 0) {
          *error = 1;
          r = 0;
        } else {
          r = u / v;
        }
        break;
      case BinaryOp::Eq: r = u == v; break;
      case BinaryOp::Ne: r = u != v; break;
      }
      storeInt(type, out, i, r);
      continue;
    }
    storeFloat(type, out, i,
               applyBinary(op, loadAsFloat(type, ad, ia), loadAsFloat(type, bd, ib)));
  }
}

__global__ void unaryKernel(UnaryOp op, ElemType inType, IndexMap x, const void *xd,
                            ElemType outType, void *out, int64_t n, float param) {
  pdlEnter();
  bool intToInt = (inType == ElemType::I32 || inType == ElemType::I64) &&
                  (outType == ElemType::I32 || outType == ElemType::I64);
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    if (op == UnaryOp::Fill) {
      storeFloat(outType, out, i, param);
      continue;
    }
    int64_t ix = mapIndex(x, i);
    if (intToInt) {
      storeInt(outType, out, i, loadAsInt(inType, xd, ix));
      continue;
    }
    float v = loadAsFloat(inType, xd, ix);
    switch (op) {
    case UnaryOp::Sigmoid: v = sigmoidf(v); break;
    case UnaryOp::Silu: v = siluf(v); break;
    case UnaryOp::Relu: v = isnan(v) ? v : (v > 0.0f ? v : 0.0f); break;
    case UnaryOp::Copy: break;
    case UnaryOp::Rsqrt: v = 1.0f / sqrtf(v); break;
    case UnaryOp::Pow: v = param == 2.0f ? v * v : powf(v, param); break;
    case UnaryOp::Neg: v = -v; break;
    case UnaryOp::Exp: v = expf(v); break;
    case UnaryOp::Softplus: v = v > 20.0f ? v : log1pf(expf(v)); break;
    case UnaryOp::Gelu: v = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f)); break;
    case UnaryOp::GeluTanh:
      v = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
      break;
    case UnaryOp::Fill: break;
    }
    storeFloat(outType, out, i, v);
  }
}

/// Both operands contiguous, not broadcast, of one float type T: 16-byte
/// vectors (grid-stride), the same fp32 math and rounding as binaryKernel;
/// the last n % VEC elements go one a thread.
template <typename T, BinaryOp OP>
__global__ void binaryVecKernel(const T *a, const T *b, T *out, int64_t n) {
  pdlEnter();
  constexpr int kVec = 16 / sizeof(T);
  const int64_t vectors = n / kVec, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < vectors; i += stride) {
    float u[kVec], v[kVec];
    loadVec<T, kVec>(a + i * kVec, u);
    loadVec<T, kVec>(b + i * kVec, v);
#pragma unroll
    for (int j = 0; j < kVec; ++j)
      u[j] = applyBinary(OP, u[j], v[j]);
    storeVec<T, kVec>(out + i * kVec, u);
  }
  int64_t tail = vectors * kVec + int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (tail < n)
    out[tail] = fromFloat<T>(applyBinary(OP, toFloat(a[tail]), toFloat(b[tail])));
}

/// The launch floor's kernel. It waits like every kernel: one launched with
/// programmatic dependent launch that skipped the wait could finish before
/// its predecessor, and its own successor would then wait on the wrong grid.
__global__ void empty() { pdlEnter(); }

dim3 gridFor(int64_t n) { return dim3(unsigned(std::min<int64_t>((n + 255) / 256, 132 * 32))); }

/// One output element a thread: the mean of its `extent` inputs, summed in
/// double in index order as the CPU reference sums. Not tuned: decomposed
/// norms are raised to rms_norm before they run; this serves graphs that
/// keep a plain mean.
__global__ void meanKernel(ElemType type, IndexMap x, const void *xd, int64_t outer,
                           int64_t extent, int64_t inner, void *out, bool divide) {
  pdlEnter();
  int64_t n = outer * inner;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < n;
       o += int64_t(gridDim.x) * blockDim.x) {
    int64_t a = o / inner, b = o % inner;
    double sum = 0.0;
    for (int64_t j = 0; j < extent; ++j)
      sum += loadAsFloat(type, xd, mapIndex(x, (a * extent + j) * inner + b));
    if (!divide)
      storeFloat(type, out, o, float(sum));
    else
      storeFloat(type, out, o,
                 extent ? float(sum / double(extent)) : __int_as_float(0x7fc00000));
  }
}

/// One row (an (outer, inner) pair) a thread, three passes over its
/// `extent` elements. Not tuned: routers softmax a few hundred experts.
__global__ void softmaxKernel(ElemType type, IndexMap x, const void *xd, int64_t outer,
                              int64_t extent, int64_t inner, void *out) {
  pdlEnter();
  int64_t n = outer * inner;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < n;
       o += int64_t(gridDim.x) * blockDim.x) {
    int64_t a = o / inner, b = o % inner;
    float m = -INFINITY;
    for (int64_t j = 0; j < extent; ++j)
      m = fmaxf(m, loadAsFloat(type, xd, mapIndex(x, (a * extent + j) * inner + b)));
    double sum = 0.0;
    for (int64_t j = 0; j < extent; ++j)
      sum += expf(loadAsFloat(type, xd, mapIndex(x, (a * extent + j) * inner + b)) - m);
    for (int64_t j = 0; j < extent; ++j) {
      int64_t i = (a * extent + j) * inner + b;
      storeFloat(type, out, i, float(double(expf(loadAsFloat(type, xd, mapIndex(x, i)) - m)) / sum));
    }
  }
}

__global__ void scatterValueKernel(ElemType type, void *y, int64_t rows, int64_t d,
                                   ElemType idxType, const void *idx, int64_t k, float value,
                                   int *error) {
  pdlEnter();
  int64_t n = rows * k;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t col = loadAsInt(idxType, idx, i);
    if (col < 0 || col >= d) {
      *error = 1;
      continue;
    }
    storeFloat(type, y, (i / k) * d + col, value);
  }
}

/// A raw copy of one element of `bytes` bytes.
__device__ __forceinline__ void copyElement(int bytes, const void *src, int64_t si, void *dst,
                                            int64_t di) {
  switch (bytes) {
  case 1: static_cast<uint8_t *>(dst)[di] = static_cast<const uint8_t *>(src)[si]; break;
  case 2: static_cast<uint16_t *>(dst)[di] = static_cast<const uint16_t *>(src)[si]; break;
  case 4: static_cast<uint32_t *>(dst)[di] = static_cast<const uint32_t *>(src)[si]; break;
  default: static_cast<uint64_t *>(dst)[di] = static_cast<const uint64_t *>(src)[si]; break;
  }
}

__global__ void selectKernel(ElemType condType, IndexMap c, const void *cd, int bytes,
                             IndexMap a, const void *ad, IndexMap b, const void *bd, void *out,
                             int64_t n) {
  pdlEnter();
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    bool take = isInt(condType) ? loadAsInt(condType, cd, mapIndex(c, i)) != 0
                                : loadAsFloat(condType, cd, mapIndex(c, i)) != 0.0f;
    if (take)
      copyElement(bytes, ad, mapIndex(a, i), out, i);
    else
      copyElement(bytes, bd, mapIndex(b, i), out, i);
  }
}

__global__ void concatIntoKernel(int bytes, IndexMap x, const void *xd, int64_t outer,
                                 int64_t extent, int64_t inner, int64_t outExtent,
                                 int64_t offset, void *out) {
  pdlEnter();
  int64_t block = extent * inner, n = outer * block;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t o = i / block, rest = i % block;
    copyElement(bytes, xd, mapIndex(x, i), out, (o * outExtent + offset) * inner + rest);
  }
}

} // namespace

cudaError_t binary(BinaryOp op, ElemType type, IndexMap a, const void *aData, IndexMap b,
                   const void *bData, void *out, int64_t n, int *error, cudaStream_t stream) {
  if (n == 0)
    return cudaSuccess;
  // The common case (a residual add, an unfused chain's elementwise step):
  // both operands plain contiguous arrays of one float type.
  auto at = [](const void *base, const IndexMap &m, size_t size) {
    return static_cast<const char *>(base) + m.offset * size;
  };
  size_t size = type == ElemType::F32 ? 4 : 2;
  bool floatType = type == ElemType::F32 || type == ElemType::F16 || type == ElemType::BF16;
  uintptr_t addresses = reinterpret_cast<uintptr_t>(at(aData, a, size)) |
                        reinterpret_cast<uintptr_t>(at(bData, b, size)) |
                        reinterpret_cast<uintptr_t>(out);
  if (floatType && a.identity && b.identity && addresses % 16 == 0) {
    return withFloatType(type, "binary", [&](auto t) {
      using T = typename decltype(t)::type;
      const T *pa = reinterpret_cast<const T *>(at(aData, a, size));
      const T *pb = reinterpret_cast<const T *>(at(bData, b, size));
      dim3 grid(unsigned(std::min<int64_t>((n / (16 / sizeof(T)) + 255) / 256 + 1, 132 * 16)));
      auto launch = [&](auto opTag) {
        launchKernel(binaryVecKernel<T, decltype(opTag)::value>, grid, 256, 0, stream, pa, pb,
                     static_cast<T *>(out), n);
      };
      switch (op) {
      case BinaryOp::Add: launch(std::integral_constant<BinaryOp, BinaryOp::Add>{}); break;
      case BinaryOp::Sub: launch(std::integral_constant<BinaryOp, BinaryOp::Sub>{}); break;
      case BinaryOp::Mul: launch(std::integral_constant<BinaryOp, BinaryOp::Mul>{}); break;
      case BinaryOp::Div: launch(std::integral_constant<BinaryOp, BinaryOp::Div>{}); break;
      case BinaryOp::Eq: launch(std::integral_constant<BinaryOp, BinaryOp::Eq>{}); break;
      case BinaryOp::Ne: launch(std::integral_constant<BinaryOp, BinaryOp::Ne>{}); break;
      }
      return cudaGetLastError();
    });
  }
  launchKernel(binaryKernel, gridFor(n), 256, 0, stream, op, type, a, aData, b, bData, out, n,
               error);
  return cudaGetLastError();
}

cudaError_t unary(UnaryOp op, ElemType inType, IndexMap x, const void *xData, ElemType outType,
                  void *out, int64_t n, cudaStream_t stream, float param) {
  if (n == 0)
    return cudaSuccess;
  if (op != UnaryOp::Copy && op != UnaryOp::Fill && (isInt(inType) || inType != outType))
    return invalid("unary: activations take and give one float type");
  launchKernel(unaryKernel, gridFor(n), 256, 0, stream, op, inType, x, xData, outType, out, n,
               param);
  return cudaGetLastError();
}

cudaError_t concatInto(int elemBytes, IndexMap x, const void *xData, int64_t outer,
                       int64_t extent, int64_t inner, int64_t outExtent, int64_t offset,
                       void *out, cudaStream_t stream) {
  int64_t n = outer * extent * inner;
  if (n == 0)
    return cudaSuccess;
  if (elemBytes != 1 && elemBytes != 2 && elemBytes != 4 && elemBytes != 8)
    return invalid("concat: elements of 1, 2, 4 or 8 bytes");
  launchKernel(concatIntoKernel, gridFor(n), 256, 0, stream, elemBytes, x, xData, outer, extent,
               inner, outExtent, offset, out);
  return cudaGetLastError();
}

/// mean and sum: one launcher, `divide` picks the op.
static cudaError_t reduce(const char *what, bool divide, ElemType type, IndexMap x,
                          const void *xData, int64_t outer, int64_t extent, int64_t inner,
                          void *out, cudaStream_t stream) {
  int64_t n = outer * inner;
  if (n == 0)
    return cudaSuccess;
  if (isInt(type))
    return invalid(what);
  launchKernel(meanKernel, gridFor(n), 256, 0, stream, type, x, xData, outer, extent, inner, out,
               divide);
  return cudaGetLastError();
}

cudaError_t mean(ElemType type, IndexMap x, const void *xData, int64_t outer, int64_t extent,
                 int64_t inner, void *out, cudaStream_t stream) {
  return reduce("mean: x must be f32, f16 or bf16", true, type, x, xData, outer, extent, inner,
                out, stream);
}

cudaError_t sum(ElemType type, IndexMap x, const void *xData, int64_t outer, int64_t extent,
                int64_t inner, void *out, cudaStream_t stream) {
  return reduce("sum: x must be f32, f16 or bf16", false, type, x, xData, outer, extent, inner,
                out, stream);
}

cudaError_t softmax(ElemType type, IndexMap x, const void *xData, int64_t outer, int64_t extent,
                    int64_t inner, void *out, cudaStream_t stream) {
  int64_t n = outer * inner;
  if (n == 0 || extent == 0)
    return cudaSuccess;
  if (isInt(type))
    return invalid("softmax: x must be f32, f16 or bf16");
  launchKernel(softmaxKernel, gridFor(n), 256, 0, stream, type, x, xData, outer, extent, inner,
               out);
  return cudaGetLastError();
}

cudaError_t select(ElemType condType, IndexMap cond, const void *condData, int elemBytes,
                   IndexMap a, const void *aData, IndexMap b, const void *bData, void *out,
                   int64_t n, cudaStream_t stream) {
  if (n == 0)
    return cudaSuccess;
  if (elemBytes != 1 && elemBytes != 2 && elemBytes != 4 && elemBytes != 8)
    return invalid("select: elements of 1, 2, 4 or 8 bytes");
  launchKernel(selectKernel, gridFor(n), 256, 0, stream, condType, cond, condData, elemBytes, a,
               aData, b, bData, out, n);
  return cudaGetLastError();
}

cudaError_t scatterValue(ElemType type, void *y, int64_t rows, int64_t d, ElemType idxType,
                         const void *idx, int64_t k, float value, int *error,
                         cudaStream_t stream) {
  int64_t n = rows * k;
  if (n == 0)
    return cudaSuccess;
  if (!isInt(idxType))
    return invalid("scatter: indices must be i32 or i64");
  launchKernel(scatterValueKernel, gridFor(n), 256, 0, stream, type, y, rows, d, idxType, idx, k,
               value, error);
  return cudaGetLastError();
}

cudaError_t emptyKernel(cudaStream_t stream) {
  launchKernel(empty, 1, 32, 0, stream);
  return cudaGetLastError();
}

} // namespace llmf::kernels
