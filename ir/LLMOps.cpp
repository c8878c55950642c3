//===- LLMOps.cpp - verifiers and hooks of the llm ops --------------------===//
//
// The verifiers enforce the rules shared/spec/llm-dialect.md implies, with a
// message that names the operand and the numbers that disagree. Dynamic dims
// (`?`, the token count) are compatible with anything; a rule that needs a
// static size says so.
//
//===----------------------------------------------------------------------===//

#include "ir/LLMOps.h"

#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::llm;

//===----------------------------------------------------------------------===//
// Shared verification helpers
//===----------------------------------------------------------------------===//

namespace {

bool isDyn(int64_t d) { return ShapedType::isDynamic(d); }

/// Two dims agree unless both are static and differ.
bool dimsCompatible(int64_t a, int64_t b) {
  return isDyn(a) || isDyn(b) || a == b;
}

bool shapesCompatible(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  if (a.size() != b.size())
    return false;
  for (auto [x, y] : llvm::zip_equal(a, b))
    if (!dimsCompatible(x, y))
      return false;
  return true;
}

RankedTensorType tensorOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// `actual` must have shape `shape` (dynamic dims compatible) and element
/// type `elt`.
LogicalResult expectShapeAndElt(Operation *op, StringRef what,
                                RankedTensorType actual,
                                ArrayRef<int64_t> shape, Type elt) {
  if (actual.getElementType() != elt)
    return op->emitOpError() << "expects " << what << " to have element type "
                             << elt << ", got " << actual.getElementType();
  if (!shapesCompatible(actual.getShape(), shape)) {
    auto expected = RankedTensorType::get(shape, elt);
    return op->emitOpError() << "expects " << what << " of shape "
                             << expected << ", got " << actual;
  }
  return success();
}

/// epsilon >= 0 and finite; weight_bias finite.
LogicalResult verifyNormAttrs(Operation *op, float epsilon, float weightBias) {
  if (!std::isfinite(epsilon) || epsilon < 0.0f)
    return op->emitOpError()
           << "expects epsilon to be finite and non-negative, got " << epsilon;
  if (!std::isfinite(weightBias))
    return op->emitOpError() << "expects weight_bias to be finite, got "
                             << weightBias;
  return success();
}

/// x has rank >= 1 and w is the rank-1 weight [D] of its last dim.
LogicalResult verifyNormWeight(Operation *op, StringRef xName,
                               RankedTensorType x, StringRef wName,
                               RankedTensorType w) {
  if (x.getRank() < 1)
    return op->emitOpError() << "expects " << xName
                             << " to have rank >= 1 (normalized over its last "
                                "dim), got a rank-0 tensor";
  if (w.getRank() != 1)
    return op->emitOpError() << "expects " << wName
                             << " to be a rank-1 tensor [D], got " << w;
  int64_t d = x.getShape().back();
  if (!dimsCompatible(w.getDimSize(0), d))
    return op->emitOpError() << "expects " << wName << " of size " << d
                             << " (the last dim of " << xName << "), got "
                             << w.getDimSize(0);
  return success();
}

/// Shared checks of the RMSNorm-family ops: weight shape and attributes.
template <typename OpTy>
LogicalResult verifyNorm(OpTy op, Value x, Value w, StringRef xName = "x",
                         StringRef wName = "weight w") {
  if (failed(verifyNormAttrs(op, op.getEpsilonValue(),
                             op.getWeightBias().convertToFloat())))
    return failure();
  return verifyNormWeight(op, xName, tensorOf(x), wName, tensorOf(w));
}

/// Shared checks of grouped top-k routing on [T, E] inputs.
template <typename OpTy>
LogicalResult verifyRouting(OpTy op, RankedTensorType input) {
  if (input.getRank() != 2)
    return op.emitOpError() << "expects routing inputs of rank 2 [T, E], got "
                            << input;
  int64_t numTokens = input.getDimSize(0), numExperts = input.getDimSize(1);
  if (isDyn(numExperts))
    return op.emitOpError()
           << "expects a static expert count E (the last dim), got " << input;
  int64_t nGroup = op.getNGroup(), topkGroup = op.getTopkGroup(),
          topk = op.getTopk();
  if (nGroup < 1)
    return op.emitOpError() << "expects n_group >= 1, got " << nGroup;
  if (numExperts % nGroup != 0)
    return op.emitOpError() << "expects the expert count " << numExperts
                            << " to be divisible by n_group " << nGroup;
  if (topkGroup < 1 || topkGroup > nGroup)
    return op.emitOpError() << "expects 1 <= topk_group <= n_group ("
                            << nGroup << "), got " << topkGroup;
  int64_t kept = topkGroup * (numExperts / nGroup);
  if (topk < 1 || topk > kept)
    return op.emitOpError() << "expects 1 <= topk <= " << kept
                            << " (the experts in the kept groups), got "
                            << topk;
  float scale = op.getRoutedScalingFactor().convertToFloat();
  if (!std::isfinite(scale))
    return op.emitOpError()
           << "expects routed_scaling_factor to be finite, got " << scale;
  Builder b(op.getContext());
  SmallVector<int64_t> outShape{numTokens, topk};
  if (failed(expectShapeAndElt(op, "weights", tensorOf(op.getWeights()),
                               outShape, b.getF32Type())) ||
      failed(expectShapeAndElt(op, "ids", tensorOf(op.getIds()), outShape,
                               b.getI32Type())))
    return failure();
  return success();
}

/// fp8ScaleShape with the overflow as an error of `op`.
LogicalResult groupScaleShape(Operation *op, ArrayRef<int64_t> lead, int64_t groups,
                              bool colMajor, SmallVectorImpl<int64_t> &shape) {
  FailureOr<SmallVector<int64_t>> s = fp8ScaleShape(lead, groups, colMajor);
  if (failed(s))
    return op->emitOpError() << "has too many tokens for column-major scales";
  shape.assign(s->begin(), s->end());
  return success();
}

/// Shared checks of per-group FP8 quantization of `x` into q [shape of x]
/// and scale [..., D / group_size] (or column-major, groupScaleShape).
LogicalResult verifyGroupQuant(Operation *op, RankedTensorType x,
                               int64_t groupSize, RankedTensorType q,
                               RankedTensorType scale, bool colMajor) {
  if (x.getRank() < 1)
    return op->emitOpError() << "expects x to have rank >= 1, got " << x;
  if (groupSize < 1)
    return op->emitOpError() << "expects group_size >= 1, got " << groupSize;
  int64_t d = x.getShape().back();
  if (isDyn(d))
    return op->emitOpError()
           << "expects a static last dim to quantize in groups, got " << x;
  if (d % groupSize != 0)
    return op->emitOpError() << "expects group_size " << groupSize
                             << " to divide the last dim " << d;
  Builder b(op->getContext());
  if (failed(expectShapeAndElt(op, "q", q, x.getShape(),
                               b.getType<Float8E4M3FNType>())))
    return failure();
  SmallVector<int64_t> scaleShape;
  if (failed(groupScaleShape(op, x.getShape().drop_back(), d / groupSize, colMajor, scaleShape)))
    return failure();
  return expectShapeAndElt(op, "scale", scale, scaleShape, b.getF32Type());
}

} // namespace

FailureOr<SmallVector<int64_t>> mlir::llm::fp8ScaleShape(ArrayRef<int64_t> lead,
                                                         int64_t groups, bool colMajor) {
  SmallVector<int64_t> shape(lead);
  shape.push_back(groups);
  if (!colMajor)
    return shape;
  int64_t tokens = 1;
  for (int64_t d : lead) {
    if (isDyn(d)) {
      tokens = ShapedType::kDynamic;
      break;
    }
    if (llvm::MulOverflow(tokens, d, tokens) || tokens > INT64_MAX - 3)
      return failure();
  }
  return SmallVector<int64_t>{groups, isDyn(tokens) ? tokens : (tokens + 3) / 4 * 4};
}

TensorSize mlir::llm::staticTensorSize(RankedTensorType type) {
  int64_t n = 1, bytes = 0;
  for (int64_t d : type.getShape())
    if (!ShapedType::isDynamic(d) && llvm::MulOverflow(n, d, n))
      return TensorSize::TooManyElements;
  int64_t elementBytes = std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
  if (llvm::MulOverflow(n, elementBytes, bytes))
    return TensorSize::TooManyBytes;
  return TensorSize::Fits;
}

LogicalResult mlir::llm::verifyTensorSizeFits(Operation *op, Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return success();
  switch (staticTensorSize(tensor)) {
  case TensorSize::Fits:
    return success();
  case TensorSize::TooManyElements:
    return op->emitOpError() << "has a tensor " << type
                             << " with more elements than fit in 64 bits";
  case TensorSize::TooManyBytes:
    return op->emitOpError() << "has a tensor " << type << " larger than 2^63 bytes";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

//===----------------------------------------------------------------------===//
// Folders and canonicalizations of the identities (so -canonicalize and the
// cleanup pass remove them)
//===----------------------------------------------------------------------===//

OpFoldResult CastOp::fold(FoldAdaptor) {
  return getX().getType() == getType() ? getX() : Value();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getX().getType() == getType())
    return getX();
  // reshape(reshape(x)) reads x: a reshape depends only on its input's
  // elements in row-major order.
  if (auto inner = getX().getDefiningOp<ReshapeOp>()) {
    getXMutable().assign(inner.getX());
    return getResult();
  }
  return {};
}

LogicalResult AllReduceOp::canonicalize(AllReduceOp op, PatternRewriter &rewriter) {
  if (LLMDialect::getWorldSize(op) != 1)
    return failure();
  rewriter.replaceOp(op, op.getX());
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise and layout ops
//===----------------------------------------------------------------------===//

/// Broadcast like NumPy: the result shape is the broadcast of both shapes.
static LogicalResult verifyBroadcastBinary(Operation *op) {
  auto a = tensorOf(op->getOperand(0)), b = tensorOf(op->getOperand(1));
  auto out = tensorOf(op->getResult(0));
  SmallVector<int64_t> shape;
  if (!mlir::OpTrait::util::getBroadcastedShape(a.getShape(), b.getShape(), shape))
    return op->emitOpError() << "operands are not broadcast-compatible: " << a
                             << " and " << b;
  if (!shapesCompatible(out.getShape(), shape))
    return op->emitOpError()
           << "expects the result to have the broadcast shape "
           << RankedTensorType::get(shape, a.getElementType()) << ", got "
           << out;
  return success();
}

LogicalResult AddOp::verify() { return verifyBroadcastBinary(*this); }
LogicalResult SubOp::verify() { return verifyBroadcastBinary(*this); }
LogicalResult MulOp::verify() { return verifyBroadcastBinary(*this); }
LogicalResult DivOp::verify() { return verifyBroadcastBinary(*this); }
LogicalResult EqOp::verify() { return verifyBroadcastBinary(*this); }
LogicalResult NeOp::verify() { return verifyBroadcastBinary(*this); }

LogicalResult SelectOp::verify() {
  auto c = tensorOf(getCond()), a = tensorOf(getA()), b = tensorOf(getB());
  if (a.getElementType() != b.getElementType() ||
      a.getElementType() != tensorOf(getOutput()).getElementType())
    return emitOpError() << "expects a, b and the result to have one element type, got "
                         << a << ", " << b << " and " << getOutput().getType();
  SmallVector<int64_t> ab, shape;
  if (!mlir::OpTrait::util::getBroadcastedShape(a.getShape(), b.getShape(), ab) ||
      !mlir::OpTrait::util::getBroadcastedShape(c.getShape(), ab, shape))
    return emitOpError() << "operands are not broadcast-compatible: " << c << ", " << a
                         << " and " << b;
  return expectShapeAndElt(*this, "result", tensorOf(getOutput()), shape,
                           a.getElementType());
}

LogicalResult BroadcastOp::verify() {
  auto in = tensorOf(getX()), out = tensorOf(getOutput());
  if (in.getRank() > out.getRank())
    return emitOpError() << "expects a result of rank >= " << in.getRank() << ", got " << out;
  int64_t lead = out.getRank() - in.getRank();
  for (int64_t i = 0; i < in.getRank(); ++i) {
    int64_t d = in.getDimSize(i), r = out.getDimSize(lead + i);
    if (d == 1 || d == r)
      continue;
    return emitOpError() << "cannot broadcast " << in << " to " << out << ": dim " << i
                         << " is " << (isDyn(d) ? std::string("?") : std::to_string(d));
  }
  for (int64_t i = 0; i < out.getRank(); ++i)
    if (isDyn(out.getDimSize(i)) && (i < lead || in.getDimSize(i - lead) == 1))
      return emitOpError() << "expects every dynamic result dim to be one of x's, got "
                           << in << " to " << out;
  return success();
}

LogicalResult ScatterOp::verify() {
  auto x = tensorOf(getX()), idx = tensorOf(getIndices());
  if (x.getRank() < 1 || x.getRank() != idx.getRank())
    return emitOpError() << "expects x and indices of one rank >= 1, got " << x << " and "
                         << idx;
  if (!shapesCompatible(x.getShape().drop_back(), idx.getShape().drop_back()))
    return emitOpError() << "expects x and indices to agree on every dim but the last, got "
                         << x << " and " << idx;
  if (!std::isfinite(getValue().convertToFloat()) && !isa<FloatType>(x.getElementType()))
    return emitOpError() << "expects a finite value for an integer tensor";
  return expectShapeAndElt(*this, "result", tensorOf(getOutput()), x.getShape(),
                           x.getElementType());
}

LogicalResult SoftmaxOp::verify() {
  int64_t rank = tensorOf(getX()).getRank(), dim = getDim();
  if (rank == 0 || dim < -rank || dim >= rank)
    return emitOpError() << "expects dim in [" << -rank << ", " << rank << "), got " << dim;
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto in = tensorOf(getX()), out = tensorOf(getOutput());
  if (in.getElementType() != out.getElementType())
    return emitOpError() << "cannot change the element type ("
                         << in.getElementType() << " to "
                         << out.getElementType() << "); use llm.cast";
  auto staticProduct = [](RankedTensorType t) {
    int64_t n = 1;
    for (int64_t d : t.getShape())
      if (!isDyn(d))
        n *= d;
    return n;
  };
  int64_t inN = staticProduct(in), outN = staticProduct(out);
  if (in.hasStaticShape() && out.hasStaticShape() && inN != outN)
    return emitOpError() << "expects equal element counts, got " << inN
                         << " (" << in << ") and " << outN << " (" << out
                         << ")";
  // One side static: the dynamic side's static dims must divide it.
  if (in.hasStaticShape() && !out.hasStaticShape() && outN != 0 &&
      inN % outN != 0)
    return emitOpError() << "cannot reshape " << inN << " elements (" << in
                         << ") to " << out;
  if (out.hasStaticShape() && !in.hasStaticShape() && inN != 0 &&
      outN % inN != 0)
    return emitOpError() << "cannot reshape " << in << " to " << outN
                         << " elements (" << out << ")";
  return success();
}

LogicalResult TransposeOp::verify() {
  auto in = tensorOf(getX()), out = tensorOf(getOutput());
  ArrayRef<int64_t> perm = getPermutation();
  if (static_cast<int64_t>(perm.size()) != in.getRank())
    return emitOpError() << "expects a permutation of " << in.getRank() << " dims, got "
                         << perm.size();
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= in.getRank() || seen[p])
      return emitOpError() << "expects a permutation of [0, " << in.getRank() << "), got "
                           << p << " out of range or twice";
    seen[p] = true;
    shape.push_back(in.getDimSize(p));
  }
  return expectShapeAndElt(*this, "result", out, shape, in.getElementType());
}

LogicalResult SliceOp::verify() {
  auto in = tensorOf(getX()), out = tensorOf(getOutput());
  int64_t dim = static_cast<int64_t>(getDim()), start = static_cast<int64_t>(getStart()),
          end = static_cast<int64_t>(getEnd());
  if (dim < 0 || dim >= in.getRank())
    return emitOpError() << "expects dim in [0, " << in.getRank() << "), got " << dim;
  int64_t extent = in.getDimSize(dim);
  if (start < 0 || end < start || (!isDyn(extent) && end > extent))
    return emitOpError() << "expects 0 <= start <= end <= " << extent << ", got [" << start
                         << ", " << end << ")";
  SmallVector<int64_t> shape(in.getShape());
  shape[dim] = end - start;
  return expectShapeAndElt(*this, "result", out, shape, in.getElementType());
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "expects at least one input";
  auto first = tensorOf(getInputs().front());
  int64_t dim = static_cast<int64_t>(getDim()), rank = first.getRank();
  if (dim < 0 || dim >= rank)
    return emitOpError() << "expects dim in [0, " << rank << "), got " << dim;
  SmallVector<int64_t> shape(first.getShape());
  shape[dim] = 0;
  for (Value v : getInputs()) {
    auto t = tensorOf(v);
    if (t.getRank() != rank || t.getElementType() != first.getElementType())
      return emitOpError() << "expects inputs of one rank and element type, got " << first
                           << " and " << t;
    for (int64_t d = 0; d < rank; ++d)
      if (d != dim && !dimsCompatible(t.getDimSize(d), first.getDimSize(d)))
        return emitOpError() << "expects inputs to agree on every dim but " << dim << ", got "
                             << first << " and " << t;
    if (isDyn(t.getDimSize(dim)) || isDyn(shape[dim]))
      shape[dim] = ShapedType::kDynamic;
    else if (llvm::AddOverflow(shape[dim], t.getDimSize(dim), shape[dim]))
      return emitOpError() << "expects the concatenated dim to fit in 64 bits";
  }
  return expectShapeAndElt(*this, "result", tensorOf(getOutput()), shape,
                           first.getElementType());
}

LogicalResult PowOp::verify() {
  float e = getExponent().convertToFloat();
  if (!std::isfinite(e))
    return emitOpError() << "expects a finite exponent, got " << e;
  return success();
}

/// mean and sum: `dim` in range, the result x's shape with `dim` removed
/// (or 1 when `keepdim`).
template <typename ReduceOp> static LogicalResult verifyReduction(ReduceOp op) {
  auto in = tensorOf(op.getX()), out = tensorOf(op.getOutput());
  int64_t rank = in.getRank(), dim = op.getDim();
  if (dim < -rank || dim >= rank || rank == 0)
    return op.emitOpError() << "expects dim in [" << -rank << ", " << rank << "), got " << dim;
  if (dim < 0)
    dim += rank;
  SmallVector<int64_t> shape(in.getShape());
  if (op.getKeepdim())
    shape[dim] = 1;
  else
    shape.erase(shape.begin() + dim);
  return expectShapeAndElt(op, "result", out, shape, in.getElementType());
}

LogicalResult MeanOp::verify() { return verifyReduction(*this); }
LogicalResult SumOp::verify() { return verifyReduction(*this); }

LogicalResult MatmulFP8Op::verify() {
  auto x = tensorOf(getX()), w = tensorOf(getW()), xs = tensorOf(getXScale()),
       ws = tensorOf(getWScale()), y = tensorOf(getY());
  if (x.getRank() < 1 || w.getRank() != 2)
    return emitOpError() << "expects x [..., K] and w [N, K], got " << x << " and " << w;
  int64_t k = x.getShape().back(), n = w.getDimSize(0);
  if (isDyn(k) || isDyn(n) || w.getDimSize(1) != k)
    return emitOpError() << "expects a static K shared by x and w [N, K], got " << x << " and "
                         << w;
  SmallVector<int64_t> yShape(x.getShape());
  yShape.back() = n;
  if (failed(expectShapeAndElt(*this, "y", y, yShape, y.getElementType())))
    return failure();
  auto lead = x.getShape().drop_back();
  auto rowScale = [&](int64_t cols) {
    return xs.getRank() == x.getRank() && shapesCompatible(xs.getShape().drop_back(), lead) &&
           xs.getShape().back() == cols;
  };
  int64_t kb = (k + 127) / 128, nb = (n + 127) / 128;
  bool blockWeights = ws.getRank() == 2 && ws.getDimSize(0) == nb && ws.getDimSize(1) == kb;
  if (getXScaleColMajor()) {
    SmallVector<int64_t> colShape;
    if (failed(groupScaleShape(*this, lead, kb, true, colShape)))
      return failure();
    if (!blockWeights || xs.getRank() != 2 || !shapesCompatible(xs.getShape(), colShape))
      return emitOpError() << "expects with x_scale_col_major 128-block scales: x_scale ["
                           << kb << ", T rounded up to 4] and w_scale [" << nb << ", " << kb
                           << "], got " << xs << " and " << ws;
    return success();
  }
  bool perTensor = xs.getRank() == 0 && ws.getRank() == 0;
  bool perToken = rowScale(1) && ws.getRank() == 1 && ws.getDimSize(0) == n;
  bool block = rowScale(kb) && blockWeights;
  if (!perTensor && !perToken && !block)
    return emitOpError() << "expects per-tensor scales (rank 0, rank 0), per-token and channel "
                            "([..., 1], [N]) or 128-blocks ([..., ceil(K/128)], "
                            "[ceil(N/128), ceil(K/128)]), got "
                         << xs << " and " << ws;
  return success();
}

LogicalResult SplitOp::verify() {
  auto in = tensorOf(getX());
  int64_t dim = getDim();
  if (dim < 0 || dim >= in.getRank())
    return emitOpError() << "expects dim in [0, " << in.getRank()
                         << "), got " << dim;
  ArrayRef<int64_t> sizes = getSizes();
  if (sizes.empty())
    return emitOpError() << "expects at least one size";
  if (sizes.size() != getOutputs().size())
    return emitOpError() << "expects one result per size: " << sizes.size()
                         << " sizes but " << getOutputs().size()
                         << " results";
  int64_t sum = 0;
  for (int64_t s : sizes) {
    if (s < 0)
      return emitOpError() << "expects non-negative sizes, got " << s;
    if (llvm::AddOverflow(sum, s, sum))
      return emitOpError() << "expects sizes whose sum fits in 64 bits";
  }
  int64_t extent = in.getDimSize(dim);
  if (!isDyn(extent) && sum != extent)
    return emitOpError() << "expects sizes to sum to dim " << dim
                         << " of x (" << extent << "), got " << sum;
  for (auto [i, res] : llvm::enumerate(getOutputs())) {
    SmallVector<int64_t> shape(in.getShape());
    shape[dim] = sizes[i];
    if (failed(expectShapeAndElt(*this, ("result #" + Twine(i)).str(),
                                 tensorOf(res), shape, in.getElementType())))
      return failure();
  }
  return success();
}

LogicalResult MatmulOp::verify() {
  auto x = tensorOf(getX()), w = tensorOf(getW());
  if (x.getRank() < 1)
    return emitOpError() << "expects x of rank >= 1, got " << x;
  if (w.getRank() != 2)
    return emitOpError() << "expects w of rank 2, got " << w;
  if (x.getElementType() != w.getElementType())
    return emitOpError() << "expects x and w of one element type, got "
                         << x.getElementType() << " and "
                         << w.getElementType();
  bool transposed = getTransposeW();
  int64_t k = transposed ? w.getDimSize(1) : w.getDimSize(0);
  int64_t n = transposed ? w.getDimSize(0) : w.getDimSize(1);
  if (!dimsCompatible(x.getShape().back(), k))
    return emitOpError() << "contraction dims disagree: x has K = "
                         << x.getShape().back() << ", w"
                         << (transposed ? " [N, K]" : " [K, N]") << " has K = "
                         << k;
  SmallVector<int64_t> shape(x.getShape());
  shape.back() = n;
  return expectShapeAndElt(*this, "result", tensorOf(getOutput()), shape,
                           x.getElementType());
}

//===----------------------------------------------------------------------===//
// Norms
//===----------------------------------------------------------------------===//

LogicalResult RMSNormOp::verify() { return verifyNorm(*this, getX(), getW()); }
LogicalResult FusedAddRMSNormOp::verify() { return verifyNorm(*this, getX(), getW()); }
LogicalResult RMSNormGatedOp::verify() { return verifyNorm(*this, getX(), getW()); }

//===----------------------------------------------------------------------===//
// Quantization, top-k, gather, routing
//===----------------------------------------------------------------------===//

LogicalResult QuantFP8Op::verify() {
  return verifyGroupQuant(*this, tensorOf(getX()), getGroupSize(),
                          tensorOf(getQ()), tensorOf(getScale()), getScaleColMajor());
}

LogicalResult QuantFP8StaticOp::verify() {
  auto scale = tensorOf(getScale());
  if (scale.getRank() != 0)
    return emitOpError() << "expects a rank-0 f32 scale, got " << scale;
  auto x = tensorOf(getX());
  return expectShapeAndElt(*this, "q", tensorOf(getQ()), x.getShape(),
                           Builder(getContext()).getType<Float8E4M3FNType>());
}

LogicalResult TopKOp::verify() {
  auto x = tensorOf(getX());
  if (x.getRank() < 1)
    return emitOpError() << "expects x of rank >= 1, got " << x;
  int64_t k = getK(), d = x.getShape().back();
  if (k < 1)
    return emitOpError() << "expects k >= 1, got " << k;
  if (!isDyn(d) && k > d)
    return emitOpError() << "expects k <= the last dim (" << d << "), got "
                         << k;
  SmallVector<int64_t> shape(x.getShape());
  shape.back() = k;
  if (failed(expectShapeAndElt(*this, "values", tensorOf(getValues()), shape,
                               x.getElementType())) ||
      failed(expectShapeAndElt(*this, "indices", tensorOf(getIndices()),
                               shape, Builder(getContext()).getI32Type())))
    return failure();
  return success();
}

LogicalResult GatherOp::verify() {
  auto x = tensorOf(getX()), idx = tensorOf(getIndices());
  if (x.getRank() < 1 || x.getRank() != idx.getRank())
    return emitOpError() << "expects x and indices of one rank >= 1, got "
                         << x << " and " << idx;
  if (!shapesCompatible(x.getShape().drop_back(), idx.getShape().drop_back()))
    return emitOpError() << "expects x and indices to agree on every dim but "
                            "the last, got "
                         << x << " and " << idx;
  return expectShapeAndElt(*this, "y", tensorOf(getY()), idx.getShape(),
                           x.getElementType());
}

LogicalResult GroupedTopKOp::verify() {
  return verifyRouting(*this, tensorOf(getScores()));
}

//===----------------------------------------------------------------------===//
// Fused ops
//===----------------------------------------------------------------------===//

LogicalResult FusedAllReduceRMSNormOp::verify() {
  return verifyNorm(*this, getX(), getW());
}

LogicalResult FusedAllReduceAddRMSNormOp::verify() {
  return verifyNorm(*this, getX(), getW());
}

/// The FP8 chain ops: `x` [..., D] (the normed or activated value's
/// shape); q has it in f8E4M3FN; a dynamic `scale` result is f32
/// [..., D / group_size] with group_size dividing D; a static `scale` operand
/// is a rank-0 f32; `passthrough` (residual_out / all_reduce_out) has x's type.
static LogicalResult verifyQuantChain(Operation *op, Value x, Value q, Value scaleOut,
                                      std::optional<int64_t> groupSize, Value scaleIn,
                                      Value passthrough) {
  auto xt = tensorOf(x);
  if (xt.getRank() < 1)
    return op->emitOpError() << "expects x of rank >= 1, got " << xt;
  if (scaleIn && tensorOf(scaleIn).getRank() != 0)
    return op->emitOpError() << "expects a rank-0 f32 scale, got " << scaleIn.getType();
  auto colMajor = op->getAttrOfType<BoolAttr>("scale_col_major");
  if (groupSize && failed(verifyGroupQuant(op, xt, *groupSize, tensorOf(q), tensorOf(scaleOut),
                                           colMajor && colMajor.getValue())))
    return failure();
  if (!groupSize &&
      failed(expectShapeAndElt(op, "q", tensorOf(q), xt.getShape(),
                               Builder(op->getContext()).getType<Float8E4M3FNType>())))
    return failure();
  if (passthrough && passthrough.getType() != x.getType())
    return op->emitOpError() << "expects " << x.getType() << " for the pass-through result, got "
                             << passthrough.getType();
  return success();
}

/// The norm + quant ops: x and a residual of one type, the norm's rules,
/// then the quantization's.
template <typename OpTy>
static LogicalResult verifyNormQuant(OpTy op, Value residual, Value scaleOut,
                                     std::optional<int64_t> groupSize, Value scaleIn,
                                     Value passthrough) {
  if (residual && op.getX().getType() != residual.getType())
    return op.emitOpError() << "expects x and residual of one type";
  if (failed(verifyNorm(op, op.getX(), op.getW())))
    return failure();
  return verifyQuantChain(op, op.getX(), op.getQ(), scaleOut, groupSize, scaleIn, passthrough);
}

LogicalResult FusedRMSNormQuantFP8Op::verify() {
  return verifyNormQuant(*this, nullptr, getScale(), getGroupSize(), nullptr, nullptr);
}
LogicalResult FusedRMSNormQuantFP8StaticOp::verify() {
  return verifyNormQuant(*this, nullptr, nullptr, std::nullopt, getScale(), nullptr);
}
LogicalResult FusedAddRMSNormQuantFP8Op::verify() {
  return verifyNormQuant(*this, getResidual(), getScale(), getGroupSize(), nullptr,
                         getResidualOut());
}
LogicalResult FusedAddRMSNormQuantFP8StaticOp::verify() {
  return verifyNormQuant(*this, getResidual(), nullptr, std::nullopt, getScale(),
                         getResidualOut());
}
LogicalResult FusedAllReduceRMSNormQuantFP8Op::verify() {
  return verifyNormQuant(*this, nullptr, getScale(), getGroupSize(), nullptr,
                         getAllReduceOut());
}
LogicalResult FusedAllReduceRMSNormQuantFP8StaticOp::verify() {
  return verifyNormQuant(*this, nullptr, nullptr, std::nullopt, getScale(), getAllReduceOut());
}
LogicalResult FusedAllReduceAddRMSNormQuantFP8Op::verify() {
  return verifyNormQuant(*this, getResidual(), getScale(), getGroupSize(), nullptr,
                         getResidualOut());
}
LogicalResult FusedAllReduceAddRMSNormQuantFP8StaticOp::verify() {
  return verifyNormQuant(*this, getResidual(), nullptr, std::nullopt, getScale(),
                         getResidualOut());
}
LogicalResult FusedSiluMulQuantFP8Op::verify() {
  return verifyQuantChain(*this, getGate(), getQ(), getScale(), getGroupSize(), nullptr,
                          nullptr);
}
LogicalResult FusedSiluMulQuantFP8StaticOp::verify() {
  return verifyQuantChain(*this, getGate(), getQ(), nullptr, std::nullopt, getScale(), nullptr);
}

LogicalResult FusedRMSNormGatedQuantFP8Op::verify() {
  auto x = tensorOf(getX());
  if (x.getRank() != 2)
    return emitOpError() << "expects x of rank 2 [N*H, D], got " << x;
  if (failed(verifyNorm(*this, getX(), getW())))
    return failure();
  int64_t rows = x.getDimSize(0), d = x.getDimSize(1);
  int64_t groupSize = getGroupSize();
  if (isDyn(d) || d < 1)
    return emitOpError() << "expects a static head dim D >= 1, got " << x;
  if (groupSize < 1 || d % groupSize != 0)
    return emitOpError() << "expects group_size " << groupSize
                         << " to divide the head dim " << d
                         << " (a group never straddles two heads)";
  // q is [N, H*D], or (extension) any [..., H*D] whose leading dims hold
  // the N tokens (an imported layer keeps its batch dim: [1, T, H*D]).
  auto q = tensorOf(getQ());
  int64_t width = q.getRank() >= 2 ? q.getShape().back() : ShapedType::kDynamic;
  if (q.getRank() < 2 || isDyn(width) || width < d || width % d != 0)
    return emitOpError() << "expects q of shape [..., H*" << d
                         << "] with a static last dim, got " << q;
  int64_t tokens = 1;
  for (int64_t dim : q.getShape().drop_back())
    tokens = isDyn(dim) || isDyn(tokens) ? ShapedType::kDynamic : tokens * dim;
  int64_t heads = width / d;
  if (!isDyn(rows) && !isDyn(tokens) && rows != tokens * heads)
    return emitOpError() << "expects x to have N*H = " << tokens << "*"
                         << heads << " rows, got " << rows;
  if (!isDyn(rows) && isDyn(tokens) && rows % heads != 0)
    return emitOpError() << "x rows " << rows << " is not a multiple of H = "
                         << heads;
  Builder b(getContext());
  if (failed(expectShapeAndElt(*this, "q", q, q.getShape(),
                               b.getType<Float8E4M3FNType>())))
    return failure();
  SmallVector<int64_t> scaleShape;
  if (failed(groupScaleShape(*this, q.getShape().drop_back(), width / groupSize,
                             getScaleColMajor(), scaleShape)))
    return failure();
  return expectShapeAndElt(*this, "scale", tensorOf(getScale()), scaleShape,
                           b.getF32Type());
}

LogicalResult FusedMoERouterOp::verify() {
  auto logits = tensorOf(getLogits()), bias = tensorOf(getBias());
  if (logits.getRank() != 2)
    return emitOpError() << "expects logits of rank 2 [T, E], got " << logits;
  if (bias.getRank() != 1 ||
      !dimsCompatible(bias.getDimSize(0), logits.getDimSize(1)))
    return emitOpError() << "expects bias of shape [" << logits.getDimSize(1)
                         << "] (one per expert), got " << bias;
  return verifyRouting(*this, logits);
}

LogicalResult FusedQKRMSNormOp::verify() {
  if (failed(verifyNorm(*this, getQ(), getWq(), "q", "weight wq")))
    return failure();
  return verifyNormWeight(*this, "k", tensorOf(getK()), "weight wk",
                          tensorOf(getWk()));
}

#include "ir/LLMInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "ir/LLMOps.cpp.inc"
