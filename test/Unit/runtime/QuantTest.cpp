//===- QuantTest.cpp - CPU FP8 quantization --------------------------------===//

#include "OpTestSupport.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace llmf;
using namespace llmf::test;

namespace {
std::vector<Tensor> quant(const Tensor &x, int64_t groupSize) {
  OpAttrs a;
  a.groupSize = groupSize;
  Shape scale = x.shape();
  scale.back() /= groupSize;
  return runOp("quant_fp8", a, {x}, {{DType::F8E4M3FN, x.shape()}, {DType::F32, scale}});
}
} // namespace

TEST_CASE("quant_fp8: scale = amax / 448 per group, q = fp8(x / scale)",
          "[runtime][cpu][quant]") {
  for (DType dt : {DType::F32, DType::F16, DType::BF16}) {
    auto out = quant(tensor(dt, {1, 4}, {1.0f, -2.0f, 4.0f, 0.5f}), 2);
    CHECK(floats(out[1]) == std::vector<float>{2.0f / 448.0f, 4.0f / 448.0f});
    CHECK(floats(out[0]) == std::vector<float>{224.0f, -448.0f, 448.0f, 56.0f});
  }
  // Per token: group_size == D.
  auto token = quant(tensor(DType::F32, {2, 2}, {3.0f, -1.5f, 0.25f, 0.125f}), 2);
  CHECK(floats(token[1]) == std::vector<float>{3.0f / 448.0f, 0.25f / 448.0f});
  CHECK(floats(token[0]) == std::vector<float>{448.0f, -224.0f, 448.0f, 224.0f});
}

TEST_CASE("an all-zero group gets scale 1e-10 / 448 and zero codes",
          "[runtime][cpu][quant]") {
  auto out = quant(tensor(DType::BF16, {1, 4}, {0.0f, 0.0f, 1.0f, 0.0f}), 2);
  CHECK(floats(out[1])[0] == 1e-10f / 448.0f);
  CHECK(floats(out[0]) == std::vector<float>{0.0f, 0.0f, 448.0f, 0.0f});
}

TEST_CASE("NaN poisons its group only, and an infinity zeroes its group",
          "[runtime][cpu][quant]") {
  auto out = quant(tensor(DType::F32, {1, 6}, {NAN, 1.0f, INFINITY, 2.0f, 1.0f, 2.0f}), 2);
  auto scale = floats(out[1]), q = floats(out[0]);
  CHECK(std::isnan(scale[0]));
  CHECK(std::isnan(q[0]));
  CHECK(std::isnan(q[1]));
  CHECK(scale[1] == INFINITY);
  CHECK(std::isnan(q[2])); // inf / inf
  CHECK(q[3] == 0.0f);
  CHECK(q[4] == 224.0f);
  CHECK(q[5] == 448.0f);
}

TEST_CASE("quant_fp8_static saturates at +-448 and rounds to nearest even",
          "[runtime][cpu][quant]") {
  Tensor x = tensor(DType::F32, {5}, {1000.0f, -1000.0f, 4.5f, 1.0f, 0.3f});
  Tensor scale = tensor(DType::F32, {}, {0.5f});
  auto q = floats(runOp("quant_fp8_static", {}, {x, scale}, {{DType::F8E4M3FN, {5}}})[0]);
  CHECK(q[0] == 448.0f);
  CHECK(q[1] == -448.0f);
  CHECK(q[2] == 9.0f);
  CHECK(q[3] == 2.0f);
  CHECK(q[4] == 0.625f);
}
