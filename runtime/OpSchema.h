//===- OpSchema.h - arity, attributes and type rules of each op -*- C++ -*-===//
//
// One table for every op of the spec: what the plan loader checks against
// the declared buffer types (with -1 for dynamic dims) and what the
// executor checks again with the concrete shapes of a run. Keeping both in
// one function means a plan that loads cannot disagree with what runs.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_OPSCHEMA_H
#define LLM_FUSION_RUNTIME_OPSCHEMA_H

#include "runtime/Plan.h"

#include <string_view>
#include <vector>

namespace llmf {

/// Computes result types from operand types. `declared` are the plan's
/// result types: they supply what operands cannot (cast's element type,
/// reshape's shape). Dims may be -1 (unknown); throws Error on a mismatch.
using InferFn = std::vector<TensorType> (*)(const std::vector<TensorType> &in,
                                            const OpAttrs &attrs,
                                            const std::vector<TensorType> &declared);

struct OpSchema {
  std::string_view name;
  int numInputs;
  int numOutputs; // -1: as many as the attributes say (split)
  std::vector<std::string_view> requiredAttrs;
  std::vector<std::string_view> optionalAttrs;
  InferFn infer;
};

/// The schema of `name`, or nullptr for an unknown op.
const OpSchema *findOpSchema(std::string_view name);
/// Every op the runtime knows, in the spec's order.
const std::vector<OpSchema> &allOpSchemas();

/// True when two dims can be equal (either is -1, or they are).
inline bool dimsMatch(int64_t a, int64_t b) { return a < 0 || b < 0 || a == b; }
/// True when `actual` fits `declared` (same dtype and rank, dims match).
bool typeMatches(const TensorType &declared, const TensorType &actual);

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_OPSCHEMA_H
