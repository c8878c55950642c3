//===- LLMDialect.h - the llm dialect ---------------------------*- C++ -*-===//
//
// Declares the `llm` dialect (generated from LLMDialect.td).
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_IR_LLMDIALECT_H
#define LLM_FUSION_IR_LLMDIALECT_H

#include "mlir/IR/Dialect.h"

#include "ir/LLMDialect.h.inc"

#endif // LLM_FUSION_IR_LLMDIALECT_H
