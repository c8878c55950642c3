//===- LLMOps.h - ops of the llm dialect ------------------------*- C++ -*-===//
//
// Declares every op of the `llm` dialect (generated from LLMOps.td).
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_IR_LLMOPS_H
#define LLM_FUSION_IR_LLMOPS_H

#include "ir/LLMDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::llm {
/// Whether the product of a tensor type's static dims, and that times its
/// element size in bytes, fit in int64_t.
enum class TensorSize { Fits, TooManyElements, TooManyBytes };
TensorSize staticTensorSize(RankedTensorType type);
/// The shape of dynamic FP8 scales of `groups` per token, for leading dims
/// `lead`: row-major `lead + [groups]`, or (`colMajor`, DeepGEMM's layout)
/// `[groups, T rounded up to 4]` with T the product of `lead` (dynamic if
/// one is). Failure when T overflows.
FailureOr<SmallVector<int64_t>> fp8ScaleShape(ArrayRef<int64_t> lead, int64_t groups,
                                              bool colMajor);
/// Checks one tensor type of `op` with staticTensorSize.
LogicalResult verifyTensorSizeFits(Operation *op, Type type);

namespace OpTrait {
/// Every operand and result tensor passes verifyTensorSizeFits: the static
/// sizes of a verified op never overflow when multiplied out.
template <typename ConcreteType>
class TensorSizesFit
    : public ::mlir::OpTrait::TraitBase<ConcreteType, TensorSizesFit> {
public:
  static LogicalResult verifyTrait(Operation *op) {
    for (Type t : op->getOperandTypes())
      if (failed(verifyTensorSizeFits(op, t)))
        return failure();
    for (Type t : op->getResultTypes())
      if (failed(verifyTensorSizeFits(op, t)))
        return failure();
    return success();
  }
};
} // namespace OpTrait
} // namespace mlir::llm

#include "ir/LLMInterfaces.h.inc"

#define GET_OP_CLASSES
#include "ir/LLMOps.h.inc"

#endif // LLM_FUSION_IR_LLMOPS_H
