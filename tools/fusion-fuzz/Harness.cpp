//===- Harness.cpp - what every fuzz and differential check runs ---------===//

#include "tools/fusion-fuzz/Harness.h"

#include "ir/LLMDialect.h"
#include "runtime/Error.h"
#include "runtime/Inputs.h"
#include "runtime/Npy.h"
#include "runtime/RankRun.h"
#include "runtime/cpu/CpuBackend.h"
#include "translate/LLMToPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <fstream>
#include <unistd.h>

namespace llmf::fuzz {

DepthStats &depthStats() {
  static DepthStats stats;
  return stats;
}

std::unique_ptr<mlir::MLIRContext> makeContext() {
  mlir::DialectRegistry registry;
  registry.insert<mlir::llm::LLMDialect, mlir::func::FuncDialect, mlir::pdl::PDLDialect,
                  mlir::pdl_interp::PDLInterpDialect>();
  auto context =
      std::make_unique<mlir::MLIRContext>(registry, mlir::MLIRContext::Threading::DISABLED);
  context->loadAllAvailableDialects();
  context->allowUnregisteredDialects();
  context->printOpOnDiagnostic(false);
  return context;
}

mlir::OwningOpRef<mlir::ModuleOp> parseModule(mlir::MLIRContext &context, const std::string &text,
                                              std::string &diagnostics) {
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, "input.mlir"),
                               llvm::SMLoc());
  llvm::raw_string_ostream os(diagnostics);
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, os);
  return mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
}

std::string printModule(mlir::ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  return text;
}

Finding runPipeline(mlir::ModuleOp module, const mlir::llm::LLMFusionPipelineOptions &options,
                    std::shared_ptr<mlir::llm::FusionReport> report) {
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  mlir::MLIRContext *context = module.getContext();
  // Remarks are the pipeline's normal output; errors are the finding.
  mlir::ScopedDiagnosticHandler handler(context, [&](mlir::Diagnostic &d) {
    if (d.getSeverity() == mlir::DiagnosticSeverity::Error)
      os << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });
  mlir::PassManager pm(context);
  mlir::llm::buildLLMFusionPipeline(pm, options, std::move(report));
  if (mlir::failed(pm.run(module)))
    return "the pipeline failed on a verified module: " + diagnostics;
  if (mlir::failed(mlir::verify(module)))
    return std::string("the pipeline left a module that does not verify");
  return std::nullopt;
}

Finding checkPipeline(mlir::ModuleOp module, const mlir::llm::LLMFusionPipelineOptions &options) {
  if (Finding f = runPipeline(module, options))
    return f;
  std::string once = printModule(module);
  if (Finding f = runPipeline(module, options))
    return "second pipeline run: " + *f;
  std::string twice = printModule(module);
  if (once != twice)
    return "the pipeline is not idempotent: a second run changed\n" + once + "\ninto\n" + twice;
  return std::nullopt;
}

Finding runPlanOnCpu(const Plan &plan, int64_t dim, uint64_t seed) {
  for (const PlanFunction &fn : plan.functions) {
    try {
      std::vector<std::vector<Tensor>> inputs;
      for (int r = 0; r < plan.worldSize; ++r)
        inputs.push_back(randomInputs(fn, dim, seed, r));
      runOnRanks(plan, fn, inputs, cpuBackend());
      ++depthStats().ran;
    } catch (const Error &) {
      // A clean error is the right answer to a bad plan.
    } catch (const std::exception &e) {
      return "function '" + fn.name + "': an exception other than llmf::Error: " + e.what();
    }
  }
  return std::nullopt;
}

Finding fuzzMlir(const std::string &text) {
  std::unique_ptr<mlir::MLIRContext> context = makeContext();
  std::string diagnostics;
  mlir::OwningOpRef<mlir::ModuleOp> module = parseModule(*context, text, diagnostics);
  if (!module)
    return std::nullopt; // rejected with a diagnostic: fine
  ++depthStats().accepted;
  mlir::llm::LLMFusionPipelineOptions options;
  options.remarks = true;
  if (Finding f = checkPipeline(*module, options))
    return f;
  // Lowering: a clean failure (a diagnostic) is fine; a plan must run or
  // fail with an Error.
  mlir::ScopedDiagnosticHandler quiet(context.get(),
                                      [](mlir::Diagnostic &) { return mlir::success(); });
  mlir::FailureOr<Plan> plan;
  try {
    plan = mlir::llm::translateModuleToPlan(*module, "fuzz");
  } catch (const std::exception &e) {
    return std::string("translation threw: ") + e.what();
  }
  if (mlir::failed(plan))
    return std::nullopt;
  ++depthStats().lowered;
  return runPlanOnCpu(*plan, 2, 1);
}

Finding fuzzPlan(const std::string &text) {
  Plan plan;
  try {
    plan = parsePlan(text, "fuzz.json");
  } catch (const Error &) {
    return std::nullopt;
  } catch (const std::exception &e) {
    return std::string("the plan loader threw something other than llmf::Error: ") + e.what();
  }
  ++depthStats().accepted;
  try {
    (void)writePlanJson(plan);
  } catch (const std::exception &e) {
    return std::string("writing a loaded plan threw: ") + e.what();
  }
  return runPlanOnCpu(plan, 2, 1);
}

Finding fuzzNpy(const std::string &bytes) {
  static const std::string path = [] {
    char name[] = "/tmp/fusion-fuzz-npy-XXXXXX";
    int fd = mkstemp(name);
    if (fd >= 0)
      close(fd);
    return std::string(name);
  }();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  for (DType dtype : {DType::F32, DType::BF16, DType::I32, DType::I64}) {
    try {
      Tensor t = readNpy(path, dtype);
      ++depthStats().accepted;
      // A tensor that loaded must be readable end to end.
      for (int64_t i = 0, n = t.numel(); i < n; ++i)
        (void)(isFloat(dtype) ? loadFloat(t, i) : static_cast<float>(loadInt(t, i)));
    } catch (const Error &) {
    } catch (const std::exception &e) {
      return std::string("the .npy reader threw something other than llmf::Error: ") + e.what();
    }
  }
  return std::nullopt;
}

} // namespace llmf::fuzz
