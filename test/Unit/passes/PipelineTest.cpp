//===- PipelineTest.cpp - the fusion pipeline from C++ --------------------===//
//
// What an engine that links the library does: build the pipeline into a
// PassManager, run it, read the report object. Also guards the PDLL gotcha:
// a pass whose pattern set did not load (or that lacks the pdl_interp
// dependency) fuses nothing, silently; these tests fail then.
//
//===----------------------------------------------------------------------===//

#include "ir/LLMDialect.h"
#include "ir/LLMOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <catch2/catch.hpp>

using namespace mlir;

namespace {

const char *kRouterAndNorm = R"mlir(
module attributes {llm.world_size = 2 : i64} {
  func.func @f(%x: tensor<?x64xbf16>, %w: tensor<64xbf16>, %wf: tensor<64xf32>,
               %l: tensor<?x256xbf16>, %b: tensor<256xf32>)
      -> (tensor<?x64xbf16>, tensor<?x64xbf16>, tensor<?x8xf32>, tensor<?x8xi32>) {
    %a = llm.all_reduce %x : tensor<?x64xbf16>
    %y = llm.rms_norm %a, %w {epsilon = 1.0e-06 : f32} : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
    %a2 = llm.all_reduce %y : tensor<?x64xbf16>
    %y2 = llm.rms_norm %a2, %wf {epsilon = 1.0e-06 : f32} : (tensor<?x64xbf16>, tensor<64xf32>) -> tensor<?x64xbf16>
    %lf = llm.cast %l : tensor<?x256xbf16> to tensor<?x256xf32>
    %s = llm.sigmoid %lf : tensor<?x256xf32>
    %bs = llm.add %s, %b : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
    %tw, %ti = llm.grouped_topk %s, %bs {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64}
        : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
    return %y, %y2, %tw, %ti : tensor<?x64xbf16>, tensor<?x64xbf16>, tensor<?x8xf32>, tensor<?x8xi32>
  }
}
)mlir";

template <typename OpTy>
int count(ModuleOp module) {
  int n = 0;
  module.walk([&](OpTy) { ++n; });
  return n;
}

} // namespace

TEST_CASE("the pipeline runs from C++ and fills a caller's report",
          "[passes]") {
  MLIRContext ctx;
  ctx.loadDialect<llm::LLMDialect, func::FuncDialect>();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kRouterAndNorm, &ctx);
  REQUIRE(module);

  auto report = std::make_shared<llm::FusionReport>();
  PassManager pm(&ctx);
  llm::LLMFusionPipelineOptions options;
  llm::buildLLMFusionPipeline(pm, options, report);
  REQUIRE(succeeded(pm.run(*module)));

  CHECK(count<llm::FusedAllReduceRMSNormOp>(*module) == 1);
  CHECK(count<llm::FusedMoERouterOp>(*module) == 1);
  CHECK(count<llm::GroupedTopKOp>(*module) == 0);

  auto entries = report->entries();
  REQUIRE(entries.count("AllReduceRMSNorm") == 1);
  CHECK(entries["AllReduceRMSNorm"].fused == 1);
  REQUIRE(entries["AllReduceRMSNorm"].missed.size() == 1);
  CHECK(entries["AllReduceRMSNorm"].missed[0].reason.find(
            "differs from weight element type f32") != std::string::npos);
  CHECK(entries["MoERouter"].fused == 1);
  CHECK(report->totalFused() == 2);
  CHECK(report->totalMissed() == 1);
  CHECK(report->toJSON().find("\"version\": 1") != std::string::npos);
}

TEST_CASE("a family can be disabled through the pipeline options",
          "[passes]") {
  MLIRContext ctx;
  ctx.loadDialect<llm::LLMDialect, func::FuncDialect>();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kRouterAndNorm, &ctx);
  REQUIRE(module);
  PassManager pm(&ctx);
  llm::LLMFusionPipelineOptions options;
  options.moeRouter = false;
  llm::buildLLMFusionPipeline(pm, options);
  REQUIRE(succeeded(pm.run(*module)));
  CHECK(count<llm::FusedMoERouterOp>(*module) == 0);
  CHECK(count<llm::FusedAllReduceRMSNormOp>(*module) == 1);
}

TEST_CASE("every fusion pass loads its patterns and depends on pdl_interp",
          "[passes]") {
  MLIRContext ctx;
  std::vector<std::unique_ptr<Pass>> passes;
  passes.push_back(llm::createLLMFusionCleanupPass({}, nullptr));
  passes.push_back(llm::createLLMFuseAllReduceNormPass({}, nullptr));
  passes.push_back(llm::createLLMFuseGatedNormQuantPass({}, nullptr));
  passes.push_back(llm::createLLMFuseMoERouterPass({}, nullptr));
  passes.push_back(llm::createLLMFuseQKNormPass({}, nullptr));
  for (auto &pass : passes) {
    INFO(pass->getArgument().str());
    DialectRegistry registry;
    pass->getDependentDialects(registry);
    auto names = registry.getDialectNames();
    CHECK(llvm::is_contained(names, "pdl"));
    CHECK(llvm::is_contained(names, "pdl_interp"));
    CHECK(llvm::is_contained(names, "llm"));
  }
}
