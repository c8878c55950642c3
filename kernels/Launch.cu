//===- Launch.cu - launch policy shared by every launcher -----------------===//
//
// Refusal reasons, and whether launches use programmatic dependent launch.
//
//===----------------------------------------------------------------------===//

#include "kernels/Launch.h"

#include <atomic>

namespace llmf::kernels {

static thread_local const char *gLastError = "";
static std::atomic<bool> gProgrammaticLaunch{false};

cudaError_t invalid(const char *reason) {
  gLastError = reason;
  return cudaErrorInvalidValue;
}

const char *lastKernelError() { return gLastError; }

void setProgrammaticLaunch(bool on) { gProgrammaticLaunch = on; }

bool programmaticLaunch() { return gProgrammaticLaunch; }

int smCount() {
  static const int count = [] {
    int device = 0, n = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device) != cudaSuccess)
      return 0;
    return n;
  }();
  return count;
}

} // namespace llmf::kernels
