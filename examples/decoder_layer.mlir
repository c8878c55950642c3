// One rank's graph of a tensor-parallel (TP=2) MoE decoder layer, as an
// importer produces it (unfused): Qwen3-style attention block with per-head
// Q/K RMSNorm read out of the fused qkv projection, DeepSeek-V3-style
// sigmoid + bias grouped top-k routing, a shared-expert MLP, and Qwen3-Next's
// gated RMSNorm + FP8 group quantization of a linear-attention output.
//
// Attention itself is outside the graph (as in vLLM's piecewise graphs): the
// layer takes the attention output as an argument. Per rank: 16 of 32 query
// heads and 4 of 8 KV heads, head dim 128, hidden 4096, 256 routed experts.
module attributes {llm.world_size = 2 : i64} {

  /// Pre-attention: input norm fused with the residual add, qkv projection,
  /// per-head Q/K norm.
  func.func @attention_in(%hidden: tensor<?x4096xbf16>, %residual: tensor<?x4096xbf16>,
                          %ln_w: tensor<4096xbf16>, %qkv_w: tensor<3072x4096xbf16>,
                          %q_norm_w: tensor<128xbf16>, %k_norm_w: tensor<128xbf16>)
      -> (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?x512xbf16>, tensor<?x4096xbf16>) {
    %sum = llm.add %hidden, %residual : (tensor<?x4096xbf16>, tensor<?x4096xbf16>) -> tensor<?x4096xbf16>
    %normed = llm.rms_norm %sum, %ln_w {epsilon = 1.0e-06 : f32}
        : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
    %qkv = llm.matmul %normed, %qkv_w : (tensor<?x4096xbf16>, tensor<3072x4096xbf16>) -> tensor<?x3072xbf16>
    %q, %k, %v = llm.split %qkv {dim = 1 : i64, sizes = array<i64: 2048, 512, 512>}
        : tensor<?x3072xbf16> -> tensor<?x2048xbf16>, tensor<?x512xbf16>, tensor<?x512xbf16>
    %q_heads = llm.reshape %q : tensor<?x2048xbf16> to tensor<?x128xbf16>
    %k_heads = llm.reshape %k : tensor<?x512xbf16> to tensor<?x128xbf16>
    %q_normed = llm.rms_norm %q_heads, %q_norm_w {epsilon = 1.0e-06 : f32}
        : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
    %k_normed = llm.rms_norm %k_heads, %k_norm_w {epsilon = 1.0e-06 : f32}
        : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
    return %q_normed, %k_normed, %v, %sum
        : tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?x512xbf16>, tensor<?x4096xbf16>
  }

  /// Post-attention: output projection, all-reduce, residual add + norm, MoE
  /// routing and the shared expert, all-reduce, next layer's residual norm.
  func.func @attention_out_moe(%attn: tensor<?x2048xbf16>, %residual: tensor<?x4096xbf16>,
                               %o_w: tensor<4096x2048xbf16>, %post_ln_w: tensor<4096xbf16>,
                               %router_w: tensor<256x4096xbf16>, %router_bias: tensor<256xf32>,
                               %gate_up_w: tensor<2048x4096xbf16>, %down_w: tensor<4096x1024xbf16>,
                               %next_ln_w: tensor<4096xbf16>)
      -> (tensor<?x8xf32>, tensor<?x8xi32>, tensor<?x4096xbf16>, tensor<?x4096xbf16>) {
    %o = llm.matmul %attn, %o_w : (tensor<?x2048xbf16>, tensor<4096x2048xbf16>) -> tensor<?x4096xbf16>
    %o_sum = llm.all_reduce %o : tensor<?x4096xbf16>
    %h, %res1 = llm.fused_add_rms_norm %o_sum, %residual, %post_ln_w {epsilon = 1.0e-06 : f32}
        : (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)

    // Routing: sigmoid in f32, bias only for the choice (DeepSeek-V3 noaux_tc).
    %logits = llm.matmul %h, %router_w : (tensor<?x4096xbf16>, tensor<256x4096xbf16>) -> tensor<?x256xbf16>
    %logits_f32 = llm.cast %logits : tensor<?x256xbf16> to tensor<?x256xf32>
    %scores = llm.sigmoid %logits_f32 : tensor<?x256xf32>
    %biased = llm.add %scores, %router_bias : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
    %weights, %ids = llm.grouped_topk %scores, %biased {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64,
                                                         renormalize = true, routed_scaling_factor = 2.5 : f32}
        : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)

    // Shared expert: SwiGLU MLP, row-parallel down projection.
    %gate_up = llm.matmul %h, %gate_up_w : (tensor<?x4096xbf16>, tensor<2048x4096xbf16>) -> tensor<?x2048xbf16>
    %gate, %up = llm.split %gate_up {dim = 1 : i64, sizes = array<i64: 1024, 1024>}
        : tensor<?x2048xbf16> -> tensor<?x1024xbf16>, tensor<?x1024xbf16>
    %act = llm.silu %gate : tensor<?x1024xbf16>
    %prod = llm.mul %act, %up : (tensor<?x1024xbf16>, tensor<?x1024xbf16>) -> tensor<?x1024xbf16>
    %down = llm.matmul %prod, %down_w : (tensor<?x1024xbf16>, tensor<4096x1024xbf16>) -> tensor<?x4096xbf16>
    %mlp = llm.all_reduce %down : tensor<?x4096xbf16>

    // Next layer's input norm, with the residual carried on.
    %res2 = llm.add %mlp, %res1 : (tensor<?x4096xbf16>, tensor<?x4096xbf16>) -> tensor<?x4096xbf16>
    %next = llm.rms_norm %res2, %next_ln_w {epsilon = 1.0e-06 : f32}
        : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
    return %weights, %ids, %next, %res2
        : tensor<?x8xf32>, tensor<?x8xi32>, tensor<?x4096xbf16>, tensor<?x4096xbf16>
  }

  /// Qwen3-Next gated delta net output: gated RMSNorm per head (16 heads of
  /// 128 per rank), back to tokens, FP8 quantization in groups of 128 for the
  /// FP8 output projection.
  func.func @gated_delta_net_out(%core: tensor<?x128xbf16>, %z: tensor<?x128xbf16>,
                                 %norm_w: tensor<128xf32>)
      -> (tensor<?x2048xf8E4M3FN>, tensor<?x16xf32>) {
    %g = llm.rms_norm_gated %core, %z, %norm_w {epsilon = 1.0e-06 : f32}
        : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xf32>) -> tensor<?x128xbf16>
    %tokens = llm.reshape %g : tensor<?x128xbf16> to tensor<?x2048xbf16>
    %q, %scale = llm.quant_fp8 %tokens {group_size = 128 : i64}
        : (tensor<?x2048xbf16>) -> (tensor<?x2048xf8E4M3FN>, tensor<?x16xf32>)
    return %q, %scale : tensor<?x2048xf8E4M3FN>, tensor<?x16xf32>
  }
}
