//===- FamilyCoverageTest.cpp - no pattern without a name and a remark ----===//
//
// Remarks cannot silently go missing: every PDLL pattern a family registers
// is named after one of the family's report names (the names its explainer
// remarks under), or is a declared normalization; and every report name has
// a `@no_fuse_*` case in test/Fusion/ that expects its missed-fusion remark.
//
//===----------------------------------------------------------------------===//

#include "ir/LLMDialect.h"
#include "passes/Passes.h"
#include "passes/Patterns.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/PDL/IR/PDLOps.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace mlir;

namespace {

/// The names of the PDL patterns `populate` registers.
std::vector<std::string> pdlPatternNames(MLIRContext &context,
                                         void (*populate)(RewritePatternSet &)) {
  RewritePatternSet set(&context);
  populate(set);
  std::vector<std::string> names;
  if (ModuleOp module = set.getPDLPatterns().getModule())
    module.walk([&](pdl::PatternOp p) {
      if (auto name = p.getSymName())
        names.push_back(name->str());
    });
  return names;
}

std::string allFusionTests() {
  std::string text;
  for (const auto &e : std::filesystem::directory_iterator(LLM_FUSION_TEST_FUSION_DIR)) {
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    text += ss.str();
  }
  return text;
}

} // namespace

TEST_CASE("every registered pattern is named after a report name", "[passes][coverage]") {
  DialectRegistry registry;
  registry
      .insert<llm::LLMDialect, func::FuncDialect, pdl::PDLDialect, pdl_interp::PDLInterpDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  for (const llm::FusionFamilyInfo &family : llm::fusionFamilies()) {
    std::vector<std::string> names = pdlPatternNames(context, family.populate);
    INFO(family.passName.str());
    REQUIRE_FALSE(names.empty());
    for (const std::string &name : names) {
      std::string base = name.substr(0, name.find('_'));
      bool named = llvm::is_contained(family.reportNames, base) ||
                   llvm::is_contained(family.normalizations, name);
      INFO("pattern " << name);
      CHECK(named);
    }
  }
}

TEST_CASE("every report name has a missed-fusion test", "[passes][coverage]") {
  std::string tests = allFusionTests();
  for (const llm::FusionFamilyInfo &family : llm::fusionFamilies())
    for (StringRef name : family.reportNames) {
      std::string remark = "missed fusion " + name.str() + " (" + family.passName.str() + ")";
      INFO(remark);
      CHECK(tests.find(remark) != std::string::npos);
    }
}
