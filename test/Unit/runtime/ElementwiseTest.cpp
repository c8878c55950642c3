//===- ElementwiseTest.cpp - CPU cast, arithmetic, activations ------------===//

#include "OpTestSupport.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace llmf;
using namespace llmf::test;

TEST_CASE("binary ops broadcast and round once to the result type",
          "[runtime][cpu]") {
  Tensor a = tensor(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = tensor(DType::F32, {3}, {10, 20, 30});
  TensorType out{DType::F32, {2, 3}};
  CHECK(floats(runOp("add", {}, {a, b}, {out})[0]) ==
        std::vector<float>{11, 22, 33, 14, 25, 36});
  CHECK(floats(runOp("sub", {}, {a, b}, {out})[0]) ==
        std::vector<float>{-9, -18, -27, -6, -15, -24});
  CHECK(floats(runOp("mul", {}, {a, b}, {out})[0]) ==
        std::vector<float>{10, 40, 90, 40, 100, 180});
  Tensor col = tensor(DType::F32, {2, 1}, {2, 4});
  CHECK(floats(runOp("div", {}, {a, col}, {out})[0]) ==
        std::vector<float>{0.5f, 1, 1.5f, 1, 1.25f, 1.5f});

  // bf16: 1 + 2^-9 is not representable and rounds to 1 (nearest even);
  // 1 + 3 * 2^-9 rounds up to 1 + 2^-7.
  Tensor one = tensor(DType::BF16, {2}, {1.0f, 1.0f});
  Tensor tiny = tensor(DType::BF16, {2}, {std::ldexp(1.0f, -9), 3 * std::ldexp(1.0f, -9)});
  auto r = floats(runOp("add", {}, {one, tiny}, {{DType::BF16, {2}}})[0]);
  CHECK(r[0] == 1.0f);
  CHECK(r[1] == 1.0f + std::ldexp(1.0f, -7));
  // f16 keeps 1 + 2^-9 exactly.
  Tensor oneH = tensor(DType::F16, {1}, {1.0f}), tinyH = tensor(DType::F16, {1}, {std::ldexp(1.0f, -9)});
  CHECK(floats(runOp("add", {}, {oneH, tinyH}, {{DType::F16, {1}}})[0])[0] ==
        1.0f + std::ldexp(1.0f, -9));
}

TEST_CASE("integer arithmetic truncates and rejects division by zero",
          "[runtime][cpu]") {
  Tensor a = intTensor(DType::I32, {3}, {7, -7, 9});
  Tensor b = intTensor(DType::I32, {3}, {2, 2, 3});
  CHECK(ints(runOp("div", {}, {a, b}, {{DType::I32, {3}}})[0]) ==
        std::vector<int64_t>{3, -3, 3});
  Tensor zero = intTensor(DType::I32, {3}, {1, 0, 1});
  CHECK_THROWS_WITH(runOp("div", {}, {a, zero}, {{DType::I32, {3}}}),
                    Catch::Contains("integer division by zero"));
}

TEST_CASE("activations propagate NaN and saturate at infinities", "[runtime][cpu]") {
  float inf = INFINITY, nan = NAN;
  Tensor x = tensor(DType::F32, {5}, {0.0f, 2.0f, -inf, inf, nan});
  TensorType t{DType::F32, {5}};
  auto s = floats(runOp("sigmoid", {}, {x}, {t})[0]);
  CHECK(s[0] == 0.5f);
  CHECK(s[1] == Approx(1.0 / (1.0 + std::exp(-2.0))).epsilon(1e-6));
  CHECK(s[2] == 0.0f);
  CHECK(s[3] == 1.0f);
  CHECK(std::isnan(s[4]));
  auto si = floats(runOp("silu", {}, {x}, {t})[0]);
  CHECK(si[0] == 0.0f);
  CHECK(si[1] == Approx(2.0 / (1.0 + std::exp(-2.0))).epsilon(1e-6));
  CHECK(si[3] == inf);
  CHECK(std::isnan(si[4]));
  auto re = floats(runOp("relu", {}, {x}, {t})[0]);
  CHECK(std::vector<float>(re.begin(), re.begin() + 4) ==
        std::vector<float>{0.0f, 2.0f, 0.0f, inf});
  CHECK(std::isnan(re[4]));
}

TEST_CASE("cast rounds to nearest even and saturates to fp8", "[runtime][cpu]") {
  Tensor x = tensor(DType::F32, {6}, {1.0f + std::ldexp(1.0f, -8), 1000.0f, -1e9f,
                                      INFINITY, NAN, 0.3f});
  auto bf = floats(runOp("cast", {}, {x}, {{DType::BF16, {6}}})[0]);
  CHECK(bf[0] == 1.0f); // a tie rounds to even
  CHECK(bf[1] == 1000.0f);
  CHECK(bf[3] == INFINITY);
  CHECK(std::isnan(bf[4]));
  auto f8 = floats(runOp("cast", {}, {x}, {{DType::F8E4M3FN, {6}}})[0]);
  CHECK(f8[1] == 448.0f);
  CHECK(f8[2] == -448.0f);
  CHECK(f8[3] == 448.0f);
  CHECK(std::isnan(f8[4]));
  CHECK(f8[5] == 0.3125f); // e4m3 neighbours of 0.3: 0.28125, 0.3125
  Tensor y = tensor(DType::F32, {4}, {2.7f, -2.7f, 3e10f, NAN});
  CHECK(ints(runOp("cast", {}, {y}, {{DType::I32, {4}}})[0]) ==
        std::vector<int64_t>{2, -2, INT32_MAX, 0});
}

TEST_CASE("all_reduce sums the ranks' tensors in rank order", "[runtime][cpu]") {
  std::vector<std::vector<Tensor>> ranks;
  for (int r = 0; r < 4; ++r)
    ranks.push_back({tensor(DType::BF16, {2, 2}, {1.0f * r, 2.0f, 0.5f, -1.0f * r})});
  auto out = runOpRanks("all_reduce", {}, ranks, {{DType::BF16, {2, 2}}});
  for (int r = 0; r < 4; ++r)
    CHECK(floats(out[r][0]) == std::vector<float>{6.0f, 8.0f, 2.0f, -6.0f});
}

TEST_CASE("matmul: nn.Linear layout, the [K, N] layout, one rounding",
          "[runtime][cpu]") {
  Tensor x = tensor(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor w = tensor(DType::F32, {2, 3}, {1, 0, -1, 0.5f, 0.5f, 0.5f}); // [N, K]
  CHECK(floats(runOp("matmul", {}, {x, w}, {{DType::F32, {2, 2}}})[0]) ==
        std::vector<float>{-2, 3, -2, 7.5f});
  OpAttrs kn;
  kn.transposeW = false;
  Tensor wkn = tensor(DType::F32, {3, 2}, {1, 0.5f, 0, 0.5f, -1, 0.5f}); // [K, N]
  CHECK(floats(runOp("matmul", kn, {x, wkn}, {{DType::F32, {2, 2}}})[0]) ==
        std::vector<float>{-2, 3, -2, 7.5f});
  // bf16: 257 rounds to 256 once, at the end.
  Tensor xb = tensor(DType::BF16, {1, 2}, {256.0f, 1.0f});
  Tensor wb = tensor(DType::BF16, {1, 2}, {1.0f, 1.0f});
  CHECK(floats(runOp("matmul", {}, {xb, wb}, {{DType::BF16, {1, 1}}})[0])[0] == 256.0f);
}
