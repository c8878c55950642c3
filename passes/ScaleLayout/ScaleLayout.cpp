//===- ScaleLayout.cpp - FP8 scale layout for the consumers ---------------===//
//
// A dynamic FP8 quantization writes its scales row-major (the contract) or
// column-major padded to 4 tokens (DeepGEMM's layout, which FlashInfer's
// and vLLM's block-FP8 GEMMs and cuBLASLt's 1x128 activation scales read).
// This pass gives each quantization the layout its consumers read: where
// every user of the scales is an FP8 linear in block mode (which reads
// either), producer and linears switch to the requested layout. A C++ pass,
// not PDLL: it rewrites a producer's result type together with all of its
// users, a rewrite over a use list that a pattern rooted at one op cannot
// state.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "ir/LLMOps.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMFP8SCALELAYOUT
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {

constexpr StringLiteral kColMajorAttr = "scale_col_major";

/// The ops that quantize dynamically: q is result 0, the scales result 1,
/// their layout the `scale_col_major` attribute.
bool isDynamicQuantProducer(Operation *op) {
  return isa<QuantFP8Op, FusedRMSNormQuantFP8Op, FusedAddRMSNormQuantFP8Op,
             FusedAllReduceRMSNormQuantFP8Op, FusedAllReduceAddRMSNormQuantFP8Op,
             FusedSiluMulQuantFP8Op, FusedRMSNormGatedQuantFP8Op>(op);
}

bool isColMajor(Operation *op) {
  auto a = op->getAttrOfType<BoolAttr>(kColMajorAttr);
  return a && a.getValue();
}

/// The scale type in `colMajor`'s layout, from q's shape (fp8ScaleShape).
/// Null when T overflows.
RankedTensorType scaleTypeFor(RankedTensorType q, int64_t groups, bool colMajor) {
  FailureOr<SmallVector<int64_t>> shape =
      fp8ScaleShape(q.getShape().drop_back(), groups, colMajor);
  if (failed(shape))
    return nullptr;
  return RankedTensorType::get(*shape, Float32Type::get(q.getContext()));
}

/// Every user reads the scales as the x_scale of an FP8 linear in block
/// mode (128x128 weight blocks: the one mode whose activation scales have a
/// layout).
bool onlyBlockLinearsRead(Value scale) {
  for (OpOperand &use : scale.getUses()) {
    auto mm = dyn_cast<MatmulFP8Op>(use.getOwner());
    if (!mm || use.getOperandNumber() != 1 || mm.getWScale() == scale ||
        cast<RankedTensorType>(mm.getWScale().getType()).getRank() != 2)
      return false;
  }
  return true;
}

struct LLMFP8ScaleLayoutPass
    : public mlir::llm::impl::LLMFP8ScaleLayoutBase<LLMFP8ScaleLayoutPass> {
  using LLMFP8ScaleLayoutBase::LLMFP8ScaleLayoutBase;

  void runOnOperation() override {
    bool toColMajor;
    if (layout == "col-major")
      toColMajor = true;
    else if (layout == "row-major")
      toColMajor = false;
    else {
      getOperation().emitError() << "llm-fp8-scale-layout: layout must be 'col-major' or "
                                    "'row-major', got '"
                                 << layout << "'";
      return signalPassFailure();
    }
    getOperation().walk([&](Operation *op) {
      if (!isDynamicQuantProducer(op) || isColMajor(op) == toColMajor)
        return;
      Value scale = op->getResult(1);
      if (scale.use_empty() || !onlyBlockLinearsRead(scale)) {
        ++numKept;
        return;
      }
      auto q = cast<RankedTensorType>(op->getResult(0).getType());
      auto old = cast<RankedTensorType>(scale.getType());
      int64_t groups = isColMajor(op) ? old.getDimSize(0) : old.getShape().back();
      RankedTensorType next = scaleTypeFor(q, groups, toColMajor);
      if (!next) {
        ++numKept;
        return;
      }
      // Producer and readers change together, so the module stays valid
      // after every step.
      op->setAttr(kColMajorAttr, BoolAttr::get(op->getContext(), toColMajor));
      scale.setType(next);
      for (Operation *user : scale.getUsers())
        user->setAttr("x_scale_col_major", BoolAttr::get(op->getContext(), toColMajor));
      ++numChanged;
    });
  }
};

} // namespace
