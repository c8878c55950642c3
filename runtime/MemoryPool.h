//===- MemoryPool.h - liveness-driven reuse of intermediate buffers -*- C++ -*-===//
//
// The executor releases an intermediate after its last reader; its block
// returns here and the next allocation that fits reuses it (best fit). The
// pool counts what is live and its peak, which fusion-run reports.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_MEMORYPOOL_H
#define LLM_FUSION_RUNTIME_MEMORYPOOL_H

#include "runtime/Tensor.h"

#include <functional>
#include <map>
#include <memory>

namespace llmf {

/// Raw device memory: the pool's only dependency on a backend.
struct DeviceAllocator {
  Device device = Device::CPU;
  std::function<void *(size_t)> allocate;
  std::function<void(void *)> deallocate;
  static DeviceAllocator host();
};

struct MemoryStats {
  size_t liveBytes = 0;     // held by tensors now
  size_t peakLiveBytes = 0; // the most ever held at once
  size_t reservedBytes = 0; // blocks the pool owns (live + free)
  size_t allocations = 0;   // requests served
  size_t reuses = 0;        // requests served by a freed block
};

class MemoryPool {
public:
  explicit MemoryPool(DeviceAllocator allocator);
  ~MemoryPool();
  /// A buffer of at least `bytes`; its block returns to the pool when the
  /// last tensor using it goes away (even after the pool is gone).
  std::shared_ptr<Buffer> allocate(size_t bytes);
  MemoryStats stats() const;
  void resetPeak();

private:
  struct State;
  std::shared_ptr<State> state_;
};

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_MEMORYPOOL_H
