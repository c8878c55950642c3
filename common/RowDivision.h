//===- RowDivision.h - exact n / d by multiply-high and shift -*- C++ -*-===//
//
// Per-head rows inside a fused qkv tensor are addressed as (r / H, r % H).
// A 32-bit integer division is about 20 instructions on the GPU, and in the
// short-row norm kernels (8 elements a thread) that was one of the largest
// costs per row. The divisor is fixed per launch, so the host computes a
// magic multiplier once (Granlund and Montgomery, "Division by invariant
// integers using multiplication", 1994, theorem 4.2) and the device divides
// with one multiply-high, an add and a shift. Shared by host and device so
// the unit tests check the very formula the kernels run.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_COMMON_ROWDIVISION_H
#define LLM_FUSION_COMMON_ROWDIVISION_H

#include <cstdint>

#if defined(__CUDACC__)
#define LLMF_DIV_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define LLMF_DIV_HOST_DEVICE inline
#endif

namespace llmf {

/// n / d for 0 <= n < 2^31 and a fixed 1 <= d < 2^31: with l = ceil(log2 d)
/// and m = ceil(2^(32+l) / d) = 2^32 + magic, floor(n / d) equals
/// floor(n * m / 2^(32+l)) = (n + mulhi(n, magic)) >> l. The sum cannot
/// overflow because mulhi(n, magic) < n < 2^31.
struct RowDivision {
  uint32_t magic = 0;
  uint32_t shift = 0;

  static RowDivision make(uint32_t d) {
    RowDivision r;
    while ((uint64_t(1) << r.shift) < d)
      ++r.shift;
    uint64_t twoPow = uint64_t(1) << (32 + r.shift);
    r.magic = uint32_t((twoPow + d - 1) / d - (uint64_t(1) << 32));
    return r;
  }

  LLMF_DIV_HOST_DEVICE uint32_t divide(uint32_t n) const {
#if defined(__CUDA_ARCH__)
    uint32_t hi = __umulhi(n, magic);
#else
    uint32_t hi = uint32_t((uint64_t(n) * magic) >> 32);
#endif
    return (n + hi) >> shift;
  }
};

} // namespace llmf

#endif // LLM_FUSION_COMMON_ROWDIVISION_H
