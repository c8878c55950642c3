//===- Communicator.cpp - all-reduce between ranks that are threads -----===//

#include "runtime/Communicator.h"

#include "runtime/Error.h"

#include <algorithm>

namespace llmf {

class ThreadGroup::RankComm : public Communicator {
public:
  RankComm(ThreadGroup &group, int rank) : group_(group), rank_(rank) {}
  int rank() const override { return rank_; }
  int worldSize() const override { return group_.worldSize_; }
  void abort() override { group_.abortAll(); }

  void allReduceSum(const Tensor &in, const Tensor &out) override {
    if (in.shape() != out.shape() || in.device() != Device::CPU)
      fail("all_reduce: input ", in.describe(), " and output ", out.describe(),
           " must be host tensors of one shape");
    group_.slots_[rank_] = &in;
    if (!group_.barrier())
      fail("all_reduce: another rank failed");
    // Shapes must agree across ranks, or the sum is meaningless. Every rank
    // reaches the same verdict, and none leaves (freeing its input, which
    // the others read through slots_) before all have looked.
    std::string mismatch;
    for (int r = 0; r < worldSize() && mismatch.empty(); ++r)
      if (group_.slots_[r]->shape() != in.shape() ||
          group_.slots_[r]->dtype() != in.dtype())
        mismatch = "all_reduce: rank " + std::to_string(r) + " has " +
                   group_.slots_[r]->describe() + " but rank " + std::to_string(rank_) +
                   " has " + in.describe();
    if (!mismatch.empty()) {
      if (!group_.barrier())
        fail("all_reduce: another rank failed");
      throw Error(mismatch);
    }
    // Reduce-scatter into the group's scratch, then every rank reads it all:
    // each element is summed once (in fp32, rank order, as before), not once
    // per rank, so the work is linear in the world size.
    int64_t n = in.numel();
    bool integer = !isFloat(in.dtype());
    if (rank_ == 0) {
      group_.sumF_.assign(integer ? 0 : n, 0.0f);
      group_.sumI_.assign(integer ? n : 0, 0);
    }
    if (!group_.barrier())
      fail("all_reduce: another rank failed");
    int64_t w = worldSize();
    int64_t begin = n / w * rank_ + std::min<int64_t>(rank_, n % w);
    int64_t end = begin + n / w + (rank_ < n % w ? 1 : 0);
    for (int64_t i = begin; i < end; ++i) {
      if (integer) {
        int64_t s = 0;
        for (int r = 0; r < w; ++r)
          s += loadInt(*group_.slots_[r], i);
        group_.sumI_[i] = s;
      } else {
        float s = 0.0f;
        for (int r = 0; r < w; ++r)
          s += loadFloat(*group_.slots_[r], i);
        group_.sumF_[i] = s;
      }
    }
    if (!group_.barrier())
      fail("all_reduce: another rank failed");
    for (int64_t i = 0; i < n; ++i) {
      if (integer)
        writeInt(out.dtype(), out.elementPtr(i), group_.sumI_[i]);
      else
        writeFloat(out.dtype(), out.elementPtr(i), group_.sumF_[i]);
    }
    // Nobody may reuse its input, or the scratch, before every rank is done.
    if (!group_.barrier())
      fail("all_reduce: another rank failed");
  }

private:
  ThreadGroup &group_;
  int rank_;
};

ThreadGroup::ThreadGroup(int worldSize)
    : worldSize_(worldSize), slots_(worldSize, nullptr) {
  for (int r = 0; r < worldSize; ++r)
    ranks_.push_back(std::make_unique<RankComm>(*this, r));
}

ThreadGroup::~ThreadGroup() = default;

Communicator &ThreadGroup::rank(int r) { return *ranks_.at(r); }

bool ThreadGroup::barrier() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (aborted_)
    return false;
  uint64_t gen = generation_;
  if (++arrived_ == worldSize_) {
    arrived_ = 0;
    ++generation_;
    cv_.notify_all();
    return true;
  }
  cv_.wait(lock, [&] { return generation_ != gen || aborted_; });
  return !aborted_;
}

void ThreadGroup::abortAll() {
  std::lock_guard<std::mutex> lock(mutex_);
  aborted_ = true;
  cv_.notify_all();
}

} // namespace llmf
