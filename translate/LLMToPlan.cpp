//===- LLMToPlan.cpp - llm module -> plan ---------------------------------===//

#include "translate/LLMToPlan.h"

#include "ir/LLMDialect.h"
#include "ir/LLMOps.h"
#include "runtime/Error.h"
#include "runtime/OpSchema.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::llm {
namespace {

std::optional<llmf::DType> dtypeOf(Type t) {
  if (t.isF32()) return llmf::DType::F32;
  if (t.isF16()) return llmf::DType::F16;
  if (t.isBF16()) return llmf::DType::BF16;
  if (isa<Float8E4M3FNType>(t)) return llmf::DType::F8E4M3FN;
  if (t.isInteger(32)) return llmf::DType::I32;
  if (t.isInteger(64)) return llmf::DType::I64;
  return std::nullopt;
}

/// "file:line:col" of the first file location inside `loc` (fused
/// locations of fused ops name their root first).
std::string locString(Location loc) {
  std::string out;
  loc->walk([&](Location l) {
    if (auto file = dyn_cast<FileLineColLoc>(l)) {
      out = (file.getFilename().str() + ":" + std::to_string(file.getLine()) +
             ":" + std::to_string(file.getColumn()));
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return out;
}

/// Fills the schema's attributes present on `op` through the runtime's one
/// attribute table (OpSchema.h); absent ones keep the spec's defaults, which
/// OpAttrs' initializers mirror.
LogicalResult readAttrs(Operation *op, const llmf::OpSchema &schema,
                        llmf::OpAttrs &attrs) {
  auto read = [&](std::string_view name) -> LogicalResult {
    Attribute a = op->getAttr(StringRef(name.data(), name.size()));
    if (!a)
      return success();
    const llmf::AttrField *field = llmf::findAttrField(name);
    if (!field)
      return op->emitError() << "the runtime has no attribute '" << name << "'";
    switch (field->kind) {
    case llmf::AttrKind::F32:
      if (auto f = dyn_cast<FloatAttr>(a)) {
        attrs.*(field->f32) = static_cast<float>(f.getValueAsDouble());
        return success();
      }
      return op->emitError() << "attribute '" << name << "' must be a float";
    case llmf::AttrKind::I64:
      if (auto i = dyn_cast<IntegerAttr>(a)) {
        attrs.*(field->i64) = i.getInt();
        return success();
      }
      return op->emitError() << "attribute '" << name << "' must be an integer";
    case llmf::AttrKind::Bool:
      if (auto b = dyn_cast<BoolAttr>(a)) {
        attrs.*(field->boolean) = b.getValue();
        return success();
      }
      return op->emitError() << "attribute '" << name << "' must be a bool";
    case llmf::AttrKind::I64Array:
      if (auto arr = dyn_cast<DenseI64ArrayAttr>(a)) {
        attrs.*(field->array) = std::vector<int64_t>(arr.asArrayRef().begin(),
                                                      arr.asArrayRef().end());
        return success();
      }
      return op->emitError() << "attribute '" << name << "' must be an i64 array";
    }
    return success();
  };
  for (auto n : schema.requiredAttrs)
    if (failed(read(n)))
      return failure();
  for (auto n : schema.optionalAttrs)
    if (failed(read(n)))
      return failure();
  return success();
}

/// Operand positions that carry a norm weight.
bool isNormWeightUse(OpOperand &use) {
  auto norm = dyn_cast<NormOpInterface>(use.getOwner());
  return norm && llvm::is_contained(norm.getWeightOperandIndices(), use.getOperandNumber());
}

/// The range an argument's values should come from, read off its uses
/// (through a cast or an add, as Gemma writes its weight).
llmf::InputRole roleOf(Value v, int64_t &indexBound, int depth = 0) {
  for (OpOperand &use : v.getUses()) {
    Operation *op = use.getOwner();
    unsigned i = use.getOperandNumber();
    if (isNormWeightUse(use))
      return llmf::InputRole::NormWeight;
    if (isa<MatmulOp>(op) && i == 1)
      return llmf::InputRole::LinearWeight;
    if (isa<QuantFP8StaticOp>(op) && i == 1)
      return llmf::InputRole::Scale;
    if (auto gather = dyn_cast<GatherOp>(op); gather && i == 1) {
      auto x = cast<RankedTensorType>(gather.getX().getType());
      indexBound = x.isDynamicDim(x.getRank() - 1) ? llmf::kDynamicIndexBound
                                                    : x.getShape().back();
      return llmf::InputRole::Indices;
    }
    if (isa<FusedMoERouterOp>(op))
      return i == 1 ? llmf::InputRole::Bias : llmf::InputRole::Logits;
    if (isa<AddOp>(op) && op->getOperand(1 - i).getDefiningOp<SigmoidOp>())
      return llmf::InputRole::Bias;
    if (depth < 3 && isa<CastOp, AddOp>(op)) {
      llmf::InputRole r = roleOf(op->getResult(0), indexBound, depth + 1);
      if (r == llmf::InputRole::NormWeight)
        return r;
      if (isa<CastOp>(op) && r == llmf::InputRole::Logits)
        return r;
    }
    if (isa<CastOp>(op) && depth < 3)
      for (Operation *user : op->getResult(0).getUsers())
        if (isa<SigmoidOp>(user))
          return llmf::InputRole::Logits;
  }
  return llmf::InputRole::Activation;
}

FailureOr<llmf::PlanFunction> translateFunction(func::FuncOp fn) {
  llmf::PlanFunction out;
  out.name = fn.getSymName().str();
  if (!fn.getBody().hasOneBlock())
    return fn.emitError() << "a plan function must have exactly one block";
  llvm::DenseMap<Value, int64_t> ids;
  auto addBuffer = [&](Value v, Location loc, std::string name) -> FailureOr<int64_t> {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    std::optional<llmf::DType> dt = type ? dtypeOf(type.getElementType()) : std::nullopt;
    if (!dt)
      return emitError(loc) << "the runtime cannot hold a value of type " << v.getType();
    // Function arguments are not llm ops, so the TensorSizesFit trait has
    // not seen their types.
    if (staticTensorSize(type) != TensorSize::Fits)
      return emitError(loc) << "the runtime cannot hold a value of type " << v.getType()
                            << ": it is larger than 2^63 bytes";
    llmf::PlanBuffer b;
    b.id = static_cast<int64_t>(out.buffers.size());
    b.type.dtype = *dt;
    for (int64_t d : type.getShape())
      b.type.shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
    b.name = std::move(name);
    out.buffers.push_back(b);
    ids[v] = b.id;
    return b.id;
  };
  for (BlockArgument arg : fn.getArguments()) {
    FailureOr<int64_t> id = addBuffer(arg, fn.getLoc(), "arg" + std::to_string(arg.getArgNumber()));
    if (failed(id))
      return failure();
    llmf::PlanInput in;
    in.buffer = *id;
    in.role = roleOf(arg, in.indexBound);
    out.inputs.push_back(in);
  }
  for (Operation &op : fn.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (Value v : ret.getOperands())
        out.outputs.push_back(ids.lookup(v));
      continue;
    }
    if (auto c = dyn_cast<ConstantOp>(op)) {
      FailureOr<int64_t> id = addBuffer(c.getResult(), op.getLoc(), "");
      if (failed(id))
        return failure();
      llmf::PlanBuffer &b = out.buffers[*id];
      b.isConstant = true;
      auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
      if (!dense)
        return op.emitError() << "only dense constants can be lowered to a plan";
      // Floats through double (exact for every float type the spec has);
      // integers exactly, never through a double.
      if (isa<FloatType>(dense.getElementType())) {
        if (dense.isSplat())
          b.constantData.push_back(dense.getSplatValue<APFloat>().convertToDouble());
        else
          for (APFloat f : dense.getValues<APFloat>())
            b.constantData.push_back(f.convertToDouble());
      } else if (dense.isSplat()) {
        b.constantInts.push_back(dense.getSplatValue<APInt>().getSExtValue());
      } else {
        for (APInt i : dense.getValues<APInt>())
          b.constantInts.push_back(i.getSExtValue());
      }
      continue;
    }
    if (!isa_and_nonnull<LLMDialect>(op.getDialect()))
      return op.emitError() << "the runtime cannot run '" << op.getName()
                            << "'; a plan holds only llm ops";
    llmf::PlanStep step;
    step.op = op.getName().stripDialect().str();
    step.loc = locString(op.getLoc());
    const llmf::OpSchema *schema = llmf::findOpSchema(step.op);
    if (!schema)
      return op.emitError() << "the runtime has no kernel for '" << op.getName() << "'";
    if (failed(readAttrs(&op, *schema, step.attrs)))
      return failure();
    for (Value v : op.getOperands())
      step.inputs.push_back(ids.lookup(v));
    for (Value r : op.getResults()) {
      FailureOr<int64_t> id = addBuffer(r, op.getLoc(), "");
      if (failed(id))
        return failure();
      step.outputs.push_back(*id);
    }
    out.steps.push_back(std::move(step));
  }
  return out;
}

} // namespace

FailureOr<llmf::Plan> translateModuleToPlan(ModuleOp module, StringRef source) {
  llmf::Plan plan;
  plan.source = source.str();
  plan.worldSize = LLMDialect::getWorldSize(module);
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (fn.isExternal())
      continue;
    FailureOr<llmf::PlanFunction> f = translateFunction(fn);
    if (failed(f))
      return failure();
    plan.functions.push_back(std::move(*f));
  }
  if (plan.functions.empty())
    return module.emitError() << "the module has no function to run";
  try {
    llmf::validatePlan(plan);
  } catch (const llmf::Error &e) {
    return module.emitError() << "the translated plan is invalid: " << e.what();
  }
  return plan;
}

void registerLLMToPlanTranslation() {
  TranslateFromMLIRRegistration registration(
      "llm-to-plan", "translate an llm module to an executable plan (JSON)",
      [](Operation *op, raw_ostream &os) -> LogicalResult {
        auto module = dyn_cast<ModuleOp>(op);
        if (!module)
          return op->emitError() << "expected a builtin.module";
        std::string source = locString(module.getLoc());
        source = source.substr(0, source.find(':'));
        FailureOr<llmf::Plan> plan = translateModuleToPlan(module, source);
        if (failed(plan))
          return failure();
        os << llmf::writePlanJson(*plan);
        return success();
      },
      [](DialectRegistry &registry) {
        registry.insert<LLMDialect, func::FuncDialect>();
      });
}

} // namespace mlir::llm
