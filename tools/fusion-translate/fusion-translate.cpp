//===- fusion-translate.cpp - translations out of the llm dialect --------===//
//
// `fusion-translate --llm-to-plan model.mlir -o model.plan.json` writes the
// executable plan that fusion-run (and the runtime library) load on machines
// without MLIR.
//
//===----------------------------------------------------------------------===//

#include "translate/LLMToPlan.h"

#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"

int main(int argc, char **argv) {
  mlir::llm::registerLLMToPlanTranslation();
  return mlir::failed(
      mlir::mlirTranslateMain(argc, argv, "llm-fusion translation driver"));
}
