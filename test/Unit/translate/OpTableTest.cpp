//===- OpTableTest.cpp - every llm op runs somewhere ----------------------===//
//
// The dialect (ODS) and the runtime's op table (OpSchema) are written apart,
// the runtime being MLIR-free; this test holds them together: every op of
// the dialect has a schema entry with its attributes in the one attribute
// table, a CPU kernel unless it is a view, and a CUDA kernel where CUDA is
// built. `llm.constant` is a plan buffer, not a step.
//
//===----------------------------------------------------------------------===//

#include "ir/LLMDialect.h"
#include "ir/LLMOps.h"
#include "runtime/OpSchema.h"
#include "runtime/cpu/CpuBackend.h"
#ifdef LLMF_WITH_CUDA
#include "runtime/cuda/CudaBackend.h"
#endif

#include "mlir/IR/MLIRContext.h"

#include <catch2/catch.hpp>

using namespace mlir;

TEST_CASE("every llm op has a schema, a CPU kernel and a CUDA kernel", "[optable]") {
  MLIRContext context;
  context.loadDialect<llm::LLMDialect>();
  int ops = 0;
  for (RegisteredOperationName name : context.getRegisteredOperations()) {
    if (name.getDialectNamespace() != "llm")
      continue;
    std::string op = name.stripDialect().str();
    if (op == "constant")
      continue;
    ++ops;
    INFO("llm." << op);
    const llmf::OpSchema *schema = llmf::findOpSchema(op);
    REQUIRE(schema);
    for (StringAttr attr : name.getAttributeNames()) {
      std::string_view a(attr.data(), attr.size());
      INFO("attribute " << attr.str());
      bool inSchema = llvm::is_contained(schema->requiredAttrs, a) ||
                      llvm::is_contained(schema->optionalAttrs, a);
      CHECK(inSchema);
      CHECK(llmf::findAttrField(a) != nullptr);
    }
    if (schema->isView)
      continue;
    CHECK(llmf::cpuKernelRegistry().find(op, llmf::Device::CPU) != nullptr);
#ifdef LLMF_WITH_CUDA
    CHECK(llmf::cudaKernelRegistry().find(op, llmf::Device::CUDA) != nullptr);
#endif
  }
  CHECK(ops == static_cast<int>(llmf::allOpSchemas().size()));
}
