//===- LLMOps.td - ops of the llm dialect -----------------*- tablegen -*-===//
//
// Every op of shared/spec/llm-dialect.md, unfused (what importers produce)
// and fused (what the fusion passes produce). Operand, result and attribute
// names are the spec's. Verifiers (LLMOps.cpp) check the rules the spec
// implies: shapes, element types, group sizes, routing parameters.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_OPS_TD
#define LLM_OPS_TD

include "ir/LLMDialect.td"
include "ir/LLMInterfaces.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

/// Every tensor an op reads or writes has a static part whose element and
/// byte counts fit in 64 bits, so no size computed from it can overflow
/// (LLMOps.h: TensorSizesFit).
def LLM_TensorSizesFit : NativeOpTrait<"TensorSizesFit"> {
  let cppNamespace = "::mlir::llm::OpTrait";
}

class LLM_Op<string mnemonic, list<Trait> traits = []>
    : Op<LLM_Dialect, mnemonic, !listconcat([Pure, LLM_TensorSizesFit], traits)>;

// Attributes every RMSNorm-family op carries: `y = x * rsqrt(mean(x^2) + eps)
// * (w + weight_bias)`; weight_bias = 1 is Gemma's `(1 + w)`.
defvar NormAttrs = (ins F32Attr:$epsilon,
                        DefaultValuedAttr<F32Attr, "0.0">:$weight_bias);

// Attributes of DeepSeek-V3 "noaux_tc" grouped top-k routing.
defvar RoutingAttrs = (ins I64Attr:$n_group, I64Attr:$topk_group, I64Attr:$topk,
                           DefaultValuedAttr<BoolAttr, "false">:$renormalize,
                           DefaultValuedAttr<F32Attr, "1.0">:$routed_scaling_factor);

// Shared C++ accessors for the float attributes of the norm ops.
defvar NormAccessors = [{
  float getEpsilonValue() { return getEpsilon().convertToFloat(); }
}];

// The C++ of an RMSNorm-family op whose weights are operands `indices`
// (NormOpInterface).
class NormDecl<string indices> {
  code decl = !strconcat(NormAccessors,
      "  ::llvm::SmallVector<unsigned, 2> getWeightOperandIndices() { return {",
      indices, "}; }\n");
}

//===----------------------------------------------------------------------===//
// Unfused ops
//===----------------------------------------------------------------------===//

def LLM_ConstantOp : LLM_Op<"constant",
    [ConstantLike, AllTypesMatch<["value", "output"]>]> {
  let summary = "A constant tensor";
  let description = [{
    ```mlir
    %one = llm.constant dense<1.0> : tensor<f32>
    ```
    The dialect materializes folded constants as this op.
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs LLM_Tensor:$output);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

def LLM_CastOp : LLM_Op<"cast", [SameOperandsAndResultShape]> {
  let summary = "Element type conversion (round-to-nearest-even, fp8 saturates)";
  let description = [{ A cast to x's own type folds to x. }];
  let arguments = (ins LLM_Tensor:$x);
  let results = (outs LLM_Tensor:$output);
  let assemblyFormat = "$x attr-dict `:` type($x) `to` type($output)";
  let hasFolder = 1;
}

class LLM_BinaryOp<string mnemonic, string what, list<Trait> traits = []>
    : LLM_Op<mnemonic, !listconcat([SameOperandsAndResultElementType], traits)> {
  let summary = "Broadcasting elementwise " # what;
  let description = [{
    NumPy/PyTorch broadcasting: trailing dims align, 1 or missing dims
    broadcast. Both operands have one element type; no implicit promotion.
  }];
  let arguments = (ins LLM_ArithTensor:$a, LLM_ArithTensor:$b);
  let results = (outs LLM_ArithTensor:$output);
  let assemblyFormat = "$a `,` $b attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

// Commutative: the folder moves a constant operand to the right, so every
// pattern matches `x + c` alone.
def LLM_AddOp : LLM_BinaryOp<"add", "addition", [Commutative]>;
def LLM_SubOp : LLM_BinaryOp<"sub", "subtraction">;
def LLM_MulOp : LLM_BinaryOp<"mul", "multiplication", [Commutative]>;
def LLM_DivOp : LLM_BinaryOp<"div", "division">;
// Comparisons: 1 where the relation holds, else 0, in the operands' element
// type (the dialect has no i1; a mask is a tensor whose nonzero elements are
// true, as importers write PyTorch's bool tensors).
def LLM_EqOp : LLM_BinaryOp<"eq", "comparison a == b (1 or 0)", [Commutative]>;
def LLM_NeOp : LLM_BinaryOp<"ne", "comparison a != b (1 or 0)", [Commutative]>;

def LLM_SelectOp : LLM_Op<"select"> {
  let summary = "Elementwise cond != 0 ? a : b, broadcasting (torch.where, masked_fill)";
  let description = [{
    All three operands broadcast like NumPy; `a`, `b` and the result have
    one element type, `cond` any arithmetic type (nonzero is true).
  }];
  let arguments = (ins LLM_ArithTensor:$cond, LLM_ArithTensor:$a, LLM_ArithTensor:$b);
  let results = (outs LLM_ArithTensor:$output);
  let assemblyFormat = "$cond `,` $a `,` $b attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

class LLM_UnaryFloatOp<string mnemonic, string what>
    : LLM_Op<mnemonic, [SameOperandsAndResultType]> {
  let summary = "Elementwise " # what;
  let arguments = (ins LLM_FloatTensor:$x);
  let results = (outs LLM_FloatTensor:$output);
  let assemblyFormat = "$x attr-dict `:` type($output)";
}

def LLM_SigmoidOp : LLM_UnaryFloatOp<"sigmoid", "logistic sigmoid 1 / (1 + exp(-x))">;
def LLM_SiluOp : LLM_UnaryFloatOp<"silu", "SiLU x * sigmoid(x)">;
def LLM_ReluOp : LLM_UnaryFloatOp<"relu", "ReLU max(x, 0)">;
def LLM_RsqrtOp : LLM_UnaryFloatOp<"rsqrt", "reciprocal square root 1 / sqrt(x)">;
def LLM_NegOp : LLM_UnaryFloatOp<"neg", "negation -x">;
def LLM_ExpOp : LLM_UnaryFloatOp<"exp", "exponential e^x">;
def LLM_SoftplusOp : LLM_UnaryFloatOp<"softplus",
    "softplus log(1 + e^x), x itself above 20 (torch's threshold)">;
def LLM_GeluOp : LLM_UnaryFloatOp<"gelu", "GELU x * Phi(x) with the erf">;
def LLM_GeluTanhOp : LLM_UnaryFloatOp<"gelu_tanh",
    "GELU with the tanh approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))">;

def LLM_SoftmaxOp : LLM_Op<"softmax", [SameOperandsAndResultType]> {
  let summary = "Softmax over one dim (torch.softmax(x, dim))";
  let description = [{
    Max-subtracted exponentials summed in fp32, one rounding to x's type.
    A negative `dim` counts from the end.
  }];
  let arguments = (ins LLM_FloatTensor:$x, I64Attr:$dim);
  let results = (outs LLM_FloatTensor:$output);
  let assemblyFormat = "$x attr-dict `:` type($output)";
  let hasVerifier = 1;
}

def LLM_FullLikeOp : LLM_Op<"full_like", [SameOperandsAndResultType]> {
  let summary = "A tensor of x's type filled with `value` (torch.zeros_like, full_like)";
  let arguments = (ins LLM_ArithTensor:$x, F32Attr:$value);
  let results = (outs LLM_ArithTensor:$output);
  let assemblyFormat = "$x attr-dict `:` type($output)";
}

def LLM_BroadcastOp : LLM_Op<"broadcast", [SameOperandsAndResultElementType]> {
  let summary = "x broadcast to the result shape (torch.expand)";
  let description = [{
    NumPy rules: x's dims align with the result's trailing dims; a dim of 1
    repeats. A dynamic result dim is x's (it cannot be a broadcast one).
  }];
  let arguments = (ins LLM_Tensor:$x);
  let results = (outs LLM_Tensor:$output);
  let assemblyFormat = "$x attr-dict `:` type($x) `to` type($output)";
  let hasVerifier = 1;
}

def LLM_ScatterOp : LLM_Op<"scatter"> {
  let summary = "x with `value` written at `indices` along the last dim";
  let description = [{
    `y = x; y[..., indices[..., j]] = value` (torch.scatter(x, -1, indices,
    value)); indices has x's leading dims and every index is in
    [0, x.shape[-1]).
  }];
  let arguments = (ins LLM_ArithTensor:$x, LLM_IndexTensor:$indices, F32Attr:$value);
  let results = (outs LLM_ArithTensor:$output);
  let assemblyFormat = "$x `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LLM_TransposeOp : LLM_Op<"transpose"> {
  let summary = "Permutes the dims (torch.permute; transpose swaps two)";
  let description = [{
    Result dim i is x's dim `permutation[i]`; same element type.
  }];
  let arguments = (ins LLM_Tensor:$x, DenseI64ArrayAttr:$permutation);
  let results = (outs LLM_Tensor:$output);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LLM_SliceOp : LLM_Op<"slice"> {
  let summary = "Elements [start, end) of one dim (torch x[..., start:end])";
  let arguments = (ins LLM_Tensor:$x, I64Attr:$dim, I64Attr:$start, I64Attr:$end);
  let results = (outs LLM_Tensor:$output);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LLM_ConcatOp : LLM_Op<"concat"> {
  let summary = "Concatenation along one dim (torch.cat)";
  let arguments = (ins Variadic<LLM_Tensor>:$inputs, I64Attr:$dim);
  let results = (outs LLM_Tensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LLM_PowOp : LLM_Op<"pow", [SameOperandsAndResultType]> {
  let summary = "Elementwise x ^ exponent with a scalar exponent (torch.pow(x, 2))";
  let description = [{
    What importers write for a decomposed RMSNorm's square; `exponent = 2`
    is exactly x * x.
  }];
  let arguments = (ins LLM_FloatTensor:$x, F32Attr:$exponent);
  let results = (outs LLM_FloatTensor:$output);
  let assemblyFormat = "$x attr-dict `:` type($output)";
  let hasVerifier = 1;
}

def LLM_MeanOp : LLM_Op<"mean"> {
  let summary = "Mean over one dim (torch.mean(x, dim, keepdim))";
  let description = [{
    Sums in fp32 or wider, divides by the dim's extent, one rounding to x's
    element type. The result has x's shape with `dim` removed, or kept as 1
    when `keepdim`. A negative `dim` counts from the end.
  }];
  let arguments = (ins LLM_FloatTensor:$x, I64Attr:$dim,
                       DefaultValuedAttr<BoolAttr, "false">:$keepdim);
  let results = (outs LLM_FloatTensor:$output);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LLM_SumOp : LLM_Op<"sum"> {
  let summary = "Sum over one dim (torch.sum(x, dim, keepdim))";
  let description = [{
    Sums in fp32 or wider, one rounding to x's element type; the result's
    shape as `mean`'s.
  }];
  let arguments = (ins LLM_FloatTensor:$x, I64Attr:$dim,
                       DefaultValuedAttr<BoolAttr, "false">:$keepdim);
  let results = (outs LLM_FloatTensor:$output);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LLM_MatmulFP8Op : LLM_Op<"matmul_fp8"> {
  let summary = "An FP8 linear: x [..., K] times w [N, K]^T, both e4m3 with their scales";
  let description = [{
    The scales decide the mode: per tensor (both rank 0); per token and
    channel (`x_scale [..., 1]`, `w_scale [N]`); or DeepSeek-V3's blocks
    (`x_scale [..., ceil(K/128)]` per 1x128 group, `w_scale [ceil(N/128),
    ceil(K/128)]` per 128x128 block). `y = sum over K-blocks of x_scale *
    w_scale * (x . w)` accumulated in fp32, one rounding to y's type.
    `x_scale_col_major` (block mode): x_scale is DeepGEMM's column-major
    [ceil(K/128), T padded to 4], as quant_fp8 writes it with
    `scale_col_major`.
  }];
  let arguments = (ins LLM_FP8Tensor:$x, LLM_F32Tensor:$x_scale, LLM_FP8Tensor:$w,
                       LLM_F32Tensor:$w_scale,
                       DefaultValuedAttr<BoolAttr, "false">:$x_scale_col_major);
  let results = (outs LLM_FloatTensor:$y);
  let assemblyFormat = [{
    $x `,` $x_scale `,` $w `,` $w_scale attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def LLM_ReshapeOp : LLM_Op<"reshape"> {
  let summary = "Row-major reinterpretation to the result shape";
  let description = [{
    A reshape to x's own type folds to x; a reshape of a reshape reads the
    inner one's input (importers emit view chains).
  }];
  let arguments = (ins LLM_Tensor:$x);
  let results = (outs LLM_Tensor:$output);
  let assemblyFormat = "$x attr-dict `:` type($x) `to` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def LLM_SplitOp : LLM_Op<"split"> {
  let summary = "Consecutive slices along `dim` (PyTorch split_with_sizes)";
  let arguments = (ins LLM_Tensor:$x, I64Attr:$dim, DenseI64ArrayAttr:$sizes);
  let results = (outs Variadic<LLM_Tensor>:$outputs);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($outputs)";
  let hasVerifier = 1;
}

def LLM_MatmulOp : LLM_Op<"matmul"> {
  let summary = "x[..., K] times w ([N, K] if transpose_w, else [K, N])";
  let description = [{
    Like `nn.Linear` when `transpose_w` is true (the default); fp32
    accumulation, one rounding to the result type.
  }];
  let arguments = (ins LLM_FloatTensor:$x, LLM_FloatTensor:$w,
                       DefaultValuedAttr<BoolAttr, "true">:$transpose_w);
  let results = (outs LLM_FloatTensor:$output);
  let assemblyFormat = "$x `,` $w attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LLM_AllReduceOp : LLM_Op<"all_reduce", [SameOperandsAndResultType]> {
  let summary = "Sum over all ranks of the tensor-parallel group";
  let description = [{
    At world size 1 it is the identity: a canonicalization (not a folder, so
    that a fusion pass alone never removes the all-reduce it would fuse)
    replaces it by x; `-canonicalize` and the cleanup pass run it.
  }];
  let arguments = (ins LLM_ArithTensor:$x);
  let results = (outs LLM_ArithTensor:$output);
  let assemblyFormat = "$x attr-dict `:` type($output)";
  let hasCanonicalizeMethod = 1;
}

def LLM_RMSNormOp : LLM_Op<"rms_norm", [LLM_NormOpInterface, AllTypesMatch<["x", "y"]>]> {
  let summary = "RMSNorm over the last dim";
  let description = [{
    `y = x * rsqrt(mean(x^2) + epsilon) * (w + weight_bias)` with w of shape
    [D]; y has x's element type, w may have another.
  }];
  let arguments = !con((ins LLM_FloatTensor:$x, LLM_FloatTensor:$w), NormAttrs);
  let results = (outs LLM_FloatTensor:$y);
  let assemblyFormat = "$x `,` $w attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = NormDecl<"1">.decl;
}

def LLM_FusedAddRMSNormOp : LLM_Op<"fused_add_rms_norm",
    [LLM_NormOpInterface, AllTypesMatch<["x", "residual", "y", "residual_out"]>]> {
  let summary = "Residual add then RMSNorm";
  let description = [{
    `residual_out = x + residual` (rounded to x's type);
    `y = rms_norm(residual_out, w)`.
  }];
  let arguments = !con((ins LLM_FloatTensor:$x, LLM_FloatTensor:$residual,
                            LLM_FloatTensor:$w), NormAttrs);
  let results = (outs LLM_FloatTensor:$y, LLM_FloatTensor:$residual_out);
  let assemblyFormat = "$x `,` $residual `,` $w attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = NormDecl<"2">.decl;
}

def LLM_RMSNormGatedOp : LLM_Op<"rms_norm_gated",
    [LLM_NormOpInterface, AllTypesMatch<["x", "z", "y"]>]> {
  let summary = "Gated RMSNorm of Qwen3-Next's gated delta net";
  let description = [{
    Before gate: `y = rms(x) * (w + weight_bias) * silu(z)`;
    after gate: `y = rms(x * silu(z)) * (w + weight_bias)`.
  }];
  let arguments = !con((ins LLM_FloatTensor:$x, LLM_FloatTensor:$z,
                            LLM_FloatTensor:$w), NormAttrs,
                       (ins DefaultValuedAttr<BoolAttr, "true">:$norm_before_gate));
  let results = (outs LLM_FloatTensor:$y);
  let assemblyFormat = "$x `,` $z `,` $w attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = NormDecl<"2">.decl;
}

def LLM_QuantFP8Op : LLM_Op<"quant_fp8"> {
  let summary = "Dynamic per-group FP8 (e4m3) quantization along the last dim";
  let description = [{
    Per group of `group_size` elements: `s = max(amax, 1e-10) / 448`,
    `q = fp8(x / s)`. `group_size == D` is per-token quantization.
    `scale_col_major` writes the scales column-major, padded to 4 tokens
    (DeepGEMM's layout, as FlashInfer and vLLM's block-FP8 GEMMs read it):
    scale [D / group_size, T rounded up to 4] with T the product of x's
    leading dims, the padding 0.
  }];
  let arguments = (ins LLM_FloatTensor:$x, I64Attr:$group_size, DefaultValuedAttr<BoolAttr, "false">:$scale_col_major);
  let results = (outs LLM_FP8Tensor:$q, LLM_F32Tensor:$scale);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LLM_QuantFP8StaticOp : LLM_Op<"quant_fp8_static"> {
  let summary = "Per-tensor static FP8 quantization, q = fp8(x / scale)";
  let arguments = (ins LLM_FloatTensor:$x, LLM_F32Tensor:$scale);
  let results = (outs LLM_FP8Tensor:$q);
  let assemblyFormat = "$x `,` $scale attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LLM_TopKOp : LLM_Op<"topk"> {
  let summary = "The k largest values along the last dim, descending";
  let description = [{ Ties go to the lower index. }];
  let arguments = (ins LLM_FloatTensor:$x, I64Attr:$k);
  let results = (outs LLM_FloatTensor:$values, LLM_I32Tensor:$indices);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LLM_GatherOp : LLM_Op<"gather"> {
  let summary = "y[..., j] = x[..., indices[..., j]] along the last dim";
  let arguments = (ins LLM_Tensor:$x, LLM_IndexTensor:$indices);
  let results = (outs LLM_Tensor:$y);
  let assemblyFormat = "$x `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LLM_GroupedTopKOp : LLM_Op<"grouped_topk", [AllTypesMatch<["scores", "biased"]>]> {
  let summary = "DeepSeek-V3 noaux_tc grouped top-k expert routing";
  let description = [{
    On [T, E] f32 inputs: a group's score is the sum of the two largest
    `biased` values in it; the `topk_group` best groups are kept; the `topk`
    experts with the largest `biased` value in kept groups are picked;
    `weights = scores[ids]`, divided by `(sum + 1e-20)` if `renormalize`,
    then times `routed_scaling_factor`. Ties go to the lower index.
  }];
  let arguments = !con((ins LLM_F32Tensor:$scores, LLM_F32Tensor:$biased), RoutingAttrs);
  let results = (outs LLM_F32Tensor:$weights, LLM_I32Tensor:$ids);
  let assemblyFormat = "$scores `,` $biased attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Fused ops
//===----------------------------------------------------------------------===//

def LLM_FusedAllReduceRMSNormOp : LLM_Op<"fused_all_reduce_rms_norm",
    [LLM_NormOpInterface, AllTypesMatch<["x", "y", "all_reduce_out"]>]> {
  let summary = "all_reduce -> rms_norm in one op";
  let description = [{
    ```mlir
    %y, %ar = llm.fused_all_reduce_rms_norm %x, %w {epsilon = 1.0e-06 : f32}
        : (tensor<?x4096xbf16>, tensor<4096xbf16>)
        -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
    ```
    `all_reduce_out` is the sum over ranks; `y = rms_norm(all_reduce_out, w)`.
  }];
  let arguments = !con((ins LLM_FloatTensor:$x, LLM_FloatTensor:$w), NormAttrs);
  let results = (outs LLM_FloatTensor:$y, LLM_FloatTensor:$all_reduce_out);
  let assemblyFormat = "$x `,` $w attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = NormDecl<"1">.decl;
}

def LLM_FusedAllReduceAddRMSNormOp : LLM_Op<"fused_all_reduce_add_rms_norm",
    [LLM_NormOpInterface, AllTypesMatch<["x", "residual", "y", "residual_out"]>]> {
  let summary = "all_reduce -> residual add -> rms_norm in one op";
  let description = [{
    `residual_out = all_reduce(x) + residual`; `y = rms_norm(residual_out, w)`.
  }];
  let arguments = !con((ins LLM_FloatTensor:$x, LLM_FloatTensor:$residual,
                            LLM_FloatTensor:$w), NormAttrs);
  let results = (outs LLM_FloatTensor:$y, LLM_FloatTensor:$residual_out);
  let assemblyFormat = "$x `,` $residual `,` $w attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = NormDecl<"2">.decl;
}

def LLM_FusedRMSNormGatedQuantFP8Op : LLM_Op<"fused_rms_norm_gated_quant_fp8",
    [LLM_NormOpInterface, AllTypesMatch<["x", "z"]>]> {
  let summary = "rms_norm_gated on [N*H, D] -> reshape to [N, H*D] -> quant_fp8";
  let description = [{
    A quantization group never straddles two heads: `group_size` divides D.
    Results: q [N, H*D] in f8E4M3FN and scale [N, H*D / group_size] in f32
    (or column-major, as quant_fp8's `scale_col_major`).
  }];
  let arguments = !con((ins LLM_FloatTensor:$x, LLM_FloatTensor:$z,
                            LLM_FloatTensor:$w), NormAttrs,
                       (ins DefaultValuedAttr<BoolAttr, "true">:$norm_before_gate,
                            I64Attr:$group_size, DefaultValuedAttr<BoolAttr, "false">:$scale_col_major));
  let results = (outs LLM_FP8Tensor:$q, LLM_F32Tensor:$scale);
  let assemblyFormat = "$x `,` $z `,` $w attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = NormDecl<"2">.decl;
}

// The FP8 serving chains: a norm (after a residual add or an all-reduce)
// or SiLU-and-mul, rounded to x's type as the unfused op rounds it, then
// FP8-quantized in the same launch; dynamic per-group (`group_size`, results
// q and scale, `scale_col_major` as quant_fp8's) or static per-tensor (a
// rank-0 f32 `scale` operand).
class LLM_FusedQuantOp<string mnemonic, string what, dag operands, dag outs,
                       list<Trait> traits = []>
    : LLM_Op<mnemonic, traits> {
  let summary = what;
  let arguments = operands;
  let results = outs;
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

class LLM_FusedNormQuantOp<string mnemonic, string what, dag operands, dag outs,
                           string weightIdx>
    : LLM_FusedQuantOp<mnemonic, what, !con(operands, NormAttrs), outs, [LLM_NormOpInterface]> {
  let extraClassDeclaration = NormDecl<weightIdx>.decl;
}

def LLM_FusedRMSNormQuantFP8Op : LLM_FusedNormQuantOp<"fused_rms_norm_quant_fp8",
    "rms_norm -> quant_fp8 in one op",
    (ins LLM_FloatTensor:$x, LLM_FloatTensor:$w, I64Attr:$group_size,
         DefaultValuedAttr<BoolAttr, "false">:$scale_col_major),
    (outs LLM_FP8Tensor:$q, LLM_F32Tensor:$scale), "1">;
def LLM_FusedRMSNormQuantFP8StaticOp : LLM_FusedNormQuantOp<"fused_rms_norm_quant_fp8_static",
    "rms_norm -> quant_fp8_static in one op",
    (ins LLM_FloatTensor:$x, LLM_FloatTensor:$w, LLM_F32Tensor:$scale),
    (outs LLM_FP8Tensor:$q), "1">;
def LLM_FusedAddRMSNormQuantFP8Op : LLM_FusedNormQuantOp<"fused_add_rms_norm_quant_fp8",
    "fused_add_rms_norm -> quant_fp8 in one op",
    (ins LLM_FloatTensor:$x, LLM_FloatTensor:$residual, LLM_FloatTensor:$w, I64Attr:$group_size,
         DefaultValuedAttr<BoolAttr, "false">:$scale_col_major),
    (outs LLM_FP8Tensor:$q, LLM_F32Tensor:$scale, LLM_FloatTensor:$residual_out), "2">;
def LLM_FusedAddRMSNormQuantFP8StaticOp : LLM_FusedNormQuantOp<
    "fused_add_rms_norm_quant_fp8_static", "fused_add_rms_norm -> quant_fp8_static in one op",
    (ins LLM_FloatTensor:$x, LLM_FloatTensor:$residual, LLM_FloatTensor:$w,
         LLM_F32Tensor:$scale),
    (outs LLM_FP8Tensor:$q, LLM_FloatTensor:$residual_out), "2">;
def LLM_FusedAllReduceRMSNormQuantFP8Op : LLM_FusedNormQuantOp<
    "fused_all_reduce_rms_norm_quant_fp8", "fused_all_reduce_rms_norm -> quant_fp8 in one op",
    (ins LLM_FloatTensor:$x, LLM_FloatTensor:$w, I64Attr:$group_size,
         DefaultValuedAttr<BoolAttr, "false">:$scale_col_major),
    (outs LLM_FP8Tensor:$q, LLM_F32Tensor:$scale, LLM_FloatTensor:$all_reduce_out), "1">;
def LLM_FusedAllReduceRMSNormQuantFP8StaticOp : LLM_FusedNormQuantOp<
    "fused_all_reduce_rms_norm_quant_fp8_static",
    "fused_all_reduce_rms_norm -> quant_fp8_static in one op",
    (ins LLM_FloatTensor:$x, LLM_FloatTensor:$w, LLM_F32Tensor:$scale),
    (outs LLM_FP8Tensor:$q, LLM_FloatTensor:$all_reduce_out), "1">;
def LLM_FusedAllReduceAddRMSNormQuantFP8Op : LLM_FusedNormQuantOp<
    "fused_all_reduce_add_rms_norm_quant_fp8",
    "fused_all_reduce_add_rms_norm -> quant_fp8 in one op",
    (ins LLM_FloatTensor:$x, LLM_FloatTensor:$residual, LLM_FloatTensor:$w, I64Attr:$group_size,
         DefaultValuedAttr<BoolAttr, "false">:$scale_col_major),
    (outs LLM_FP8Tensor:$q, LLM_F32Tensor:$scale, LLM_FloatTensor:$residual_out), "2">;
def LLM_FusedAllReduceAddRMSNormQuantFP8StaticOp : LLM_FusedNormQuantOp<
    "fused_all_reduce_add_rms_norm_quant_fp8_static",
    "fused_all_reduce_add_rms_norm -> quant_fp8_static in one op",
    (ins LLM_FloatTensor:$x, LLM_FloatTensor:$residual, LLM_FloatTensor:$w,
         LLM_F32Tensor:$scale),
    (outs LLM_FP8Tensor:$q, LLM_FloatTensor:$residual_out), "2">;
def LLM_FusedSiluMulQuantFP8Op : LLM_FusedQuantOp<"fused_silu_mul_quant_fp8",
    "silu(gate) * up -> quant_fp8 in one op (the MLP's activation before down_proj)",
    (ins LLM_FloatTensor:$gate, LLM_FloatTensor:$up, I64Attr:$group_size,
         DefaultValuedAttr<BoolAttr, "false">:$scale_col_major),
    (outs LLM_FP8Tensor:$q, LLM_F32Tensor:$scale), [AllTypesMatch<["gate", "up"]>]>;
def LLM_FusedSiluMulQuantFP8StaticOp : LLM_FusedQuantOp<"fused_silu_mul_quant_fp8_static",
    "silu(gate) * up -> quant_fp8_static in one op",
    (ins LLM_FloatTensor:$gate, LLM_FloatTensor:$up, LLM_F32Tensor:$scale),
    (outs LLM_FP8Tensor:$q), [AllTypesMatch<["gate", "up"]>]>;

def LLM_FusedMoERouterOp : LLM_Op<"fused_moe_router"> {
  let summary = "cast to f32 -> sigmoid -> add bias -> grouped_topk in one op";
  let description = [{
    `scores = sigmoid(f32(logits))`, `biased = scores + bias`, then
    `grouped_topk(scores, biased)`. Logits may be f32, bf16 or f16.
  }];
  let arguments = !con((ins LLM_FloatTensor:$logits, LLM_F32Tensor:$bias), RoutingAttrs);
  let results = (outs LLM_F32Tensor:$weights, LLM_I32Tensor:$ids);
  let assemblyFormat = "$logits `,` $bias attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LLM_FusedQKRMSNormOp : LLM_Op<"fused_qk_rms_norm",
    [LLM_NormOpInterface, AllTypesMatch<["q", "q_out"]>, AllTypesMatch<["k", "k_out"]>,
     AllElementTypesMatch<["q", "k"]>]> {
  let summary = "Per-head RMSNorm of q and k in one op";
  let description = [{
    q and k are per-head views [T*H, D] of one fused qkv tensor;
    `q_out = rms_norm(q, wq)`, `k_out = rms_norm(k, wk)` with one epsilon and
    weight_bias.
  }];
  let arguments = !con((ins LLM_FloatTensor:$q, LLM_FloatTensor:$k,
                            LLM_FloatTensor:$wq, LLM_FloatTensor:$wk), NormAttrs);
  let results = (outs LLM_FloatTensor:$q_out, LLM_FloatTensor:$k_out);
  let assemblyFormat = "$q `,` $k `,` $wq `,` $wk attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = NormDecl<"2, 3">.decl;
}

#endif // LLM_OPS_TD
