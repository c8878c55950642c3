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

} // namespace llmf::kernels
