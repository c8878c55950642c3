//===- RoutingTest.cpp - CPU top-k, gather and grouped top-k routing -------===//

#include "OpTestSupport.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace llmf;
using namespace llmf::test;

namespace {
OpAttrs routing(int64_t nGroup, int64_t topkGroup, int64_t topk, bool renorm = false,
                float scale = 1.0f) {
  OpAttrs a;
  a.nGroup = nGroup;
  a.topkGroup = topkGroup;
  a.topk = topk;
  a.renormalize = renorm;
  a.routedScalingFactor = scale;
  return a;
}
std::vector<TensorType> routingResults(int64_t t, int64_t k) {
  return {{DType::F32, {t, k}}, {DType::I32, {t, k}}};
}
} // namespace

TEST_CASE("topk: descending, ties to the lower index, NaN ranks first",
          "[runtime][cpu][routing]") {
  OpAttrs a;
  a.k = 3;
  Tensor x = tensor(DType::BF16, {2, 5}, {1, 3, 3, 2, 3, NAN, 1, 5, 5, 0});
  auto out = runOp("topk", a, {x}, {{DType::BF16, {2, 3}}, {DType::I32, {2, 3}}});
  CHECK(ints(out[1]) == std::vector<int64_t>{1, 2, 4, 0, 2, 3});
  auto v = floats(out[0]);
  CHECK(v[0] == 3.0f);
  CHECK(std::isnan(v[3]));
  CHECK(v[4] == 5.0f);
}

TEST_CASE("gather picks along the last dim and rejects out-of-range indices",
          "[runtime][cpu][routing]") {
  Tensor x = tensor(DType::F16, {2, 4}, {10, 11, 12, 13, 20, 21, 22, 23});
  Tensor idx = intTensor(DType::I64, {2, 2}, {3, 0, 1, 1});
  CHECK(floats(runOp("gather", {}, {x, idx}, {{DType::F16, {2, 2}}})[0]) ==
        std::vector<float>{13, 10, 21, 21});
  Tensor bad = intTensor(DType::I32, {2, 2}, {0, 4, 0, 0});
  CHECK_THROWS_WITH(runOp("gather", {}, {x, bad}, {{DType::F16, {2, 2}}}),
                    Catch::Contains("index 4 at row 0 is out of range [0, 4)"));
}

TEST_CASE("grouped_topk: tied groups and tied experts go to the lower index",
          "[runtime][cpu][routing]") {
  // Four groups of two; every group scores exactly 1.0.
  Tensor biased = tensor(DType::F32, {1, 8}, {0.25f, 0.75f, 0.5f, 0.5f, 0.875f, 0.125f,
                                              0.375f, 0.625f});
  Tensor scores = tensor(DType::F32, {1, 8}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f});
  auto out = runOp("grouped_topk", routing(4, 2, 3), {scores, biased}, routingResults(1, 3));
  // Groups 0 and 1 are kept: expert 4 (0.875) is out; 2 and 3 tie.
  CHECK(ints(out[1]) == std::vector<int64_t>{1, 2, 3});
  CHECK(floats(out[0]) == std::vector<float>{0.2f, 0.3f, 0.4f});
}

TEST_CASE("grouped_topk: groups by the sum of their two best, then renormalize and scale",
          "[runtime][cpu][routing]") {
  // Group sums 0.9, 1.0, 0.6, 1.05: groups 3 and 1 are kept, so expert 0,
  // the best single value, is not picked.
  Tensor biased = tensor(DType::F32, {1, 8}, {0.9f, 0.0f, 0.5f, 0.5f, 0.3f, 0.3f, 0.6f, 0.45f});
  Tensor scores = tensor(DType::F32, {1, 8}, {0.9f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.5f, 0.4f});
  auto out = runOp("grouped_topk", routing(4, 2, 3, true, 2.5f), {scores, biased},
                   routingResults(1, 3));
  CHECK(ints(out[1]) == std::vector<int64_t>{6, 2, 3});
  float sum = 0.5f + 0.2f + 0.3f;
  auto w = floats(out[0]);
  CHECK(w[0] == 0.5f / (sum + 1e-20f) * 2.5f);
  CHECK(w[1] == 0.2f / (sum + 1e-20f) * 2.5f);
  CHECK(w[2] == 0.3f / (sum + 1e-20f) * 2.5f);
}

TEST_CASE("grouped_topk with one expert per group ranks groups by that expert",
          "[runtime][cpu][routing]") {
  Tensor biased = tensor(DType::F32, {1, 4}, {0.1f, 0.4f, 0.3f, 0.2f});
  auto out = runOp("grouped_topk", routing(4, 2, 2), {biased, biased}, routingResults(1, 2));
  CHECK(ints(out[1]) == std::vector<int64_t>{1, 2});
}

TEST_CASE("fused_moe_router equals cast + sigmoid + bias + grouped_topk",
          "[runtime][cpu][routing]") {
  const int64_t t = 33, e = 64;
  std::vector<float> logits(t * e), bias(e);
  for (int64_t i = 0; i < t * e; ++i)
    logits[i] = std::sin(0.37f * i) * 4.0f; // bf16 rounding makes ties likely
  for (int64_t i = 0; i < e; ++i)
    bias[i] = 0.01f * ((i * 7) % 11) - 0.05f;
  Tensor l = tensor(DType::BF16, {t, e}, logits), b = tensor(DType::F32, {e}, bias);
  OpAttrs a = routing(8, 4, 8, true, 2.5f);
  auto fused = runOp("fused_moe_router", a, {l, b}, routingResults(t, 8));
  TensorType f32{DType::F32, {t, e}};
  Tensor lf = runOp("cast", {}, {l}, {f32})[0];
  Tensor s = runOp("sigmoid", {}, {lf}, {f32})[0];
  Tensor biased = runOp("add", {}, {s, b}, {f32})[0];
  auto unfused = runOp("grouped_topk", a, {s, biased}, routingResults(t, 8));
  CHECK(ints(fused[1]) == ints(unfused[1]));
  CHECK(floats(fused[0]) == floats(unfused[0]));
}
