//===- MemoryPool.cpp - best-fit reuse of freed blocks -------------------===//

#include "runtime/MemoryPool.h"

#include <mutex>

namespace llmf {

DeviceAllocator DeviceAllocator::host() {
  DeviceAllocator a;
  a.device = Device::CPU;
  a.allocate = [](size_t bytes) { return ::operator new(bytes == 0 ? 1 : bytes); };
  a.deallocate = [](void *p) { ::operator delete(p); };
  return a;
}

struct MemoryPool::State {
  DeviceAllocator allocator;
  std::mutex mutex;
  std::multimap<size_t, void *> freeBlocks; // capacity -> block
  bool poolAlive = true;
  MemoryStats stats;

  void release(void *data, size_t capacity) {
    std::lock_guard<std::mutex> lock(mutex);
    stats.liveBytes -= capacity;
    if (poolAlive) {
      freeBlocks.emplace(capacity, data);
    } else {
      allocator.deallocate(data);
      stats.reservedBytes -= capacity;
    }
  }
};

MemoryPool::MemoryPool(DeviceAllocator allocator)
    : state_(std::make_shared<State>()) {
  state_->allocator = std::move(allocator);
}

MemoryPool::~MemoryPool() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  for (auto &[capacity, data] : state_->freeBlocks) {
    state_->allocator.deallocate(data);
    state_->stats.reservedBytes -= capacity;
  }
  state_->freeBlocks.clear();
  state_->poolAlive = false;
}

std::shared_ptr<Buffer> MemoryPool::allocate(size_t bytes) {
  // Round up so that blocks of nearly equal tensors are interchangeable.
  size_t want = (bytes + 255) / 256 * 256;
  void *data = nullptr;
  size_t capacity = 0;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    ++state_->stats.allocations;
    // Best fit, but never waste more than half of a reused block.
    auto it = state_->freeBlocks.lower_bound(want);
    if (it != state_->freeBlocks.end() && it->first <= 2 * want + 256) {
      capacity = it->first;
      data = it->second;
      state_->freeBlocks.erase(it);
      ++state_->stats.reuses;
    }
  }
  if (!data) {
    capacity = want;
    data = state_->allocator.allocate(capacity);
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stats.reservedBytes += capacity;
  }
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stats.liveBytes += capacity;
    state_->stats.peakLiveBytes =
        std::max(state_->stats.peakLiveBytes, state_->stats.liveBytes);
  }
  auto buffer = std::make_shared<Buffer>();
  buffer->data = data;
  buffer->bytes = bytes;
  buffer->device = state_->allocator.device;
  std::shared_ptr<State> state = state_;
  buffer->release = [state, capacity](Buffer &b) { state->release(b.data, capacity); };
  return buffer;
}

MemoryStats MemoryPool::stats() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->stats;
}

void MemoryPool::resetPeak() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->stats.peakLiveBytes = state_->stats.liveBytes;
}

} // namespace llmf
