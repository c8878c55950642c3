//===- Plan.h - the executable plan of an llm graph -------------*- C++ -*-===//
//
// What a machine without MLIR runs: per function, typed buffers (arguments,
// constants, intermediates), the ordered kernel launches that read and write
// them, and the outputs. Token dims are -1 and bound from the inputs at run
// time. The JSON form is documented in docs/plan-format.md; loadPlan
// validates everything (schema, known kernels, shapes and dtypes, buffer
// ids) and throws llmf::Error naming the offending entry.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_PLAN_H
#define LLM_FUSION_RUNTIME_PLAN_H

#include "runtime/DType.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llmf {

inline constexpr const char *kPlanFormat = "llm-fusion-plan";
inline constexpr int kPlanVersion = 1;
/// The most ranks a plan may have: the runtime runs a host thread a rank.
inline constexpr int64_t kMaxWorldSize = 1024;

/// Element type and shape of a buffer; -1 marks a dynamic dim.
struct TensorType {
  DType dtype = DType::F32;
  Shape shape;
  bool operator==(const TensorType &o) const {
    return dtype == o.dtype && shape == o.shape;
  }
  std::string str() const;
};

/// Every attribute any op of the spec has; each op reads its own (the
/// loader checks that the required ones are present).
struct OpAttrs {
  float epsilon = 0.0f;
  float weightBias = 0.0f;
  bool normBeforeGate = true;
  int64_t groupSize = 0;
  int64_t k = 0;
  int64_t dim = 0;
  std::vector<int64_t> sizes;
  int64_t nGroup = 0, topkGroup = 0, topk = 0;
  bool renormalize = false;
  float routedScalingFactor = 1.0f;
  bool transposeW = true;
  float exponent = 1.0f; // pow
  bool keepdim = false;  // mean
  std::vector<int64_t> permutation; // transpose
  int64_t start = 0, end = 0;       // slice
  float value = 0.0f;               // full_like, scatter
  bool scaleColMajor = false;       // dynamic FP8 quantization
  bool xScaleColMajor = false;      // matmul_fp8
};

/// How fusion-run fills an argument with random data: each role has a
/// realistic range (norm weights near 1, linear weights ~1/sqrt(K), ...).
enum class InputRole : uint8_t {
  Activation,
  NormWeight,
  LinearWeight,
  Bias,
  Scale,
  Indices,
  Logits,
};
std::string_view inputRoleName(InputRole r);

/// A buffer: an argument, a constant (with data) or a step's result.
struct PlanBuffer {
  int64_t id = 0;
  TensorType type;
  std::string name; // the SSA name or argument name, for messages
  bool isConstant = false;
  /// One value (a splat) or numel values: floats in constantData (JSON
  /// numbers, or "inf", "-inf", "nan"), integers exactly in constantInts.
  std::vector<double> constantData;
  std::vector<int64_t> constantInts;
  size_t constantCount() const {
    return isFloat(type.dtype) ? constantData.size() : constantInts.size();
  }
};

/// The typed bytes of a constant buffer (one rounding for floats; integers
/// must fit the type). Checks the size against tensorByteLimit() first.
/// Throws Error naming `where`.
std::vector<uint8_t> encodeConstant(const PlanBuffer &b, const std::string &where);

/// PlanInput::indexBound of an index argument whose bound is the dynamic
/// dim (the gathered dim is `?`): random indices come from [0, --dim).
inline constexpr int64_t kDynamicIndexBound = -1;

struct PlanInput {
  int64_t buffer = 0;
  InputRole role = InputRole::Activation;
  /// Indices: values drawn from [0, indexBound); kDynamicIndexBound binds
  /// it to the dynamic dim; 0 means unknown (a default range).
  int64_t indexBound = 0;
};

/// The values that rank an index output, per row: experts are ranked by
/// the biased scores, not by the weights they return, so a tie is judged on
/// those. Buffers are ids of the function's buffers.
struct RankKey {
  enum class Kind : uint8_t {
    None,
    Values,   ///< topk: buffer `a` (its input x)
    Biased,   ///< grouped_topk: buffer `a` (its biased input)
    Router,   ///< fused_moe_router: sigmoid(f32(logits `a`)) + bias `b`
  };
  Kind kind = Kind::None;
  int64_t a = -1, b = -1;
};

/// One kernel launch: `op` names the spec op (or a fused op).
struct PlanStep {
  std::string op;
  std::vector<int64_t> inputs, outputs;
  OpAttrs attrs;
  std::string loc; // the source location, for messages
};

struct PlanFunction {
  std::string name;
  std::vector<PlanBuffer> buffers; // indexed by id after loading
  std::vector<PlanInput> inputs;
  std::vector<PlanStep> steps;
  std::vector<int64_t> outputs;
  /// For each output: what ranks it when it is the index output of a
  /// top-k or routing step, so comparisons can tell ties from errors.
  std::vector<RankKey> rankKeys;
};

struct Plan {
  int version = kPlanVersion;
  int64_t worldSize = 1;
  std::string source; // where it came from, for messages
  std::vector<PlanFunction> functions;

  const PlanFunction &function(const std::string &name) const;
};

/// Parses and validates a plan; `source` names it in errors. Throws Error.
Plan parsePlan(const std::string &json, const std::string &source);
Plan loadPlanFile(const std::string &path);
/// Checks a plan built in memory (what the translator produces) exactly as
/// parsePlan checks a file, and fills the derived fields. Throws Error.
void validatePlan(Plan &plan);
/// Serializes a plan (never throws).
std::string writePlanJson(const Plan &plan);

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_PLAN_H
