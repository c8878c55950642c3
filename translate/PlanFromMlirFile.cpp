//===- PlanFromMlirFile.cpp - parse, verify, translate a .mlir file ------===//

#include "translate/PlanFromMlirFile.h"

#include "ir/LLMDialect.h"
#include "translate/LLMToPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

namespace llmf {

bool planFromMlirFile(const std::string &path, Plan &plan, std::string &error) {
  mlir::MLIRContext context;
  context.loadDialect<mlir::llm::LLMDialect, mlir::func::FuncDialect>();
  context.printOpOnDiagnostic(false);
  llvm::raw_string_ostream os(error);
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, os);
  std::string includeError;
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(path);
  if (!buffer) {
    os << path << ": cannot open: " << buffer.getError().message() << "\n";
    return false;
  }
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
  if (!module)
    return false;
  mlir::FailureOr<Plan> translated = mlir::llm::translateModuleToPlan(*module, path);
  if (mlir::failed(translated))
    return false;
  plan = std::move(*translated);
  return true;
}

} // namespace llmf
