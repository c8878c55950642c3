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
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "ir/LLMOps.h.inc"

#endif // LLM_FUSION_IR_LLMOPS_H
