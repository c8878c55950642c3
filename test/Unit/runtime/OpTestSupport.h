//===- OpTestSupport.h - run one op of the CPU backend in a test -*- C++ -*-===//
//
// Builds a one-step plan (so every test also goes through plan validation
// and the executor), runs it on 1..N thread ranks and reads results back as
// floats or integers.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_TEST_OPTESTSUPPORT_H
#define LLM_FUSION_TEST_OPTESTSUPPORT_H

#include "runtime/cpu/CpuBackend.h"
#include "runtime/Communicator.h"
#include "runtime/Error.h"
#include "runtime/Executor.h"
#include "runtime/Plan.h"

#include <string>
#include <thread>
#include <vector>

namespace llmf::test {

inline PlanBuffer planBuffer(int64_t id, TensorType type) {
  PlanBuffer b;
  b.id = id;
  b.type = std::move(type);
  return b;
}

inline PlanInput planInput(int64_t buffer) {
  PlanInput in;
  in.buffer = buffer;
  return in;
}

/// A contiguous host tensor holding `values` rounded to `dtype`.
inline Tensor tensor(DType dtype, Shape shape, const std::vector<float> &values) {
  Tensor t(dtype, shape, allocateHostBuffer(numElements(shape) * dtypeSize(dtype)));
  for (int64_t i = 0; i < t.numel(); ++i)
    writeFloat(dtype, t.elementPtr(i), values.at(values.size() == 1 ? 0 : i));
  return t;
}

inline Tensor intTensor(DType dtype, Shape shape, const std::vector<int64_t> &values) {
  Tensor t(dtype, shape, allocateHostBuffer(numElements(shape) * dtypeSize(dtype)));
  for (int64_t i = 0; i < t.numel(); ++i)
    writeInt(dtype, t.elementPtr(i), values.at(i));
  return t;
}

inline std::vector<float> floats(const Tensor &t) {
  std::vector<float> v(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i)
    v[i] = loadFloat(t, i);
  return v;
}

inline std::vector<int64_t> ints(const Tensor &t) {
  std::vector<int64_t> v(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i)
    v[i] = loadInt(t, i);
  return v;
}

/// A plan of one step: inputs are the arguments, `results` the declared
/// result types.
inline Plan oneStepPlan(const std::string &op, const OpAttrs &attrs,
                        const std::vector<TensorType> &inputs,
                        const std::vector<TensorType> &results, int64_t worldSize) {
  Plan plan;
  plan.source = "test";
  plan.worldSize = worldSize;
  PlanFunction fn;
  fn.name = "f";
  PlanStep step;
  step.op = op;
  step.attrs = attrs;
  for (const TensorType &t : inputs) {
    fn.buffers.push_back(planBuffer(static_cast<int64_t>(fn.buffers.size()), t));
    fn.inputs.push_back(planInput(fn.buffers.back().id));
    step.inputs.push_back(fn.buffers.back().id);
  }
  for (const TensorType &t : results) {
    fn.buffers.push_back(planBuffer(static_cast<int64_t>(fn.buffers.size()), t));
    step.outputs.push_back(fn.buffers.back().id);
    fn.outputs.push_back(fn.buffers.back().id);
  }
  fn.steps.push_back(step);
  plan.functions.push_back(fn);
  validatePlan(plan);
  return plan;
}

/// Runs `op` with each rank's inputs; returns each rank's results.
inline std::vector<std::vector<Tensor>>
runOpRanks(const std::string &op, const OpAttrs &attrs,
           const std::vector<std::vector<Tensor>> &rankInputs,
           const std::vector<TensorType> &results) {
  std::vector<TensorType> types;
  for (const Tensor &t : rankInputs[0]) {
    Shape s = t.shape();
    types.push_back(TensorType{t.dtype(), s});
  }
  int ranks = static_cast<int>(rankInputs.size());
  Plan plan = oneStepPlan(op, attrs, types, results, ranks);
  ThreadGroup group(ranks);
  std::vector<std::vector<Tensor>> out(ranks);
  std::vector<std::string> errors(ranks);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      try {
        Executor ex(plan, plan.functions[0], cpuBackend(), group.rank(r),
                    ExecutorOptions{uint8_t{0xFF}});
        out[r] = ex.run(rankInputs[r]);
      } catch (const Error &e) {
        errors[r] = e.what();
      }
    });
  for (auto &t : threads)
    t.join();
  for (const std::string &e : errors)
    if (!e.empty())
      throw Error(e);
  return out;
}

inline std::vector<Tensor> runOp(const std::string &op, const OpAttrs &attrs,
                                 const std::vector<Tensor> &inputs,
                                 const std::vector<TensorType> &results) {
  return runOpRanks(op, attrs, {inputs}, results)[0];
}

/// Attributes of a norm op.
inline OpAttrs normAttrs(float epsilon, float weightBias = 0.0f) {
  OpAttrs a;
  a.epsilon = epsilon;
  a.weightBias = weightBias;
  return a;
}

} // namespace llmf::test

#endif // LLM_FUSION_TEST_OPTESTSUPPORT_H
