//===- PlanFromMlirFile.h - .mlir to plan, behind an MLIR-free API -*- C++ -*-===//
//
// fusion-run includes only this header: it builds without MLIR on GPU
// machines (where this function reports that it is missing) and with MLIR
// everywhere else.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_TRANSLATE_PLANFROMMLIRFILE_H
#define LLM_FUSION_TRANSLATE_PLANFROMMLIRFILE_H

#include "runtime/Plan.h"

#include <string>

namespace llmf {

/// Parses and verifies the .mlir file at `path` and translates it. On
/// failure returns false with the diagnostics (file:line:col) in `error`.
bool planFromMlirFile(const std::string &path, Plan &plan, std::string &error);

} // namespace llmf

#endif // LLM_FUSION_TRANSLATE_PLANFROMMLIRFILE_H
