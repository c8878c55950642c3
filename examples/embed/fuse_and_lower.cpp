//===- fuse_and_lower.cpp - an engine embedding the fusion pipeline -------===//
//
//   fuse-and-lower MODEL.mlir [--no-router] [--report FILE]
//
// What an engine does with the library: parse a module, run the fusion
// pipeline with its options, read the fusion report, and lower the fused
// module to a plan that the runtime executes. Built against the *installed*
// package (find_package(LLMFusion)), never the build tree.
//
//===----------------------------------------------------------------------===//

#include "ir/LLMDialect.h"
#include "passes/Passes.h"
#include "runtime/Plan.h"
#include "translate/LLMToPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <cstring>
#include <iostream>
#include <memory>

int main(int argc, char **argv) {
  if (argc < 2) {
    std::cerr << "usage: fuse-and-lower MODEL.mlir [--no-router]\n";
    return 2;
  }
  mlir::DialectRegistry registry;
  registry.insert<mlir::llm::LLMDialect, mlir::func::FuncDialect>();
  mlir::MLIRContext context(registry);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(argv[1], &context);
  if (!module)
    return 1; // the parser printed a diagnostic with its location

  mlir::llm::LLMFusionPipelineOptions options;
  for (int i = 2; i < argc; ++i)
    if (std::strcmp(argv[i], "--no-router") == 0)
      options.moeRouter = false;
  auto report = std::make_shared<mlir::llm::FusionReport>();
  mlir::PassManager pm(&context);
  mlir::llm::buildLLMFusionPipeline(pm, options, report);
  if (mlir::failed(pm.run(*module)))
    return 1;
  std::cout << "fused " << report->totalFused() << " chains, missed " << report->totalMissed()
            << "\n"
            << report->toJSON();

  mlir::FailureOr<llmf::Plan> plan = mlir::llm::translateModuleToPlan(*module, argv[1]);
  if (mlir::failed(plan))
    return 1;
  for (const llmf::PlanFunction &fn : plan->functions)
    std::cout << "plan function '" << fn.name << "': " << fn.steps.size()
              << " kernel launches, world size " << plan->worldSize << "\n";
  return 0;
}
