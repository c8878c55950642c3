//===- Executor.h - runs one function of a plan on one rank ----*- C++ -*-===//
//
// Binds the inputs (dynamic dims come from their shapes), walks the steps in
// order, re-checks every step's types with the concrete shapes, makes
// `split` and `reshape` zero-copy views, launches kernels for the rest, and
// releases each intermediate after its last reader so the memory pool can
// reuse its block.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_EXECUTOR_H
#define LLM_FUSION_RUNTIME_EXECUTOR_H

#include "runtime/Communicator.h"
#include "runtime/KernelRegistry.h"
#include "runtime/MemoryPool.h"
#include "runtime/Plan.h"

#include <functional>
#include <vector>

namespace llmf {

struct OpSchema;

/// What the executor needs from a device: its kernels, memory, a way to put
/// host data (constants) on it, and an optional byte pattern to poison
/// fresh results with (tests use it to catch unwritten elements).
struct Backend {
  Device device = Device::CPU;
  const KernelRegistry *kernels = nullptr;
  DeviceAllocator allocator;
  /// Copies a contiguous host tensor into a device tensor of the same type
  /// (the CPU returns it as is).
  std::function<Tensor(const Tensor &host, MemoryPool &pool)> upload;
  /// A host tensor with the same values as a device tensor (identity on
  /// the CPU); waits for queued work.
  std::function<Tensor(const Tensor &device)> download;
  /// Fills `bytes` at `data` with `byte`.
  std::function<void(void *data, size_t bytes, uint8_t byte)> fill;
  /// Waits for queued work (timing); no-op on the CPU.
  std::function<void()> synchronize;
  /// Graph capture of everything the calling thread queues (null where the
  /// device has none): begin, end -> an executable graph, replay, destroy.
  std::function<void()> beginCapture;
  std::function<void *()> endCapture;
  std::function<void(void *)> replay;
  std::function<void(void *)> destroyGraph;
};

/// The CPU reference backend (kernels in runtime/cpu).


/// Counts of the last run, and the pool's memory since it was created.
struct RunStats {
  MemoryStats memory;
  int64_t launches = 0; // kernels run
  int64_t views = 0;    // split/reshape results that are views
  int64_t copies = 0;   // views the layout could not express (copied)
};

struct ExecutorOptions {
  /// When set, every fresh result is filled with this byte before its
  /// kernel runs (0xFF is NaN in every float type).
  std::optional<uint8_t> poison;
};

class Executor {
public:
  /// Throws Error when the backend lacks a kernel of the function.
  Executor(const Plan &plan, const PlanFunction &fn, const Backend &backend,
           Communicator &comm, ExecutorOptions options = {});

  /// Runs the function; inputs must match the plan's argument types (on
  /// the backend's device). Throws Error on any mismatch.
  std::vector<Tensor> run(const std::vector<Tensor> &inputs);
  RunStats stats() const;
  const PlanFunction &function() const { return fn_; }
  MemoryPool &pool() { return pool_; }

private:
  std::vector<Tensor> runSteps(const std::vector<Tensor> &inputs);
  Tensor allocate(const TensorType &type);
  std::string where(size_t step) const;

  const Plan &plan_;
  const PlanFunction &fn_;
  const Backend &backend_;
  Communicator &comm_;
  ExecutorOptions options_;
  MemoryPool pool_;
  std::vector<const OpSchema *> schemas_; // per step
  std::vector<KernelFn> kernels_;     // per step; null for views
  std::vector<size_t> lastUse_;       // per buffer: last reading step
  std::vector<Tensor> constants_;     // per buffer (defined for constants)
  RunStats stats_;
};

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_EXECUTOR_H
