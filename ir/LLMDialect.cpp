//===- LLMDialect.cpp - the llm dialect -----------------------------------===//
//
// Registers the ops and verifies the dialect's module attributes
// (`llm.world_size`).
//
//===----------------------------------------------------------------------===//

#include "ir/LLMDialect.h"
#include "ir/LLMOps.h"

#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace mlir::llm;

#include "ir/LLMDialect.cpp.inc"

void LLMDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ir/LLMOps.cpp.inc"
      >();
}

/// The only discardable attribute of the dialect is the module's
/// `llm.world_size`; a typo such as `llm.worldsize` must not pass silently.
LogicalResult LLMDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attr) {
  if (attr.getName() != kWorldSizeAttrName)
    return op->emitError() << "unknown llm dialect attribute '"
                           << attr.getName().getValue() << "'";
  if (!isa<ModuleOp>(op))
    return op->emitError() << "'" << kWorldSizeAttrName
                           << "' is only valid on a builtin.module";
  auto size = dyn_cast<IntegerAttr>(attr.getValue());
  if (!size || !size.getType().isInteger(64))
    return op->emitError() << "'" << kWorldSizeAttrName
                           << "' must be an i64 integer attribute";
  if (size.getInt() < 1)
    return op->emitError() << "'" << kWorldSizeAttrName
                           << "' must be a positive integer, got "
                           << size.getInt();
  return success();
}

/// Folded values become `llm.constant` ops (the canonicalizer and the greedy
/// driver ask for them).
Operation *LLMDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, elements);
}

int64_t LLMDialect::getWorldSize(Operation *op) {
  auto module = dyn_cast<ModuleOp>(op);
  if (!module)
    module = op->getParentOfType<ModuleOp>();
  while (module) {
    if (auto size = module->getAttrOfType<IntegerAttr>(kWorldSizeAttrName))
      return size.getInt();
    module = module->getParentOfType<ModuleOp>();
  }
  return 1;
}
