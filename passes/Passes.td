//===- Passes.td - llm-fusion passes -----------------------*- tablegen -*-===//
//
// Every pass of the fusion pipeline. Each family is its own pass with its own
// flag; `--llm-fusion-pipeline` (Pipeline.cpp) runs them in order.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_PASSES_TD
#define LLM_FUSION_PASSES_TD

include "mlir/Pass/PassBase.td"

// Options every fusion family shares.
// Anchored on func.func: functions fuse in parallel, and each reads its
// module's llm.world_size (an attribute no pass writes).
class FusionPass<string flag, string summaryText> : Pass<flag, "::mlir::func::FuncOp"> {
  let summary = summaryText;
  let dependentDialects = ["::mlir::llm::LLMDialect", "::mlir::func::FuncDialect", "::mlir::pdl::PDLDialect",
                           "::mlir::pdl_interp::PDLInterpDialect"];
  let options = [
    Option<"emitRemarks", "remarks", "bool", "false",
           "Emit a missed-fusion remark for every near miss (pattern, reason, location)">,
  ];
  let statistics = [
    Statistic<"numFused", "num-fused", "Chains fused">,
    Statistic<"numMissed", "num-missed", "Near misses (chains that failed one check)">,
  ];
}

def LLMRaiseNorms : FusionPass<"llm-raise-norms",
    "Raise decomposed RMSNorms (what torch.export writes) to rms_norm"> {
  let description = [{
    Imported graphs hold an RMSNorm as its arithmetic: a cast to f32, pow 2,
    a mean over the last dim with keepdim, + epsilon, rsqrt, a multiply, a
    cast back and the weight multiply (Llama, Qwen3; an f32 input has no
    casts). The pass raises each such chain to one `rms_norm` with the
    epsilon of the constant, so the fusion families meet it. The raised op
    rounds once where the chain rounds the normalized value before the weight
    multiply. A chain that fails a check (pow not 2, mean not over the last
    dim, epsilon not a constant, other users of an intermediate) gets a
    missed-fusion remark `RaiseRMSNorm`.

    Before:
    ```mlir
    %xf = llm.cast %x : tensor<?x64xbf16> to tensor<?x64xf32>
    %sq = llm.pow %xf {exponent = 2.0 : f32} : tensor<?x64xf32>
    %ms = llm.mean %sq {dim = -1 : i64, keepdim = true} : (tensor<?x64xf32>) -> tensor<?x1xf32>
    %ve = llm.add %ms, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
    %r = llm.rsqrt %ve : tensor<?x1xf32>
    %n = llm.mul %xf, %r : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
    %nb = llm.cast %n : tensor<?x64xf32> to tensor<?x64xbf16>
    %y = llm.mul %w, %nb : (tensor<64xbf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
    ```
    After:
    ```mlir
    %y = llm.rms_norm %x, %w {epsilon = 1.0e-06 : f32} : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
    ```
  }];
}

def LLMFusionCleanup : FusionPass<"llm-fusion-cleanup",
    "Canonicalize reshapes, casts, world-size-1 all-reduces, add+norm and Gemma weights"> {
  let description = [{
    Makes real graphs match the fusion patterns: folds consecutive reshapes,
    removes identity reshapes and casts, drops `all_reduce` when the module's
    `llm.world_size` is 1, turns `add -> rms_norm` into `fused_add_rms_norm`
    (the sum is returned as `residual_out` for the next residual), and folds
    Gemma's weight, `cast(w) to f32` then `add 1.0` (or `add 1.0` in w's type),
    into `weight_bias = 1.0` on the norm.

    Before:
    ```mlir
    %wf = llm.cast %w : tensor<4096xbf16> to tensor<4096xf32>
    %w1 = llm.add %wf, %one : (tensor<4096xf32>, tensor<f32>) -> tensor<4096xf32>
    %s = llm.add %x, %r : (tensor<?x4096xbf16>, tensor<?x4096xbf16>) -> tensor<?x4096xbf16>
    %y = llm.rms_norm %s, %w1 {epsilon = 1.0e-06 : f32} : (...) -> tensor<?x4096xbf16>
    ```
    After:
    ```mlir
    %y, %s = llm.fused_add_rms_norm %x, %r, %w {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32} : (...) -> (...)
    ```
  }];
}

def LLMFuseAllReduceNorm : FusionPass<"llm-fuse-allreduce-norm",
    "Fuse all_reduce with the RMSNorm (and residual add) that follows it"> {
  let description = [{
    `all_reduce -> rms_norm` becomes `fused_all_reduce_rms_norm` (which also
    returns the all-reduce result, so it may have other users);
    `all_reduce -> fused_add_rms_norm` and `all_reduce -> add -> rms_norm`
    become `fused_all_reduce_add_rms_norm`. Gemma weights (`weight_bias = 1`,
    or still written as `cast(w) + 1`) fuse too. The norm's input and weight
    element types must match (vLLM's `_norm_input_weight_dtype_match`): a bf16
    input with a plain f32 weight stays unfused.

    Before:
    ```mlir
    %a = llm.all_reduce %x : tensor<?x4096xbf16>
    %y, %r2 = llm.fused_add_rms_norm %a, %r, %w {epsilon = 1.0e-06 : f32} : (...) -> (...)
    ```
    After:
    ```mlir
    %y, %r2 = llm.fused_all_reduce_add_rms_norm %x, %r, %w {epsilon = 1.0e-06 : f32} : (...) -> (...)
    ```
  }];
}

def LLMFuseGatedNormQuant : FusionPass<"llm-fuse-gated-norm-quant",
    "Fuse gated RMSNorm, the reshape back to tokens and FP8 group quantization"> {
  let description = [{
    `rms_norm_gated` on [N*H, D] -> reshapes to [N, H*D] -> `quant_fp8
    {group_size}` becomes `fused_rms_norm_gated_quant_fp8` when group_size
    divides D (no group straddles two heads). Static per-tensor quantization,
    other group sizes, and a gated output or reshape with other users are not
    fused.

    Before:
    ```mlir
    %g = llm.rms_norm_gated %x, %z, %w {epsilon = 1.0e-06 : f32} : (...) -> tensor<?x128xbf16>
    %t = llm.reshape %g : tensor<?x128xbf16> to tensor<?x4096xbf16>
    %q, %s = llm.quant_fp8 %t {group_size = 128 : i64} : (...) -> (...)
    ```
    After:
    ```mlir
    %q, %s = llm.fused_rms_norm_gated_quant_fp8 %x, %z, %w {epsilon = 1.0e-06 : f32, group_size = 128 : i64} : (...) -> (...)
    ```
  }];
}

def LLMFuseMoERouter : FusionPass<"llm-fuse-moe-router",
    "Fuse cast + sigmoid + bias + grouped top-k MoE routing"> {
  let description = [{
    `cast` to f32 -> `sigmoid` -> `add` bias -> `grouped_topk` (or the same
    without the cast for f32 logits) becomes `fused_moe_router`. A sigmoid
    computed in bf16/f16 before the cast is not fused (fusing would change the
    numerics), nor are scores or biased scores used outside the chain.

    Before:
    ```mlir
    %f = llm.cast %logits : tensor<?x256xbf16> to tensor<?x256xf32>
    %s = llm.sigmoid %f : tensor<?x256xf32>
    %b = llm.add %s, %bias : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
    %w, %i = llm.grouped_topk %s, %b {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64} : (...) -> (...)
    ```
    After:
    ```mlir
    %w, %i = llm.fused_moe_router %logits, %bias {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64} : (...) -> (...)
    ```
  }];
}

def LLMFuseQKNorm : FusionPass<"llm-fuse-qk-norm",
    "Fuse the per-head RMSNorms of q and k split out of one qkv tensor"> {
  let description = [{
    The `rms_norm` of q and the `rms_norm` of k, each reached through a
    `reshape` to [T*H, D] from results 0 and 1 of one `split` of a fused qkv
    tensor, with equal epsilon and weight_bias, become one `fused_qk_rms_norm`.
    A lone norm does not match.

    Before:
    ```mlir
    %q, %k, %v = llm.split %qkv {dim = 1 : i64, sizes = array<i64: 4096, 1024, 1024>} : ...
    %qh = llm.reshape %q : tensor<?x4096xbf16> to tensor<?x128xbf16>
    %kh = llm.reshape %k : tensor<?x1024xbf16> to tensor<?x128xbf16>
    %qn = llm.rms_norm %qh, %wq {epsilon = 1.0e-06 : f32} : (...) -> tensor<?x128xbf16>
    %kn = llm.rms_norm %kh, %wk {epsilon = 1.0e-06 : f32} : (...) -> tensor<?x128xbf16>
    ```
    After:
    ```mlir
    %qn, %kn = llm.fused_qk_rms_norm %qh, %kh, %wq, %wk {epsilon = 1.0e-06 : f32} : (...) -> (...)
    ```
  }];
}

def LLMFuseNormQuant : FusionPass<"llm-fuse-norm-quant",
    "Fuse the FP8 serving chains: norm or SiLU-and-mul, then FP8 quantization"> {
  let description = [{
    The quantization in front of an FP8 linear takes its producer into one
    op: `rms_norm`, `fused_add_rms_norm`, `fused_all_reduce_rms_norm` or
    `fused_all_reduce_add_rms_norm` (the norm's first result), or
    `silu(gate) * up` (either operand order), followed by `quant_fp8`
    (dynamic per group, per token when the group is the row) or
    `quant_fp8_static`. The fused op rounds the value to x's type where the
    unfused graph stores it, then quantizes, and returns the pass-through
    result (residual_out, all_reduce_out). A norm output or SiLU-and-mul
    product with other users is not fused (the fused op does not return
    it), nor is a broadcast product. Runs after the all-reduce family, whose
    fused ops it extends.

    Before:
    ```mlir
    %y, %r = llm.fused_add_rms_norm %x, %res, %w {epsilon = 1.0e-06 : f32} : (...) -> (...)
    %q, %s = llm.quant_fp8 %y {group_size = 128 : i64} : (tensor<?x7168xbf16>) -> (...)
    ```
    After:
    ```mlir
    %q, %s, %r = llm.fused_add_rms_norm_quant_fp8 %x, %res, %w {epsilon = 1.0e-06 : f32, group_size = 128 : i64} : (...) -> (...)
    ```
  }];
}

def LLMFP8ScaleLayout : Pass<"llm-fp8-scale-layout", "::mlir::func::FuncOp"> {
  let summary = "Give each FP8 quantization the scale layout its linears read";
  let description = [{
    A dynamic FP8 quantization (`quant_fp8` and every fused op that ends in
    one) writes its scales row-major `[..., D / group_size]` (the contract)
    or, with `scale_col_major`, column-major `[D / group_size, T rounded up
    to 4]` (DeepGEMM's layout: what FlashInfer's and vLLM's block-FP8 GEMMs
    read, and the order cuBLASLt reads 1x128 activation scales in, so the
    runtime's FP8 linear skips its transpose). Where every user of the
    scales is a `matmul_fp8` reading them as `x_scale` (block mode), the
    producer and those linears switch to `layout`; scales with any other
    user (a function result, another op) keep theirs. Not in
    `--llm-fusion-pipeline`; run it after (fused producers carry the
    attribute) or before (the fusions copy it).

    Before:
    ```mlir
    %q, %s = llm.quant_fp8 %y {group_size = 128 : i64} : (tensor<6x7168xbf16>) -> (tensor<6x7168xf8E4M3FN>, tensor<6x56xf32>)
    %o = llm.matmul_fp8 %q, %s, %w, %ws : (..., tensor<6x56xf32>, ...) -> tensor<6x256xbf16>
    ```
    After (`layout=col-major`, the default):
    ```mlir
    %q, %s = llm.quant_fp8 %y {group_size = 128 : i64, scale_col_major = true} : (tensor<6x7168xbf16>) -> (tensor<6x7168xf8E4M3FN>, tensor<56x8xf32>)
    %o = llm.matmul_fp8 %q, %s, %w, %ws {x_scale_col_major = true} : (..., tensor<56x8xf32>, ...) -> tensor<6x256xbf16>
    ```
  }];
  let dependentDialects = ["::mlir::llm::LLMDialect"];
  let options = [
    Option<"layout", "layout", "std::string", "\"col-major\"",
           "The layout to give scales that only FP8 linears read: col-major or row-major">,
  ];
  let statistics = [
    Statistic<"numChanged", "num-changed", "Quantizations whose scale layout changed">,
    Statistic<"numKept", "num-kept", "Quantizations kept: their scales have another user">,
  ];
}

#endif // LLM_FUSION_PASSES_TD
