//===- peers_fp8.cu - FlashInfer's static-scale FP8 norm kernels, C ABI ---===//
//
// The peers of the FP8 benchmark that bench/peers/peers.cu does not export:
// FlashInfer 0.7.2.post1's RMSNormQuant and FusedAddRMSNormQuant
// (include/flashinfer/norm.cuh: per-tensor static scale, e4m3 out), bf16,
// called as flashinfer.norm.rmsnorm_quant / fused_add_rmsnorm_quant call
// them. Built by bench/fp8/run.sh with FlashInfer's JIT flags against the
// headers bench/peers/prepare.sh fetched. Benchmark code only: nothing of it is
// in the project's libraries.
//
//===----------------------------------------------------------------------===//

#include <flashinfer/norm.cuh>

#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <exception>
#include <string>

namespace {
std::string lastError;
using bf16 = __nv_bfloat16;
cudaStream_t asStream(void *s) { return static_cast<cudaStream_t>(s); }
int report(cudaError_t e, const char *what) {
  if (e == cudaSuccess)
    return 0;
  lastError = std::string(what) + ": " + cudaGetErrorString(e);
  return int(e);
}
int fail(const char *what, const std::exception &ex) {
  lastError = std::string(what) + ": " + ex.what();
  return 1;
}
} // namespace

extern "C" {

const char *peers_last_error() { return lastError.c_str(); }

/// flashinfer.norm.rmsnorm_quant: out = e4m3(rms_norm(x, w) / scale[0]), [rows, d] bf16.
int peers_fp8_rmsnorm_quant(void *input, void *weight, void *out, void *scale, int64_t rows,
                            int64_t d, float eps, int64_t pdl, void *stream) {
  try {
    return report(flashinfer::norm::RMSNormQuant<bf16, __nv_fp8_e4m3>(
                      static_cast<bf16 *>(input), static_cast<bf16 *>(weight),
                      static_cast<__nv_fp8_e4m3 *>(out), uint32_t(rows), uint32_t(d),
                      uint32_t(d), uint32_t(d), static_cast<float *>(scale), eps, pdl != 0,
                      asStream(stream)),
                  "RMSNormQuant");
  } catch (const std::exception &ex) {
    return fail("rmsnorm_quant", ex);
  }
}

/// flashinfer.norm.fused_add_rmsnorm_quant: residual <- x + residual (in
/// place); out = e4m3(rms_norm(residual, w) / scale[0]).
int peers_fp8_fused_add_rmsnorm_quant(void *input, void *residual, void *weight, void *out,
                                      void *scale, int64_t rows, int64_t d, float eps,
                                      int64_t pdl, void *stream) {
  try {
    return report(flashinfer::norm::FusedAddRMSNormQuant<bf16, __nv_fp8_e4m3>(
                      static_cast<bf16 *>(input), static_cast<bf16 *>(residual),
                      static_cast<bf16 *>(weight), static_cast<__nv_fp8_e4m3 *>(out),
                      uint32_t(rows), uint32_t(d), uint32_t(d), uint32_t(d), uint32_t(d),
                      static_cast<float *>(scale), eps, pdl != 0, asStream(stream)),
                  "FusedAddRMSNormQuant");
  } catch (const std::exception &ex) {
    return fail("fused_add_rmsnorm_quant", ex);
  }
}

} // extern "C"
