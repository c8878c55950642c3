//===- RankRun.cpp - one function on every rank of a group ---------------===//

#include "runtime/RankRun.h"

#include "runtime/Communicator.h"
#include "runtime/Error.h"

#include <chrono>
#include <string>
#include <thread>

namespace llmf {

RankRunResult runOnRanks(const Plan &plan, const PlanFunction &fn,
                         const std::vector<std::vector<Tensor>> &inputs, const Backend &backend,
                         const RankRunOptions &o) {
  int ranks = static_cast<int>(inputs.size());
  ThreadGroup group(ranks);
  RankRunResult result;
  result.outputs.resize(ranks);
  std::vector<std::string> errors(ranks);
  ExecutorOptions eo;
  if (o.poison)
    eo.poison = 0xFF;
  auto body = [&](int r) {
    try {
      Executor ex(plan, fn, backend, group.rank(r), eo);
      // Inputs live on the backend's device; outputs come back to the host.
      MemoryPool inputPool(backend.allocator);
      std::vector<Tensor> deviceInputs;
      for (const Tensor &t : inputs[r])
        deviceInputs.push_back(backend.upload(t, inputPool));
      std::vector<Tensor> outputs;
      void *graph = nullptr;
      if (o.graph && backend.beginCapture) {
        // Warm the pool, then capture one run; replays reuse its buffers.
        outputs = ex.run(deviceInputs);
        backend.synchronize();
        backend.beginCapture();
        try {
          outputs = ex.run(deviceInputs);
        } catch (...) {
          try { // end the broken capture; its own error is not the news
            backend.destroyGraph(backend.endCapture());
          } catch (...) {
          }
          throw;
        }
        graph = backend.endCapture();
      }
      struct GraphGuard {
        const Backend &b;
        void *g;
        ~GraphGuard() {
          if (g)
            b.destroyGraph(g);
        }
      } guard{backend, graph};
      // A graph is replayed kReplays times between synchronizations, so the
      // time per replay leaves out most of the host's wait.
      constexpr int kReplays = 10;
      for (int i = 0; i < o.warmup + o.repeat; ++i) {
        auto start = std::chrono::steady_clock::now();
        if (graph)
          for (int k = 0; k < kReplays; ++k)
            backend.replay(graph);
        else
          outputs = ex.run(deviceInputs);
        backend.synchronize();
        auto end = std::chrono::steady_clock::now();
        if (r == 0 && i >= o.warmup)
          result.millis.push_back(std::chrono::duration<double, std::milli>(end - start).count() /
                                  (graph ? kReplays : 1));
      }
      for (const Tensor &t : outputs)
        result.outputs[r].push_back(backend.download(t));
      if (r == 0)
        result.stats = ex.stats();
    } catch (const Error &e) {
      group.rank(r).abort();
      errors[r] = e.what();
    } catch (const std::exception &e) {
      // Not a runtime error (out of memory, say): still never a hang.
      group.rank(r).abort();
      errors[r] = std::string("unexpected failure: ") + e.what();
    }
  };
  std::vector<std::thread> threads;
  for (int r = 1; r < ranks; ++r)
    threads.emplace_back(body, r);
  body(0);
  for (std::thread &t : threads)
    t.join();
  // The first rank that failed by itself, not because another aborted.
  for (int pass = 0; pass < 2; ++pass)
    for (int r = 0; r < ranks; ++r)
      if (!errors[r].empty() &&
          (pass == 1 || errors[r].find("another rank failed") == std::string::npos))
        fail(ranks > 1 ? "rank " + std::to_string(r) + ": " : "", errors[r]);
  return result;
}

} // namespace llmf
