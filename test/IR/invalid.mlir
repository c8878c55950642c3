// Every verifier rule of the llm dialect, one invalid input each, with the
// message a user sees.
// RUN: fusion-opt %s -split-input-file -verify-diagnostics

func.func @norm_weight_size(%x: tensor<8x4096xbf16>, %w: tensor<4095xbf16>) -> tensor<8x4096xbf16> {
  // expected-error @+1 {{expects weight w of size 4096 (the last dim of x), got 4095}}
  %y = "llm.rms_norm"(%x, %w) {epsilon = 1.0e-06 : f32} : (tensor<8x4096xbf16>, tensor<4095xbf16>) -> tensor<8x4096xbf16>
  return %y : tensor<8x4096xbf16>
}

// -----

func.func @norm_weight_rank(%x: tensor<8x64xf32>, %w: tensor<1x64xf32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{expects weight w to be a rank-1 tensor [D], got 'tensor<1x64xf32>'}}
  %y = "llm.rms_norm"(%x, %w) {epsilon = 1.0e-06 : f32} : (tensor<8x64xf32>, tensor<1x64xf32>) -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

func.func @norm_rank0(%x: tensor<f32>, %w: tensor<1xf32>) -> tensor<f32> {
  // expected-error @+1 {{expects x to have rank >= 1 (normalized over its last dim)}}
  %y = "llm.rms_norm"(%x, %w) {epsilon = 1.0e-06 : f32} : (tensor<f32>, tensor<1xf32>) -> tensor<f32>
  return %y : tensor<f32>
}

// -----

func.func @norm_result_type(%x: tensor<8x64xbf16>, %w: tensor<64xbf16>) -> tensor<8x64xf32> {
  // expected-error @+1 {{failed to verify that all of {x, y} have same type}}
  %y = "llm.rms_norm"(%x, %w) {epsilon = 1.0e-06 : f32} : (tensor<8x64xbf16>, tensor<64xbf16>) -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

func.func @norm_negative_epsilon(%x: tensor<8x64xf32>, %w: tensor<64xf32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{expects epsilon to be finite and non-negative, got -1}}
  %y = "llm.rms_norm"(%x, %w) {epsilon = -1.0 : f32} : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

func.func @norm_missing_epsilon(%x: tensor<8x64xf32>, %w: tensor<64xf32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{requires attribute 'epsilon'}}
  %y = "llm.rms_norm"(%x, %w) : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

func.func @norm_epsilon_not_f32(%x: tensor<8x64xf32>, %w: tensor<64xf32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{attribute 'epsilon' failed to satisfy constraint: 32-bit float attribute}}
  %y = "llm.rms_norm"(%x, %w) {epsilon = 1 : i64} : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

func.func @norm_int_input(%x: tensor<8x64xi32>, %w: tensor<64xi32>) -> tensor<8x64xi32> {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values}}
  %y = "llm.rms_norm"(%x, %w) {epsilon = 1.0e-06 : f32} : (tensor<8x64xi32>, tensor<64xi32>) -> tensor<8x64xi32>
  return %y : tensor<8x64xi32>
}

// -----

func.func @add_norm_residual_type(%x: tensor<8x64xbf16>, %r: tensor<8x64xf32>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{failed to verify that all of {x, residual, y, residual_out} have same type}}
  %y, %ro = "llm.fused_add_rms_norm"(%x, %r, %w) {epsilon = 1.0e-06 : f32}
      : (tensor<8x64xbf16>, tensor<8x64xf32>, tensor<64xbf16>) -> (tensor<8x64xbf16>, tensor<8x64xbf16>)
  return
}

// -----

func.func @add_norm_residual_out_type(%x: tensor<8x64xbf16>, %r: tensor<8x64xbf16>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{failed to verify that all of {x, residual, y, residual_out} have same type}}
  %y, %ro = "llm.fused_add_rms_norm"(%x, %r, %w) {epsilon = 1.0e-06 : f32}
      : (tensor<8x64xbf16>, tensor<8x64xbf16>, tensor<64xbf16>) -> (tensor<8x64xbf16>, tensor<8x32xbf16>)
  return
}

// -----

func.func @gated_gate_type(%x: tensor<8x128xbf16>, %z: tensor<8x64xbf16>, %w: tensor<128xbf16>) {
  // expected-error @+1 {{failed to verify that all of {x, z, y} have same type}}
  %y = "llm.rms_norm_gated"(%x, %z, %w) {epsilon = 1.0e-06 : f32}
      : (tensor<8x128xbf16>, tensor<8x64xbf16>, tensor<128xbf16>) -> tensor<8x128xbf16>
  return
}

// -----

func.func @quant_group_divides(%x: tensor<?x4096xbf16>) {
  // expected-error @+1 {{expects group_size 96 to divide the last dim 4096}}
  %q, %s = "llm.quant_fp8"(%x) {group_size = 96 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x42xf32>)
  return
}

// -----

func.func @quant_group_positive(%x: tensor<?x4096xbf16>) {
  // expected-error @+1 {{expects group_size >= 1, got 0}}
  %q, %s = "llm.quant_fp8"(%x) {group_size = 0 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>)
  return
}

// -----

func.func @quant_dynamic_last_dim(%x: tensor<8x?xbf16>) {
  // expected-error @+1 {{expects a static last dim to quantize in groups}}
  %q, %s = "llm.quant_fp8"(%x) {group_size = 128 : i64} : (tensor<8x?xbf16>) -> (tensor<8x?xf8E4M3FN>, tensor<8x?xf32>)
  return
}

// -----

func.func @quant_scale_shape(%x: tensor<?x4096xbf16>) {
  // expected-error @+1 {{expects scale of shape 'tensor<?x32xf32>', got 'tensor<?x16xf32>'}}
  %q, %s = "llm.quant_fp8"(%x) {group_size = 128 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x16xf32>)
  return
}

// -----

func.func @quant_result_not_fp8(%x: tensor<?x4096xbf16>) {
  // expected-error @+1 {{result #0 must be ranked tensor of f8E4M3FN type values}}
  %q, %s = "llm.quant_fp8"(%x) {group_size = 128 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x32xf32>)
  return
}

// -----

func.func @quant_q_shape(%x: tensor<?x4096xbf16>) {
  // expected-error @+1 {{expects q of shape 'tensor<?x4096xf8E4M3FN>', got 'tensor<?x2048xf8E4M3FN>'}}
  %q, %s = "llm.quant_fp8"(%x) {group_size = 128 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x2048xf8E4M3FN>, tensor<?x32xf32>)
  return
}

// -----

func.func @static_quant_scale_rank(%x: tensor<?x4096xbf16>, %s: tensor<1xf32>) {
  // expected-error @+1 {{expects a rank-0 f32 scale, got 'tensor<1xf32>'}}
  %q = "llm.quant_fp8_static"(%x, %s) : (tensor<?x4096xbf16>, tensor<1xf32>) -> tensor<?x4096xf8E4M3FN>
  return
}

// -----

func.func @topk_k_too_large(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{expects k <= the last dim (8), got 9}}
  %v, %i = "llm.topk"(%x) {k = 9 : i64} : (tensor<?x8xf32>) -> (tensor<?x9xf32>, tensor<?x9xi32>)
  return
}

// -----

func.func @topk_indices_i64(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{result #1 must be ranked tensor of 32-bit signless integer values}}
  %v, %i = "llm.topk"(%x) {k = 2 : i64} : (tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi64>)
  return
}

// -----

func.func @gather_leading_dims(%x: tensor<4x256xf32>, %i: tensor<5x8xi32>) {
  // expected-error @+1 {{expects x and indices to agree on every dim but the last}}
  %y = "llm.gather"(%x, %i) : (tensor<4x256xf32>, tensor<5x8xi32>) -> tensor<5x8xf32>
  return
}

// -----

func.func @grouped_topk_divisible(%s: tensor<?x250xf32>) {
  // expected-error @+1 {{expects the expert count 250 to be divisible by n_group 8}}
  %w, %i = "llm.grouped_topk"(%s, %s) {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64, renormalize = true, routed_scaling_factor = 2.5 : f32}
      : (tensor<?x250xf32>, tensor<?x250xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return
}

// -----

func.func @grouped_topk_topk_group(%s: tensor<?x256xf32>) {
  // expected-error @+1 {{expects 1 <= topk_group <= n_group (8), got 9}}
  %w, %i = "llm.grouped_topk"(%s, %s) {n_group = 8 : i64, topk_group = 9 : i64, topk = 8 : i64, renormalize = true, routed_scaling_factor = 2.5 : f32}
      : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return
}

// -----

func.func @grouped_topk_topk_kept(%s: tensor<?x256xf32>) {
  // expected-error @+1 {{expects 1 <= topk <= 64 (the experts in the kept groups), got 65}}
  %w, %i = "llm.grouped_topk"(%s, %s) {n_group = 8 : i64, topk_group = 2 : i64, topk = 65 : i64, renormalize = true, routed_scaling_factor = 2.5 : f32}
      : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x65xf32>, tensor<?x65xi32>)
  return
}

// -----

func.func @grouped_topk_f32_inputs(%s: tensor<?x256xbf16>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float values}}
  %w, %i = "llm.grouped_topk"(%s, %s) {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64, renormalize = true, routed_scaling_factor = 2.5 : f32}
      : (tensor<?x256xbf16>, tensor<?x256xbf16>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return
}

// -----

func.func @grouped_topk_biased_shape(%s: tensor<?x256xf32>, %b: tensor<?x128xf32>) {
  // expected-error @+1 {{failed to verify that all of {scores, biased} have same type}}
  %w, %i = "llm.grouped_topk"(%s, %b) {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64}
      : (tensor<?x256xf32>, tensor<?x128xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return
}

// -----

func.func @grouped_topk_weights_shape(%s: tensor<?x256xf32>) {
  // expected-error @+1 {{expects weights of shape 'tensor<?x8xf32>', got 'tensor<?x4xf32>'}}
  %w, %i = "llm.grouped_topk"(%s, %s) {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64}
      : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x4xf32>, tensor<?x8xi32>)
  return
}

// -----

func.func @reshape_count(%x: tensor<4x128xbf16>) {
  // expected-error @+1 {{expects equal element counts, got 512 ('tensor<4x128xbf16>') and 1024 ('tensor<8x128xbf16>')}}
  %y = "llm.reshape"(%x) : (tensor<4x128xbf16>) -> tensor<8x128xbf16>
  return
}

// -----

func.func @reshape_dynamic_indivisible(%x: tensor<?x100xbf16>) {
  // expected-error @+1 {{cannot reshape 'tensor<?x100xbf16>' to 384 elements ('tensor<3x128xbf16>')}}
  %y = "llm.reshape"(%x) : (tensor<?x100xbf16>) -> tensor<3x128xbf16>
  return
}

// -----

func.func @reshape_element_type(%x: tensor<4x128xbf16>) {
  // expected-error @+1 {{cannot change the element type ('bf16' to 'f32'); use llm.cast}}
  %y = "llm.reshape"(%x) : (tensor<4x128xbf16>) -> tensor<512xf32>
  return
}

// -----

func.func @split_sum(%x: tensor<?x6144xbf16>) {
  // expected-error @+1 {{expects sizes to sum to dim 1 of x (6144), got 6000}}
  %a, %b = "llm.split"(%x) {dim = 1 : i64, sizes = array<i64: 4096, 1904>} : (tensor<?x6144xbf16>) -> (tensor<?x4096xbf16>, tensor<?x1904xbf16>)
  return
}

// -----

func.func @split_result_count(%x: tensor<?x6144xbf16>) {
  // expected-error @+1 {{expects one result per size: 3 sizes but 2 results}}
  %a, %b = "llm.split"(%x) {dim = 1 : i64, sizes = array<i64: 4096, 1024, 1024>} : (tensor<?x6144xbf16>) -> (tensor<?x4096xbf16>, tensor<?x2048xbf16>)
  return
}

// -----

func.func @split_dim_range(%x: tensor<?x6144xbf16>) {
  // expected-error @+1 {{expects dim in [0, 2), got 2}}
  %a = "llm.split"(%x) {dim = 2 : i64, sizes = array<i64: 6144>} : (tensor<?x6144xbf16>) -> (tensor<?x6144xbf16>)
  return
}

// -----

func.func @split_result_shape(%x: tensor<?x6144xbf16>) {
  // expected-error @+1 {{expects result #1 of shape 'tensor<?x2048xbf16>', got 'tensor<?x1024xbf16>'}}
  %a, %b = "llm.split"(%x) {dim = 1 : i64, sizes = array<i64: 4096, 2048>} : (tensor<?x6144xbf16>) -> (tensor<?x4096xbf16>, tensor<?x1024xbf16>)
  return
}

// -----

func.func @add_not_broadcastable(%a: tensor<8x64xf32>, %b: tensor<63xf32>) {
  // expected-error @+1 {{operands are not broadcast-compatible: 'tensor<8x64xf32>' and 'tensor<63xf32>'}}
  %y = "llm.add"(%a, %b) : (tensor<8x64xf32>, tensor<63xf32>) -> tensor<8x64xf32>
  return
}

// -----

func.func @add_result_shape(%a: tensor<8x64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{expects the result to have the broadcast shape 'tensor<8x64xf32>', got 'tensor<64xf32>'}}
  %y = "llm.add"(%a, %b) : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<64xf32>
  return
}

// -----

func.func @add_no_promotion(%a: tensor<8x64xbf16>, %b: tensor<64xf32>) {
  // expected-error @+1 {{requires the same element type for all operands and results}}
  %y = "llm.add"(%a, %b) : (tensor<8x64xbf16>, tensor<64xf32>) -> tensor<8x64xf32>
  return
}

// -----

func.func @mul_fp8(%a: tensor<8xf8E4M3FN>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type or 32-bit signless integer or 64-bit signless integer values}}
  %y = "llm.mul"(%a, %a) : (tensor<8xf8E4M3FN>, tensor<8xf8E4M3FN>) -> tensor<8xf8E4M3FN>
  return
}

// -----

func.func @sigmoid_int(%a: tensor<8xi32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values}}
  %y = "llm.sigmoid"(%a) : (tensor<8xi32>) -> tensor<8xi32>
  return
}

// -----

func.func @unsupported_element_type(%a: tensor<8xf64>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type or f8E4M3FN type or 32-bit signless integer or 64-bit signless integer values}}
  %y = "llm.cast"(%a) : (tensor<8xf64>) -> tensor<8xf32>
  return
}

// -----

func.func @cast_shape(%a: tensor<8x4xbf16>) {
  // expected-error @+1 {{requires the same shape for all operands and results}}
  %y = "llm.cast"(%a) : (tensor<8x4xbf16>) -> tensor<32xf32>
  return
}

// -----

func.func @matmul_contraction(%x: tensor<?x4096xbf16>, %w: tensor<256x4000xbf16>) {
  // expected-error @+1 {{contraction dims disagree: x has K = 4096, w [N, K] has K = 4000}}
  %y = "llm.matmul"(%x, %w) : (tensor<?x4096xbf16>, tensor<256x4000xbf16>) -> tensor<?x256xbf16>
  return
}

// -----

func.func @matmul_dtype(%x: tensor<?x4096xbf16>, %w: tensor<256x4096xf32>) {
  // expected-error @+1 {{expects x and w of one element type, got 'bf16' and 'f32'}}
  %y = "llm.matmul"(%x, %w) : (tensor<?x4096xbf16>, tensor<256x4096xf32>) -> tensor<?x256xbf16>
  return
}

// -----

func.func @matmul_result(%x: tensor<?x4096xbf16>, %w: tensor<4096x256xbf16>) {
  // expected-error @+1 {{expects result of shape 'tensor<?x256xbf16>', got 'tensor<?x4096xbf16>'}}
  %y = "llm.matmul"(%x, %w) {transpose_w = false} : (tensor<?x4096xbf16>, tensor<4096x256xbf16>) -> tensor<?x4096xbf16>
  return
}

// -----

func.func @constant_type() {
  // expected-error @+1 {{failed to verify that all of {value, output} have same type}}
  %c = "llm.constant"() {value = dense<1.0> : tensor<f32>} : () -> tensor<bf16>
  return
}

// -----

func.func @all_reduce_type(%x: tensor<8x64xbf16>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %y = "llm.all_reduce"(%x) : (tensor<8x64xbf16>) -> tensor<8x64xf32>
  return
}

// -----

func.func @fused_ar_norm_out_type(%x: tensor<8x64xbf16>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{failed to verify that all of {x, y, all_reduce_out} have same type}}
  %y, %a = "llm.fused_all_reduce_rms_norm"(%x, %w) {epsilon = 1.0e-06 : f32}
      : (tensor<8x64xbf16>, tensor<64xbf16>) -> (tensor<8x64xbf16>, tensor<8x64xf32>)
  return
}

// -----

func.func @fused_ar_add_norm_weight(%x: tensor<8x64xbf16>, %r: tensor<8x64xbf16>, %w: tensor<32xbf16>) {
  // expected-error @+1 {{expects weight w of size 64 (the last dim of x), got 32}}
  %y, %ro = "llm.fused_all_reduce_add_rms_norm"(%x, %r, %w) {epsilon = 1.0e-06 : f32}
      : (tensor<8x64xbf16>, tensor<8x64xbf16>, tensor<32xbf16>) -> (tensor<8x64xbf16>, tensor<8x64xbf16>)
  return
}

// -----

func.func @fused_gated_quant_straddle(%x: tensor<?x128xbf16>, %w: tensor<128xbf16>) {
  // expected-error @+1 {{expects group_size 256 to divide the head dim 128 (a group never straddles two heads)}}
  %q, %s = "llm.fused_rms_norm_gated_quant_fp8"(%x, %x, %w) {epsilon = 1.0e-06 : f32, group_size = 256 : i64}
      : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x16xf32>)
  return
}

// -----

func.func @fused_gated_quant_rows(%x: tensor<64x128xbf16>, %w: tensor<128xbf16>) {
  // expected-error @+1 {{expects x to have N*H = 4*32 rows, got 64}}
  %q, %s = "llm.fused_rms_norm_gated_quant_fp8"(%x, %x, %w) {epsilon = 1.0e-06 : f32, group_size = 128 : i64}
      : (tensor<64x128xbf16>, tensor<64x128xbf16>, tensor<128xbf16>) -> (tensor<4x4096xf8E4M3FN>, tensor<4x32xf32>)
  return
}

// -----

func.func @fused_gated_quant_heads(%x: tensor<?x128xbf16>, %w: tensor<128xbf16>) {
  // expected-error @+1 {{expects q of shape [..., H*128] with a static last dim, got 'tensor<?x4000xf8E4M3FN>'}}
  %q, %s = "llm.fused_rms_norm_gated_quant_fp8"(%x, %x, %w) {epsilon = 1.0e-06 : f32, group_size = 128 : i64}
      : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xbf16>) -> (tensor<?x4000xf8E4M3FN>, tensor<?x32xf32>)
  return
}

// -----

func.func @fused_gated_quant_scale(%x: tensor<?x128xbf16>, %w: tensor<128xbf16>) {
  // expected-error @+1 {{expects scale of shape 'tensor<?x32xf32>', got 'tensor<?x64xf32>'}}
  %q, %s = "llm.fused_rms_norm_gated_quant_fp8"(%x, %x, %w) {epsilon = 1.0e-06 : f32, group_size = 128 : i64}
      : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x64xf32>)
  return
}

// -----

func.func @router_bias_shape(%l: tensor<?x256xbf16>, %b: tensor<128xf32>) {
  // expected-error @+1 {{expects bias of shape [256] (one per expert), got 'tensor<128xf32>'}}
  %w, %i = "llm.fused_moe_router"(%l, %b) {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64}
      : (tensor<?x256xbf16>, tensor<128xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return
}

// -----

func.func @router_bias_f32(%l: tensor<?x256xbf16>, %b: tensor<256xbf16>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of 32-bit float values}}
  %w, %i = "llm.fused_moe_router"(%l, %b) {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64}
      : (tensor<?x256xbf16>, tensor<256xbf16>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return
}

// -----

func.func @router_ids_type(%l: tensor<?x256xbf16>, %b: tensor<256xf32>) {
  // expected-error @+1 {{expects ids of shape 'tensor<?x8xi32>', got 'tensor<?x6xi32>'}}
  %w, %i = "llm.fused_moe_router"(%l, %b) {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64}
      : (tensor<?x256xbf16>, tensor<256xf32>) -> (tensor<?x8xf32>, tensor<?x6xi32>)
  return
}

// -----

func.func @qk_norm_dtype(%q: tensor<?x128xbf16>, %k: tensor<?x128xf16>, %w: tensor<128xbf16>) {
  // expected-error @+1 {{failed to verify that all of {q, k} have same element type}}
  %a, %b = "llm.fused_qk_rms_norm"(%q, %k, %w, %w) {epsilon = 1.0e-06 : f32}
      : (tensor<?x128xbf16>, tensor<?x128xf16>, tensor<128xbf16>, tensor<128xbf16>) -> (tensor<?x128xbf16>, tensor<?x128xf16>)
  return
}

// -----

func.func @qk_norm_k_weight(%q: tensor<?x128xbf16>, %k: tensor<?x128xbf16>, %wq: tensor<128xbf16>, %wk: tensor<64xbf16>) {
  // expected-error @+1 {{expects weight wk of size 128 (the last dim of k), got 64}}
  %a, %b = "llm.fused_qk_rms_norm"(%q, %k, %wq, %wk) {epsilon = 1.0e-06 : f32}
      : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xbf16>, tensor<64xbf16>) -> (tensor<?x128xbf16>, tensor<?x128xbf16>)
  return
}

// -----

// expected-error @+1 {{'llm.world_size' must be a positive integer, got 0}}
module attributes {llm.world_size = 0 : i64} {
}

// -----

// expected-error @+1 {{'llm.world_size' must be an i64 integer attribute}}
module attributes {llm.world_size = "2"} {
}

// -----

// expected-error @+1 {{unknown llm dialect attribute 'llm.worldsize'}}
module attributes {llm.worldsize = 2 : i64} {
}

// -----

// expected-error @+1 {{'llm.world_size' is only valid on a builtin.module}}
func.func @world_size_on_func() attributes {llm.world_size = 2 : i64} {
  return
}

// -----

// Sizes that overflow 64 bits are rejected, never wrapped (issue 11, class 1).
func.func @tensor_too_large(%x: tensor<1152921504606846977x4xbf16>) -> tensor<1152921504606846977x4xbf16> {
  // expected-error @+1 {{has a tensor 'tensor<1152921504606846977x4xbf16>' larger than 2^63 bytes}}
  %a = llm.relu %x : tensor<1152921504606846977x4xbf16>
  return %a : tensor<1152921504606846977x4xbf16>
}

// -----

func.func @splat_too_large() -> tensor<4611686018427387904xf32> {
  // expected-error @+1 {{larger than 2^63 bytes}}
  %a = llm.constant dense<1.0> : tensor<4611686018427387904xf32>
  return %a : tensor<4611686018427387904xf32>
}

// -----

// Sizes that sum to 2^64 + 8 once wrapped to 8, the extent of x.
func.func @split_sizes_overflow(%x: tensor<8xf8E4M3FN>) {
  // expected-error @+1 {{expects sizes whose sum fits in 64 bits}}
  %a, %b, %c, %d, %e = llm.split %x {dim = 0 : i64, sizes = array<i64: 4611686018427387904, 4611686018427387904, 4611686018427387904, 4611686018427387904, 8>}
      : tensor<8xf8E4M3FN> -> tensor<4611686018427387904xf8E4M3FN>, tensor<4611686018427387904xf8E4M3FN>, tensor<4611686018427387904xf8E4M3FN>, tensor<4611686018427387904xf8E4M3FN>, tensor<8xf8E4M3FN>
  return
}

// -----

func.func @gated_quant_zero_head_dim(%x: tensor<4x0xbf16>, %w: tensor<0xbf16>) {
  // expected-error @+1 {{expects a static head dim D >= 1, got 'tensor<4x0xbf16>'}}
  %q, %s = llm.fused_rms_norm_gated_quant_fp8 %x, %x, %w {epsilon = 1.0e-06 : f32, group_size = 1 : i64}
      : (tensor<4x0xbf16>, tensor<4x0xbf16>, tensor<0xbf16>) -> (tensor<4x0xf8E4M3FN>, tensor<4x0xf32>)
  return
}

// -----

func.func @mean_dim_out_of_range(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{expects dim in [-2, 2), got 2}}
  %m = llm.mean %x {dim = 2 : i64} : (tensor<4x8xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @mean_wrong_result(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{expects result of shape 'tensor<4x1xf32>', got 'tensor<4xf32>'}}
  %m = llm.mean %x {dim = -1 : i64, keepdim = true} : (tensor<4x8xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @pow_infinite_exponent(%x: tensor<4xf32>) {
  // expected-error @+1 {{expects a finite exponent}}
  %p = llm.pow %x {exponent = 0x7F800000 : f32} : tensor<4xf32>
  return
}

// -----

func.func @transpose_not_a_permutation(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{expects a permutation of [0, 2), got 0 out of range or twice}}
  %t = llm.transpose %x {permutation = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @slice_out_of_range(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{expects 0 <= start <= end <= 8, got [4, 9)}}
  %s = llm.slice %x {dim = 1 : i64, start = 4 : i64, end = 9 : i64} : (tensor<2x8xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @concat_mismatched(%a: tensor<2x8xf32>, %b: tensor<3x8xf32>) {
  // expected-error @+1 {{expects inputs to agree on every dim but 1}}
  %c = llm.concat %a, %b {dim = 1 : i64} : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<2x16xf32>
  return
}

// -----

func.func @softmax_dim_out_of_range(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{expects dim in [-2, 2), got 2}}
  %s = llm.softmax %x {dim = 2 : i64} : tensor<4x8xf32>
  return
}

// -----

func.func @sum_wrong_result(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{expects result of shape 'tensor<4x1xf32>', got 'tensor<4xf32>'}}
  %s = llm.sum %x {dim = 1 : i64, keepdim = true} : (tensor<4x8xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @select_mixed_types(%c: tensor<4xf32>, %a: tensor<4xbf16>, %b: tensor<4xf32>) {
  // expected-error @+1 {{expects a, b and the result to have one element type}}
  %s = llm.select %c, %a, %b : (tensor<4xf32>, tensor<4xbf16>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @select_not_broadcastable(%c: tensor<3xf32>, %a: tensor<4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{operands are not broadcast-compatible}}
  %s = llm.select %c, %a, %b : (tensor<3xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @broadcast_not_broadcastable(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{cannot broadcast 'tensor<4x3xf32>' to 'tensor<4x6xf32>': dim 1 is 3}}
  %b = llm.broadcast %x : tensor<4x3xf32> to tensor<4x6xf32>
  return
}

// -----

func.func @broadcast_dynamic_from_one(%x: tensor<1x3xf32>) {
  // expected-error @+1 {{expects every dynamic result dim to be one of x's}}
  %b = llm.broadcast %x : tensor<1x3xf32> to tensor<?x3xf32>
  return
}

// -----

func.func @scatter_rows_disagree(%x: tensor<4x8xf32>, %i: tensor<3x2xi32>) {
  // expected-error @+1 {{expects x and indices to agree on every dim but the last}}
  %s = llm.scatter %x, %i {value = 1.0 : f32} : (tensor<4x8xf32>, tensor<3x2xi32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_fp8_k_mismatch(%x: tensor<4x256xf8E4M3FN>, %w: tensor<128x128xf8E4M3FN>, %s: tensor<f32>) {
  // expected-error @+1 {{expects a static K shared by x and w [N, K]}}
  %y = llm.matmul_fp8 %x, %s, %w, %s : (tensor<4x256xf8E4M3FN>, tensor<f32>, tensor<128x128xf8E4M3FN>, tensor<f32>) -> tensor<4x128xbf16>
  return
}

// -----

func.func @matmul_fp8_mixed_scales(%x: tensor<4x256xf8E4M3FN>, %w: tensor<128x256xf8E4M3FN>, %xs: tensor<4x2xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{expects per-tensor scales (rank 0, rank 0), per-token and channel}}
  %y = llm.matmul_fp8 %x, %xs, %w, %s : (tensor<4x256xf8E4M3FN>, tensor<4x2xf32>, tensor<128x256xf8E4M3FN>, tensor<f32>) -> tensor<4x128xbf16>
  return
}

// -----

func.func @quant_col_major_row_shape(%x: tensor<5x4096xbf16>) {
  // expected-error @+1 {{expects scale of shape 'tensor<32x8xf32>', got 'tensor<5x32xf32>'}}
  %q, %s = llm.quant_fp8 %x {group_size = 128 : i64, scale_col_major = true} : (tensor<5x4096xbf16>) -> (tensor<5x4096xf8E4M3FN>, tensor<5x32xf32>)
  return
}

// -----

func.func @fused_col_major_unpadded(%x: tensor<5x4096xbf16>, %w: tensor<4096xbf16>) {
  // expected-error @+1 {{expects scale of shape 'tensor<32x8xf32>', got 'tensor<32x5xf32>'}}
  %q, %s, %r = llm.fused_add_rms_norm_quant_fp8 %x, %x, %w {epsilon = 1.0e-6 : f32, group_size = 128 : i64, scale_col_major = true} : (tensor<5x4096xbf16>, tensor<5x4096xbf16>, tensor<4096xbf16>) -> (tensor<5x4096xf8E4M3FN>, tensor<32x5xf32>, tensor<5x4096xbf16>)
  return
}

// -----

func.func @matmul_fp8_col_major_row_scales(%x: tensor<5x256xf8E4M3FN>, %w: tensor<128x256xf8E4M3FN>, %xs: tensor<5x2xf32>, %ws: tensor<1x2xf32>) {
  // expected-error @+1 {{expects with x_scale_col_major 128-block scales: x_scale [2, T rounded up to 4] and w_scale [1, 2]}}
  %y = llm.matmul_fp8 %x, %xs, %w, %ws {x_scale_col_major = true} : (tensor<5x256xf8E4M3FN>, tensor<5x2xf32>, tensor<128x256xf8E4M3FN>, tensor<1x2xf32>) -> tensor<5x128xbf16>
  return
}

// -----

func.func @matmul_fp8_col_major_per_tensor(%x: tensor<4x256xf8E4M3FN>, %w: tensor<128x256xf8E4M3FN>, %s: tensor<f32>) {
  // expected-error @+1 {{expects with x_scale_col_major 128-block scales}}
  %y = llm.matmul_fp8 %x, %s, %w, %s {x_scale_col_major = true} : (tensor<4x256xf8E4M3FN>, tensor<f32>, tensor<128x256xf8E4M3FN>, tensor<f32>) -> tensor<4x128xbf16>
  return
}
