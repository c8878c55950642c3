//===- NormTest.cpp - CPU RMSNorm family, unfused and fused ---------------===//

#include "OpTestSupport.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace llmf;
using namespace llmf::test;

namespace {
/// rms_norm of one row in double: the test's own reference.
std::vector<double> rmsRow(const std::vector<double> &x, const std::vector<double> &w,
                           double eps, double bias) {
  double ss = 0;
  for (double v : x)
    ss += v * v;
  double r = 1.0 / std::sqrt(ss / x.size() + eps);
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    y[i] = x[i] * r * (w[i] + bias);
  return y;
}

std::vector<float> randomValues(size_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(gen);
  return v;
}
} // namespace

TEST_CASE("rms_norm matches the formula for f32, f16 and bf16 inputs",
          "[runtime][cpu][norm]") {
  std::vector<float> x = {1, 2, 3, 4}, w = {0.5f, 1, 1.5f, 2};
  for (DType dt : {DType::F32, DType::F16, DType::BF16}) {
    auto y = floats(runOp("rms_norm", normAttrs(1e-6f),
                          {tensor(dt, {1, 4}, x), tensor(dt, {4}, w)},
                          {{dt, {1, 4}}})[0]);
    auto ref = rmsRow({1, 2, 3, 4}, {0.5, 1, 1.5, 2}, 1e-6, 0.0);
    for (int i = 0; i < 4; ++i)
      CHECK(y[i] == Approx(roundTo(dt, static_cast<float>(ref[i]))).epsilon(1e-6));
  }
}

TEST_CASE("weight_bias = 1 is Gemma's (1 + w), and w may be f32 under bf16 x",
          "[runtime][cpu][norm]") {
  std::vector<float> x = {1, -2, 3, -4};
  auto gemma = floats(runOp("rms_norm", normAttrs(1e-6f, 1.0f),
                            {tensor(DType::BF16, {1, 4}, x),
                             tensor(DType::BF16, {4}, {-0.5f, 0, 0.5f, 1})},
                            {{DType::BF16, {1, 4}}})[0]);
  auto plain = floats(runOp("rms_norm", normAttrs(1e-6f),
                            {tensor(DType::BF16, {1, 4}, x),
                             tensor(DType::F32, {4}, {0.5f, 1, 1.5f, 2})},
                            {{DType::BF16, {1, 4}}})[0]);
  CHECK(gemma == plain);
  auto ref = rmsRow({1, -2, 3, -4}, {0.5, 1, 1.5, 2}, 1e-6, 0.0);
  CHECK(plain[3] == roundTo(DType::BF16, static_cast<float>(ref[3])));
}

TEST_CASE("rms_norm at prefill size: 16384 tokens, every row checked",
          "[runtime][cpu][norm]") {
  const int64_t t = 16384, d = 256;
  auto xv = randomValues(t * d, 1, 2.0f);
  auto wv = randomValues(d, 2, 0.2f);
  for (float &v : wv)
    v += 1.0f;
  Tensor x = tensor(DType::BF16, {t, d}, xv), w = tensor(DType::BF16, {d}, wv);
  auto y = runOp("rms_norm", normAttrs(1e-5f), {x, w}, {{DType::BF16, {t, d}}})[0];
  std::vector<float> xs = floats(x), ws = floats(w), ys = floats(y);
  int64_t bad = 0;
  for (int64_t r = 0; r < t; ++r) {
    std::vector<double> row(xs.begin() + r * d, xs.begin() + (r + 1) * d);
    auto ref = rmsRow(row, std::vector<double>(ws.begin(), ws.end()), 1e-5, 0.0);
    for (int64_t j = 0; j < d; ++j)
      bad += std::fabs(ys[r * d + j] - ref[j]) > std::ldexp(std::fabs(ref[j]), -8) + 1e-6;
  }
  CHECK(bad == 0);
}

TEST_CASE("rms_norm reads rows through a strided view (k heads inside qkv)",
          "[runtime][cpu][norm]") {
  const int64_t t = 5, d = 8;
  Tensor qkv = tensor(DType::BF16, {t, 6 * d}, randomValues(t * 6 * d, 3));
  Tensor k = *qkv.sliceView(1, 4 * d, d * 2)->reshapeView({t * 2, d});
  REQUIRE_FALSE(k.isContiguous());
  Tensor kCopy = tensor(DType::BF16, {t * 2, d}, floats(k));
  Tensor w = tensor(DType::BF16, {d}, randomValues(d, 4));
  TensorType out{DType::BF16, {t * 2, d}};
  CHECK(floats(runOp("rms_norm", normAttrs(1e-6f), {k, w}, {out})[0]) ==
        floats(runOp("rms_norm", normAttrs(1e-6f), {kCopy, w}, {out})[0]));
}

TEST_CASE("NaN stays in its row, and an infinity zeroes its row and becomes NaN",
          "[runtime][cpu][norm]") {
  Tensor x = tensor(DType::F32, {3, 2}, {NAN, 1.0f, INFINITY, 1.0f, 3.0f, 4.0f});
  Tensor w = tensor(DType::F32, {2}, {1.0f, 1.0f});
  auto y = floats(runOp("rms_norm", normAttrs(0.0f), {x, w}, {{DType::F32, {3, 2}}})[0]);
  CHECK(std::isnan(y[0]));
  CHECK(std::isnan(y[1]));
  CHECK(std::isnan(y[2]));
  CHECK(y[3] == 0.0f);
  CHECK(y[4] == Approx(3.0 / std::sqrt(12.5)));
  CHECK(y[5] == Approx(4.0 / std::sqrt(12.5)));
}

TEST_CASE("fused_add_rms_norm rounds the residual sum before normalizing",
          "[runtime][cpu][norm]") {
  // 1 + 2^-9 rounds to 1 in bf16: the norm must see the rounded sum.
  Tensor x = tensor(DType::BF16, {1, 2}, {1.0f, 2.0f});
  Tensor res = tensor(DType::BF16, {1, 2}, {std::ldexp(1.0f, -9), 2.0f});
  Tensor w = tensor(DType::BF16, {2}, {1.0f, 1.0f});
  auto out = runOp("fused_add_rms_norm", normAttrs(0.0f), {x, res, w},
                   {{DType::BF16, {1, 2}}, {DType::BF16, {1, 2}}});
  CHECK(floats(out[1]) == std::vector<float>{1.0f, 4.0f});
  auto ref = rmsRow({1, 4}, {1, 1}, 0.0, 0.0);
  CHECK(floats(out[0])[0] == roundTo(DType::BF16, static_cast<float>(ref[0])));
  CHECK(floats(out[0])[1] == roundTo(DType::BF16, static_cast<float>(ref[1])));
}

TEST_CASE("rms_norm_gated: gate after the norm and before it", "[runtime][cpu][norm]") {
  Tensor x = tensor(DType::F32, {1, 2}, {1.0f, 2.0f});
  Tensor z = tensor(DType::F32, {1, 2}, {0.0f, 1.0f});
  Tensor w = tensor(DType::F32, {2}, {1.0f, 1.0f});
  double silu1 = 1.0 / (1.0 + std::exp(-1.0));
  OpAttrs before = normAttrs(0.0f);
  auto y = floats(runOp("rms_norm_gated", before, {x, z, w}, {{DType::F32, {1, 2}}})[0]);
  CHECK(y[0] == 0.0f);
  CHECK(y[1] == Approx(2.0 / std::sqrt(2.5) * silu1).epsilon(1e-6));
  OpAttrs after = normAttrs(0.0f);
  after.normBeforeGate = false;
  auto g = floats(runOp("rms_norm_gated", after, {x, z, w}, {{DType::F32, {1, 2}}})[0]);
  CHECK(g[0] == 0.0f);
  CHECK(g[1] == Approx(std::sqrt(2.0)).epsilon(1e-6)); // rms of [0, a] scales a to sqrt(2)
}

TEST_CASE("fused all-reduce norms equal all_reduce followed by the norm",
          "[runtime][cpu][norm]") {
  const int ranks = 4;
  const int64_t t = 3, d = 16;
  std::vector<std::vector<Tensor>> arIn, fusedIn, addIn;
  Tensor w = tensor(DType::BF16, {d}, randomValues(d, 9));
  Tensor res = tensor(DType::BF16, {t, d}, randomValues(t * d, 10));
  for (int r = 0; r < ranks; ++r) {
    Tensor x = tensor(DType::BF16, {t, d}, randomValues(t * d, 20 + r));
    arIn.push_back({x});
    fusedIn.push_back({x, w});
    addIn.push_back({x, res, w});
  }
  TensorType type{DType::BF16, {t, d}};
  auto sums = runOpRanks("all_reduce", {}, arIn, {type});
  auto fused = runOpRanks("fused_all_reduce_rms_norm", normAttrs(1e-6f), fusedIn, {type, type});
  auto fusedAdd = runOpRanks("fused_all_reduce_add_rms_norm", normAttrs(1e-6f, 1.0f),
                             addIn, {type, type});
  auto y = runOp("rms_norm", normAttrs(1e-6f), {sums[0][0], w}, {type});
  auto yAdd = runOp("fused_add_rms_norm", normAttrs(1e-6f, 1.0f), {sums[0][0], res, w},
                    {type, type});
  for (int r = 0; r < ranks; ++r) {
    CHECK(floats(fused[r][1]) == floats(sums[0][0]));
    CHECK(floats(fused[r][0]) == floats(y[0]));
    CHECK(floats(fusedAdd[r][0]) == floats(yAdd[0]));
    CHECK(floats(fusedAdd[r][1]) == floats(yAdd[1]));
  }
}

TEST_CASE("fused_qk_rms_norm normalizes q and k in place inside qkv",
          "[runtime][cpu][norm]") {
  const int64_t t = 7, d = 4, hq = 4, hk = 2;
  Tensor qkv = tensor(DType::F16, {t, (hq + 2 * hk) * d}, randomValues(t * 32, 5));
  Tensor q = *qkv.sliceView(1, 0, hq * d)->reshapeView({t * hq, d});
  Tensor k = *qkv.sliceView(1, hq * d, hk * d)->reshapeView({t * hk, d});
  Tensor wq = tensor(DType::F16, {d}, {0.5f, 1, 1.5f, 2});
  Tensor wk = tensor(DType::F16, {d}, {2, 1.5f, 1, 0.5f});
  TensorType tq{DType::F16, {t * hq, d}}, tk{DType::F16, {t * hk, d}};
  auto fused = runOp("fused_qk_rms_norm", normAttrs(1e-6f), {q, k, wq, wk}, {tq, tk});
  CHECK(floats(fused[0]) == floats(runOp("rms_norm", normAttrs(1e-6f), {q, wq}, {tq})[0]));
  CHECK(floats(fused[1]) == floats(runOp("rms_norm", normAttrs(1e-6f), {k, wk}, {tk})[0]));
}

TEST_CASE("fused gated norm + FP8 quant equals the three unfused ops",
          "[runtime][cpu][norm][quant]") {
  const int64_t n = 6, h = 4, d = 16, g = 8;
  Tensor x = tensor(DType::BF16, {n * h, d}, randomValues(n * h * d, 11, 3.0f));
  Tensor z = tensor(DType::BF16, {n * h, d}, randomValues(n * h * d, 12));
  Tensor w = tensor(DType::F32, {d}, randomValues(d, 13));
  for (bool beforeGate : {true, false}) {
    OpAttrs a = normAttrs(1e-6f);
    a.normBeforeGate = beforeGate;
    a.groupSize = g;
    auto fused = runOp("fused_rms_norm_gated_quant_fp8", a, {x, z, w},
                       {{DType::F8E4M3FN, {n, h * d}}, {DType::F32, {n, h * d / g}}});
    Tensor y = runOp("rms_norm_gated", a, {x, z, w}, {{DType::BF16, {n * h, d}}})[0];
    OpAttrs qa;
    qa.groupSize = g;
    auto unfused = runOp("quant_fp8", qa, {*y.reshapeView({n, h * d})},
                         {{DType::F8E4M3FN, {n, h * d}}, {DType::F32, {n, h * d / g}}});
    CHECK(floats(fused[0]) == floats(unfused[0]));
    CHECK(floats(fused[1]) == floats(unfused[1]));
  }
}
