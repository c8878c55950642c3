//===- DialectTest.cpp - parsing and verifying llm IR from C++ ------------===//
//
// What a user who links the library does: build a context, parse a graph,
// verify it, read attributes through the generated accessors, and get a
// diagnostic (not a crash) from bad input.
//
//===----------------------------------------------------------------------===//

#include "ir/LLMDialect.h"
#include "ir/LLMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include <catch2/catch.hpp>

#include <string>

using namespace mlir;

namespace {

/// A context with the dialects a model graph uses, collecting diagnostics.
struct Fixture {
  MLIRContext ctx;
  std::string diagnostics;
  ScopedDiagnosticHandler handler{&ctx, [this](Diagnostic &d) {
                                    diagnostics += d.str() + "\n";
                                    return success();
                                  }};
  Fixture() { ctx.loadDialect<llm::LLMDialect, func::FuncDialect>(); }

  OwningOpRef<ModuleOp> parse(const std::string &text) {
    return parseSourceString<ModuleOp>(text, &ctx);
  }
};

const char *kLayer = R"mlir(
module attributes {llm.world_size = 2 : i64} {
  func.func @layer(%x: tensor<?x4096xbf16>, %res: tensor<?x4096xbf16>,
                   %w: tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>) {
    %ar = "llm.all_reduce"(%x) : (tensor<?x4096xbf16>) -> tensor<?x4096xbf16>
    %y, %r = "llm.fused_add_rms_norm"(%ar, %res, %w) {epsilon = 1.0e-06 : f32}
        : (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<4096xbf16>)
        -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
    return %y, %r : tensor<?x4096xbf16>, tensor<?x4096xbf16>
  }
}
)mlir";

} // namespace

TEST_CASE("a decoder fragment parses, verifies and exposes attributes",
          "[ir]") {
  Fixture f;
  auto module = f.parse(kLayer);
  REQUIRE(module);
  REQUIRE(succeeded(verify(*module)));
  CHECK(llm::LLMDialect::getWorldSize(*module) == 2);

  int norms = 0;
  module->walk([&](llm::FusedAddRMSNormOp op) {
    ++norms;
    CHECK(op.getEpsilonValue() == Approx(1e-6f));
    // weight_bias was omitted: the default is 0 (not Gemma).
    CHECK(op.getWeightBiasValue() == 0.0f);
    auto world = llm::LLMDialect::getWorldSize(op);
    CHECK(world == 2);
  });
  CHECK(norms == 1);
  CHECK(f.diagnostics.empty());
}

TEST_CASE("the world size defaults to 1 and must be positive", "[ir]") {
  Fixture f;
  auto plain = f.parse("module {}");
  REQUIRE(plain);
  CHECK(llm::LLMDialect::getWorldSize(*plain) == 1);

  auto bad = f.parse("module attributes {llm.world_size = 0 : i64} {}");
  CHECK_FALSE(bad);
  CHECK(f.diagnostics.find("must be a positive integer, got 0") !=
        std::string::npos);
}

TEST_CASE("a verifier rejects a wrong weight with a precise message", "[ir]") {
  Fixture f;
  auto module = f.parse(R"mlir(
    func.func @f(%x: tensor<8x4096xbf16>, %w: tensor<4095xbf16>) -> tensor<8x4096xbf16> {
      %y = "llm.rms_norm"(%x, %w) {epsilon = 1.0e-06 : f32}
          : (tensor<8x4096xbf16>, tensor<4095xbf16>) -> tensor<8x4096xbf16>
      return %y : tensor<8x4096xbf16>
    })mlir");
  CHECK_FALSE(module);
  CHECK(f.diagnostics.find("expects weight w of size 4096 (the last dim of "
                           "x), got 4095") != std::string::npos);
}

TEST_CASE("ops built from C++ verify like parsed ones", "[ir]") {
  Fixture f;
  OpBuilder b(&f.ctx);
  auto loc = b.getUnknownLoc();
  auto module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module.getBody());
  auto logitsTy = RankedTensorType::get({ShapedType::kDynamic, 256},
                                        b.getBF16Type());
  auto biasTy = RankedTensorType::get({256}, b.getF32Type());
  auto outF = RankedTensorType::get({ShapedType::kDynamic, 8}, b.getF32Type());
  auto outI = RankedTensorType::get({ShapedType::kDynamic, 8}, b.getI32Type());
  auto fn = func::FuncOp::create(b, loc, "router",
                                 b.getFunctionType({logitsTy, biasTy}, {outF, outI}));
  Block *body = fn.addEntryBlock();
  b.setInsertionPointToStart(body);
  auto router = llm::FusedMoERouterOp::create(
      b, loc, TypeRange{outF, outI}, body->getArgument(0), body->getArgument(1),
      /*n_group=*/8, /*topk_group=*/4, /*topk=*/8, /*renormalize=*/true,
      /*routed_scaling_factor=*/llvm::APFloat(2.5f));
  func::ReturnOp::create(b, loc, router.getResults());
  CHECK(succeeded(verify(module)));

  // The same router with topk larger than the experts of the kept groups.
  router.setTopk(200);
  CHECK(failed(verify(module)));
  CHECK(f.diagnostics.find("expects 1 <= topk <= 128") != std::string::npos);
  module->erase();
}
