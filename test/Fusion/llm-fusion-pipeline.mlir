// The whole pipeline on model-shaped graphs.
// RUN: fusion-opt %s -split-input-file --llm-fusion-pipeline --llm-fusion-remarks -verify-diagnostics | FileCheck %s
// RUN: fusion-opt %s -split-input-file --llm-fusion-pipeline="moe-router=false" 2>/dev/null | FileCheck %s --check-prefix=NOROUTER

// Gemma-style TP=2 model: four norms between matmuls and all-reduces, one
// plain and three with a residual, weights written as cast(w) to f32 + 1.
// All four fuse with weight_bias = 1.
// CHECK-LABEL: func.func @gemma_tp2
// CHECK-NOT: llm.all_reduce
// CHECK: llm.fused_all_reduce_rms_norm %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32, weight_bias = 1.000000e+00 : f32} : (tensor<?x2048xbf16>, tensor<2048xbf16>)
// CHECK-COUNT-3: llm.fused_all_reduce_add_rms_norm %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32, weight_bias = 1.000000e+00 : f32}
// CHECK-NOT: llm.all_reduce
// CHECK-NOT: llm.cast
// CHECK: return
module attributes {llm.world_size = 2 : i64} {
func.func @gemma_tp2(%x: tensor<?x2048xbf16>, %w0: tensor<2048x2048xbf16>, %w1: tensor<2048x2048xbf16>,
                     %w2: tensor<2048x2048xbf16>, %w3: tensor<2048x2048xbf16>,
                     %g0: tensor<2048xbf16>, %g1: tensor<2048xbf16>, %g2: tensor<2048xbf16>, %g3: tensor<2048xbf16>)
    -> (tensor<?x2048xbf16>, tensor<?x2048xbf16>) {
  %one = llm.constant dense<1.0> : tensor<f32>
  %g0f = llm.cast %g0 : tensor<2048xbf16> to tensor<2048xf32>
  %g0b = llm.add %g0f, %one : (tensor<2048xf32>, tensor<f32>) -> tensor<2048xf32>
  %g1f = llm.cast %g1 : tensor<2048xbf16> to tensor<2048xf32>
  %g1b = llm.add %g1f, %one : (tensor<2048xf32>, tensor<f32>) -> tensor<2048xf32>
  %g2f = llm.cast %g2 : tensor<2048xbf16> to tensor<2048xf32>
  %g2b = llm.add %g2f, %one : (tensor<2048xf32>, tensor<f32>) -> tensor<2048xf32>
  %g3f = llm.cast %g3 : tensor<2048xbf16> to tensor<2048xf32>
  %g3b = llm.add %g3f, %one : (tensor<2048xf32>, tensor<f32>) -> tensor<2048xf32>

  %m0 = llm.matmul %x, %w0 : (tensor<?x2048xbf16>, tensor<2048x2048xbf16>) -> tensor<?x2048xbf16>
  %a0 = llm.all_reduce %m0 : tensor<?x2048xbf16>
  %n0 = llm.rms_norm %a0, %g0b {epsilon = 1.0e-06 : f32} : (tensor<?x2048xbf16>, tensor<2048xf32>) -> tensor<?x2048xbf16>
  %m1 = llm.matmul %n0, %w1 : (tensor<?x2048xbf16>, tensor<2048x2048xbf16>) -> tensor<?x2048xbf16>
  %a1 = llm.all_reduce %m1 : tensor<?x2048xbf16>
  %r1 = llm.add %a1, %a0 : (tensor<?x2048xbf16>, tensor<?x2048xbf16>) -> tensor<?x2048xbf16>
  %n1 = llm.rms_norm %r1, %g1b {epsilon = 1.0e-06 : f32} : (tensor<?x2048xbf16>, tensor<2048xf32>) -> tensor<?x2048xbf16>
  %m2 = llm.matmul %n1, %w2 : (tensor<?x2048xbf16>, tensor<2048x2048xbf16>) -> tensor<?x2048xbf16>
  %a2 = llm.all_reduce %m2 : tensor<?x2048xbf16>
  %r2 = llm.add %a2, %r1 : (tensor<?x2048xbf16>, tensor<?x2048xbf16>) -> tensor<?x2048xbf16>
  %n2 = llm.rms_norm %r2, %g2b {epsilon = 1.0e-06 : f32} : (tensor<?x2048xbf16>, tensor<2048xf32>) -> tensor<?x2048xbf16>
  %m3 = llm.matmul %n2, %w3 : (tensor<?x2048xbf16>, tensor<2048x2048xbf16>) -> tensor<?x2048xbf16>
  %a3 = llm.all_reduce %m3 : tensor<?x2048xbf16>
  %r3 = llm.add %a3, %r2 : (tensor<?x2048xbf16>, tensor<?x2048xbf16>) -> tensor<?x2048xbf16>
  %n3 = llm.rms_norm %r3, %g3b {epsilon = 1.0e-06 : f32} : (tensor<?x2048xbf16>, tensor<2048xf32>) -> tensor<?x2048xbf16>
  return %n3, %r3 : tensor<?x2048xbf16>, tensor<?x2048xbf16>
}
}

// -----

// The same model with plain fp32 weights (w_f32 + 1, as when the checkpoint
// stores f32 norm weights): none fuse, and each norm says why.
// CHECK-LABEL: func.func @gemma_tp2_fp32_weights
// CHECK-COUNT-4: llm.all_reduce
// CHECK-NOT: llm.fused_all_reduce
module attributes {llm.world_size = 2 : i64} {
func.func @gemma_tp2_fp32_weights(%x: tensor<?x2048xbf16>, %w0: tensor<2048x2048xbf16>, %w1: tensor<2048x2048xbf16>,
                                  %w2: tensor<2048x2048xbf16>, %w3: tensor<2048x2048xbf16>,
                                  %g0: tensor<2048xf32>, %g1: tensor<2048xf32>, %g2: tensor<2048xf32>, %g3: tensor<2048xf32>)
    -> (tensor<?x2048xbf16>, tensor<?x2048xbf16>) {
  %one = llm.constant dense<1.0> : tensor<f32>
  %g0b = llm.add %g0, %one : (tensor<2048xf32>, tensor<f32>) -> tensor<2048xf32>
  %g1b = llm.add %g1, %one : (tensor<2048xf32>, tensor<f32>) -> tensor<2048xf32>
  %g2b = llm.add %g2, %one : (tensor<2048xf32>, tensor<f32>) -> tensor<2048xf32>
  %g3b = llm.add %g3, %one : (tensor<2048xf32>, tensor<f32>) -> tensor<2048xf32>

  %m0 = llm.matmul %x, %w0 : (tensor<?x2048xbf16>, tensor<2048x2048xbf16>) -> tensor<?x2048xbf16>
  %a0 = llm.all_reduce %m0 : tensor<?x2048xbf16>
  // expected-remark @+1 {{missed fusion AllReduceGemmaRMSNorm (llm-fuse-allreduce-norm): norm input element type bf16 differs from weight element type f32}}
  %n0 = llm.rms_norm %a0, %g0b {epsilon = 1.0e-06 : f32} : (tensor<?x2048xbf16>, tensor<2048xf32>) -> tensor<?x2048xbf16>
  %m1 = llm.matmul %n0, %w1 : (tensor<?x2048xbf16>, tensor<2048x2048xbf16>) -> tensor<?x2048xbf16>
  %a1 = llm.all_reduce %m1 : tensor<?x2048xbf16>
  %r1 = llm.add %a1, %a0 : (tensor<?x2048xbf16>, tensor<?x2048xbf16>) -> tensor<?x2048xbf16>
  // expected-remark @+1 {{missed fusion AllReduceFusedAddGemmaRMSNorm (llm-fuse-allreduce-norm): norm input element type bf16 differs from weight element type f32}}
  %n1 = llm.rms_norm %r1, %g1b {epsilon = 1.0e-06 : f32} : (tensor<?x2048xbf16>, tensor<2048xf32>) -> tensor<?x2048xbf16>
  %m2 = llm.matmul %n1, %w2 : (tensor<?x2048xbf16>, tensor<2048x2048xbf16>) -> tensor<?x2048xbf16>
  %a2 = llm.all_reduce %m2 : tensor<?x2048xbf16>
  %r2 = llm.add %a2, %r1 : (tensor<?x2048xbf16>, tensor<?x2048xbf16>) -> tensor<?x2048xbf16>
  // expected-remark @+1 {{missed fusion AllReduceFusedAddGemmaRMSNorm (llm-fuse-allreduce-norm): norm input element type bf16 differs from weight element type f32}}
  %n2 = llm.rms_norm %r2, %g2b {epsilon = 1.0e-06 : f32} : (tensor<?x2048xbf16>, tensor<2048xf32>) -> tensor<?x2048xbf16>
  %m3 = llm.matmul %n2, %w3 : (tensor<?x2048xbf16>, tensor<2048x2048xbf16>) -> tensor<?x2048xbf16>
  %a3 = llm.all_reduce %m3 : tensor<?x2048xbf16>
  %r3 = llm.add %a3, %r2 : (tensor<?x2048xbf16>, tensor<?x2048xbf16>) -> tensor<?x2048xbf16>
  // expected-remark @+1 {{missed fusion AllReduceFusedAddGemmaRMSNorm (llm-fuse-allreduce-norm): norm input element type bf16 differs from weight element type f32}}
  %n3 = llm.rms_norm %r3, %g3b {epsilon = 1.0e-06 : f32} : (tensor<?x2048xbf16>, tensor<2048xf32>) -> tensor<?x2048xbf16>
  return %n3, %r3 : tensor<?x2048xbf16>, tensor<?x2048xbf16>
}
}

// -----

// World size 1: the all-reduces vanish and the norms become plain fused
// add + norm; every other family still fires. Two layers in one function.
// CHECK-LABEL: func.func @two_layers_world_size_1
// CHECK-NOT: llm.all_reduce
// CHECK-NOT: llm.fused_all_reduce
// CHECK: llm.fused_qk_rms_norm
// CHECK: llm.fused_add_rms_norm
// CHECK: llm.fused_moe_router
// CHECK: llm.fused_qk_rms_norm
// CHECK: llm.fused_add_rms_norm
// CHECK: llm.fused_moe_router
// NOROUTER-LABEL: func.func @two_layers_world_size_1
// NOROUTER: llm.fused_qk_rms_norm
// NOROUTER-NOT: llm.fused_moe_router
// NOROUTER: llm.grouped_topk
func.func @two_layers_world_size_1(%h: tensor<?x4096xbf16>, %qkv_w: tensor<6144x4096xbf16>,
                                   %wq: tensor<128xbf16>, %wk: tensor<128xbf16>, %o_w: tensor<4096x4096xbf16>,
                                   %ln: tensor<4096xbf16>, %rw: tensor<256x4096xbf16>, %rb: tensor<256xf32>)
    -> (tensor<?x4096xbf16>, tensor<?x8xf32>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<?x8xi32>,
        tensor<?x128xbf16>, tensor<?x128xbf16>) {
  %qkv = llm.matmul %h, %qkv_w : (tensor<?x4096xbf16>, tensor<6144x4096xbf16>) -> tensor<?x6144xbf16>
  %q, %k, %v = llm.split %qkv {dim = 1 : i64, sizes = array<i64: 4096, 1024, 1024>}
      : tensor<?x6144xbf16> -> tensor<?x4096xbf16>, tensor<?x1024xbf16>, tensor<?x1024xbf16>
  %qh = llm.reshape %q : tensor<?x4096xbf16> to tensor<?x128xbf16>
  %kh = llm.reshape %k : tensor<?x1024xbf16> to tensor<?x128xbf16>
  %qn = llm.rms_norm %qh, %wq {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %kn = llm.rms_norm %kh, %wk {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %attn = llm.reshape %qn : tensor<?x128xbf16> to tensor<?x4096xbf16>
  %o = llm.matmul %attn, %o_w : (tensor<?x4096xbf16>, tensor<4096x4096xbf16>) -> tensor<?x4096xbf16>
  %oa = llm.all_reduce %o : tensor<?x4096xbf16>
  %r = llm.add %oa, %h : (tensor<?x4096xbf16>, tensor<?x4096xbf16>) -> tensor<?x4096xbf16>
  %n = llm.rms_norm %r, %ln {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  %lg = llm.matmul %n, %rw : (tensor<?x4096xbf16>, tensor<256x4096xbf16>) -> tensor<?x256xbf16>
  %lf = llm.cast %lg : tensor<?x256xbf16> to tensor<?x256xf32>
  %s = llm.sigmoid %lf : tensor<?x256xf32>
  %b = llm.add %s, %rb : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
  %tw, %ti = llm.grouped_topk %s, %b {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64, renormalize = true, routed_scaling_factor = 2.5 : f32}
      : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)

  %qkv2 = llm.matmul %n, %qkv_w : (tensor<?x4096xbf16>, tensor<6144x4096xbf16>) -> tensor<?x6144xbf16>
  %q2, %k2, %v2 = llm.split %qkv2 {dim = 1 : i64, sizes = array<i64: 4096, 1024, 1024>}
      : tensor<?x6144xbf16> -> tensor<?x4096xbf16>, tensor<?x1024xbf16>, tensor<?x1024xbf16>
  %qh2 = llm.reshape %q2 : tensor<?x4096xbf16> to tensor<?x128xbf16>
  %kh2 = llm.reshape %k2 : tensor<?x1024xbf16> to tensor<?x128xbf16>
  %qn2 = llm.rms_norm %qh2, %wq {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %kn2 = llm.rms_norm %kh2, %wk {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %attn2 = llm.reshape %qn2 : tensor<?x128xbf16> to tensor<?x4096xbf16>
  %o2 = llm.matmul %attn2, %o_w : (tensor<?x4096xbf16>, tensor<4096x4096xbf16>) -> tensor<?x4096xbf16>
  %oa2 = llm.all_reduce %o2 : tensor<?x4096xbf16>
  %r2 = llm.add %oa2, %r : (tensor<?x4096xbf16>, tensor<?x4096xbf16>) -> tensor<?x4096xbf16>
  %n2 = llm.rms_norm %r2, %ln {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  %lg2 = llm.matmul %n2, %rw : (tensor<?x4096xbf16>, tensor<256x4096xbf16>) -> tensor<?x256xbf16>
  %lf2 = llm.cast %lg2 : tensor<?x256xbf16> to tensor<?x256xf32>
  %s2 = llm.sigmoid %lf2 : tensor<?x256xf32>
  %b2 = llm.add %s2, %rb : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
  %tw2, %ti2 = llm.grouped_topk %s2, %b2 {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64, renormalize = true, routed_scaling_factor = 2.5 : f32}
      : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return %n2, %tw, %ti, %tw2, %ti2, %kn, %kn2 : tensor<?x4096xbf16>, tensor<?x8xf32>, tensor<?x8xi32>, tensor<?x8xf32>,
      tensor<?x8xi32>, tensor<?x128xbf16>, tensor<?x128xbf16>
}

// -----

// World size 8: the all-reduce fusions fire, the gated quant too.
// CHECK-LABEL: func.func @world_size_8
// CHECK: llm.fused_all_reduce_add_rms_norm
// CHECK: llm.fused_rms_norm_gated_quant_fp8
module attributes {llm.world_size = 8 : i64} {
func.func @world_size_8(%x: tensor<?x7168xbf16>, %r: tensor<?x7168xbf16>, %w: tensor<7168xbf16>,
                        %g: tensor<?x128xbf16>, %z: tensor<?x128xbf16>, %gw: tensor<128xf32>)
    -> (tensor<?x7168xbf16>, tensor<?x7168xbf16>, tensor<?x512xf8E4M3FN>, tensor<?x4xf32>) {
  %a = llm.all_reduce %x : tensor<?x7168xbf16>
  %y, %ro = llm.fused_add_rms_norm %a, %r, %w {epsilon = 1.0e-06 : f32}
      : (tensor<?x7168xbf16>, tensor<?x7168xbf16>, tensor<7168xbf16>) -> (tensor<?x7168xbf16>, tensor<?x7168xbf16>)
  %gn = llm.rms_norm_gated %g, %z, %gw {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xf32>) -> tensor<?x128xbf16>
  %t = llm.reshape %gn : tensor<?x128xbf16> to tensor<?x512xbf16>
  %q, %s = llm.quant_fp8 %t {group_size = 128 : i64} : (tensor<?x512xbf16>) -> (tensor<?x512xf8E4M3FN>, tensor<?x4xf32>)
  return %y, %ro, %q, %s : tensor<?x7168xbf16>, tensor<?x7168xbf16>, tensor<?x512xf8E4M3FN>, tensor<?x4xf32>
}
}
