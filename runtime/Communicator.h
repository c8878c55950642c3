//===- Communicator.h - collectives between tensor-parallel ranks -*- C++ -*-===//
//
// The runtime's view of a tensor-parallel group: a rank, a world size and a
// sum all-reduce. ThreadGroup runs every rank as a thread of one process,
// which is how CI exercises the all-reduce fusions without GPUs; NCCL and
// our own GPU all-reduce plug in behind the same interface.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_COMMUNICATOR_H
#define LLM_FUSION_RUNTIME_COMMUNICATOR_H

#include "runtime/Tensor.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace llmf {

class Communicator {
public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int worldSize() const = 0;
  /// out = sum of `in` over all ranks, in fp32 (int64 for integers) and in
  /// rank order, rounded once to out's type; identical on every rank.
  virtual void allReduceSum(const Tensor &in, const Tensor &out) = 0;
  /// Tells the other ranks this one failed, so none waits forever.
  virtual void abort() {}
};

/// Shared state of N ranks running as threads of one process.
class ThreadGroup {
public:
  explicit ThreadGroup(int worldSize);
  ~ThreadGroup();
  /// The communicator of one rank; valid while the group lives.
  Communicator &rank(int r);
  int worldSize() const { return worldSize_; }

private:
  class RankComm;
  friend class RankComm;
  /// Waits for every rank; false when some rank aborted.
  bool barrier();
  void abortAll();

  int worldSize_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int arrived_ = 0;
  uint64_t generation_ = 0;
  bool aborted_ = false;
  /// The sums of the current all-reduce (floats or integers), each rank
  /// writing its slice.
  std::vector<float> sumF_;
  std::vector<int64_t> sumI_;
  std::vector<const Tensor *> slots_;
  std::vector<std::unique_ptr<RankComm>> ranks_;
};

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_COMMUNICATOR_H
