//===- PlanTest.cpp - plan loading rejects every class of bad plan ---------===//

#include "runtime/cpu/CpuBackend.h"
#include "runtime/Error.h"
#include "runtime/Plan.h"

#include "OpTestSupport.h"

#include <catch2/catch.hpp>

using namespace llmf;

namespace {
const std::string kValid = R"({
  "format": "llm-fusion-plan", "version": 1, "world_size": 1,
  "functions": [{
    "name": "f",
    "buffers": [
      {"id": 0, "dtype": "bf16", "shape": [-1, 8]},
      {"id": 1, "dtype": "bf16", "shape": [8]},
      {"id": 2, "dtype": "bf16", "shape": [-1, 8]}
    ],
    "inputs": [{"buffer": 0}, {"buffer": 1, "role": "norm_weight"}],
    "steps": [{"op": "rms_norm", "inputs": [0, 1], "outputs": [2],
               "attrs": {"epsilon": 1e-6}, "loc": "m.mlir:3:5"}],
    "outputs": [2]
  }]
})";

/// kValid with one substring replaced.
std::string with(const std::string &from, const std::string &to) {
  std::string s = kValid;
  size_t at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

void requireError(const std::string &json, const std::string &message) {
  CHECK_THROWS_WITH(parsePlan(json, "p.json"), Catch::Contains(message));
}
} // namespace

TEST_CASE("a valid plan loads and survives a write/parse round trip", "[runtime][plan]") {
  Plan plan = parsePlan(kValid, "p.json");
  REQUIRE(plan.functions.size() == 1);
  CHECK(plan.functions[0].steps[0].attrs.epsilon == 1e-6f);
  CHECK(plan.functions[0].inputs[1].role == InputRole::NormWeight);
  Plan again = parsePlan(writePlanJson(plan), "again");
  CHECK(writePlanJson(again) == writePlanJson(plan));
}

TEST_CASE("plan errors: not JSON, truncated, not a plan, wrong version",
          "[runtime][plan]") {
  requireError("this is not json", "p.json: not a valid JSON plan");
  requireError(kValid.substr(0, kValid.size() / 2), "p.json: not a valid JSON plan");
  requireError(with("llm-fusion-plan", "something-else"), "not an llm-fusion plan");
  requireError(with("\"version\": 1", "\"version\": 2"),
               "unsupported plan version 2 (this runtime reads version 1)");
  requireError(with("\"version\": 1", "\"version\": \"1\""), "expected an integer");
}

TEST_CASE("plan errors: unknown kernel and bad attributes", "[runtime][plan]") {
  requireError(with("\"op\": \"rms_norm\"", "\"op\": \"layer_norm\""),
               "(m.mlir:3:5): unknown kernel 'layer_norm'");
  requireError(with("{\"epsilon\": 1e-6}", "{}"), "needs attribute 'epsilon'");
  requireError(with("{\"epsilon\": 1e-6}", "{\"epsilon\": 1e-6, \"eps\": 1}"),
               "has no attribute 'eps'");
  requireError(with("{\"epsilon\": 1e-6}", "{\"epsilon\": \"small\"}"),
               "expected a number, got string");
}

TEST_CASE("plan errors: inconsistent shapes and dtypes", "[runtime][plan]") {
  requireError(with("{\"id\": 1, \"dtype\": \"bf16\", \"shape\": [8]}",
                    "{\"id\": 1, \"dtype\": \"bf16\", \"shape\": [16]}"),
               "w must have shape [8] (x's last dim), got [16]");
  requireError(with("{\"id\": 2, \"dtype\": \"bf16\", \"shape\": [-1, 8]}",
                    "{\"id\": 2, \"dtype\": \"f32\", \"shape\": [-1, 8]}"),
               "result 0 is declared f32 [?, 8] but the op gives bf16 [?, 8]");
  requireError(with("\"dtype\": \"bf16\", \"shape\": [-1, 8]}", "\"dtype\": \"bf17\", \"shape\": [-1, 8]}"),
               "unknown element type 'bf17'");
}

TEST_CASE("plan errors: dangling and misordered buffer ids", "[runtime][plan]") {
  requireError(with("\"inputs\": [0, 1]", "\"inputs\": [0, 7]"),
               "buffer id 7 does not exist (the function has 3 buffers)");
  requireError(with("\"outputs\": [2]\n", "\"outputs\": [9]\n"), "buffer id 9 does not exist");
  requireError(with("{\"buffer\": 1, \"role\": \"norm_weight\"}", "{\"buffer\": 2}"),
               "reads buffer 1 before anything defines it");
  requireError(with("{\"id\": 2,", "{\"id\": 5,"), "buffer ids must be 0, 1, 2, ... in order");
  requireError(with("\"outputs\": [2],", "\"outputs\": [0],"), "buffer 0 is defined twice");
}

TEST_CASE("a plan for one world size refuses to run on another", "[runtime][plan]") {
  Plan plan = parsePlan(with("\"world_size\": 1", "\"world_size\": 2"), "p.json");
  ThreadGroup group(1);
  CHECK_THROWS_WITH(Executor(plan, plan.functions[0], cpuBackend(), group.rank(0)),
                    Catch::Contains("the plan is for world size 2 but runs on 1 ranks"));
}

TEST_CASE("run-time inputs are checked against the plan", "[runtime][plan]") {
  Plan plan = parsePlan(kValid, "p.json");
  ThreadGroup group(1);
  Executor ex(plan, plan.functions[0], cpuBackend(), group.rank(0));
  Tensor w = test::tensor(DType::BF16, {8}, {1.0f});
  CHECK_THROWS_WITH(ex.run({test::tensor(DType::BF16, {3, 9}, {1.0f}), w}),
                    Catch::Contains("input 0 must be bf16 [?, 8], got bf16 [3, 9]"));
  CHECK_THROWS_WITH(ex.run({test::tensor(DType::F16, {3, 8}, {1.0f}), w}),
                    Catch::Contains("must be bf16 [?, 8], got f16 [3, 8]"));
  CHECK(ex.run({test::tensor(DType::BF16, {3, 8}, {1.0f}), w})[0].shape() == Shape{3, 8});
}
