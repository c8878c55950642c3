//===- ExecutorTest.cpp - views, buffer reuse, poisoning -------------------===//

#include "runtime/cpu/CpuBackend.h"
#include "runtime/Communicator.h"
#include "runtime/Compare.h"
#include "runtime/Executor.h"
#include "runtime/Inputs.h"
#include "runtime/Parallel.h"

#include "OpTestSupport.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <thread>

using namespace llmf;
using namespace llmf::test;

namespace {
/// x -> silu -> silu -> ... (n times) on [rows, cols] f32.
Plan chainPlan(int n, int64_t rows, int64_t cols) {
  Plan plan;
  plan.source = "chain";
  PlanFunction fn;
  fn.name = "chain";
  TensorType t{DType::F32, {-1, cols}};
  fn.buffers.push_back(planBuffer(0, t));
  fn.inputs.push_back(planInput(0));
  for (int i = 0; i < n; ++i) {
    fn.buffers.push_back(planBuffer(i + 1, t));
    PlanStep s;
    s.op = "silu";
    s.inputs = {i};
    s.outputs = {i + 1};
    fn.steps.push_back(s);
  }
  fn.outputs = {n};
  plan.functions.push_back(fn);
  validatePlan(plan);
  (void)rows;
  return plan;
}
} // namespace

TEST_CASE("dead intermediates are released and their blocks reused",
          "[runtime][executor]") {
  const int64_t rows = 64, cols = 1024, bytes = rows * cols * 4;
  Plan plan = chainPlan(8, rows, cols);
  ThreadGroup group(1);
  Executor ex(plan, plan.functions[0], cpuBackend(), group.rank(0));
  Tensor x = tensor(DType::F32, {rows, cols}, {0.5f});
  Tensor y = ex.run({x})[0];
  RunStats s = ex.stats();
  CHECK(s.launches == 8);
  CHECK(s.memory.allocations == 8);
  CHECK(s.memory.reuses >= 6);
  // Never more than a step's input and output alive at once.
  CHECK(s.memory.peakLiveBytes <= static_cast<size_t>(2 * bytes + 512));
  CHECK(s.memory.reservedBytes <= static_cast<size_t>(2 * bytes + 512));
  float v = 0.5f;
  for (int i = 0; i < 8; ++i)
    v = v / (1.0f + std::exp(-v));
  CHECK(loadFloat(y, 123) == v);
}

TEST_CASE("split and reshape are views, and results are poisoned before kernels run",
          "[runtime][executor]") {
  Plan plan;
  plan.source = "split";
  PlanFunction fn;
  fn.name = "f";
  fn.buffers = {planBuffer(0, {DType::BF16, {-1, 12}}), planBuffer(1, {DType::BF16, {-1, 8}}),
                planBuffer(2, {DType::BF16, {-1, 4}}), planBuffer(3, {DType::BF16, {-1, 2}}),
                planBuffer(4, {DType::BF16, {2}}), planBuffer(5, {DType::BF16, {-1, 2}})};
  fn.inputs = {planInput(0), planInput(4)};
  PlanStep split;
  split.op = "split";
  split.attrs.dim = 1;
  split.attrs.sizes = {8, 4};
  split.inputs = {0};
  split.outputs = {1, 2};
  PlanStep reshape;
  reshape.op = "reshape";
  reshape.inputs = {2};
  reshape.outputs = {3};
  PlanStep norm;
  norm.op = "rms_norm";
  norm.attrs.epsilon = 1e-6f;
  norm.inputs = {3, 4};
  norm.outputs = {5};
  fn.steps = {split, reshape, norm};
  fn.outputs = {5, 1};
  plan.functions.push_back(fn);
  validatePlan(plan);
  ThreadGroup group(1);
  Executor ex(plan, plan.functions[0], cpuBackend(), group.rank(0),
              ExecutorOptions{uint8_t{0xFF}});
  Tensor x = tensor(DType::BF16, {3, 12}, {1.0f});
  auto out = ex.run({x, tensor(DType::BF16, {2}, {1.0f})});
  CHECK(ex.stats().views == 3);
  CHECK(ex.stats().launches == 1);
  CHECK(out[1].buffer() == x.buffer()); // the first slice is a view of x
  CHECK(out[0].shape() == Shape{6, 2});
  for (float v : floats(out[0]))
    CHECK(v == 1.0f); // every poisoned (NaN) element was overwritten
}

TEST_CASE("compare: dtype tolerances, NaN, and index ties", "[runtime][compare]") {
  Tensor a = tensor(DType::BF16, {3}, {1.0f, NAN, 100.0f});
  Tensor b = tensor(DType::BF16, {3}, {1.0078125f, NAN, 100.0f});
  CHECK(compareTensors(a, b, std::nullopt).ok()); // one bf16 step apart
  Tensor c = tensor(DType::BF16, {3}, {1.25f, NAN, 100.0f});
  OutputDiff d = compareTensors(c, b, std::nullopt);
  CHECK(d.mismatches == 1);
  CHECK(d.firstMismatch == 0);
  Tensor e = tensor(DType::BF16, {3}, {1.0f, 0.0f, 100.0f});
  CHECK(compareTensors(e, a, std::nullopt).mismatches == 1); // NaN vs a number

  // Two ids swapped where their values tie: a tie, not an error.
  Tensor idsA = intTensor(DType::I32, {1, 3}, {4, 7, 1});
  Tensor idsB = intTensor(DType::I32, {1, 3}, {7, 4, 1});
  Tensor vals = tensor(DType::F32, {1, 3}, {0.5f, 0.5f, 0.25f});
  OutputDiff tie = compareTensors(idsA, idsB, std::nullopt, &vals, &vals);
  CHECK(tie.ok());
  CHECK(tie.ties == 2);
  Tensor valsB = tensor(DType::F32, {1, 3}, {0.75f, 0.5f, 0.25f});
  CHECK_FALSE(compareTensors(idsA, idsB, std::nullopt, &vals, &valsB).ok());
  CHECK_FALSE(compareTensors(idsA, idsB, std::nullopt).ok());
}

TEST_CASE("random inputs and comparisons do not depend on the host thread count",
          "[runtime][compare]") {
  // Large enough for parallelFor to split: chunks skip ahead in the
  // counter-based generator and comparison chunks merge in order.
  TensorType x{DType::BF16, {513, 1000}};
  Plan p = oneStepPlan("rms_norm", normAttrs(1e-6f), {x, {DType::F32, {1000}}}, {x}, 1);
  p.functions[0].inputs[1].role = InputRole::NormWeight;
  auto draw = [&](int threads) {
    setMaxThreads(threads);
    std::vector<Tensor> in = randomInputs(p.functions[0], 1, 5, 0);
    setMaxThreads(0);
    return in;
  };
  std::vector<Tensor> one = draw(1), many = draw(0);
  for (size_t i = 0; i < one.size(); ++i) {
    std::vector<float> a = floats(one[i]), b = floats(many[i]);
    CHECK(a == b);
  }
  std::vector<float> v = floats(one[0]);
  CHECK(v[0] != v[1]); // random, not a constant
  // Mismatches planted far apart: the first one and the count survive any split.
  std::vector<float> w = v;
  w[400000] += 1.0f;
  w[7] += 1.0f;
  Tensor planted = tensor(DType::BF16, {513, 1000}, w);
  for (int threads : {1, 0}) {
    setMaxThreads(threads);
    OutputDiff d = compareTensors(planted, one[0], std::nullopt);
    setMaxThreads(0);
    CHECK(d.mismatches == 2);
    CHECK(d.firstMismatch == 7);
  }
}

TEST_CASE("a slice the layout cannot express is copied, with the right values",
          "[runtime][executor]") {
  Plan plan;
  plan.source = "copy";
  PlanFunction fn;
  fn.name = "f";
  fn.buffers = {planBuffer(0, {DType::F32, {3, 6}}), planBuffer(1, {DType::F32, {3, 4}}),
                planBuffer(2, {DType::F32, {3, 2}}), planBuffer(3, {DType::F32, {12}}),
                planBuffer(4, {DType::F32, {5}}), planBuffer(5, {DType::F32, {7}})};
  fn.inputs = {planInput(0)};
  PlanStep cols;
  cols.op = "split";
  cols.attrs.dim = 1;
  cols.attrs.sizes = {4, 2};
  cols.inputs = {0};
  cols.outputs = {1, 2};
  PlanStep flat;
  flat.op = "reshape";
  flat.inputs = {1};
  flat.outputs = {3};
  PlanStep parts;
  parts.op = "split";
  parts.attrs.dim = 0;
  parts.attrs.sizes = {5, 7};
  parts.inputs = {3};
  parts.outputs = {4, 5};
  fn.steps = {cols, flat, parts};
  fn.outputs = {4, 5};
  plan.functions.push_back(fn);
  validatePlan(plan);
  ThreadGroup group(1);
  Executor ex(plan, plan.functions[0], cpuBackend(), group.rank(0));
  std::vector<float> xv(18);
  for (int i = 0; i < 18; ++i)
    xv[i] = static_cast<float>(i);
  auto out = ex.run({tensor(DType::F32, {3, 6}, xv)});
  CHECK(ex.stats().copies == 2);
  CHECK(floats(out[0]) == std::vector<float>{0, 1, 2, 3, 6});
  CHECK(floats(out[1]) == std::vector<float>{7, 8, 9, 12, 13, 14, 15});
}

TEST_CASE("run-time shape errors name the step, and a failing rank never hangs the others",
          "[runtime][executor]") {
  // Two dynamic dims that disagree at run time.
  Tensor a = tensor(DType::F32, {3, 4}, {1.0f}), b = tensor(DType::F32, {5, 4}, {1.0f});
  Plan plan = oneStepPlan("add", {}, {{DType::F32, {-1, 4}}, {DType::F32, {-1, 4}}},
                          {{DType::F32, {-1, 4}}}, 1);
  plan.functions[0].steps[0].loc = "m.mlir:7:3";
  ThreadGroup group(1);
  Executor ex(plan, plan.functions[0], cpuBackend(), group.rank(0));
  CHECK_THROWS_WITH(ex.run({a, b}),
                    Catch::Contains("step 0 'add' at m.mlir:7:3: shapes [3, 4] and [5, 4] do "
                                    "not broadcast"));

  // Rank 1's input is rejected before the all-reduce rank 0 waits in.
  std::vector<std::vector<Tensor>> ranks = {{tensor(DType::F32, {2, 8}, {1.0f})},
                                            {tensor(DType::F32, {2, 9}, {1.0f})}};
  CHECK_THROWS(runOpRanks("all_reduce", {}, ranks, {{DType::F32, {2, 8}}}));
  // Ranks whose shapes differ inside the collective both fail.
  Plan dyn = oneStepPlan("all_reduce", {}, {{DType::F32, {-1, 8}}}, {{DType::F32, {-1, 8}}}, 2);
  ThreadGroup pair(2);
  std::string errors[2];
  std::thread other([&] {
    try {
      Executor(dyn, dyn.functions[0], cpuBackend(), pair.rank(1))
          .run({tensor(DType::F32, {3, 8}, {1.0f})});
    } catch (const Error &e) {
      errors[1] = e.what();
    }
  });
  try {
    Executor(dyn, dyn.functions[0], cpuBackend(), pair.rank(0))
        .run({tensor(DType::F32, {2, 8}, {1.0f})});
  } catch (const Error &e) {
    errors[0] = e.what();
  }
  other.join();
  CHECK_FALSE(errors[0].empty());
  CHECK_FALSE(errors[1].empty());
  CHECK((errors[0] + errors[1]).find("rank 1 has tensor<[3, 8] x f32>") != std::string::npos);
}

TEST_CASE("all_reduce sums each element once, in rank order, at any world size",
          "[runtime][allreduce]") {
  // 7 ranks over 5 and 23 elements: slices of unequal size, some empty. Each
  // rank's output must equal the fp32 sum in rank order, bit for bit (the
  // reduce-scatter must not change what the sequential sum gave).
  for (int64_t n : {int64_t(5), int64_t(23)})
    for (DType dtype : {DType::BF16, DType::F32, DType::I64}) {
      const int ranks = 7;
      std::vector<Tensor> in, out;
      for (int r = 0; r < ranks; ++r) {
        in.emplace_back(dtype, Shape{n}, allocateHostBuffer(n * dtypeSize(dtype)));
        out.emplace_back(dtype, Shape{n}, allocateHostBuffer(n * dtypeSize(dtype)));
        for (int64_t i = 0; i < n; ++i) {
          if (isFloat(dtype))
            writeFloat(dtype, in[r].elementPtr(i), 0.1f * static_cast<float>(r * n + i) - 3.7f);
          else
            writeInt(dtype, in[r].elementPtr(i), r * 1000003 + i);
        }
      }
      ThreadGroup group(ranks);
      std::vector<std::thread> threads;
      for (int r = 0; r < ranks; ++r)
        threads.emplace_back([&, r] { group.rank(r).allReduceSum(in[r], out[r]); });
      for (std::thread &t : threads)
        t.join();
      for (int64_t i = 0; i < n; ++i) {
        float sumF = 0.0f;
        int64_t sumI = 0;
        for (int r = 0; r < ranks; ++r) {
          if (isFloat(dtype))
            sumF += loadFloat(in[r], i);
          else
            sumI += loadInt(in[r], i);
        }
        for (int r = 0; r < ranks; ++r) {
          INFO("n " << n << " dtype " << dtypeName(dtype) << " rank " << r << " element " << i);
          if (isFloat(dtype)) {
            uint32_t want = 0;
            writeFloat(dtype, &want, sumF);
            CHECK(readFloat(dtype, &want) == loadFloat(out[r], i));
          } else {
            CHECK(loadInt(out[r], i) == sumI);
          }
        }
      }
    }
}
