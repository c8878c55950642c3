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

// -----

// DeepSeek-V3's router as torch.export decomposes it (an f32 linear's
// logits, sigmoid, + bias, the grouped top-k spelled out, renormalized and
// scaled): raised to grouped_topk, then fused with sigmoid and bias.
// CHECK-LABEL: func.func @fuse_decomposed_grouped_topk
// CHECK: llm.fused_moe_router %{{.+}}, %{{.+}} {n_group = 4 : i64, renormalize = true, routed_scaling_factor = 2.500000e+00 : f32, topk = 4 : i64, topk_group = 2 : i64}
// CHECK-NOT: llm.scatter
func.func @fuse_decomposed_grouped_topk(%logits: tensor<?x16xf32>, %bias: tensor<16xf32>) -> (tensor<?x4xf32>, tensor<?x4xi32>) {
  %s = llm.sigmoid %logits : tensor<?x16xf32>
  %b = llm.add %s, %bias : (tensor<?x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %v = llm.reshape %b : tensor<?x16xf32> to tensor<?x4x4xf32>
  %pv, %pi = llm.topk %v {k = 2 : i64} : (tensor<?x4x4xf32>) -> (tensor<?x4x2xf32>, tensor<?x4x2xi32>)
  %g = llm.sum %pv {dim = -1 : i64} : (tensor<?x4x2xf32>) -> tensor<?x4xf32>
  %gv, %gi = llm.topk %g {k = 2 : i64} : (tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  %z = llm.full_like %g {value = 0.0 : f32} : tensor<?x4xf32>
  %m = llm.scatter %z, %gi {value = 1.0 : f32} : (tensor<?x4xf32>, tensor<?x2xi32>) -> tensor<?x4xf32>
  %m3 = llm.reshape %m : tensor<?x4xf32> to tensor<?x4x1xf32>
  %mb = llm.broadcast %m3 : tensor<?x4x1xf32> to tensor<?x4x4xf32>
  %mf = llm.reshape %mb : tensor<?x4x4xf32> to tensor<?x16xf32>
  %zero = llm.constant dense<0.0> : tensor<f32>
  %keep = llm.ne %mf, %zero : (tensor<?x16xf32>, tensor<f32>) -> tensor<?x16xf32>
  %drop = llm.eq %keep, %zero : (tensor<?x16xf32>, tensor<f32>) -> tensor<?x16xf32>
  %ninf = llm.constant dense<0xFF800000> : tensor<f32>
  %masked = llm.select %drop, %ninf, %b : (tensor<?x16xf32>, tensor<f32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  %ev, %ids = llm.topk %masked {k = 4 : i64} : (tensor<?x16xf32>) -> (tensor<?x4xf32>, tensor<?x4xi32>)
  %w = llm.gather %s, %ids : (tensor<?x16xf32>, tensor<?x4xi32>) -> tensor<?x4xf32>
  %sum = llm.sum %w {dim = -1 : i64, keepdim = true} : (tensor<?x4xf32>) -> tensor<?x1xf32>
  %eps = llm.constant dense<1.0e-20> : tensor<f32>
  %den = llm.add %sum, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %wn = llm.div %w, %den : (tensor<?x4xf32>, tensor<?x1xf32>) -> tensor<?x4xf32>
  %scale = llm.constant dense<2.5> : tensor<f32>
  %ws = llm.mul %wn, %scale : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  return %ws, %ids : tensor<?x4xf32>, tensor<?x4xi32>
}

// -----

// A group scored by its top 3, not its top 2: not DeepSeek's grouped top-k.
// CHECK-LABEL: func.func @no_fuse_decomposed_grouped_topk_top3
// CHECK-NOT: llm.grouped_topk
func.func @no_fuse_decomposed_grouped_topk_top3(%logits: tensor<?x16xf32>, %bias: tensor<16xf32>) -> (tensor<?x4xf32>, tensor<?x4xi32>) {
  %s = llm.sigmoid %logits : tensor<?x16xf32>
  %b = llm.add %s, %bias : (tensor<?x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %v = llm.reshape %b : tensor<?x16xf32> to tensor<?x4x4xf32>
  %pv, %pi = llm.topk %v {k = 3 : i64} : (tensor<?x4x4xf32>) -> (tensor<?x4x3xf32>, tensor<?x4x3xi32>)
  %g = llm.sum %pv {dim = -1 : i64} : (tensor<?x4x3xf32>) -> tensor<?x4xf32>
  %gv, %gi = llm.topk %g {k = 2 : i64} : (tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  %z = llm.full_like %g {value = 0.0 : f32} : tensor<?x4xf32>
  %m = llm.scatter %z, %gi {value = 1.0 : f32} : (tensor<?x4xf32>, tensor<?x2xi32>) -> tensor<?x4xf32>
  %m3 = llm.reshape %m : tensor<?x4xf32> to tensor<?x4x1xf32>
  %mb = llm.broadcast %m3 : tensor<?x4x1xf32> to tensor<?x4x4xf32>
  %mf = llm.reshape %mb : tensor<?x4x4xf32> to tensor<?x16xf32>
  %zero = llm.constant dense<0.0> : tensor<f32>
  %keep = llm.ne %mf, %zero : (tensor<?x16xf32>, tensor<f32>) -> tensor<?x16xf32>
  %drop = llm.eq %keep, %zero : (tensor<?x16xf32>, tensor<f32>) -> tensor<?x16xf32>
  %ninf = llm.constant dense<0xFF800000> : tensor<f32>
  %masked = llm.select %drop, %ninf, %b : (tensor<?x16xf32>, tensor<f32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  %ev, %ids = llm.topk %masked {k = 4 : i64} : (tensor<?x16xf32>) -> (tensor<?x4xf32>, tensor<?x4xi32>)
  %w = llm.gather %s, %ids : (tensor<?x16xf32>, tensor<?x4xi32>) -> tensor<?x4xf32>
  %scale = llm.constant dense<2.5> : tensor<f32>
  // expected-remark @+1 {{missed fusion RaiseGroupedTopK (llm-fuse-moe-router): a group's score sums its top 3, not its top 2}}
  %ws = llm.mul %w, %scale : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  return %ws, %ids : tensor<?x4xf32>, tensor<?x4xi32>
}

// -----

// A NaN scaling factor (a fuzzer finding): grouped_topk would not verify.
// CHECK-LABEL: func.func @no_fuse_decomposed_grouped_topk_nan_scale
// CHECK-NOT: llm.grouped_topk
func.func @no_fuse_decomposed_grouped_topk_nan_scale(%logits: tensor<?x16xf32>, %bias: tensor<16xf32>) -> (tensor<?x4xf32>, tensor<?x4xi32>) {
  %s = llm.sigmoid %logits : tensor<?x16xf32>
  %b = llm.add %s, %bias : (tensor<?x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %v = llm.reshape %b : tensor<?x16xf32> to tensor<?x4x4xf32>
  %pv, %pi = llm.topk %v {k = 2 : i64} : (tensor<?x4x4xf32>) -> (tensor<?x4x2xf32>, tensor<?x4x2xi32>)
  %g = llm.sum %pv {dim = -1 : i64} : (tensor<?x4x2xf32>) -> tensor<?x4xf32>
  %gv, %gi = llm.topk %g {k = 2 : i64} : (tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  %z = llm.full_like %g {value = 0.0 : f32} : tensor<?x4xf32>
  %m = llm.scatter %z, %gi {value = 1.0 : f32} : (tensor<?x4xf32>, tensor<?x2xi32>) -> tensor<?x4xf32>
  %m3 = llm.reshape %m : tensor<?x4xf32> to tensor<?x4x1xf32>
  %mb = llm.broadcast %m3 : tensor<?x4x1xf32> to tensor<?x4x4xf32>
  %mf = llm.reshape %mb : tensor<?x4x4xf32> to tensor<?x16xf32>
  %zero = llm.constant dense<0.0> : tensor<f32>
  %keep = llm.ne %mf, %zero : (tensor<?x16xf32>, tensor<f32>) -> tensor<?x16xf32>
  %drop = llm.eq %keep, %zero : (tensor<?x16xf32>, tensor<f32>) -> tensor<?x16xf32>
  %ninf = llm.constant dense<0xFF800000> : tensor<f32>
  %masked = llm.select %drop, %ninf, %b : (tensor<?x16xf32>, tensor<f32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  %ev, %ids = llm.topk %masked {k = 4 : i64} : (tensor<?x16xf32>) -> (tensor<?x4xf32>, tensor<?x4xi32>)
  %w = llm.gather %s, %ids : (tensor<?x16xf32>, tensor<?x4xi32>) -> tensor<?x4xf32>
  %scale = llm.constant dense<0x7FC00000> : tensor<f32>
  // expected-remark @+1 {{missed fusion RaiseGroupedTopK (llm-fuse-moe-router): the routed scaling factor nan is not finite}}
  %ws = llm.mul %w, %scale : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  return %ws, %ids : tensor<?x4xf32>, tensor<?x4xi32>
}
