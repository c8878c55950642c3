//===- KernelRegistry.h - kernels keyed by op and device --------*- C++ -*-===//
//
// A backend registers one function per op it implements; the executor looks
// them up when it loads a plan, so a missing kernel is a load-time error
// that names the op and the device.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_KERNELREGISTRY_H
#define LLM_FUSION_RUNTIME_KERNELREGISTRY_H

#include "runtime/Communicator.h"
#include "runtime/Plan.h"
#include "runtime/Tensor.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace llmf {

/// One launch: the step (op and attributes), its operands (any layout the
/// executor's views produce) and its results (contiguous, poisoned or
/// uninitialized: a kernel writes every element).
struct KernelCall {
  const PlanStep &step;
  const std::vector<Tensor> &inputs;
  const std::vector<Tensor> &outputs;
  Communicator &comm;
};
using KernelFn = void (*)(const KernelCall &);

class KernelRegistry {
public:
  void add(const std::string &op, Device device, KernelFn fn);
  /// nullptr when no kernel is registered.
  KernelFn find(const std::string &op, Device device) const;
  std::vector<std::string> ops(Device device) const;

private:
  std::map<std::pair<std::string, Device>, KernelFn> kernels_;
};

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_KERNELREGISTRY_H
