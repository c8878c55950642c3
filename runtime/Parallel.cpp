//===- Parallel.cpp -------------------------------------------------------===//

#include "runtime/Parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace llmf {

static std::atomic<int> gMaxThreads{0};

void setMaxThreads(int threads) { gMaxThreads = threads; }

void parallelFor(int64_t n, int64_t costPerItem,
                 const std::function<void(int64_t, int64_t)> &fn) {
  if (n <= 0)
    return;
  constexpr int64_t kMinWorkPerThread = 1 << 16;
  int64_t hw = std::max(1u, std::thread::hardware_concurrency());
  if (gMaxThreads > 0)
    hw = std::min<int64_t>(hw, gMaxThreads);
  int64_t byWork = std::max<int64_t>(1, n * std::max<int64_t>(costPerItem, 1) /
                                            kMinWorkPerThread);
  int64_t threads = std::min({hw, byWork, n});
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  std::vector<std::thread> pool;
  std::exception_ptr error;
  std::mutex errorMutex;
  int64_t chunk = (n + threads - 1) / threads;
  for (int64_t t = 0; t < threads; ++t) {
    int64_t begin = t * chunk, end = std::min(n, begin + chunk);
    if (begin >= end)
      break;
    pool.emplace_back([&, begin, end] {
      try {
        fn(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(errorMutex);
        if (!error)
          error = std::current_exception();
      }
    });
  }
  for (std::thread &t : pool)
    t.join();
  if (error)
    std::rethrow_exception(error);
}

} // namespace llmf
