//===- Npy.h - NumPy .npy files in and out ----------------------*- C++ -*-===//
//
// fusion-run reads inputs and writes outputs as .npy. NumPy has no bf16 or
// fp8, so floats are written as '<f4' (an exact widening of every float
// type) and inputs of any float dtype ('<f2', '<f4', '<f8') are rounded
// once to the argument's type.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_NPY_H
#define LLM_FUSION_RUNTIME_NPY_H

#include "runtime/Tensor.h"

#include <string>

namespace llmf {

/// Reads `path` into a host tensor of element type `dtype`. Throws Error.
Tensor readNpy(const std::string &path, DType dtype);
/// Writes a host tensor (any layout): floats as '<f4', integers as '<i4' or
/// '<i8'. Throws Error.
void writeNpy(const std::string &path, const Tensor &t);

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_NPY_H
