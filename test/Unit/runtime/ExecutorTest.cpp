//===- ExecutorTest.cpp - views, buffer reuse, poisoning -------------------===//

#include "runtime/Compare.h"
#include "runtime/Executor.h"

#include "OpTestSupport.h"

#include <catch2/catch.hpp>

#include <cmath>

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
  fn.buffers.push_back(PlanBuffer{0, t});
  fn.inputs.push_back(PlanInput{0});
  for (int i = 0; i < n; ++i) {
    fn.buffers.push_back(PlanBuffer{i + 1, t});
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

TEST_CASE("split and reshape are views; results are poisoned before kernels run",
          "[runtime][executor]") {
  Plan plan;
  plan.source = "split";
  PlanFunction fn;
  fn.name = "f";
  fn.buffers = {PlanBuffer{0, {DType::BF16, {-1, 12}}}, PlanBuffer{1, {DType::BF16, {-1, 8}}},
                PlanBuffer{2, {DType::BF16, {-1, 4}}}, PlanBuffer{3, {DType::BF16, {-1, 2}}},
                PlanBuffer{4, {DType::BF16, {2}}}, PlanBuffer{5, {DType::BF16, {-1, 2}}}};
  fn.inputs = {PlanInput{0}, PlanInput{4}};
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
