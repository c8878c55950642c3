//===- FusionSupport.cpp - what every fusion family shares ----------------===//

#include "passes/FusionSupport.h"

#include "ir/LLMOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

using namespace mlir;
using namespace mlir::llm;

Type mlir::llm::elementTypeOf(Value v) { return cast<ShapedType>(v.getType()).getElementType(); }

bool mlir::llm::onlyUsedBy(Value value, ArrayRef<Operation *> users) {
  return llvm::all_of(value.getUsers(),
                      [&](Operation *user) { return llvm::is_contained(users, user); });
}

/// `v` is available right before `point` (same block or an enclosing one).
static bool availableBefore(Value v, Operation *point) {
  Block *block = point->getBlock();
  if (auto arg = dyn_cast<BlockArgument>(v))
    return arg.getOwner() == block || arg.getOwner()->getParent()->isAncestor(block->getParent());
  Operation *def = v.getDefiningOp();
  if (def->getBlock() == block)
    return def->isBeforeInBlock(point);
  return def->getParentRegion()->isProperAncestor(block->getParent());
}

Operation *mlir::llm::fusedInsertionPoint(ArrayRef<Operation *> chain, ValueRange operands) {
  Operation *first = chain.front(), *root = chain.back();
  Block *block = root->getBlock();
  if (llvm::any_of(chain, [&](Operation *op) { return op->getBlock() != block; }))
    return nullptr;
  // A fused op cannot read a value the chain itself defines: that value
  // would become a result of the fused op, which would use itself.
  for (Value v : operands)
    if (llvm::is_contained(chain, v.getDefiningOp()))
      return nullptr;
  if (llvm::all_of(operands, [&](Value v) { return availableBefore(v, first); }))
    return first;
  // Before the root every operand is available (the chain reads them), but a
  // chain value used by an op between `first` and `root` would then be
  // defined too late. A user nested in a region counts where its ancestor in
  // this block stands.
  for (Operation *op : chain.drop_back())
    for (Operation *user : op->getUsers()) {
      if (llvm::is_contained(chain, user))
        continue;
      Operation *inBlock = block->findAncestorOpInBlock(*user);
      if (inBlock && inBlock != root && inBlock->isBeforeInBlock(root))
        return nullptr;
    }
  return root;
}

MissReason mlir::llm::checkNormInputWeightDTypeMatch(Value input, Value weight) {
  Type in = elementTypeOf(input), w = elementTypeOf(weight);
  if (in == w)
    return std::nullopt;
  std::string reason;
  llvm::raw_string_ostream os(reason);
  os << "norm input element type " << in << " differs from weight element type " << w
     << " (dtype-match check; a Gemma weight must be written as cast(w) + 1)";
  return reason;
}

namespace {
/// Counts the fused ops the rewrites create, by pattern, as they are
/// inserted (a fused op that existed before the pass, dead or alive, is not
/// this run's work), less any the same run erases again.
struct FusedOpCounter : RewriterBase::Listener {
  explicit FusedOpCounter(const FusionFamily &family) : family(family) {}

  void notifyOperationInserted(Operation *op, OpBuilder::InsertPoint previous) override {
    if (previous.isSet()) // moved, not created
      return;
    std::string name = family.fusedPatternName(op);
    if (name.empty())
      return;
    created[op] = name;
    ++counts[name];
  }
  void notifyOperationErased(Operation *op) override {
    auto it = created.find(op);
    if (it == created.end())
      return;
    --counts[it->second];
    created.erase(it);
  }

  const FusionFamily &family;
  llvm::DenseMap<Operation *, std::string> created;
  llvm::StringMap<int64_t> counts;
};
} // namespace

FailureOr<FusionCounts> mlir::llm::runFusionFamily(Operation *root,
                                                   const FrozenRewritePatternSet &patterns,
                                                   const FusionFamily &family, bool emitRemarks,
                                                   FusionReport *report) {
  FusedOpCounter counter(family);
  GreedyRewriteConfig config;
  config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
  config.setListener(&counter);
  if (failed(applyPatternsGreedily(root, patterns, config)))
    return root->emitError() << family.passName << ": pattern application did not converge";

  FusionCounts counts;
  for (const auto &entry : counter.counts) {
    int64_t made = entry.second;
    if (made <= 0)
      continue;
    counts.fused += made;
    if (report)
      report->addFused(family.passName, entry.first(), made);
  }

  SmallVector<NearMiss> misses;
  family.explainMisses(root, misses);
  for (const NearMiss &miss : misses) {
    ++counts.missed;
    if (report)
      report->addMiss(family.passName, miss.pattern, miss.reason, miss.anchor->getLoc());
    if (emitRemarks)
      miss.anchor->emitRemark() << "missed fusion " << miss.pattern << " (" << family.passName
                                << "): " << miss.reason;
  }
  return counts;
}

Location mlir::llm::fusedLoc(PatternRewriter &rewriter, ArrayRef<Operation *> ops) {
  SmallVector<Location> locs;
  for (Operation *op : ops)
    locs.push_back(op->getLoc());
  return rewriter.getFusedLoc(locs);
}

void mlir::llm::setFusedInsertionPoint(PatternRewriter &rewriter, ArrayRef<Operation *> chain,
                                       ValueRange operands) {
  Operation *point = fusedInsertionPoint(chain, operands);
  assert(point && "rewrite called on a chain its check rejected");
  rewriter.setInsertionPoint(point);
}

MissReason mlir::llm::checkPlacement(ArrayRef<Operation *> chain, ValueRange operands) {
  if (fusedInsertionPoint(chain, operands))
    return std::nullopt;
  for (Value v : operands)
    if (llvm::is_contained(chain, v.getDefiningOp()))
      return reason("a value the chain defines (", v.getDefiningOp()->getName(),
                    ") also feeds the fused op as another operand");
  return std::string("no point in the block dominates the fused op's "
                     "operands and precedes every user of the chain");
}

bool mlir::llm::isSameTypeAdd(Operation *add) {
  auto a = dyn_cast<AddOp>(add);
  return a && a.getA().getType() == a.getB().getType() &&
         a.getA().getType() == a.getOutput().getType();
}

bool mlir::llm::isWideningCastToF32(Operation *cast) {
  auto c = dyn_cast<CastOp>(cast);
  if (!c || !elementTypeOf(c.getOutput()).isF32())
    return false;
  Type src = elementTypeOf(c.getX());
  return src.isF32() || src.isBF16() || src.isF16();
}

/// `v` can be available before `point`: already, or through pure producers
/// in `point`'s block that can move up (memoized in `ok`).
static bool hoistable(Value v, Operation *point, ArrayRef<Operation *> chain,
                      llvm::DenseMap<Operation *, bool> &ok, int depth) {
  if (availableBefore(v, point))
    return true;
  Operation *def = v.getDefiningOp();
  if (!def || def->getBlock() != point->getBlock() || llvm::is_contained(chain, def) ||
      !isPure(def) || def->getNumRegions() != 0 || depth > 64)
    return false;
  auto [it, inserted] = ok.try_emplace(def, false);
  if (!inserted)
    return it->second;
  bool all = llvm::all_of(def->getOperands(), [&](Value operand) {
    return hoistable(operand, point, chain, ok, depth + 1);
  });
  ok[def] = all;
  return all;
}

bool mlir::llm::canHoistBefore(ValueRange values, Operation *point, ArrayRef<Operation *> chain) {
  llvm::DenseMap<Operation *, bool> ok;
  return llvm::all_of(values, [&](Value v) { return hoistable(v, point, chain, ok, 0); });
}

void mlir::llm::hoistDefinitionsBefore(PatternRewriter &rewriter, ValueRange values,
                                       Operation *point) {
  SmallVector<Value> later;
  for (Value v : values)
    if (!availableBefore(v, point))
      later.push_back(v);
  if (!later.empty()) {
    LogicalResult moved = moveValueDefinitions(rewriter, later, point);
    assert(succeeded(moved) && "canHoistBefore approved this move");
    (void)moved;
  }
}
