//===- LLMToPlan.h - lower an llm module to an executable plan --*- C++ -*-===//
//
// Every func.func of the module becomes a plan function: arguments and
// llm.constant results become buffers, each other llm op one step (the op
// name without the `llm.` prefix, its attributes with the spec's defaults),
// func.return the outputs. Arguments get a role from their uses so random
// inputs land in realistic ranges.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_TRANSLATE_LLMTOPLAN_H
#define LLM_FUSION_TRANSLATE_LLMTOPLAN_H

#include "runtime/Plan.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

namespace mlir::llm {

/// Builds and validates the plan of `module`; emits an error at the
/// offending op and fails on anything the runtime cannot run.
FailureOr<llmf::Plan> translateModuleToPlan(ModuleOp module, StringRef source);

/// Registers `--llm-to-plan` with mlir-translate style tools.
void registerLLMToPlanTranslation();

} // namespace mlir::llm

#endif // LLM_FUSION_TRANSLATE_LLMTOPLAN_H
