//===- NoMlir.cpp - fusion-run without MLIR: plans only -------------------===//

#include "translate/PlanFromMlirFile.h"

namespace llmf {

bool planFromMlirFile(const std::string &path, Plan &, std::string &error) {
  error = path + ": this fusion-run was built without MLIR and runs plans "
                 "only; translate first with `fusion-translate --llm-to-plan`";
  return false;
}

} // namespace llmf
