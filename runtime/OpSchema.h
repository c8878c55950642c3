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

/// What ranks an op's index output (result 1), for comparisons that allow
/// ties: none, its input `a` (topk's x, grouped_topk's biased), or
/// `sigmoid(a) + b` (the fused router's logits and bias).
struct RankRule {
  RankKey::Kind kind = RankKey::Kind::None;
  int a = -1, b = -1;
};

/// One entry per op of the dialect (but constant, which a plan holds as a
/// buffer): the one place that says what an op is to the runtime.
struct OpSchema {
  std::string_view name;
  int numInputs;  // -1: one or more (concat)
  int numOutputs; // -1: as many as the attributes say (split)
  std::vector<std::string_view> requiredAttrs;
  std::vector<std::string_view> optionalAttrs;
  InferFn infer;
  /// A zero-copy view of its input where the layout allows (no kernel).
  bool isView = false;
  RankRule ranking = {};
};

/// How an attribute is stored: this table maps the spec's attribute names to
/// OpAttrs fields once, for the plan's JSON and for the MLIR translator.
enum class AttrKind { F32, I64, Bool, I64Array };
struct AttrField {
  std::string_view name;
  AttrKind kind;
  float OpAttrs::*f32 = nullptr;
  int64_t OpAttrs::*i64 = nullptr;
  bool OpAttrs::*boolean = nullptr;
  std::vector<int64_t> OpAttrs::*array = nullptr;
};
const std::vector<AttrField> &attrFields();
/// nullptr for a name no op has.
const AttrField *findAttrField(std::string_view name);

/// The schema of `name`, or nullptr for an unknown op.
const OpSchema *findOpSchema(std::string_view name);
/// Every op the runtime knows, in the spec's order.
const std::vector<OpSchema> &allOpSchemas();

/// True when two dims can be equal (either is -1, or they are).
inline bool dimsMatch(int64_t a, int64_t b) { return a < 0 || b < 0 || a == b; }
/// True when `actual` fits `declared` (same dtype and rank, dims match).
bool typeMatches(const TensorType &declared, const TensorType &actual);

/// How matmul_fp8's scales apply (its types decide): per tensor, per token
/// and output channel, or DeepSeek-V3's 1x128 activation groups with
/// 128x128 weight blocks. Fails with a message for any other shapes.
enum class Fp8ScaleMode { Tensor, TokenChannel, Block };
/// `xColMajor`: x_scale is column-major [ceil(K/128), T rounded up to 4]
/// (block mode only).
Fp8ScaleMode fp8ScaleMode(const TensorType &x, const TensorType &xScale, const TensorType &w,
                          const TensorType &wScale, bool xColMajor = false);

/// T rounded up to 4: the column stride of column-major (DeepGEMM) scales.
inline int64_t colMajorScaleStride(int64_t tokens) { return (tokens + 3) / 4 * 4; }

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_OPSCHEMA_H
