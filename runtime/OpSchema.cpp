//===- OpSchema.cpp - type rules of the spec's ops ----------------------===//

#include "runtime/OpSchema.h"

#include "runtime/Error.h"

#include <cmath>
#include <numeric>

namespace llmf {
namespace {

using Types = std::vector<TensorType>;

bool isFloatType(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16;
}

void expectFloat(const TensorType &t, const char *what) {
  if (!isFloatType(t.dtype))
    fail(what, " must be f32, f16 or bf16, got ", dtypeName(t.dtype));
}

void expectDType(const TensorType &t, DType d, const char *what) {
  if (t.dtype != d)
    fail(what, " must be ", dtypeName(d), ", got ", dtypeName(t.dtype));
}

void expectRank(const TensorType &t, size_t lo, const char *what) {
  if (t.shape.size() < lo)
    fail(what, " must have rank >= ", lo, ", got ", t.str());
}

void expectSameType(const TensorType &a, const TensorType &b, const char *an,
                    const char *bn) {
  bool ok = a.dtype == b.dtype && a.shape.size() == b.shape.size();
  for (size_t i = 0; ok && i < a.shape.size(); ++i)
    ok = dimsMatch(a.shape[i], b.shape[i]);
  if (!ok)
    fail(bn, " must have the type of ", an, " ", a.str(), ", got ", b.str());
}

/// w of a norm: shape [D] where D is x's last dim; any float type.
void expectNormWeight(const TensorType &x, const TensorType &w, const char *wn) {
  expectFloat(x, "x");
  expectRank(x, 1, "x");
  expectFloat(w, wn);
  if (w.shape.size() != 1 || !dimsMatch(w.shape[0], x.shape.back()))
    fail(wn, " must have shape [", x.shape.back(), "] (x's last dim), got ",
         shapeToString(w.shape));
}

/// The last dim, which per-row ops need static at load and concrete at run.
int64_t lastDim(const TensorType &t) { return t.shape.empty() ? 1 : t.shape.back(); }

Types inferCast(const Types &in, const OpAttrs &, const Types &declared) {
  if (declared.empty())
    fail("cast needs a declared result type");
  return {TensorType{declared[0].dtype, in[0].shape}};
}

Types inferBinary(const Types &in, const OpAttrs &, const Types &) {
  const TensorType &a = in[0], &b = in[1];
  if (a.dtype != b.dtype)
    fail("operands must have one element type, got ", dtypeName(a.dtype),
         " and ", dtypeName(b.dtype));
  if (a.dtype == DType::F8E4M3FN)
    fail("f8E4M3FN has no arithmetic; cast it first");
  size_t rank = std::max(a.shape.size(), b.shape.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.shape.size() ? 1 : a.shape[i - (rank - a.shape.size())];
    int64_t db = i < rank - b.shape.size() ? 1 : b.shape[i - (rank - b.shape.size())];
    if (da == 1)
      out[i] = db;
    else if (db == 1)
      out[i] = da;
    else if (da < 0)
      out[i] = db;
    else if (db < 0 || da == db)
      out[i] = da;
    else
      fail("shapes ", shapeToString(a.shape), " and ", shapeToString(b.shape),
           " do not broadcast");
  }
  return {TensorType{a.dtype, out}};
}

Types inferUnary(const Types &in, const OpAttrs &, const Types &) {
  expectFloat(in[0], "x");
  return {in[0]};
}

/// The dim an op reduces, in [0, rank).
int64_t reducedDim(const TensorType &x, int64_t dim) {
  int64_t rank = static_cast<int64_t>(x.shape.size());
  if (rank == 0 || dim < -rank || dim >= rank)
    fail("dim ", dim, " out of range for ", x.str());
  return dim < 0 ? dim + rank : dim;
}

Types inferMean(const Types &in, const OpAttrs &attrs, const Types &) {
  expectFloat(in[0], "x");
  int64_t dim = reducedDim(in[0], attrs.dim);
  TensorType out = in[0];
  if (attrs.keepdim)
    out.shape[dim] = 1;
  else
    out.shape.erase(out.shape.begin() + dim);
  return {out};
}

Types inferSoftmax(const Types &in, const OpAttrs &attrs, const Types &) {
  expectFloat(in[0], "x");
  reducedDim(in[0], attrs.dim);
  return {in[0]};
}

Types inferSame(const Types &in, const OpAttrs &, const Types &) {
  if (in[0].dtype == DType::F8E4M3FN)
    fail("f8E4M3FN has no arithmetic; cast it first");
  return {in[0]};
}

/// One dim of a NumPy broadcast (-1 is dynamic).
int64_t broadcastDim(int64_t a, int64_t b, const Shape &sa, const Shape &sb) {
  if (a == 1)
    return b;
  if (b == 1 || a == b || b < 0)
    return a;
  if (a < 0)
    return b;
  fail("shapes ", shapeToString(sa), " and ", shapeToString(sb), " do not broadcast");
}

Shape broadcastShapes(const Shape &a, const Shape &b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    out[i] = broadcastDim(da, db, a, b);
  }
  return out;
}

Types inferSelect(const Types &in, const OpAttrs &, const Types &) {
  const TensorType &c = in[0], &a = in[1], &b = in[2];
  if (a.dtype != b.dtype)
    fail("a and b must have one element type, got ", dtypeName(a.dtype), " and ",
         dtypeName(b.dtype));
  return {TensorType{a.dtype, broadcastShapes(c.shape, broadcastShapes(a.shape, b.shape))}};
}

/// The declared result shape, its dynamic dims taken from x's.
Types inferBroadcast(const Types &in, const OpAttrs &, const Types &declared) {
  if (declared.empty())
    fail("broadcast needs a declared result type");
  const Shape &x = in[0].shape;
  Shape out = declared[0].shape;
  if (x.size() > out.size())
    fail("cannot broadcast ", in[0].str(), " to rank ", out.size());
  size_t lead = out.size() - x.size();
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t xd = i < lead ? 1 : x[i - lead];
    if (out[i] < 0)
      out[i] = xd;
    else if (xd != 1 && xd != out[i])
      fail("cannot broadcast ", in[0].str(), " to ", shapeToString(declared[0].shape));
  }
  return {TensorType{in[0].dtype, out}};
}

Types inferScatter(const Types &in, const OpAttrs &, const Types &) {
  const TensorType &x = in[0], &idx = in[1];
  if (idx.dtype != DType::I32 && idx.dtype != DType::I64)
    fail("scatter indices must be i32 or i64, got ", dtypeName(idx.dtype));
  if (x.shape.empty() || x.shape.size() != idx.shape.size())
    fail("x and indices need one rank >= 1, got ", x.str(), " and ", idx.str());
  for (size_t i = 0; i + 1 < x.shape.size(); ++i)
    if (!dimsMatch(x.shape[i], idx.shape[i]))
      fail("x and indices disagree on dim ", i, ": ", x.str(), " and ", idx.str());
  return {x};
}

Types inferTranspose(const Types &in, const OpAttrs &attrs, const Types &) {
  const TensorType &x = in[0];
  if (attrs.permutation.size() != x.shape.size())
    fail("permutation of ", attrs.permutation.size(), " dims for ", x.str());
  std::vector<bool> seen(x.shape.size(), false);
  TensorType out{x.dtype, {}};
  for (int64_t p : attrs.permutation) {
    if (p < 0 || p >= static_cast<int64_t>(x.shape.size()) || seen[p])
      fail("permutation entry ", p, " out of range or twice for ", x.str());
    seen[p] = true;
    out.shape.push_back(x.shape[p]);
  }
  return {out};
}

Types inferSlice(const Types &in, const OpAttrs &a, const Types &) {
  const TensorType &x = in[0];
  if (a.dim < 0 || a.dim >= static_cast<int64_t>(x.shape.size()))
    fail("slice dim ", a.dim, " out of range for ", x.str());
  int64_t extent = x.shape[a.dim];
  if (a.start < 0 || a.end < a.start || (extent >= 0 && a.end > extent))
    fail("slice [", a.start, ", ", a.end, ") out of range for dim ", a.dim, " of ", x.str());
  TensorType out = x;
  out.shape[a.dim] = a.end - a.start;
  return {out};
}

Types inferConcat(const Types &in, const OpAttrs &a, const Types &) {
  const TensorType &first = in[0];
  if (a.dim < 0 || a.dim >= static_cast<int64_t>(first.shape.size()))
    fail("concat dim ", a.dim, " out of range for ", first.str());
  TensorType out = first;
  out.shape[a.dim] = 0;
  for (const TensorType &t : in) {
    if (t.dtype != first.dtype || t.shape.size() != first.shape.size())
      fail("concat inputs ", first.str(), " and ", t.str(), " differ in type or rank");
    for (size_t d = 0; d < t.shape.size(); ++d)
      if (static_cast<int64_t>(d) != a.dim && !dimsMatch(t.shape[d], first.shape[d]))
        fail("concat inputs ", first.str(), " and ", t.str(), " differ outside dim ", a.dim);
    if (t.shape[a.dim] < 0 || out.shape[a.dim] < 0)
      out.shape[a.dim] = -1;
    else if (__builtin_add_overflow(out.shape[a.dim], t.shape[a.dim], &out.shape[a.dim]))
      fail("the concatenated dim does not fit 64 bits");
  }
  return {out};
}

Types inferPow(const Types &in, const OpAttrs &attrs, const Types &) {
  expectFloat(in[0], "x");
  if (!std::isfinite(attrs.exponent))
    fail("exponent must be finite, got ", attrs.exponent);
  return {in[0]};
}

Types inferReshape(const Types &in, const OpAttrs &, const Types &declared) {
  if (declared.empty())
    fail("reshape needs a declared result type");
  Shape out = declared[0].shape;
  int dynamic = 0;
  int64_t known = 1;
  for (int64_t d : out)
    d < 0 ? ++dynamic : known *= d;
  if (dynamic > 1)
    fail("reshape result ", shapeToString(out),
         " has more than one dynamic dim; the runtime cannot infer them");
  int64_t n = 1;
  bool inKnown = true;
  for (int64_t d : in[0].shape)
    d < 0 ? inKnown = false : n *= d;
  if (inKnown) {
    if (dynamic == 1) {
      if (known == 0 || n % known != 0)
        fail("cannot reshape ", shapeToString(in[0].shape), " to ",
             shapeToString(out), ": ", n, " elements are not a multiple of ",
             known);
      for (int64_t &d : out)
        if (d < 0)
          d = n / known;
    } else if (n != known) {
      fail("reshape changes the element count: ", shapeToString(in[0].shape),
           " has ", n, ", ", shapeToString(out), " has ", known);
    }
  } else if (dynamic == 0) {
    fail("reshape of a dynamic shape ", shapeToString(in[0].shape),
         " to the static ", shapeToString(out));
  }
  return {TensorType{in[0].dtype, out}};
}

Types inferSplit(const Types &in, const OpAttrs &attrs, const Types &) {
  const TensorType &x = in[0];
  int64_t rank = static_cast<int64_t>(x.shape.size());
  int64_t dim = attrs.dim < 0 ? attrs.dim + rank : attrs.dim;
  if (dim < 0 || dim >= rank)
    fail("split dim ", attrs.dim, " out of range for ", x.str());
  if (attrs.sizes.empty())
    fail("split needs at least one size");
  int64_t total = 0;
  Types out;
  for (int64_t s : attrs.sizes) {
    if (s < 0)
      fail("split sizes must be >= 0, got ", s);
    if (__builtin_add_overflow(total, s, &total))
      fail("split sizes sum to more than fits in 64 bits");
    TensorType t = x;
    t.shape[dim] = s;
    out.push_back(t);
  }
  if (!dimsMatch(x.shape[dim], total))
    fail("split sizes sum to ", total, " but dim ", dim, " of ", x.str(),
         " is ", x.shape[dim]);
  return out;
}

Types inferMatmul(const Types &in, const OpAttrs &attrs, const Types &) {
  const TensorType &x = in[0], &w = in[1];
  expectFloat(x, "x");
  expectRank(x, 1, "x");
  if (w.dtype != x.dtype)
    fail("x and w must have one element type, got ", dtypeName(x.dtype),
         " and ", dtypeName(w.dtype));
  if (w.shape.size() != 2)
    fail("w must have rank 2, got ", w.str());
  int64_t k = attrs.transposeW ? w.shape[1] : w.shape[0];
  int64_t n = attrs.transposeW ? w.shape[0] : w.shape[1];
  if (!dimsMatch(x.shape.back(), k))
    fail("contraction dims disagree: x has K = ", x.shape.back(), ", w has K = ", k);
  TensorType out = x;
  out.shape.back() = n;
  return {out};
}

Types inferMatmulFP8(const Types &in, const OpAttrs &attrs, const Types &declared) {
  const TensorType &x = in[0], &w = in[2];
  fp8ScaleMode(x, in[1], w, in[3], attrs.xScaleColMajor);
  if (declared.empty() || !isFloat(declared[0].dtype) || declared[0].dtype == DType::F8E4M3FN)
    fail("matmul_fp8 needs a declared f32, f16 or bf16 result type");
  TensorType out{declared[0].dtype, x.shape};
  out.shape.back() = w.shape[0];
  return {out};
}

Types inferAllReduce(const Types &in, const OpAttrs &, const Types &) {
  if (in[0].dtype == DType::F8E4M3FN)
    fail("all_reduce of f8E4M3FN is not defined");
  return {in[0]};
}

Types inferRMSNorm(const Types &in, const OpAttrs &, const Types &) {
  expectNormWeight(in[0], in[1], "w");
  return {in[0]};
}

Types inferAddRMSNorm(const Types &in, const OpAttrs &, const Types &) {
  expectNormWeight(in[0], in[2], "w");
  expectSameType(in[0], in[1], "x", "residual");
  return {in[0], in[0]};
}

Types inferRMSNormGated(const Types &in, const OpAttrs &, const Types &) {
  expectNormWeight(in[0], in[2], "w");
  expectSameType(in[0], in[1], "x", "z");
  return {in[0]};
}

/// The product of x's leading dims (-1 if one is dynamic).
int64_t leadingTokens(const TensorType &x) {
  int64_t tokens = 1;
  for (size_t i = 0; i + 1 < x.shape.size(); ++i) {
    if (x.shape[i] < 0)
      return -1;
    if (__builtin_mul_overflow(tokens, x.shape[i], &tokens) || tokens > INT64_MAX - 3)
      fail("too many tokens in ", x.str(), " for column-major scales");
  }
  return tokens;
}

/// Scales of x quantized in groups: row-major [..., D / groupSize], or
/// column-major [D / groupSize, T rounded up to 4].
TensorType quantScaleType(const TensorType &x, int64_t groupSize, bool colMajor) {
  int64_t d = lastDim(x);
  if (groupSize < 1)
    fail("group_size must be >= 1, got ", groupSize);
  if (d < 0)
    fail("the last dim of ", x.str(), " must be static to quantize in groups");
  if (d % groupSize != 0)
    fail("group_size ", groupSize, " must divide the last dim ", d);
  TensorType scale{DType::F32, x.shape};
  scale.shape.back() = d / groupSize;
  if (colMajor) {
    int64_t tokens = leadingTokens(x);
    scale.shape = {d / groupSize, tokens < 0 ? -1 : colMajorScaleStride(tokens)};
  }
  return scale;
}

Types inferQuantFP8(const Types &in, const OpAttrs &attrs, const Types &) {
  expectFloat(in[0], "x");
  expectRank(in[0], 1, "x");
  return {TensorType{DType::F8E4M3FN, in[0].shape},
          quantScaleType(in[0], attrs.groupSize, attrs.scaleColMajor)};
}

Types inferQuantFP8Static(const Types &in, const OpAttrs &, const Types &) {
  expectFloat(in[0], "x");
  expectDType(in[1], DType::F32, "scale");
  if (!in[1].shape.empty())
    fail("scale must be a rank-0 tensor, got ", in[1].str());
  return {TensorType{DType::F8E4M3FN, in[0].shape}};
}

/// The FP8 chains: inputs x[, residual], w[, scale] (norms) or gate, up[,
/// scale]; results q, the group scales unless STATIC, then the pass-through
/// (residual_out / all_reduce_out) when THROUGH.
template <bool NORM, bool ADD, bool STATIC, bool THROUGH>
Types inferQuantChain(const Types &in, const OpAttrs &attrs, const Types &) {
  const TensorType &x = in[0];
  expectFloat(x, "x");
  expectRank(x, 1, "x");
  if (NORM)
    expectNormWeight(x, in[ADD ? 2 : 1], "w");
  if (ADD || !NORM)
    expectSameType(x, in[1], "x", NORM ? "residual" : "up");
  Types out{TensorType{DType::F8E4M3FN, x.shape}};
  if (STATIC) {
    const TensorType &s = in.back();
    expectDType(s, DType::F32, "scale");
    if (!s.shape.empty())
      fail("scale must be a rank-0 tensor, got ", s.str());
  } else {
    out.push_back(quantScaleType(x, attrs.groupSize, attrs.scaleColMajor));
  }
  if (THROUGH)
    out.push_back(x);
  return out;
}

Types inferTopK(const Types &in, const OpAttrs &attrs, const Types &) {
  expectFloat(in[0], "x");
  expectRank(in[0], 1, "x");
  int64_t d = lastDim(in[0]);
  if (attrs.k < 1 || (d >= 0 && attrs.k > d))
    fail("k must be in [1, ", d, "], got ", attrs.k);
  TensorType values = in[0];
  values.shape.back() = attrs.k;
  TensorType indices{DType::I32, values.shape};
  return {values, indices};
}

Types inferGather(const Types &in, const OpAttrs &, const Types &) {
  const TensorType &x = in[0], &idx = in[1];
  if (idx.dtype != DType::I32 && idx.dtype != DType::I64)
    fail("indices must be i32 or i64, got ", dtypeName(idx.dtype));
  if (x.shape.empty() || x.shape.size() != idx.shape.size())
    fail("x and indices must have one rank >= 1, got ", x.str(), " and ", idx.str());
  for (size_t i = 0; i + 1 < x.shape.size(); ++i)
    if (!dimsMatch(x.shape[i], idx.shape[i]))
      fail("x and indices must agree on every dim but the last, got ", x.str(),
           " and ", idx.str());
  return {TensorType{x.dtype, idx.shape}};
}

/// [T, E] f32 routing inputs and the routing attributes.
Types routingResults(const TensorType &scores, const OpAttrs &a) {
  if (scores.shape.size() != 2)
    fail("routing scores must be [T, E], got ", scores.str());
  int64_t e = scores.shape[1];
  if (e < 0)
    fail("the expert count must be static, got ", scores.str());
  if (a.nGroup < 1 || e % a.nGroup != 0)
    fail("n_group ", a.nGroup, " must be >= 1 and divide the expert count ", e);
  if (a.topkGroup < 1 || a.topkGroup > a.nGroup)
    fail("topk_group must be in [1, n_group = ", a.nGroup, "], got ", a.topkGroup);
  int64_t kept = a.topkGroup * (e / a.nGroup);
  if (a.topk < 1 || a.topk > kept)
    fail("topk must be in [1, ", kept, "] (the experts in the kept groups), got ",
         a.topk);
  Shape shape{scores.shape[0], a.topk};
  return {TensorType{DType::F32, shape}, TensorType{DType::I32, shape}};
}

Types inferGroupedTopK(const Types &in, const OpAttrs &attrs, const Types &) {
  expectDType(in[0], DType::F32, "scores");
  expectSameType(in[0], in[1], "scores", "biased");
  return routingResults(in[0], attrs);
}

Types inferMoERouter(const Types &in, const OpAttrs &attrs, const Types &) {
  expectFloat(in[0], "logits");
  expectDType(in[1], DType::F32, "bias");
  if (in[0].shape.size() != 2 || in[1].shape.size() != 1 ||
      !dimsMatch(in[1].shape[0], in[0].shape[1]))
    fail("bias must have shape [E] for logits [T, E], got ", in[1].str(),
         " for ", in[0].str());
  return routingResults(in[0], attrs);
}

Types inferGatedQuant(const Types &in, const OpAttrs &attrs, const Types &declared) {
  const TensorType &x = in[0];
  expectNormWeight(x, in[2], "w");
  expectSameType(x, in[1], "x", "z");
  if (x.shape.size() != 2)
    fail("x must be [N*H, D], got ", x.str());
  int64_t d = x.shape[1];
  if (d < 1)
    fail("the head dim of ", x.str(), " must be static and >= 1");
  if (attrs.groupSize < 1 || d % attrs.groupSize != 0)
    fail("group_size ", attrs.groupSize, " must divide the head dim ", d,
         " (a group never straddles two heads)");
  if (declared.empty() || declared[0].shape.size() < 2 ||
      declared[0].shape.back() < d || declared[0].shape.back() % d != 0)
    fail("q must be declared [..., H*D] with a static multiple of D = ", d);
  int64_t heads = declared[0].shape.back() / d;
  Shape qShape = declared[0].shape;
  if (x.shape[0] >= 0) {
    if (x.shape[0] % heads != 0)
      fail("x has ", x.shape[0], " rows, not a multiple of H = ", heads);
    // The one dynamic leading dim of q (if any) holds the tokens the other
    // leading dims leave.
    int64_t known = 1, dynamicAt = -1;
    for (size_t i = 0; i + 1 < qShape.size(); ++i)
      qShape[i] < 0 ? dynamicAt = int64_t(i) : known *= qShape[i];
    int64_t n = x.shape[0] / heads;
    if (dynamicAt >= 0 && known > 0 && n % known == 0)
      qShape[dynamicAt] = n / known;
    else if (dynamicAt < 0 && known != n)
      fail("q ", shapeToString(qShape), " does not hold the ", n, " tokens of x");
  }
  TensorType q{DType::F8E4M3FN, qShape};
  TensorType qAsFloat{DType::F32, qShape};
  return {q, quantScaleType(qAsFloat, attrs.groupSize, attrs.scaleColMajor)};
}

Types inferQKNorm(const Types &in, const OpAttrs &, const Types &) {
  expectNormWeight(in[0], in[2], "wq");
  expectNormWeight(in[1], in[3], "wk");
  if (in[0].dtype != in[1].dtype)
    fail("q and k must have one element type, got ", dtypeName(in[0].dtype),
         " and ", dtypeName(in[1].dtype));
  return {in[0], in[1]};
}

const std::vector<std::string_view> kNorm = {"epsilon"};
const std::vector<std::string_view> kNormOpt = {"weight_bias"};
const std::vector<std::string_view> kNormQuantOpt = {"weight_bias", "scale_col_major"};
const std::vector<std::string_view> kRouting = {"n_group", "topk_group", "topk"};
const std::vector<std::string_view> kRoutingOpt = {"renormalize",
                                                   "routed_scaling_factor"};

} // namespace

const std::vector<OpSchema> &allOpSchemas() {
  static const std::vector<OpSchema> schemas = {
      {"cast", 1, 1, {}, {}, inferCast},
      {"add", 2, 1, {}, {}, inferBinary},
      {"sub", 2, 1, {}, {}, inferBinary},
      {"mul", 2, 1, {}, {}, inferBinary},
      {"div", 2, 1, {}, {}, inferBinary},
      {"sigmoid", 1, 1, {}, {}, inferUnary},
      {"silu", 1, 1, {}, {}, inferUnary},
      {"relu", 1, 1, {}, {}, inferUnary},
      {"rsqrt", 1, 1, {}, {}, inferUnary},
      {"neg", 1, 1, {}, {}, inferUnary},
      {"transpose", 1, 1, {"permutation"}, {}, inferTranspose},
      {"slice", 1, 1, {"dim", "start", "end"}, {}, inferSlice},
      {"concat", -1, 1, {"dim"}, {}, inferConcat},
      {"pow", 1, 1, {"exponent"}, {}, inferPow},
      {"mean", 1, 1, {"dim"}, {"keepdim"}, inferMean},
      {"sum", 1, 1, {"dim"}, {"keepdim"}, inferMean},
      {"softmax", 1, 1, {"dim"}, {}, inferSoftmax},
      {"exp", 1, 1, {}, {}, inferUnary},
      {"softplus", 1, 1, {}, {}, inferUnary},
      {"gelu", 1, 1, {}, {}, inferUnary},
      {"gelu_tanh", 1, 1, {}, {}, inferUnary},
      {"eq", 2, 1, {}, {}, inferBinary},
      {"ne", 2, 1, {}, {}, inferBinary},
      {"select", 3, 1, {}, {}, inferSelect},
      {"broadcast", 1, 1, {}, {}, inferBroadcast},
      {"full_like", 1, 1, {"value"}, {}, inferSame},
      {"scatter", 2, 1, {"value"}, {}, inferScatter},
      {"reshape", 1, 1, {}, {}, inferReshape, /*isView=*/true},
      {"split", 1, -1, {"dim", "sizes"}, {}, inferSplit, /*isView=*/true},
      {"matmul", 2, 1, {}, {"transpose_w"}, inferMatmul},
      {"matmul_fp8", 4, 1, {}, {"x_scale_col_major"}, inferMatmulFP8},
      {"all_reduce", 1, 1, {}, {}, inferAllReduce},
      {"rms_norm", 2, 1, kNorm, kNormOpt, inferRMSNorm},
      {"fused_add_rms_norm", 3, 2, kNorm, kNormOpt, inferAddRMSNorm},
      {"rms_norm_gated", 3, 1, kNorm, {"weight_bias", "norm_before_gate"},
       inferRMSNormGated},
      {"quant_fp8", 1, 2, {"group_size"}, {"scale_col_major"}, inferQuantFP8},
      {"quant_fp8_static", 2, 1, {}, {}, inferQuantFP8Static},
      {"fused_rms_norm_quant_fp8", 2, 2, {"epsilon", "group_size"}, kNormQuantOpt,
       inferQuantChain<true, false, false, false>},
      {"fused_rms_norm_quant_fp8_static", 3, 1, kNorm, kNormOpt,
       inferQuantChain<true, false, true, false>},
      {"fused_add_rms_norm_quant_fp8", 3, 3, {"epsilon", "group_size"}, kNormQuantOpt,
       inferQuantChain<true, true, false, true>},
      {"fused_add_rms_norm_quant_fp8_static", 4, 2, kNorm, kNormOpt,
       inferQuantChain<true, true, true, true>},
      {"fused_all_reduce_rms_norm_quant_fp8", 2, 3, {"epsilon", "group_size"}, kNormQuantOpt,
       inferQuantChain<true, false, false, true>},
      {"fused_all_reduce_rms_norm_quant_fp8_static", 3, 2, kNorm, kNormOpt,
       inferQuantChain<true, false, true, true>},
      {"fused_all_reduce_add_rms_norm_quant_fp8", 3, 3, {"epsilon", "group_size"}, kNormQuantOpt,
       inferQuantChain<true, true, false, true>},
      {"fused_all_reduce_add_rms_norm_quant_fp8_static", 4, 2, kNorm, kNormOpt,
       inferQuantChain<true, true, true, true>},
      {"fused_silu_mul_quant_fp8", 2, 2, {"group_size"}, {"scale_col_major"},
       inferQuantChain<false, false, false, false>},
      {"fused_silu_mul_quant_fp8_static", 3, 1, {}, {},
       inferQuantChain<false, false, true, false>},
      {"topk", 1, 2, {"k"}, {}, inferTopK, false, {RankKey::Kind::Values, 0}},
      {"gather", 2, 1, {}, {}, inferGather},
      {"grouped_topk", 2, 2, kRouting, kRoutingOpt, inferGroupedTopK, false,
       {RankKey::Kind::Biased, 1}},
      {"fused_all_reduce_rms_norm", 2, 2, kNorm, kNormOpt,
       [](const Types &in, const OpAttrs &a, const Types &d) {
         Types y = inferRMSNorm(in, a, d);
         return Types{y[0], y[0]};
       }},
      {"fused_all_reduce_add_rms_norm", 3, 2, kNorm, kNormOpt, inferAddRMSNorm},
      {"fused_rms_norm_gated_quant_fp8", 3, 2,
       {"epsilon", "group_size"}, {"weight_bias", "norm_before_gate", "scale_col_major"},
       inferGatedQuant},
      {"fused_moe_router", 2, 2, kRouting, kRoutingOpt, inferMoERouter, false,
       {RankKey::Kind::Router, 0, 1}},
      {"fused_qk_rms_norm", 4, 2, kNorm, kNormOpt, inferQKNorm},
  };
  return schemas;
}

const std::vector<AttrField> &attrFields() {
  static const std::vector<AttrField> fields = {
      {"epsilon", AttrKind::F32, &OpAttrs::epsilon},
      {"weight_bias", AttrKind::F32, &OpAttrs::weightBias},
      {"routed_scaling_factor", AttrKind::F32, &OpAttrs::routedScalingFactor},
      {"group_size", AttrKind::I64, nullptr, &OpAttrs::groupSize},
      {"k", AttrKind::I64, nullptr, &OpAttrs::k},
      {"dim", AttrKind::I64, nullptr, &OpAttrs::dim},
      {"n_group", AttrKind::I64, nullptr, &OpAttrs::nGroup},
      {"topk_group", AttrKind::I64, nullptr, &OpAttrs::topkGroup},
      {"topk", AttrKind::I64, nullptr, &OpAttrs::topk},
      {"norm_before_gate", AttrKind::Bool, nullptr, nullptr, &OpAttrs::normBeforeGate},
      {"renormalize", AttrKind::Bool, nullptr, nullptr, &OpAttrs::renormalize},
      {"transpose_w", AttrKind::Bool, nullptr, nullptr, &OpAttrs::transposeW},
      {"sizes", AttrKind::I64Array, nullptr, nullptr, nullptr, &OpAttrs::sizes},
      {"exponent", AttrKind::F32, &OpAttrs::exponent},
      {"keepdim", AttrKind::Bool, nullptr, nullptr, &OpAttrs::keepdim},
      {"permutation", AttrKind::I64Array, nullptr, nullptr, nullptr, &OpAttrs::permutation},
      {"start", AttrKind::I64, nullptr, &OpAttrs::start},
      {"end", AttrKind::I64, nullptr, &OpAttrs::end},
      {"value", AttrKind::F32, &OpAttrs::value},
      {"scale_col_major", AttrKind::Bool, nullptr, nullptr, &OpAttrs::scaleColMajor},
      {"x_scale_col_major", AttrKind::Bool, nullptr, nullptr, &OpAttrs::xScaleColMajor},
  };
  return fields;
}

const AttrField *findAttrField(std::string_view name) {
  for (const AttrField &f : attrFields())
    if (f.name == name)
      return &f;
  return nullptr;
}

const OpSchema *findOpSchema(std::string_view name) {
  for (const OpSchema &s : allOpSchemas())
    if (s.name == name)
      return &s;
  return nullptr;
}

Fp8ScaleMode fp8ScaleMode(const TensorType &x, const TensorType &xs, const TensorType &w,
                          const TensorType &ws, bool xColMajor) {
  expectDType(x, DType::F8E4M3FN, "x");
  expectDType(w, DType::F8E4M3FN, "w");
  expectDType(xs, DType::F32, "x_scale");
  expectDType(ws, DType::F32, "w_scale");
  expectRank(x, 1, "x");
  if (w.shape.size() != 2 || !dimsMatch(w.shape[1], x.shape.back()) || w.shape[1] < 0)
    fail("matmul_fp8 needs x [..., K] and w [N, K] with a static K, got ", x.str(), " and ",
         w.str());
  int64_t k = w.shape[1], n = w.shape[0], kb = (k + 127) / 128, nb = (n + 127) / 128;
  auto rowScale = [&](int64_t cols) {
    if (xs.shape.size() != x.shape.size() || xs.shape.back() != cols)
      return false;
    for (size_t i = 0; i + 1 < x.shape.size(); ++i)
      if (!dimsMatch(xs.shape[i], x.shape[i]))
        return false;
    return true;
  };
  if (xColMajor) {
    int64_t tokens = leadingTokens(x);
    if (ws.shape == Shape{nb, kb} && xs.shape.size() == 2 && xs.shape[0] == kb &&
        dimsMatch(xs.shape[1], tokens < 0 ? -1 : colMajorScaleStride(tokens)))
      return Fp8ScaleMode::Block;
    fail("matmul_fp8 with x_scale_col_major needs 128-block scales: x_scale [", kb,
         ", T rounded up to 4] and w_scale [", nb, ", ", kb, "], got ", xs.str(), " and ",
         ws.str());
  }
  if (xs.shape.empty() && ws.shape.empty())
    return Fp8ScaleMode::Tensor;
  if (rowScale(1) && ws.shape == Shape{n})
    return Fp8ScaleMode::TokenChannel;
  if (rowScale(kb) && ws.shape == Shape{nb, kb})
    return Fp8ScaleMode::Block;
  fail("matmul_fp8 scales must be per tensor (rank 0, rank 0), per token and channel "
       "([..., 1], [N]) or 128-blocks ([..., ceil(K/128)], [ceil(N/128), ceil(K/128)]), got ",
       xs.str(), " and ", ws.str());
}

bool typeMatches(const TensorType &declared, const TensorType &actual) {
  if (declared.dtype != actual.dtype ||
      declared.shape.size() != actual.shape.size())
    return false;
  for (size_t i = 0; i < declared.shape.size(); ++i)
    if (!dimsMatch(declared.shape[i], actual.shape[i]))
      return false;
  return true;
}

} // namespace llmf
