//===- LLMInterfaces.td - interfaces of the llm ops --------*- tablegen -*-===//
//
// NormOpInterface: what the passes and the lowering need to know of every
// RMSNorm-family op (which operands are weights, its weight_bias), without a
// list of op names or attribute strings in three places.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_INTERFACES_TD
#define LLM_INTERFACES_TD

include "mlir/IR/OpBase.td"

def LLM_NormOpInterface : OpInterface<"NormOpInterface"> {
  let cppNamespace = "::mlir::llm";
  let description = [{
    An op that RMS-normalizes its input (operand 0) over the last dim and
    scales by `(w + weight_bias)` with one or more weight operands: Gemma's
    `(1 + w)` is `weight_bias = 1`.
  }];
  let methods = [
    InterfaceMethod<"The operand indices of the norm weights (one, or wq and wk)",
      "::llvm::SmallVector<unsigned, 2>", "getWeightOperandIndices">,
    InterfaceMethod<"epsilon as a float", "float", "getEpsilonValue", (ins), [{}],
      [{ return $_op.getEpsilon().convertToFloat(); }]>,
    InterfaceMethod<"weight_bias as a float", "float", "getWeightBiasValue", (ins), [{}],
      [{ return $_op.getWeightBias().convertToFloat(); }]>,
    InterfaceMethod<"Sets weight_bias", "void", "setWeightBiasValue", (ins "float":$bias), [{}],
      [{ $_op.setWeightBiasAttr(::mlir::Builder($_op.getContext()).getF32FloatAttr(bias)); }]>,
  ];
  let extraSharedClassDeclaration = [{
    /// The weight operand of a single-weight norm, nullopt for q/k norms.
    std::optional<unsigned> getSingleWeightOperandIndex() {
      auto indices = $_op.getWeightOperandIndices();
      if (indices.size() != 1)
        return std::nullopt;
      return indices.front();
    }
  }];
}

#endif // LLM_INTERFACES_TD
