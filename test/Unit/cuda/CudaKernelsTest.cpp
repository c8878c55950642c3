//===- CudaKernelsTest.cpp - every CUDA kernel against the CPU reference --===//
//
// Each case builds a small plan, draws fresh random inputs (never zeros),
// runs it on the CPU reference and on the GPU (results poisoned with NaN
// before every kernel) and compares every output within one rounding of
// its type; index outputs must be equal (ties resolve identically: both
// sides rank NaN first and equal values by lower index).
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/CpuBackend.h"
#include "runtime/Compare.h"
#include "runtime/Inputs.h"
#include "runtime/cuda/CudaBackend.h"
#include "kernels/Kernels.h"
#include "kernels/Tuning.h"

#include "../runtime/OpTestSupport.h"

#include <catch2/catch.hpp>
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdlib>
#include <sstream>

using namespace llmf;
using namespace llmf::test;

namespace {

const DType kFloatTypes[] = {DType::F32, DType::F16, DType::BF16};
const int64_t kTokens[] = {1, 7, 128, 4099};

/// LLMF_GPU_TEST_QUICK=1 (for compute-sanitizer, which slows kernels down
/// a lot) keeps token counts <= 128: every kernel and code path still runs.
bool skipInQuickMode(int64_t tokens) {
  static const bool quick = [] {
    const char *v = std::getenv("LLMF_GPU_TEST_QUICK");
    return v && std::string(v) == "1";
  }();
  return quick && tokens > 128;
}

/// Cases that sweep dtypes up to 65536 tokens run the largest count in bf16
/// only (the CPU reference dominates their time), and none over 128 in
/// quick mode.
bool skipCase(DType t, int64_t tokens) {
  return (tokens == 65536 && t != DType::BF16) || skipInQuickMode(tokens);
}

/// An executor of the plan's first function on one rank of `backend`, with
/// the host inputs uploaded: for tests that drive runs and captures.
struct DeviceSession {
  ThreadGroup group{1};
  Executor ex;
  MemoryPool pool;
  std::vector<Tensor> inputs;
  DeviceSession(const Backend &backend, const Plan &plan, const std::vector<Tensor> &host,
                ExecutorOptions options = ExecutorOptions{uint8_t{0xFF}})
      : ex(plan, plan.functions[0], backend, group.rank(0), options), pool(backend.allocator) {
    for (const Tensor &t : host)
      inputs.push_back(backend.upload(t, pool));
  }
  std::vector<Tensor> run() { return ex.run(inputs); }
};

/// Runs `fn` of `plan` on a backend with host inputs; host outputs back.
std::vector<Tensor> runOn(const Backend &backend, const Plan &plan,
                          const std::vector<Tensor> &hostInputs) {
  DeviceSession session(backend, plan, hostInputs);
  std::vector<Tensor> out;
  for (const Tensor &t : session.run())
    out.push_back(backend.download(t));
  return out;
}

/// The output holding the values that output `i` ranks (topk values,
/// routing weights: result 0 of the same step), or -1.
int64_t rankedPartner(const PlanFunction &fn, size_t i) {
  if (fn.rankKeys[i].kind == RankKey::Kind::None)
    return -1;
  for (const PlanStep &step : fn.steps)
    if (step.outputs.size() == 2 && step.outputs[1] == fn.outputs[i])
      for (size_t j = 0; j < fn.outputs.size(); ++j)
        if (fn.outputs[j] == step.outputs[0])
          return static_cast<int64_t>(j);
  return -1;
}

/// Random inputs for the plan (roles set by the caller), CPU vs GPU.
void compareBackends(Plan &plan, uint64_t seed, const std::string &what,
                     std::vector<std::optional<Tolerance>> tolerances = {}) {
  std::vector<Tensor> inputs = randomInputs(plan.functions[0], 1, seed, 0);
  auto cpu = runOn(cpuBackend(), plan, inputs);
  auto gpu = runOn(cudaBackend(), plan, inputs);
  REQUIRE(cpu.size() == gpu.size());
  const PlanFunction &fn = plan.functions[0];
  for (size_t i = 0; i < cpu.size(); ++i) {
    int64_t partner = rankedPartner(fn, i);
    std::optional<Tolerance> tol = i < tolerances.size() ? tolerances[i] : std::nullopt;
    OutputDiff d = compareTensors(gpu[i], cpu[i], tol, partner >= 0 ? &gpu[partner] : nullptr,
                                  partner >= 0 ? &cpu[partner] : nullptr);
    INFO(what << ": output " << i << " " << cpu[i].describe() << " mismatches "
              << d.mismatches << "/" << d.elements << " first at " << d.firstMismatch
              << " gpu " << d.firstA << " cpu " << d.firstB << " max_abs " << d.maxAbs
              << (d.what.empty() ? "" : " (" + d.what + ")"));
    CHECK(d.ok());
  }
}

void setRoles(Plan &plan, std::vector<InputRole> roles) {
  for (size_t i = 0; i < roles.size(); ++i)
    plan.functions[0].inputs[i].role = roles[i];
}

std::string describe(const std::string &op, DType t, int64_t tokens, int64_t d) {
  std::ostringstream os;
  os << op << " " << dtypeName(t) << " T=" << tokens << " D=" << d;
  return os.str();
}

} // namespace

TEST_CASE("norm kernels match the CPU for every dtype, odd sizes and weight_bias",
          "[cuda][norm]") {
  const int64_t dims[] = {128, 130, 1000, 2304, 4096, 7168};
  uint64_t seed = 1;
  for (DType t : kFloatTypes)
    for (int64_t d : dims)
      for (int64_t tokens : kTokens)
        // x's own weight type, then f32 weights (f32 x has only the one).
        for (int wi = 0; wi < (t == DType::F32 ? 1 : 2); ++wi) {
          DType wt = wi == 0 ? t : DType::F32;
          if (skipInQuickMode(tokens))
            continue;
          float bias = (d % 2 == 0) ? 0.0f : 1.0f;
          TensorType x{t, {tokens, d}}, w{wt, {d}};
          Plan p = oneStepPlan("rms_norm", normAttrs(1e-6f, bias), {x, w}, {x}, 1);
          setRoles(p, {InputRole::Activation, InputRole::NormWeight});
          compareBackends(p, ++seed, describe("rms_norm", t, tokens, d));
          Plan pa = oneStepPlan("fused_add_rms_norm", normAttrs(1e-5f, 1.0f - bias),
                                {x, x, w}, {x, x}, 1);
          setRoles(pa, {InputRole::Activation, InputRole::Activation, InputRole::NormWeight});
          compareBackends(pa, ++seed, describe("fused_add_rms_norm", t, tokens, d));
          Plan par = oneStepPlan("fused_all_reduce_add_rms_norm", normAttrs(1e-6f), {x, x, w},
                                 {x, x}, 1);
          setRoles(par, {InputRole::Activation, InputRole::Activation, InputRole::NormWeight});
          compareBackends(par, ++seed, describe("fused_all_reduce_add_rms_norm", t, tokens, d));
          Plan pr = oneStepPlan("fused_all_reduce_rms_norm", normAttrs(1e-6f), {x, w}, {x, x}, 1);
          setRoles(pr, {InputRole::Activation, InputRole::NormWeight});
          compareBackends(pr, ++seed, describe("fused_all_reduce_rms_norm", t, tokens, d));
          for (bool before : {true, false}) {
            OpAttrs a = normAttrs(1e-6f, bias);
            a.normBeforeGate = before;
            Plan pg = oneStepPlan("rms_norm_gated", a, {x, x, w}, {x}, 1);
            setRoles(pg, {InputRole::Activation, InputRole::Activation, InputRole::NormWeight});
            compareBackends(pg, ++seed, describe("rms_norm_gated", t, tokens, d));
          }
        }
}

TEST_CASE("norms of wide rows: 4 vectors a thread, and the two-pass kernel beyond",
          "[cuda][norm]") {
  // 1024 threads of up to 4 vectors, then the two-pass kernel; 5001 is not
  // vectorizable (scalar elements count as vectors).
  uint64_t seed = 400;
  for (auto [t, d] : {std::pair<DType, int64_t>{DType::BF16, 32768}, {DType::BF16, 36000},
                      {DType::F32, 16384}, {DType::BF16, 5001}}) {
    TensorType x{t, {3, d}}, w{t, {d}};
    Plan pa = oneStepPlan("fused_add_rms_norm", normAttrs(1e-6f, 1.0f), {x, x, w}, {x, x}, 1);
    setRoles(pa, {InputRole::Activation, InputRole::Activation, InputRole::NormWeight});
    compareBackends(pa, ++seed, describe("fused_add_rms_norm", t, 3, d));
    for (bool before : {true, false}) {
      OpAttrs a = normAttrs(1e-6f);
      a.normBeforeGate = before;
      Plan pg = oneStepPlan("rms_norm_gated", a, {x, x, w}, {x}, 1);
      setRoles(pg, {InputRole::Activation, InputRole::Activation, InputRole::NormWeight});
      compareBackends(pg, ++seed, describe("rms_norm_gated", t, 3, d));
    }
  }
}

TEST_CASE("norms at 65536 tokens", "[cuda][norm][large]") {
  for (int64_t d : {128, 4096}) {
    if (skipInQuickMode(65536))
      return;
    TensorType x{DType::BF16, {65536, d}}, w{DType::BF16, {d}};
    Plan pa = oneStepPlan("fused_add_rms_norm", normAttrs(1e-6f), {x, x, w}, {x, x}, 1);
    setRoles(pa, {InputRole::Activation, InputRole::Activation, InputRole::NormWeight});
    compareBackends(pa, 99 + d, describe("fused_add_rms_norm", DType::BF16, 65536, d));
  }
}

/// qkv [T, (hq + 2 hk) * d] -> split -> reshape to heads -> fused_qk_rms_norm.
Plan qkPlan(DType t, int64_t tokens, int64_t hq, int64_t hk, int64_t d, float bias) {
  Plan plan;
  plan.source = "qk";
  PlanFunction fn;
  fn.name = "qk";
  auto add = [&](TensorType type) {
    fn.buffers.push_back(planBuffer(static_cast<int64_t>(fn.buffers.size()), type));
    return fn.buffers.back().id;
  };
  int64_t qkv = add({t, {tokens, (hq + 2 * hk) * d}});
  int64_t wq = add({t, {d}}), wk = add({t, {d}});
  fn.inputs = {planInput(qkv), planInput(wq), planInput(wk)};
  fn.inputs[1].role = fn.inputs[2].role = InputRole::NormWeight;
  int64_t q = add({t, {tokens, hq * d}}), k = add({t, {tokens, hk * d}}),
          v = add({t, {tokens, hk * d}});
  PlanStep split;
  split.op = "split";
  split.attrs.dim = 1;
  split.attrs.sizes = {hq * d, hk * d, hk * d};
  split.inputs = {qkv};
  split.outputs = {q, k, v};
  int64_t qh = add({t, {tokens * hq, d}}), kh = add({t, {tokens * hk, d}});
  PlanStep rq, rk;
  rq.op = rk.op = "reshape";
  rq.inputs = {q};
  rq.outputs = {qh};
  rk.inputs = {k};
  rk.outputs = {kh};
  int64_t qo = add({t, {tokens * hq, d}}), ko = add({t, {tokens * hk, d}});
  PlanStep norm;
  norm.op = "fused_qk_rms_norm";
  norm.attrs = normAttrs(1e-6f, bias);
  norm.inputs = {qh, kh, wq, wk};
  norm.outputs = {qo, ko};
  fn.steps = {split, rq, rk, norm};
  fn.outputs = {qo, ko, v};
  plan.functions.push_back(fn);
  validatePlan(plan);
  return plan;
}

TEST_CASE("fused_qk_rms_norm reads q and k inside qkv", "[cuda][norm][qk]") {
  uint64_t seed = 500;
  for (DType t : kFloatTypes)
    for (int64_t tokens : {1, 7, 128, 4099, 65536}) {
      if (skipCase(t, tokens))
        continue;
      Plan p = qkPlan(t, tokens, 32, 8, 128, tokens % 2 ? 1.0f : 0.0f);
      compareBackends(p, ++seed, describe("fused_qk_rms_norm", t, tokens, 128));
    }
  Plan odd = qkPlan(DType::F32, 33, 4, 2, 130, 0.0f); // scalar path
  compareBackends(odd, 1234, "fused_qk_rms_norm f32 D=130");
}

TEST_CASE("FP8 quantization kernels match the CPU", "[cuda][quant]") {
  uint64_t seed = 700;
  for (DType t : kFloatTypes)
    for (int64_t tokens : kTokens)
      for (auto [d, g] : {std::pair<int64_t, int64_t>{4096, 128}, {4096, 4096}, {1000, 8}}) {
        if (skipInQuickMode(tokens))
          continue;
        OpAttrs a;
        a.groupSize = g;
        TensorType x{t, {tokens, d}};
        Plan p = oneStepPlan("quant_fp8", a, {x},
                             {{DType::F8E4M3FN, {tokens, d}}, {DType::F32, {tokens, d / g}}}, 1);
        compareBackends(p, ++seed, describe("quant_fp8", t, tokens, d));
        Plan ps = oneStepPlan("quant_fp8_static", {}, {x, {DType::F32, {}}},
                              {{DType::F8E4M3FN, {tokens, d}}}, 1);
        setRoles(ps, {InputRole::Activation, InputRole::Scale});
        compareBackends(ps, ++seed, describe("quant_fp8_static", t, tokens, d));
      }
}

TEST_CASE("FP8 quantization at 65536 tokens", "[cuda][quant][large]") {
  if (skipInQuickMode(65536))
    return;
  OpAttrs a;
  a.groupSize = 128;
  TensorType x{DType::BF16, {65536, 4096}};
  Plan p = oneStepPlan("quant_fp8", a, {x},
                       {{DType::F8E4M3FN, {65536, 4096}}, {DType::F32, {65536, 32}}}, 1);
  compareBackends(p, 777, describe("quant_fp8", DType::BF16, 65536, 4096));
}

TEST_CASE("FP8 quantization: an infinity zeroes its group, NaN poisons its group",
          "[cuda][quant]") {
  // Three groups of 128: one with +inf, one with NaN, one ordinary.
  std::vector<float> v(384);
  for (int i = 0; i < 384; ++i)
    v[i] = 0.01f * float((i * 37) % 101) - 0.5f;
  v[5] = INFINITY;
  v[200] = NAN;
  Tensor x = tensor(DType::BF16, {1, 384}, v);
  OpAttrs a;
  a.groupSize = 128;
  Plan p = oneStepPlan("quant_fp8", a, {{DType::BF16, {1, 384}}},
                       {{DType::F8E4M3FN, {1, 384}}, {DType::F32, {1, 3}}}, 1);
  auto cpu = runOn(cpuBackend(), p, {x});
  auto gpu = runOn(cudaBackend(), p, {x});
  for (int i = 0; i < 2; ++i) {
    OutputDiff d = compareTensors(gpu[i], cpu[i], Tolerance{0.0, 0.0});
    INFO("output " << i << ": mismatches " << d.mismatches << " first at " << d.firstMismatch
                   << " gpu " << d.firstA << " cpu " << d.firstB);
    CHECK(d.ok());
  }
  std::vector<float> q = floats(gpu[0]);
  CHECK(std::isnan(q[5]));
  CHECK(q[6] == 0.0f);
  CHECK(std::isnan(q[130]));
  CHECK(q[300] != 0.0f);
}

TEST_CASE("fused gated norm + FP8 quant at 65536 tokens", "[cuda][quant][gated][large]") {
  if (skipInQuickMode(65536))
    return;
  OpAttrs a = normAttrs(1e-6f);
  a.normBeforeGate = true;
  a.groupSize = 128;
  TensorType x{DType::BF16, {65536 * 32, 128}}, w{DType::BF16, {128}};
  Plan p = oneStepPlan("fused_rms_norm_gated_quant_fp8", a, {x, x, w},
                       {{DType::F8E4M3FN, {65536, 4096}}, {DType::F32, {65536, 32}}}, 1);
  setRoles(p, {InputRole::Activation, InputRole::Activation, InputRole::NormWeight});
  compareBackends(p, 901, describe("fused_rms_norm_gated_quant_fp8", DType::BF16, 65536, 128),
                  {std::nullopt, defaultTolerance(DType::BF16)});
}

TEST_CASE("fused gated norm + FP8 group quant matches the CPU", "[cuda][quant][gated]") {
  uint64_t seed = 900;
  struct Shape3 {
    int64_t heads, d, g;
  };
  for (DType t : kFloatTypes)
    for (int64_t tokens : {1, 7, 128, 4099})
      for (Shape3 s : {Shape3{32, 128, 128}, Shape3{16, 64, 32}, Shape3{3, 100, 50}})
        for (bool before : {true, false}) {
          if (skipInQuickMode(tokens))
            continue;
          OpAttrs a = normAttrs(1e-6f);
          a.normBeforeGate = before;
          a.groupSize = s.g;
          TensorType x{t, {tokens * s.heads, s.d}}, w{DType::F32, {s.d}};
          int64_t width = s.heads * s.d;
          Plan p = oneStepPlan("fused_rms_norm_gated_quant_fp8", a, {x, x, w},
                               {{DType::F8E4M3FN, {tokens, width}},
                                {DType::F32, {tokens, width / s.g}}},
                               1);
          setRoles(p, {InputRole::Activation, InputRole::Activation, InputRole::NormWeight});
          // The scale inherits one rounding of x's type from the norm output.
          compareBackends(p, ++seed, describe("fused_rms_norm_gated_quant_fp8", t, tokens, s.d),
                          {std::nullopt, defaultTolerance(t)});
        }
}

/// The FP8 serving chains: every op, the register path (4096 and 7168 at
/// group 128 and per token) and the general one (odd sizes), dynamic and
/// static, weight_bias 0 and 1.
TEST_CASE("FP8 chains (norm, add + norm, all-reduce, SiLU-and-mul + quant) match the CPU",
          "[cuda][quant]") {
  uint64_t seed = 1300;
  struct Case {
    int64_t d, g;
  };
  const char *norms[] = {"fused_rms_norm_quant_fp8", "fused_add_rms_norm_quant_fp8",
                         "fused_all_reduce_rms_norm_quant_fp8",
                         "fused_all_reduce_add_rms_norm_quant_fp8"};
  for (DType t : kFloatTypes)
    for (int64_t tokens : {1, 5, 128, 4099})
      for (Case c : {Case{4096, 128}, Case{7168, 128}, Case{2048, 2048}, Case{1000, 8}, Case{96, 32}})
        for (bool isStatic : {false, true}) {
          if (skipInQuickMode(tokens))
            continue;
          TensorType x{t, {tokens, c.d}}, w{t, {c.d}}, s{DType::F32, {}};
          TensorType q{DType::F8E4M3FN, {tokens, c.d}}, sc{DType::F32, {tokens, c.d / c.g}};
          for (const char *base : norms) {
            std::string op = std::string(base) + (isStatic ? "_static" : "");
            bool add = op.find("add") != std::string::npos;
            bool through = add || op.find("all_reduce") != std::string::npos;
            OpAttrs a = normAttrs(1e-6f);
            a.weightBias = (seed % 2) ? 1.0f : 0.0f;
            a.groupSize = c.g;
            std::vector<TensorType> in{x};
            std::vector<InputRole> roles{InputRole::Activation};
            if (add) {
              in.push_back(x);
              roles.push_back(InputRole::Activation);
            }
            in.push_back(w);
            roles.push_back(InputRole::NormWeight);
            if (isStatic) {
              in.push_back(s);
              roles.push_back(InputRole::Scale);
            }
            std::vector<TensorType> out{q};
            if (!isStatic)
              out.push_back(sc);
            if (through)
              out.push_back(x);
            Plan p = oneStepPlan(op, a, in, out, 1);
            setRoles(p, roles);
            // The scale inherits one rounding of x's type from the norm output.
            compareBackends(p, ++seed, describe(op, t, tokens, c.d),
                            {std::nullopt, defaultTolerance(t), defaultTolerance(t)});
          }
          std::string op = std::string("fused_silu_mul_quant_fp8") + (isStatic ? "_static" : "");
          OpAttrs a;
          a.groupSize = c.g;
          std::vector<TensorType> in{x, x};
          if (isStatic)
            in.push_back(s);
          std::vector<TensorType> out{q};
          if (!isStatic)
            out.push_back(sc);
          Plan p = oneStepPlan(op, a, in, out, 1);
          if (isStatic)
            setRoles(p, {InputRole::Activation, InputRole::Activation, InputRole::Scale});
          compareBackends(p, ++seed, describe(op, t, tokens, c.d),
                          {std::nullopt, defaultTolerance(t)});
        }
}

/// The FP8 linear: cuBLASLt's FP8 GEMM in each scaling mode (or its
/// dequantizing fallback where cuBLASLt has none) against the CPU reference.
TEST_CASE("matmul_fp8 matches the CPU in every scaling mode", "[cuda][quant][fp8gemm]") {
  uint64_t seed = 1700;
  for (DType out : {DType::BF16, DType::F32})
    for (int64_t tokens : {1, 33, 256})
      for (auto [n, k] : {std::pair<int64_t, int64_t>{256, 512}, {384, 1024}})
        for (int mode = 0; mode < 3; ++mode) {
          TensorType x{DType::F8E4M3FN, {tokens, k}}, w{DType::F8E4M3FN, {n, k}};
          TensorType xs{DType::F32, {}}, ws{DType::F32, {}};
          if (mode == 1) {
            xs.shape = {tokens, 1};
            ws.shape = {n};
          } else if (mode == 2) {
            xs.shape = {tokens, (k + 127) / 128};
            ws.shape = {(n + 127) / 128, (k + 127) / 128};
          }
          Plan p = oneStepPlan("matmul_fp8", {}, {x, xs, w, ws}, {{out, {tokens, n}}}, 1);
          setRoles(p, {InputRole::Activation, InputRole::Scale, InputRole::Activation,
                       InputRole::Scale});
          // fp32 accumulation in another order (and, on the fallback, the
          // scales applied before the sum): a few f32 ulps of the sum.
          std::optional<Tolerance> tol;
          if (out == DType::F32)
            tol = Tolerance{1e-4, 1e-4};
          compareBackends(p, ++seed, describe("matmul_fp8 mode " + std::to_string(mode), out,
                                              tokens, k),
                          {tol});
        }
}

/// scale_col_major: every producer writes DeepGEMM's column-major scales
/// [groups, T rounded up to 4] (padding zeroed; the outputs are poisoned
/// first, so a missed pad shows) on its fast and general paths, at token
/// counts that need padding; matmul_fp8 reads them on cuBLASLt and on the
/// dequantizing fallback (N = 200 is no multiple of 16).
TEST_CASE("column-major FP8 scales match the CPU", "[cuda][quant][colmajor]") {
  uint64_t seed = 1900;
  auto pad4 = [](int64_t t) { return (t + 3) / 4 * 4; };
  for (DType t : kFloatTypes)
    for (int64_t tokens : {1, 5, 128, 4099}) {
      if (skipInQuickMode(tokens))
        continue;
      for (auto [d, g] : {std::pair<int64_t, int64_t>{4096, 128}, {2048, 2048}, {1000, 8}}) {
        TensorType x{t, {tokens, d}}, w{t, {d}};
        TensorType q{DType::F8E4M3FN, {tokens, d}}, sc{DType::F32, {d / g, pad4(tokens)}};
        OpAttrs a = normAttrs(1e-6f);
        a.groupSize = g;
        a.scaleColMajor = true;
        Plan pq = oneStepPlan("quant_fp8", a, {x}, {q, sc}, 1);
        compareBackends(pq, ++seed, describe("quant_fp8 col-major", t, tokens, d));
        Plan pn = oneStepPlan("fused_add_rms_norm_quant_fp8", a, {x, x, w}, {q, sc, x}, 1);
        setRoles(pn, {InputRole::Activation, InputRole::Activation, InputRole::NormWeight});
        compareBackends(pn, ++seed, describe("fused_add_rms_norm_quant_fp8 col-major", t, tokens, d),
                        {std::nullopt, defaultTolerance(t), defaultTolerance(t)});
        Plan pr = oneStepPlan("fused_rms_norm_quant_fp8", a, {x, w}, {q, sc}, 1);
        setRoles(pr, {InputRole::Activation, InputRole::NormWeight});
        compareBackends(pr, ++seed, describe("fused_rms_norm_quant_fp8 col-major", t, tokens, d),
                        {std::nullopt, defaultTolerance(t)});
        Plan ps = oneStepPlan("fused_silu_mul_quant_fp8", a, {x, x}, {q, sc}, 1);
        compareBackends(ps, ++seed, describe("fused_silu_mul_quant_fp8 col-major", t, tokens, d),
                        {std::nullopt, defaultTolerance(t)});
      }
      struct Gated {
        int64_t heads, d, g;
      };
      for (Gated s : {Gated{32, 128, 128}, Gated{3, 100, 50}}) {
        OpAttrs a = normAttrs(1e-6f);
        a.groupSize = s.g;
        a.scaleColMajor = true;
        int64_t width = s.heads * s.d;
        TensorType x{t, {tokens * s.heads, s.d}}, w{DType::F32, {s.d}};
        Plan p = oneStepPlan("fused_rms_norm_gated_quant_fp8", a, {x, x, w},
                             {{DType::F8E4M3FN, {tokens, width}},
                              {DType::F32, {width / s.g, pad4(tokens)}}},
                             1);
        setRoles(p, {InputRole::Activation, InputRole::Activation, InputRole::NormWeight});
        compareBackends(p, ++seed, describe("fused_rms_norm_gated_quant_fp8 col-major", t, tokens,
                                            s.d),
                        {std::nullopt, defaultTolerance(t)});
      }
    }
  for (int64_t tokens : {1, 5, 256})
    for (auto [n, k] : {std::pair<int64_t, int64_t>{256, 512}, {200, 384}}) {
      OpAttrs a;
      a.xScaleColMajor = true;
      TensorType x{DType::F8E4M3FN, {tokens, k}}, w{DType::F8E4M3FN, {n, k}};
      TensorType xs{DType::F32, {(k + 127) / 128, pad4(tokens)}};
      TensorType ws{DType::F32, {(n + 127) / 128, (k + 127) / 128}};
      Plan p = oneStepPlan("matmul_fp8", a, {x, xs, w, ws}, {{DType::F32, {tokens, n}}}, 1);
      setRoles(p, {InputRole::Activation, InputRole::Scale, InputRole::Activation,
                   InputRole::Scale});
      compareBackends(p, ++seed, describe("matmul_fp8 col-major x_scale", DType::F32, tokens, k),
                      {Tolerance{1e-4, 1e-4}});
    }
}

TEST_CASE("routing kernels match the CPU, ties included", "[cuda][routing]") {
  struct Config {
    int64_t experts, nGroup, topkGroup, topk;
    bool renormalize;
    float scale;
  };
  const Config configs[] = {{256, 8, 4, 8, true, 2.5f},   // DeepSeek-V3
                            {384, 1, 1, 8, true, 2.827f}, // Kimi-K2
                            {128, 1, 1, 8, true, 1.0f},   // GLM-4.5-Air
                            {160, 8, 3, 6, false, 16.0f}};
  uint64_t seed = 1100;
  for (const Config &c : configs)
    for (DType t : kFloatTypes)
      for (int64_t tokens : {1, 7, 128, 4099, 65536}) {
        if (skipCase(t, tokens))
          continue;
        OpAttrs a;
        a.nGroup = c.nGroup;
        a.topkGroup = c.topkGroup;
        a.topk = c.topk;
        a.renormalize = c.renormalize;
        a.routedScalingFactor = c.scale;
        std::vector<TensorType> outs = {{DType::F32, {tokens, c.topk}},
                                        {DType::I32, {tokens, c.topk}}};
        Plan fused = oneStepPlan("fused_moe_router", a,
                                 {{t, {tokens, c.experts}}, {DType::F32, {c.experts}}}, outs, 1);
        setRoles(fused, {InputRole::Logits, InputRole::Bias});
        compareBackends(fused, ++seed, describe("fused_moe_router", t, tokens, c.experts));
        if (t != DType::F32)
          continue;
        TensorType f{DType::F32, {tokens, c.experts}};
        Plan unfused = oneStepPlan("grouped_topk", a, {f, f}, outs, 1);
        setRoles(unfused, {InputRole::Scale, InputRole::Activation});
        compareBackends(unfused, ++seed, describe("grouped_topk", t, tokens, c.experts));
      }
}

TEST_CASE("routing ties: many equal logits pick the same experts on both sides",
          "[cuda][routing][ties]") {
  // 513 tokens take a warp per token, 100 a block per token (up to 128
  // where groups are selected).
  for (const int64_t tokens : {513, 100}) {
    const int64_t e = 256;
    // bf16 logits from a handful of values and a zero bias: ties everywhere.
    std::vector<float> logits(tokens * e);
    for (int64_t i = 0; i < tokens * e; ++i)
      logits[i] = 0.25f * static_cast<float>((i * 2654435761u) % 5);
    Tensor l = tensor(DType::BF16, {tokens, e}, logits);
    Tensor bias = tensor(DType::F32, {e}, {0.0f});
    OpAttrs a;
    a.nGroup = 8;
    a.topkGroup = 4;
    a.topk = 8;
    a.renormalize = true;
    Plan p = oneStepPlan("fused_moe_router", a, {{DType::BF16, {tokens, e}}, {DType::F32, {e}}},
                         {{DType::F32, {tokens, 8}}, {DType::I32, {tokens, 8}}}, 1);
    auto cpu = runOn(cpuBackend(), p, {l, bias});
    auto gpu = runOn(cudaBackend(), p, {l, bias});
    CHECK(ints(gpu[1]) == ints(cpu[1]));
    CHECK(floats(gpu[0]) == floats(cpu[0]));
  }
}

TEST_CASE("topk, gather, elementwise, cast and matmul match the CPU", "[cuda][misc]") {
  uint64_t seed = 1500;
  for (DType t : kFloatTypes)
    for (int64_t tokens : {1, 7, 129, 4099, 65536}) {
      if (skipCase(t, tokens))
        continue;
      OpAttrs k;
      k.k = 8;
      Plan pt = oneStepPlan("topk", k, {{t, {tokens, 1000}}},
                            {{t, {tokens, 8}}, {DType::I32, {tokens, 8}}}, 1);
      compareBackends(pt, ++seed, describe("topk", t, tokens, 1000));

      Plan pg = oneStepPlan("gather", {}, {{t, {tokens, 300}}, {DType::I64, {tokens, 17}}},
                            {{t, {tokens, 17}}}, 1);
      pg.functions[0].inputs[1].role = InputRole::Indices;
      pg.functions[0].inputs[1].indexBound = 300;
      compareBackends(pg, ++seed, describe("gather", t, tokens, 300));

      TensorType x{t, {tokens, 3, 96}};
      TensorType odd{t, {tokens, 291}}; // same shapes: the vector path and its tail
      for (const char *op : {"add", "sub", "mul", "div"}) {
        Plan pb = oneStepPlan(op, {}, {x, {t, {3, 1}}}, {x}, 1); // broadcasts
        setRoles(pb, {InputRole::Activation, InputRole::NormWeight});
        compareBackends(pb, ++seed, describe(op, t, tokens, 96));
        Plan pv = oneStepPlan(op, {}, {odd, odd}, {odd}, 1);
        setRoles(pv, {InputRole::Activation, InputRole::NormWeight});
        compareBackends(pv, ++seed, describe(op, t, tokens, 291));
      }
      for (const char *op : {"sigmoid", "silu", "relu"}) {
        Plan pu = oneStepPlan(op, {}, {x}, {x}, 1);
        compareBackends(pu, ++seed, describe(op, t, tokens, 96));
      }
      // The ops of a decomposed RMSNorm: rsqrt of positive values, pow 2 and
      // 3, the mean over the last, middle and first dims.
      Plan pr = oneStepPlan("rsqrt", {}, {x}, {x}, 1);
      setRoles(pr, {InputRole::NormWeight});
      compareBackends(pr, ++seed, describe("rsqrt", t, tokens, 96));
      Plan pn = oneStepPlan("neg", {}, {x}, {x}, 1);
      compareBackends(pn, ++seed, describe("neg", t, tokens, 96));
      // The ops between the cuts of imported layers (Gemma's MLP, routers,
      // the decomposed grouped top-k, Qwen3-Next's gate).
      for (const char *op : {"exp", "softplus", "gelu", "gelu_tanh"}) {
        Plan pu = oneStepPlan(op, {}, {x}, {x}, 1);
        compareBackends(pu, ++seed, describe(op, t, tokens, 96));
      }
      for (const char *op : {"eq", "ne"}) {
        // x against itself broadcast from [3, 1]: some equal, most not.
        Plan pc = oneStepPlan(op, {}, {x, {t, {3, 1}}}, {x}, 1);
        compareBackends(pc, ++seed, describe(op, t, tokens, 96));
      }
      Plan psel = oneStepPlan("select", {}, {{t, {tokens, 3, 1}}, x, {t, {96}}}, {x}, 1);
      compareBackends(psel, ++seed, describe("select", t, tokens, 96));
      for (int64_t dim : {-1, 1}) {
        OpAttrs sm;
        sm.dim = dim;
        Plan psm = oneStepPlan("softmax", sm, {x}, {x}, 1);
        compareBackends(psm, ++seed, describe("softmax", t, tokens, 96));
        OpAttrs su;
        su.dim = dim;
        su.keepdim = true;
        Shape s = x.shape;
        s[dim < 0 ? 2 : dim] = 1;
        Plan psu = oneStepPlan("sum", su, {x}, {{t, s}}, 1);
        compareBackends(psu, ++seed, describe("sum", t, tokens, 96));
      }
      Plan pbc = oneStepPlan("broadcast", {}, {{t, {tokens, 1, 96}}}, {x}, 1);
      compareBackends(pbc, ++seed, describe("broadcast", t, tokens, 96));
      OpAttrs fa;
      fa.value = -2.5f;
      Plan pfl = oneStepPlan("full_like", fa, {x}, {x}, 1);
      compareBackends(pfl, ++seed, describe("full_like", t, tokens, 96));
      OpAttrs sca;
      sca.value = 1.0f;
      Plan psc = oneStepPlan("scatter", sca, {{t, {tokens, 96}}, {DType::I32, {tokens, 5}}},
                             {{t, {tokens, 96}}}, 1);
      psc.functions[0].inputs[1].role = InputRole::Indices;
      psc.functions[0].inputs[1].indexBound = 96;
      compareBackends(psc, ++seed, describe("scatter", t, tokens, 96));
      // The layout ops of a rotary embedding: transpose, slice, concat.
      OpAttrs ta;
      ta.permutation = {1, 0, 2};
      Plan ptr = oneStepPlan("transpose", ta, {x}, {{t, {3, tokens, 96}}}, 1);
      compareBackends(ptr, ++seed, describe("transpose", t, tokens, 96));
      OpAttrs sa;
      sa.dim = 2;
      sa.start = 48;
      sa.end = 96;
      Plan psl = oneStepPlan("slice", sa, {x}, {{t, {tokens, 3, 48}}}, 1);
      compareBackends(psl, ++seed, describe("slice", t, tokens, 96));
      OpAttrs ca;
      ca.dim = 2;
      Plan pcat = oneStepPlan("concat", ca, {x, {t, {tokens, 3, 32}}}, {{t, {tokens, 3, 128}}}, 1);
      compareBackends(pcat, ++seed, describe("concat", t, tokens, 96));
      for (float e : {2.0f, 3.0f}) {
        OpAttrs pa;
        pa.exponent = e;
        Plan pp = oneStepPlan("pow", pa, {x}, {x}, 1);
        compareBackends(pp, ++seed, describe("pow", t, tokens, 96));
      }
      for (int64_t dim : {-1, 1, 0})
        for (bool keep : {true, false}) {
          OpAttrs ma;
          ma.dim = dim;
          ma.keepdim = keep;
          Shape s = x.shape;
          int64_t d = dim < 0 ? dim + 3 : dim;
          if (keep)
            s[d] = 1;
          else
            s.erase(s.begin() + d);
          Plan pmean = oneStepPlan("mean", ma, {x}, {{t, s}}, 1);
          compareBackends(pmean, ++seed, describe("mean", t, tokens, 96));
        }
      for (DType to : {DType::F32, DType::F16, DType::BF16, DType::F8E4M3FN, DType::I32}) {
        Plan pc = oneStepPlan("cast", {}, {x}, {{to, x.shape}}, 1);
        compareBackends(pc, ++seed, describe("cast", t, tokens, 96));
      }
      for (bool transposed : {true, false}) {
        OpAttrs m;
        m.transposeW = transposed;
        TensorType w = transposed ? TensorType{t, {384, 512}} : TensorType{t, {512, 384}};
        Plan pm = oneStepPlan("matmul", m, {{t, {tokens, 512}}, w}, {{t, {tokens, 384}}}, 1);
        setRoles(pm, {InputRole::Activation, InputRole::LinearWeight});
        // fp32 accumulation in another order: a few f32 ulps.
        std::optional<Tolerance> tol;
        if (t == DType::F32)
          tol = Tolerance{1e-4, 1e-5};
        compareBackends(pm, ++seed, describe("matmul", t, tokens, 512), {tol});
      }
    }
}

TEST_CASE("a plan captured in one CUDA graph recomputes from new inputs on replay",
          "[cuda][graph]") {
  // Capture the fused router on inputs A, overwrite the device inputs with
  // B in place, replay: the outputs must be B's (checked on the CPU), so
  // the replay really runs the kernels on the captured buffers.
  OpAttrs a;
  a.nGroup = 8;
  a.topkGroup = 4;
  a.topk = 8;
  a.renormalize = true;
  a.routedScalingFactor = 2.5f;
  Plan p = oneStepPlan("fused_moe_router", a, {{DType::BF16, {64, 256}}, {DType::F32, {256}}},
                       {{DType::F32, {64, 8}}, {DType::I32, {64, 8}}}, 1);
  setRoles(p, {InputRole::Logits, InputRole::Bias});
  std::vector<Tensor> inA = randomInputs(p.functions[0], 1, 41, 0);
  std::vector<Tensor> inB = randomInputs(p.functions[0], 1, 42, 0);
  const Backend &gpu = cudaBackend();
  REQUIRE(gpu.beginCapture);
  DeviceSession session(gpu, p, inA);
  session.run(); // warm the pool
  gpu.synchronize();
  gpu.beginCapture();
  std::vector<Tensor> out = session.run();
  void *graph = gpu.endCapture();
  for (size_t i = 0; i < inB.size(); ++i)
    REQUIRE(cudaMemcpy(session.inputs[i].data(), inB[i].data(),
                       inB[i].numel() * dtypeSize(inB[i].dtype()),
                       cudaMemcpyHostToDevice) == cudaSuccess);
  gpu.replay(graph);
  gpu.synchronize();
  gpu.destroyGraph(graph);
  auto cpu = runOn(cpuBackend(), p, inB);
  for (size_t i = 0; i < cpu.size(); ++i) {
    Tensor g = gpu.download(out[i]);
    OutputDiff d = compareTensors(g, cpu[i], std::nullopt);
    INFO("output " << i << ": mismatches " << d.mismatches);
    CHECK(d.ok());
  }
}

TEST_CASE("programmatic dependent launch keeps a chain of dependent kernels correct",
          "[cuda][graph][pdl]") {
  // rms_norm -> rms_norm -> quant_fp8, each reading the previous output, no
  // poisoning memsets between them: back-to-back kernels, each launched
  // while its predecessor may still run. Checked against the CPU, eagerly
  // and captured in a CUDA graph.
  const int64_t tokens = 4099, d = 4096;
  Plan plan;
  plan.source = "pdl";
  PlanFunction fn;
  fn.name = "chain";
  auto add = [&](TensorType type) {
    fn.buffers.push_back(planBuffer(static_cast<int64_t>(fn.buffers.size()), type));
    return fn.buffers.back().id;
  };
  TensorType xt{DType::BF16, {tokens, d}};
  int64_t x = add(xt), w = add({DType::BF16, {d}});
  fn.inputs = {planInput(x), planInput(w)};
  fn.inputs[1].role = InputRole::NormWeight;
  int64_t y1 = add(xt), y2 = add(xt);
  int64_t q = add({DType::F8E4M3FN, {tokens, d}}), sc = add({DType::F32, {tokens, d / 128}});
  PlanStep n1, n2, qs;
  n1.op = n2.op = "rms_norm";
  n1.attrs = n2.attrs = normAttrs(1e-6f);
  n1.inputs = {x, w};
  n1.outputs = {y1};
  n2.inputs = {y1, w};
  n2.outputs = {y2};
  qs.op = "quant_fp8";
  qs.attrs.groupSize = 128;
  qs.inputs = {y2};
  qs.outputs = {q, sc};
  fn.steps = {n1, n2, qs};
  fn.outputs = {y2, q, sc};
  plan.functions.push_back(fn);
  validatePlan(plan);

  std::vector<Tensor> in = randomInputs(plan.functions[0], 1, 77, 0);
  auto cpu = runOn(cpuBackend(), plan, in);
  setCudaProgrammaticLaunch(true);
  struct Off {
    ~Off() { setCudaProgrammaticLaunch(false); }
  } off;
  const Backend &gpu = cudaBackend();
  DeviceSession session(gpu, plan, in, ExecutorOptions{});
  auto check = [&](const std::vector<Tensor> &out, const char *how) {
    for (size_t i = 0; i < cpu.size(); ++i) {
      OutputDiff diff = compareTensors(gpu.download(out[i]), cpu[i],
                                       i == 2 ? defaultTolerance(DType::BF16)
                                              : std::optional<Tolerance>{});
      INFO(how << ": output " << i << " mismatches " << diff.mismatches);
      CHECK(diff.ok());
    }
  };
  check(session.run(), "eager");
  gpu.synchronize();
  gpu.beginCapture();
  std::vector<Tensor> out = session.run();
  void *graph = gpu.endCapture();
  for (int i = 0; i < 3; ++i)
    gpu.replay(graph);
  gpu.synchronize();
  gpu.destroyGraph(graph);
  check(out, "graph");
}

TEST_CASE("every benchmark launch shape computes the same results", "[cuda][misc][tuning]") {
  // The sweep hooks of the benchmark (threads per row, rows per team,
  // persistent grids) must never change a result.
  namespace k = llmf::kernels;
  struct Reset {
    ~Reset() {
      k::setNormTuning({});
      k::setGatedQuantTuning({});
      k::setRoutingTuning({});
    }
  } reset;
  TensorType x{DType::BF16, {1000, 4096}}, w{DType::BF16, {4096}};
  Plan add = oneStepPlan("fused_add_rms_norm", normAttrs(1e-6f), {x, x, w}, {x, x}, 1);
  setRoles(add, {InputRole::Activation, InputRole::Activation, InputRole::NormWeight});
  Plan qk = qkPlan(DType::BF16, 999, 32, 8, 128, 1.0f);
  OpAttrs g = normAttrs(1e-6f);
  g.normBeforeGate = true;
  g.groupSize = 128;
  TensorType gx{DType::BF16, {999 * 32, 128}};
  Plan gated = oneStepPlan("fused_rms_norm_gated_quant_fp8", g,
                           {gx, gx, TensorType{DType::BF16, {128}}},
                           {{DType::F8E4M3FN, {999, 4096}}, {DType::F32, {999, 32}}}, 1);
  setRoles(gated, {InputRole::Activation, InputRole::Activation, InputRole::NormWeight});
  uint64_t seed = 3000;
  for (k::NormTuning t : {k::NormTuning{448, 0, 0}, k::NormTuning{1024, 0, 2},
                          k::NormTuning{0, 2, 0}, k::NormTuning{0, 1, 4},
                          k::NormTuning{0, 0, 0, 1}}) {
    k::setNormTuning(t);
    compareBackends(add, ++seed, "fused_add_rms_norm tuned");
    compareBackends(qk, ++seed, "fused_qk_rms_norm tuned");
  }
  k::setNormTuning({});
  for (k::GatedQuantTuning t : {k::GatedQuantTuning{2, 0}, k::GatedQuantTuning{1, 4},
                                k::GatedQuantTuning{2, 4}}) {
    k::setGatedQuantTuning(t);
    compareBackends(gated, ++seed, "fused_rms_norm_gated_quant_fp8 tuned",
                    {std::nullopt, defaultTolerance(DType::BF16)});
  }
  OpAttrs r;
  r.nGroup = 8;
  r.topkGroup = 4;
  r.topk = 8;
  r.renormalize = true;
  Plan router = oneStepPlan("fused_moe_router", r, {{DType::BF16, {999, 256}}, {DType::F32, {256}}},
                            {{DType::F32, {999, 8}}, {DType::I32, {999, 8}}}, 1);
  setRoles(router, {InputRole::Logits, InputRole::Bias});
  k::setRoutingTuning(k::RoutingTuning{1});
  compareBackends(router, ++seed, "fused_moe_router unbounded registers");
  // A block per token at 999 tokens (the launcher's default stops at 256),
  // and a warp per token where the default would take a block.
  k::setRoutingTuning(k::RoutingTuning{0, 1 << 30});
  compareBackends(router, ++seed, "fused_moe_router a block per token");
  k::setRoutingTuning(k::RoutingTuning{0, 0});
  Plan small = oneStepPlan("fused_moe_router", r, {{DType::BF16, {7, 256}}, {DType::F32, {256}}},
                           {{DType::F32, {7, 8}}, {DType::I32, {7, 8}}}, 1);
  setRoles(small, {InputRole::Logits, InputRole::Bias});
  compareBackends(small, ++seed, "fused_moe_router a warp per token at 7 tokens");
}

TEST_CASE("bad sizes get a clear error naming what the kernel needs", "[cuda][errors]") {
  OpAttrs a;
  a.nGroup = 1;
  a.topkGroup = 1;
  a.topk = 8;
  Plan p = oneStepPlan("fused_moe_router", a, {{DType::BF16, {4, 1024}}, {DType::F32, {1024}}},
                       {{DType::F32, {4, 8}}, {DType::I32, {4, 8}}}, 1);
  std::vector<Tensor> in = randomInputs(p.functions[0], 1, 3, 0);
  CHECK_THROWS_WITH(runOn(cudaBackend(), p, in),
                    Catch::Contains("routing: at most 512 experts per token"));
}
