//===- KernelRegistry.cpp ------------------------------------------------===//

#include "runtime/KernelRegistry.h"

namespace llmf {

void KernelRegistry::add(const std::string &op, Device device, KernelFn fn) {
  kernels_[{op, device}] = fn;
}

KernelFn KernelRegistry::find(const std::string &op, Device device) const {
  auto it = kernels_.find({op, device});
  return it == kernels_.end() ? nullptr : it->second;
}

std::vector<std::string> KernelRegistry::ops(Device device) const {
  std::vector<std::string> out;
  for (const auto &[key, fn] : kernels_)
    if (key.second == device)
      out.push_back(key.first);
  return out;
}

} // namespace llmf
