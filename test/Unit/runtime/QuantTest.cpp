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

TEST_CASE("scale_col_major: scales [groups, T rounded up to 4], padding zero",
          "[runtime][cpu][quant]") {
  // 3 tokens of 2 groups: row-major scales s[t][g]; column-major [2, 4].
  Tensor x = tensor(DType::F32, {3, 4}, {1, -2, 4, 0.5f, 8, 1, 2, 3, -448, 1, 0, 7});
  auto rows = quant(x, 2);
  OpAttrs a;
  a.groupSize = 2;
  a.scaleColMajor = true;
  auto cols = runOp("quant_fp8", a, {x}, {{DType::F8E4M3FN, {3, 4}}, {DType::F32, {2, 4}}});
  std::vector<float> r = floats(rows[1]), c = floats(cols[1]);
  CHECK(floats(cols[0]) == floats(rows[0]));
  for (int t = 0; t < 3; ++t)
    for (int g = 0; g < 2; ++g)
      CHECK(c[g * 4 + t] == r[t * 2 + g]);
  CHECK(c[3] == 0.0f);
  CHECK(c[7] == 0.0f);
  // A declared row-major shape is refused when the attribute says otherwise.
  CHECK_THROWS(runOp("quant_fp8", a, {x}, {{DType::F8E4M3FN, {3, 4}}, {DType::F32, {3, 2}}}));
}

TEST_CASE("matmul_fp8 reads column-major x scales as their row-major transpose",
          "[runtime][cpu][quant]") {
  // Two tokens, K = 256 (two blocks), N = 2.
  std::vector<float> xv(512), wv(512);
  for (int i = 0; i < 512; ++i) {
    xv[i] = float((i * 7) % 13) - 6.0f;
    wv[i] = float((i * 5) % 11) - 5.0f;
  }
  Tensor x = tensor(DType::F8E4M3FN, {2, 256}, xv), w = tensor(DType::F8E4M3FN, {2, 256}, wv);
  Tensor ws = tensor(DType::F32, {1, 2}, {0.5f, 0.25f});
  Tensor xsRow = tensor(DType::F32, {2, 2}, {1.0f, 2.0f, 3.0f, 4.0f});
  Tensor xsCol = tensor(DType::F32, {2, 4}, {1.0f, 3.0f, 0.0f, 0.0f, 2.0f, 4.0f, 0.0f, 0.0f});
  auto row = runOp("matmul_fp8", {}, {x, xsRow, w, ws}, {{DType::F32, {2, 2}}});
  OpAttrs a;
  a.xScaleColMajor = true;
  auto col = runOp("matmul_fp8", a, {x, xsCol, w, ws}, {{DType::F32, {2, 2}}});
  CHECK(floats(col[0]) == floats(row[0]));
  CHECK(floats(row[0]) != std::vector<float>(4, 0.0f));
}
