//===- Executor.cpp - one rank's run of a plan function ------------------===//

#include "runtime/Executor.h"

#include "runtime/Error.h"
#include "runtime/OpSchema.h"

#include <cstring>
#include <limits>

namespace llmf {

static constexpr size_t kNeverReleased = std::numeric_limits<size_t>::max();

Executor::Executor(const Plan &plan, const PlanFunction &fn,
                   const Backend &backend, Communicator &comm,
                   ExecutorOptions options)
    : plan_(plan), fn_(fn), backend_(backend), comm_(comm),
      options_(options), pool_(backend.allocator) {
  if (comm.worldSize() != plan.worldSize)
    fail(plan.source, ": the plan is for world size ", plan.worldSize,
         " but runs on ", comm.worldSize(), " ranks");
  for (size_t s = 0; s < fn.steps.size(); ++s) {
    const PlanStep &step = fn.steps[s];
    schemas_.push_back(findOpSchema(step.op));
    if (!schemas_.back())
      fail(where(s), ": unknown op (was the plan validated?)");
    KernelFn k = nullptr;
    if (!schemas_.back()->isView) {
      k = backend.kernels->find(step.op, backend.device);
      if (!k)
        fail(where(s), ": no ", deviceName(backend.device), " kernel for '",
             step.op, "'");
    }
    kernels_.push_back(k);
  }
  // A result nobody reads is released right after its step.
  lastUse_.assign(fn.buffers.size(), 0);
  for (size_t s = 0; s < fn.steps.size(); ++s) {
    for (int64_t id : fn.steps[s].outputs)
      lastUse_[id] = s;
    for (int64_t id : fn.steps[s].inputs)
      lastUse_[id] = s;
  }
  for (int64_t id : fn.outputs)
    lastUse_[id] = kNeverReleased;
  constants_.resize(fn.buffers.size());
  for (const PlanBuffer &b : fn.buffers) {
    if (!b.isConstant)
      continue;
    std::vector<uint8_t> raw =
        encodeConstant(b, plan.source + ": function '" + fn.name + "' constant buffer " +
                              std::to_string(b.id));
    auto host = allocateHostBuffer(raw.size());
    std::memcpy(host->data, raw.data(), raw.size());
    Tensor t(b.type.dtype, b.type.shape, host);
    constants_[b.id] = backend.upload(t, pool_);
  }
}

std::string Executor::where(size_t s) const {
  const PlanStep &step = fn_.steps[s];
  std::string w = plan_.source + ": function '" + fn_.name + "' step " +
                  std::to_string(s) + " '" + step.op + "'";
  if (!step.loc.empty())
    w += " at " + step.loc;
  return w;
}

Tensor Executor::allocate(const TensorType &type) {
  size_t bytes = checkedTensorBytes(numElements(type.shape), type.dtype,
                                    "a result of type " + type.str());
  Tensor t(type.dtype, type.shape, pool_.allocate(bytes));
  if (options_.poison && bytes)
    backend_.fill(t.data(), bytes, *options_.poison);
  return t;
}

static TensorType typeOf(const Tensor &t) { return TensorType{t.dtype(), t.shape()}; }

std::vector<Tensor> Executor::run(const std::vector<Tensor> &inputs) {
  try {
    return runSteps(inputs);
  } catch (const Error &) {
    // The other ranks may be waiting in a collective for this one.
    comm_.abort();
    throw;
  }
}

std::vector<Tensor> Executor::runSteps(const std::vector<Tensor> &inputs) {
  stats_ = RunStats(); // counts are per run; the pool keeps its peak
  if (inputs.size() != fn_.inputs.size())
    fail(plan_.source, ": function '", fn_.name, "' takes ", fn_.inputs.size(),
         " inputs, got ", inputs.size());
  std::vector<Tensor> values = constants_;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const PlanBuffer &b = fn_.buffers[fn_.inputs[i].buffer];
    if (!typeMatches(b.type, typeOf(inputs[i])))
      fail(plan_.source, ": function '", fn_.name, "' input ", i,
           (b.name.empty() ? "" : " (" + b.name + ")"), " must be ",
           b.type.str(), ", got ", typeOf(inputs[i]).str());
    if (inputs[i].device() != backend_.device)
      fail(plan_.source, ": input ", i, " is on ", deviceName(inputs[i].device()),
           ", the backend runs on ", deviceName(backend_.device));
    values[b.id] = inputs[i];
  }
  auto release = [&](int64_t id, size_t step) {
    if (lastUse_[id] == step && !fn_.buffers[id].isConstant)
      values[id] = Tensor();
  };

  for (size_t s = 0; s < fn_.steps.size(); ++s) {
    const PlanStep &step = fn_.steps[s];
    std::vector<Tensor> in;
    std::vector<TensorType> inTypes, declared;
    for (int64_t id : step.inputs) {
      in.push_back(values[id]);
      inTypes.push_back(typeOf(values[id]));
    }
    for (int64_t id : step.outputs)
      declared.push_back(fn_.buffers[id].type);
    std::vector<TensorType> outTypes;
    try {
      outTypes = schemas_[s]->infer(inTypes, step.attrs, declared);
    } catch (const Error &e) {
      fail(where(s), ": ", e.what());
    }
    for (size_t r = 0; r < outTypes.size(); ++r)
      if (!typeMatches(declared[r], outTypes[r]))
        fail(where(s), ": result ", r, " is declared ", declared[r].str(),
             " but these inputs give ", outTypes[r].str());

    std::vector<Tensor> out;
    if (step.op == "reshape") {
      out.push_back(*in[0].reshapeView(outTypes[0].shape));
      ++stats_.views;
    } else if (step.op == "split") {
      const Tensor &x = in[0];
      int64_t dim = step.attrs.dim < 0 ? step.attrs.dim + x.rank() : step.attrs.dim;
      int64_t start = 0;
      for (size_t r = 0; r < outTypes.size(); ++r) {
        auto view = x.sliceView(dim, start, outTypes[r].shape[dim]);
        if (view) {
          out.push_back(*view);
          ++stats_.views;
        } else {
          // The layout cannot express the slice: copy it out element-wise
          // through the device's copy kernel.
          Tensor dst;
          try {
            dst = allocate(outTypes[r]);
          } catch (const Error &e) {
            fail(where(s), ": ", e.what());
          }
          KernelFn copy = backend_.kernels->find("copy_slice", backend_.device);
          if (!copy)
            fail(where(s), ": no ", deviceName(backend_.device), " copy kernel");
          PlanStep sliceStep = step;
          sliceStep.attrs.dim = dim;
          sliceStep.attrs.k = start; // the slice's first index along dim
          std::vector<Tensor> ins{x}, outs{dst};
          copy(KernelCall{sliceStep, ins, outs, comm_});
          out.push_back(dst);
          ++stats_.copies;
        }
        start += outTypes[r].shape[dim];
      }
    } else {
      try {
        for (const TensorType &t : outTypes)
          out.push_back(allocate(t));
        kernels_[s](KernelCall{step, in, out, comm_});
      } catch (const Error &e) {
        fail(where(s), ": ", e.what());
      }
      ++stats_.launches;
    }
    in.clear();
    for (size_t r = 0; r < step.outputs.size(); ++r) {
      values[step.outputs[r]] = out[r];
      release(step.outputs[r], s);
    }
    for (int64_t id : step.inputs)
      release(id, s);
  }
  std::vector<Tensor> results;
  for (int64_t id : fn_.outputs)
    results.push_back(values[id]);
  return results;
}

RunStats Executor::stats() const {
  RunStats s = stats_;
  s.memory = pool_.stats();
  return s;
}

} // namespace llmf
