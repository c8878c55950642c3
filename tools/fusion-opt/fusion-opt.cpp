//===- fusion-opt.cpp - the llm-fusion driver -----------------------------===//
//
// mlir-opt for llm graphs: parses, verifies and transforms `.mlir` files with
// the `llm` and `func` dialects, the llm-fusion passes and the upstream
// cleanup passes the pipeline uses (canonicalize, cse).
//
//===----------------------------------------------------------------------===//

#include "ir/LLMDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::llm::registerLLMFusionPasses();
  mlir::llm::registerLLMFusionPipeline();

  mlir::DialectRegistry registry;
  registry.insert<mlir::llm::LLMDialect, mlir::func::FuncDialect,
                  mlir::pdl::PDLDialect, mlir::pdl_interp::PDLInterpDialect>();

  mlir::LogicalResult result =
      mlir::MlirOptMain(argc, argv, "llm-fusion optimizer driver\n", registry);
  if (mlir::succeeded(result))
    if (std::optional<std::string> flag = mlir::llm::unusedPipelineShorthand()) {
      llvm::errs() << "fusion-opt: error: " << *flag
                   << " belongs to --llm-fusion-pipeline, which did not run\n";
      return 1;
    }
  return mlir::asMainReturnCode(result);
}
