//===- CpuBackend.cpp - the CPU reference backend --------------------------===//

#include "runtime/cpu/CpuBackend.h"

#include "runtime/cpu/CpuKernels.h"

#include <cstring>

namespace llmf {

const KernelRegistry &cpuKernelRegistry() {
  static const KernelRegistry registry = [] {
    KernelRegistry r;
    cpu::registerElementwiseKernels(r);
    cpu::registerNormKernels(r);
    cpu::registerQuantKernels(r);
    cpu::registerRoutingKernels(r);
    cpu::registerMatmulKernels(r);
    return r;
  }();
  return registry;
}

const Backend &cpuBackend() {
  static const Backend backend = [] {
    Backend b;
    b.device = Device::CPU;
    b.kernels = &cpuKernelRegistry();
    b.allocator = DeviceAllocator::host();
    b.upload = [](const Tensor &host, MemoryPool &) { return host; };
    b.download = [](const Tensor &t) { return t; };
    b.fill = [](void *data, size_t bytes, uint8_t byte) {
      std::memset(data, byte, bytes);
    };
    b.synchronize = [] {};
    return b;
  }();
  return backend;
}

} // namespace llmf
