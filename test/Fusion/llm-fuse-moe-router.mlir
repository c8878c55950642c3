// RUN: fusion-opt %s -split-input-file -llm-fuse-moe-router=remarks=true -verify-diagnostics | FileCheck %s

// DeepSeek-V3: bf16 logits, 256 experts, 8 groups, 4 kept, top 8, scale 2.5.
// CHECK-LABEL: func.func @fuse_router_deepseek_v3
// CHECK-SAME: (%[[L:.+]]: tensor<?x256xbf16>, %[[B:.+]]: tensor<256xf32>)
// CHECK-NEXT: %[[W:.+]], %[[I:.+]] = llm.fused_moe_router %[[L]], %[[B]] {n_group = 8 : i64, renormalize = true, routed_scaling_factor = 2.500000e+00 : f32, topk = 8 : i64, topk_group = 4 : i64} : (tensor<?x256xbf16>, tensor<256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
// CHECK-NEXT: return %[[W]], %[[I]]
func.func @fuse_router_deepseek_v3(%logits: tensor<?x256xbf16>, %bias: tensor<256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>) {
  %f = llm.cast %logits : tensor<?x256xbf16> to tensor<?x256xf32>
  %s = llm.sigmoid %f : tensor<?x256xf32>
  %b = llm.add %s, %bias : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
  %w, %i = llm.grouped_topk %s, %b {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64, renormalize = true, routed_scaling_factor = 2.5 : f32}
      : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return %w, %i : tensor<?x8xf32>, tensor<?x8xi32>
}

// -----

// Kimi-K2: f16 logits, 384 experts in one group, bias added first.
// CHECK-LABEL: func.func @fuse_router_kimi_k2
// CHECK: llm.fused_moe_router %{{.+}}, %{{.+}} {n_group = 1 : i64, renormalize = true, routed_scaling_factor = 2.827000e+00 : f32, topk = 8 : i64, topk_group = 1 : i64} : (tensor<?x384xf16>, tensor<384xf32>)
// CHECK-NOT: llm.sigmoid
func.func @fuse_router_kimi_k2(%logits: tensor<?x384xf16>, %bias: tensor<384xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>) {
  %f = llm.cast %logits : tensor<?x384xf16> to tensor<?x384xf32>
  %s = llm.sigmoid %f : tensor<?x384xf32>
  %b = llm.add %bias, %s : (tensor<384xf32>, tensor<?x384xf32>) -> tensor<?x384xf32>
  %w, %i = llm.grouped_topk %s, %b {n_group = 1 : i64, topk_group = 1 : i64, topk = 8 : i64, renormalize = true, routed_scaling_factor = 2.827 : f32}
      : (tensor<?x384xf32>, tensor<?x384xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return %w, %i : tensor<?x8xf32>, tensor<?x8xi32>
}

// -----

// GLM-4.5-Air: logits already f32 (no cast), 128 experts, scale 1.0.
// CHECK-LABEL: func.func @fuse_router_glm45_air_f32
// CHECK: llm.fused_moe_router %{{.+}}, %{{.+}} {n_group = 1 : i64, renormalize = true, topk = 8 : i64, topk_group = 1 : i64} : (tensor<?x128xf32>, tensor<128xf32>)
func.func @fuse_router_glm45_air_f32(%logits: tensor<?x128xf32>, %bias: tensor<128xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>) {
  %s = llm.sigmoid %logits : tensor<?x128xf32>
  %b = llm.add %s, %bias : (tensor<?x128xf32>, tensor<128xf32>) -> tensor<?x128xf32>
  %w, %i = llm.grouped_topk %s, %b {n_group = 1 : i64, topk_group = 1 : i64, topk = 8 : i64, renormalize = true, routed_scaling_factor = 1.0 : f32}
      : (tensor<?x128xf32>, tensor<?x128xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return %w, %i : tensor<?x8xf32>, tensor<?x8xi32>
}

// -----

// The sigmoid runs in bf16 and is then cast: a different function.
// CHECK-LABEL: func.func @no_fuse_sigmoid_in_bf16
// CHECK: llm.sigmoid %{{.+}} : tensor<?x256xbf16>
// CHECK: llm.grouped_topk
func.func @no_fuse_sigmoid_in_bf16(%logits: tensor<?x256xbf16>, %bias: tensor<256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>) {
  %s16 = llm.sigmoid %logits : tensor<?x256xbf16>
  %s = llm.cast %s16 : tensor<?x256xbf16> to tensor<?x256xf32>
  %b = llm.add %s, %bias : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
  // expected-remark @+1 {{missed fusion MoERouter (llm-fuse-moe-router): the sigmoid is computed in bf16 before the cast to f32; fusing would change the numerics}}
  %w, %i = llm.grouped_topk %s, %b {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64, renormalize = true, routed_scaling_factor = 2.5 : f32}
      : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return %w, %i : tensor<?x8xf32>, tensor<?x8xi32>
}

// -----

// The sigmoid scores are also used elsewhere (e.g. an auxiliary loss).
// CHECK-LABEL: func.func @no_fuse_scores_used
// CHECK: llm.grouped_topk
func.func @no_fuse_scores_used(%logits: tensor<?x256xbf16>, %bias: tensor<256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>, tensor<?x256xf32>) {
  %f = llm.cast %logits : tensor<?x256xbf16> to tensor<?x256xf32>
  %s = llm.sigmoid %f : tensor<?x256xf32>
  %b = llm.add %s, %bias : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
  // expected-remark @+1 {{missed fusion MoERouter (llm-fuse-moe-router): the sigmoid scores has users outside the chain}}
  %w, %i = llm.grouped_topk %s, %b {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64, renormalize = true, routed_scaling_factor = 2.5 : f32}
      : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return %w, %i, %s : tensor<?x8xf32>, tensor<?x8xi32>, tensor<?x256xf32>
}

// -----

// The biased scores are also used elsewhere.
// CHECK-LABEL: func.func @no_fuse_biased_used
// CHECK: llm.grouped_topk
func.func @no_fuse_biased_used(%logits: tensor<?x256xf32>, %bias: tensor<256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>, tensor<?x256xf32>) {
  %s = llm.sigmoid %logits : tensor<?x256xf32>
  %b = llm.add %s, %bias : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
  // expected-remark @+1 {{missed fusion MoERouter (llm-fuse-moe-router): the biased scores has users outside the chain}}
  %w, %i = llm.grouped_topk %s, %b {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64, renormalize = true, routed_scaling_factor = 2.5 : f32}
      : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return %w, %i, %b : tensor<?x8xf32>, tensor<?x8xi32>, tensor<?x256xf32>
}

// -----

// The f32 logits are also used elsewhere: the cast stays for that user and
// the router fuses on the f32 logits.
// CHECK-LABEL: func.func @fuse_router_cast_used_elsewhere
// CHECK: %[[F:.+]] = llm.cast
// CHECK: llm.fused_moe_router %[[F]], %{{.+}} {{.+}} : (tensor<?x256xf32>, tensor<256xf32>)
// CHECK-NOT: llm.sigmoid
func.func @fuse_router_cast_used_elsewhere(%logits: tensor<?x256xbf16>, %bias: tensor<256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>, tensor<?x256xf32>) {
  %f = llm.cast %logits : tensor<?x256xbf16> to tensor<?x256xf32>
  %s = llm.sigmoid %f : tensor<?x256xf32>
  %b = llm.add %s, %bias : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
  %w, %i = llm.grouped_topk %s, %b {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64, renormalize = true, routed_scaling_factor = 2.5 : f32}
      : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return %w, %i, %f : tensor<?x8xf32>, tensor<?x8xi32>, tensor<?x256xf32>
}

// -----

// A [1, E] bias is not the fused op's [E] bias.
// CHECK-LABEL: func.func @no_fuse_bias_shape
// CHECK: llm.grouped_topk
func.func @no_fuse_bias_shape(%logits: tensor<?x256xf32>, %bias: tensor<1x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>) {
  %s = llm.sigmoid %logits : tensor<?x256xf32>
  %b = llm.add %s, %bias : (tensor<?x256xf32>, tensor<1x256xf32>) -> tensor<?x256xf32>
  // expected-remark @+1 {{missed fusion MoERouter (llm-fuse-moe-router): the bias tensor<1x256xf32> is not an f32 tensor [256] with one value per expert}}
  %w, %i = llm.grouped_topk %s, %b {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64, renormalize = true, routed_scaling_factor = 2.5 : f32}
      : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return %w, %i : tensor<?x8xf32>, tensor<?x8xi32>
}
