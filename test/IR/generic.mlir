// Every op of shared/spec/llm-dialect.md written in MLIR's generic form
// exactly as the spec writes it (attributes in a plain dictionary, defaults
// omitted): it must parse, verify and print in the custom form, and survive
// a generic round trip.
// RUN: fusion-opt %s | FileCheck %s
// RUN: fusion-opt %s -mlir-print-op-generic | fusion-opt | FileCheck %s

// CHECK-LABEL: func.func @unfused
func.func @unfused(%x: tensor<?x4096xbf16>, %w: tensor<4096xbf16>, %res: tensor<?x4096xbf16>,
                   %qkv: tensor<?x6144xbf16>, %mw: tensor<256x4096xbf16>, %bias: tensor<256xf32>,
                   %g: tensor<?x128xbf16>, %z: tensor<?x128xbf16>, %gw: tensor<128xbf16>,
                   %s: tensor<f32>) {
  // CHECK: llm.constant dense<1.000000e+00> : tensor<f32>
  %one = "llm.constant"() {value = dense<1.0> : tensor<f32>} : () -> tensor<f32>
  // CHECK: llm.cast
  %wf = "llm.cast"(%w) : (tensor<4096xbf16>) -> tensor<4096xf32>
  // CHECK: llm.add
  %wb = "llm.add"(%wf, %one) : (tensor<4096xf32>, tensor<f32>) -> tensor<4096xf32>
  // CHECK: llm.sub
  %d0 = "llm.sub"(%x, %res) : (tensor<?x4096xbf16>, tensor<?x4096xbf16>) -> tensor<?x4096xbf16>
  // CHECK: llm.mul
  %d1 = "llm.mul"(%d0, %w) : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  // CHECK: llm.div
  %d2 = "llm.div"(%d1, %w) : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  // CHECK: llm.sigmoid
  %e0 = "llm.sigmoid"(%d2) : (tensor<?x4096xbf16>) -> tensor<?x4096xbf16>
  // CHECK: llm.silu
  %e1 = "llm.silu"(%e0) : (tensor<?x4096xbf16>) -> tensor<?x4096xbf16>
  // CHECK: llm.relu
  %e2 = "llm.relu"(%e1) : (tensor<?x4096xbf16>) -> tensor<?x4096xbf16>
  // CHECK: llm.split %{{.+}} {dim = 1 : i64, sizes = array<i64: 4096, 1024, 1024>}
  %q, %k, %v = "llm.split"(%qkv) {dim = 1 : i64, sizes = array<i64: 4096, 1024, 1024>}
      : (tensor<?x6144xbf16>) -> (tensor<?x4096xbf16>, tensor<?x1024xbf16>, tensor<?x1024xbf16>)
  // CHECK: llm.reshape %{{.+}} : tensor<?x4096xbf16> to tensor<?x128xbf16>
  %qh = "llm.reshape"(%q) : (tensor<?x4096xbf16>) -> tensor<?x128xbf16>
  // CHECK: llm.matmul %{{.+}}, %{{.+}} : (tensor<?x4096xbf16>, tensor<256x4096xbf16>) -> tensor<?x256xbf16>
  %logits = "llm.matmul"(%x, %mw) {transpose_w = true} : (tensor<?x4096xbf16>, tensor<256x4096xbf16>) -> tensor<?x256xbf16>
  // CHECK: llm.all_reduce
  %ar = "llm.all_reduce"(%x) : (tensor<?x4096xbf16>) -> tensor<?x4096xbf16>
  // CHECK: llm.rms_norm %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32}
  %n = "llm.rms_norm"(%x, %w) {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  // CHECK: llm.rms_norm %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32, weight_bias = 1.000000e+00 : f32}
  %ng = "llm.rms_norm"(%x, %w) {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  // CHECK: llm.fused_add_rms_norm
  %y, %ro = "llm.fused_add_rms_norm"(%ar, %res, %w) {epsilon = 1.0e-06 : f32, weight_bias = 0.0 : f32}
      : (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  // CHECK: llm.rms_norm_gated %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32, norm_before_gate = false}
  %gn = "llm.rms_norm_gated"(%g, %z, %gw) {epsilon = 1.0e-06 : f32, weight_bias = 0.0 : f32, norm_before_gate = false}
      : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  // CHECK: llm.quant_fp8 %{{.+}} {group_size = 128 : i64}
  %fq, %fs = "llm.quant_fp8"(%x) {group_size = 128 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>)
  // CHECK: llm.quant_fp8_static
  %sq = "llm.quant_fp8_static"(%x, %s) : (tensor<?x4096xbf16>, tensor<f32>) -> tensor<?x4096xf8E4M3FN>
  %lf = "llm.cast"(%logits) : (tensor<?x256xbf16>) -> tensor<?x256xf32>
  // CHECK: llm.topk %{{.+}} {k = 8 : i64}
  %tv, %ti = "llm.topk"(%lf) {k = 8 : i64} : (tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  // CHECK: llm.gather
  %gv = "llm.gather"(%lf, %ti) : (tensor<?x256xf32>, tensor<?x8xi32>) -> tensor<?x8xf32>
  %sc = "llm.sigmoid"(%lf) : (tensor<?x256xf32>) -> tensor<?x256xf32>
  %bs = "llm.add"(%sc, %bias) : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
  // CHECK: llm.grouped_topk %{{.+}}, %{{.+}} {n_group = 8 : i64, renormalize = true, routed_scaling_factor = 2.500000e+00 : f32, topk = 8 : i64, topk_group = 4 : i64}
  %rw, %ri = "llm.grouped_topk"(%sc, %bs) {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64, renormalize = true, routed_scaling_factor = 2.5 : f32}
      : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return
}

// CHECK-LABEL: func.func @fused
func.func @fused(%x: tensor<?x4096xbf16>, %w: tensor<4096xbf16>, %res: tensor<?x4096xbf16>,
                 %g: tensor<?x128xbf16>, %z: tensor<?x128xbf16>, %gw: tensor<128xbf16>,
                 %logits: tensor<?x256xbf16>, %bias: tensor<256xf32>,
                 %q: tensor<?x128xbf16>, %k: tensor<?x128xbf16>, %wq: tensor<128xbf16>, %wk: tensor<128xbf16>) {
  // CHECK: llm.fused_all_reduce_rms_norm %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32, weight_bias = 1.000000e+00 : f32}
  %a, %b = "llm.fused_all_reduce_rms_norm"(%x, %w) {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32}
      : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  // CHECK: llm.fused_all_reduce_add_rms_norm
  %c, %d = "llm.fused_all_reduce_add_rms_norm"(%x, %res, %w) {epsilon = 1.0e-06 : f32}
      : (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  // CHECK: llm.fused_rms_norm_gated_quant_fp8 %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32, group_size = 128 : i64}
  %e, %f = "llm.fused_rms_norm_gated_quant_fp8"(%g, %z, %gw) {epsilon = 1.0e-06 : f32, weight_bias = 0.0 : f32, norm_before_gate = true, group_size = 128 : i64}
      : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>)
  // CHECK: llm.fused_moe_router
  %h, %i = "llm.fused_moe_router"(%logits, %bias) {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64, renormalize = true, routed_scaling_factor = 2.5 : f32}
      : (tensor<?x256xbf16>, tensor<256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  // CHECK: llm.fused_qk_rms_norm
  %j, %l = "llm.fused_qk_rms_norm"(%q, %k, %wq, %wk) {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32}
      : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xbf16>, tensor<128xbf16>) -> (tensor<?x128xbf16>, tensor<?x128xbf16>)
  return
}
