//===- FusionPass.h - the body every fusion family's pass shares -*- C++ -*-===//
//
// A family pass builds its PDLL pattern set once in initialize() and runs it
// through runFusionFamily(). The PDL and PDLInterp dialects are dependent
// dialects of every pass (Passes.td): without them the interpreted patterns
// never fire, silently.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_PASSES_FUSIONPASS_H
#define LLM_FUSION_PASSES_FUSIONPASS_H

#include "passes/FusionSupport.h"
#include "passes/Passes.h"

namespace mlir::llm {

/// `Derived` provides `static void populate(RewritePatternSet &)` and
/// `static FusionFamily family()`.
template <typename Derived, template <typename> class GeneratedBase>
class FusionPass : public GeneratedBase<Derived> {
public:
  using Base = GeneratedBase<Derived>;
  using Base::Base;

  template <typename OptionsT>
  FusionPass(const OptionsT &options, std::shared_ptr<FusionReport> report)
      : Base(options), report(std::move(report)) {}

  LogicalResult initialize(MLIRContext *context) override {
    RewritePatternSet set(context);
    Derived::populate(set);
    if (set.getPDLPatterns().getModule() == nullptr && set.getNativePatterns().empty())
      return emitError(UnknownLoc::get(context))
             << this->getArgument() << ": the pattern set failed to load";
    patterns = FrozenRewritePatternSet(std::move(set));
    return success();
  }

  void runOnOperation() override {
    FailureOr<FusionCounts> counts =
        runFusionFamily(this->getOperation(), patterns, Derived::family(),
                        this->emitRemarks, report.get());
    if (failed(counts))
      return this->signalPassFailure();
    this->numFused += counts->fused;
    this->numMissed += counts->missed;
  }

private:
  FrozenRewritePatternSet patterns;
  std::shared_ptr<FusionReport> report;
};

} // namespace mlir::llm

#endif // LLM_FUSION_PASSES_FUSIONPASS_H
