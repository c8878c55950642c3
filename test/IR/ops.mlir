// Every op of the llm dialect in its custom form: printed, re-parsed and
// printed again (custom and generic), it must come back unchanged.
// RUN: fusion-opt %s | fusion-opt | FileCheck %s
// RUN: fusion-opt %s -mlir-print-op-generic | fusion-opt | FileCheck %s

// CHECK: module attributes {llm.world_size = 2 : i64}
module attributes {llm.world_size = 2 : i64} {

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%a: tensor<?x4096xbf16>, %b: tensor<4096xbf16>, %i: tensor<4xi32>)
    -> (tensor<?x4096xf32>, tensor<4xi32>) {
  // CHECK: %[[ONE:.+]] = llm.constant dense<1.000000e+00> : tensor<bf16>
  %one = llm.constant dense<1.0> : tensor<bf16>
  // CHECK: %[[ADD:.+]] = llm.add %{{.+}}, %{{.+}} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  %0 = llm.add %a, %b : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  // CHECK: llm.sub %[[ADD]], %[[ONE]] : (tensor<?x4096xbf16>, tensor<bf16>) -> tensor<?x4096xbf16>
  %1 = llm.sub %0, %one : (tensor<?x4096xbf16>, tensor<bf16>) -> tensor<?x4096xbf16>
  // CHECK: llm.mul
  %2 = llm.mul %1, %b : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  // CHECK: llm.div
  %3 = llm.div %2, %one : (tensor<?x4096xbf16>, tensor<bf16>) -> tensor<?x4096xbf16>
  // CHECK: llm.sigmoid %{{.+}} : tensor<?x4096xbf16>
  %4 = llm.sigmoid %3 : tensor<?x4096xbf16>
  // CHECK: llm.silu %{{.+}} : tensor<?x4096xbf16>
  %5 = llm.silu %4 : tensor<?x4096xbf16>
  // CHECK: llm.relu %{{.+}} : tensor<?x4096xbf16>
  %6 = llm.relu %5 : tensor<?x4096xbf16>
  // CHECK: llm.cast %{{.+}} : tensor<?x4096xbf16> to tensor<?x4096xf32>
  %7 = llm.cast %6 : tensor<?x4096xbf16> to tensor<?x4096xf32>
  // CHECK: llm.add %{{.+}}, %{{.+}} : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %8 = llm.add %i, %i : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  return %7, %8 : tensor<?x4096xf32>, tensor<4xi32>
}

// CHECK-LABEL: func.func @layout
func.func @layout(%qkv: tensor<?x6144xbf16>, %x: tensor<?x4096xbf16>, %w: tensor<6144x4096xbf16>,
                  %wt: tensor<4096x6144xbf16>)
    -> (tensor<?x128xbf16>, tensor<?x1024xbf16>, tensor<?x1024xbf16>, tensor<?x6144xbf16>,
        tensor<?x6144xbf16>, tensor<?x4096xbf16>) {
  // CHECK: %[[S:.+]]:3 = llm.split %{{.+}} {dim = 1 : i64, sizes = array<i64: 4096, 1024, 1024>} : tensor<?x6144xbf16> -> tensor<?x4096xbf16>, tensor<?x1024xbf16>, tensor<?x1024xbf16>
  %q, %k, %v = llm.split %qkv {dim = 1 : i64, sizes = array<i64: 4096, 1024, 1024>}
      : tensor<?x6144xbf16> -> tensor<?x4096xbf16>, tensor<?x1024xbf16>, tensor<?x1024xbf16>
  // CHECK: llm.reshape %[[S]]#0 : tensor<?x4096xbf16> to tensor<?x128xbf16>
  %qh = llm.reshape %q : tensor<?x4096xbf16> to tensor<?x128xbf16>
  // CHECK: llm.matmul %{{.+}}, %{{.+}} : (tensor<?x4096xbf16>, tensor<6144x4096xbf16>) -> tensor<?x6144xbf16>
  %m = llm.matmul %x, %w : (tensor<?x4096xbf16>, tensor<6144x4096xbf16>) -> tensor<?x6144xbf16>
  // CHECK: llm.matmul %{{.+}}, %{{.+}} {transpose_w = false} : (tensor<?x4096xbf16>, tensor<4096x6144xbf16>) -> tensor<?x6144xbf16>
  %mt = llm.matmul %x, %wt {transpose_w = false} : (tensor<?x4096xbf16>, tensor<4096x6144xbf16>) -> tensor<?x6144xbf16>
  // CHECK: llm.all_reduce %{{.+}} : tensor<?x4096xbf16>
  %ar = llm.all_reduce %x : tensor<?x4096xbf16>
  return %qh, %k, %v, %m, %mt, %ar : tensor<?x128xbf16>, tensor<?x1024xbf16>, tensor<?x1024xbf16>,
      tensor<?x6144xbf16>, tensor<?x6144xbf16>, tensor<?x4096xbf16>
}

// CHECK-LABEL: func.func @norms
func.func @norms(%x: tensor<?x4096xbf16>, %r: tensor<?x4096xbf16>, %w: tensor<4096xbf16>,
                 %wf: tensor<4096xf32>, %g: tensor<?x128xbf16>, %z: tensor<?x128xbf16>,
                 %gw: tensor<128xf32>)
    -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<?x128xbf16>,
        tensor<?x128xbf16>) {
  // CHECK: llm.rms_norm %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  %0 = llm.rms_norm %x, %w {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  // A Gemma norm with an f32 weight: the weight may have another element type.
  // CHECK: llm.rms_norm %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32, weight_bias = 1.000000e+00 : f32} : (tensor<?x4096xbf16>, tensor<4096xf32>) -> tensor<?x4096xbf16>
  %1 = llm.rms_norm %x, %wf {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32} : (tensor<?x4096xbf16>, tensor<4096xf32>) -> tensor<?x4096xbf16>
  // CHECK: %{{.+}}, %{{.+}} = llm.fused_add_rms_norm %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32} : (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  %y, %ro = llm.fused_add_rms_norm %x, %r, %w {epsilon = 1.0e-06 : f32}
      : (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  // CHECK: llm.rms_norm_gated %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xf32>) -> tensor<?x128xbf16>
  %2 = llm.rms_norm_gated %g, %z, %gw {epsilon = 1.0e-06 : f32}
      : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xf32>) -> tensor<?x128xbf16>
  // CHECK: llm.rms_norm_gated %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32, norm_before_gate = false} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xf32>) -> tensor<?x128xbf16>
  %3 = llm.rms_norm_gated %g, %z, %gw {epsilon = 1.0e-06 : f32, norm_before_gate = false}
      : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xf32>) -> tensor<?x128xbf16>
  return %0, %1, %y, %2, %3 : tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<?x4096xbf16>,
      tensor<?x128xbf16>, tensor<?x128xbf16>
}

// CHECK-LABEL: func.func @quant_and_routing
func.func @quant_and_routing(%x: tensor<?x4096xbf16>, %s: tensor<f32>, %l: tensor<?x256xf32>,
                             %idx: tensor<?x8xi32>)
    -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>, tensor<?x4096xf8E4M3FN>, tensor<?x8xf32>,
        tensor<?x8xi32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xi32>) {
  // CHECK: %{{.+}}, %{{.+}} = llm.quant_fp8 %{{.+}} {group_size = 128 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>)
  %q, %sc = llm.quant_fp8 %x {group_size = 128 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>)
  // CHECK: llm.quant_fp8_static %{{.+}}, %{{.+}} : (tensor<?x4096xbf16>, tensor<f32>) -> tensor<?x4096xf8E4M3FN>
  %qs = llm.quant_fp8_static %x, %s : (tensor<?x4096xbf16>, tensor<f32>) -> tensor<?x4096xf8E4M3FN>
  // CHECK: %{{.+}}, %{{.+}} = llm.topk %{{.+}} {k = 8 : i64} : (tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  %v, %i = llm.topk %l {k = 8 : i64} : (tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  // CHECK: llm.gather %{{.+}}, %{{.+}} : (tensor<?x256xf32>, tensor<?x8xi32>) -> tensor<?x8xf32>
  %g = llm.gather %l, %idx : (tensor<?x256xf32>, tensor<?x8xi32>) -> tensor<?x8xf32>
  // CHECK: %{{.+}}, %{{.+}} = llm.grouped_topk %{{.+}}, %{{.+}} {n_group = 8 : i64, renormalize = true, routed_scaling_factor = 2.500000e+00 : f32, topk = 8 : i64, topk_group = 4 : i64} : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  %wts, %ids = llm.grouped_topk %l, %l {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64,
                                       renormalize = true, routed_scaling_factor = 2.5 : f32}
      : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return %q, %sc, %qs, %v, %i, %g, %wts, %ids : tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>,
      tensor<?x4096xf8E4M3FN>, tensor<?x8xf32>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<?x8xf32>,
      tensor<?x8xi32>
}

// CHECK-LABEL: func.func @fused
func.func @fused(%x: tensor<?x4096xbf16>, %r: tensor<?x4096xbf16>, %w: tensor<4096xbf16>,
                 %g: tensor<?x128xbf16>, %z: tensor<?x128xbf16>, %gw: tensor<128xbf16>,
                 %logits: tensor<?x384xbf16>, %bias: tensor<384xf32>,
                 %q: tensor<?x128xbf16>, %k: tensor<?x128xbf16>) {
  // CHECK: %{{.+}}, %{{.+}} = llm.fused_all_reduce_rms_norm %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32, weight_bias = 1.000000e+00 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  %0:2 = llm.fused_all_reduce_rms_norm %x, %w {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32}
      : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  // CHECK: %{{.+}}, %{{.+}} = llm.fused_all_reduce_add_rms_norm %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32} : (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  %1:2 = llm.fused_all_reduce_add_rms_norm %x, %r, %w {epsilon = 1.0e-06 : f32}
      : (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  // CHECK: %{{.+}}, %{{.+}} = llm.fused_rms_norm_gated_quant_fp8 %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32, group_size = 128 : i64} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>)
  %2:2 = llm.fused_rms_norm_gated_quant_fp8 %g, %z, %gw {epsilon = 1.0e-06 : f32, group_size = 128 : i64}
      : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>)
  // CHECK: %{{.+}}, %{{.+}} = llm.fused_moe_router %{{.+}}, %{{.+}} {n_group = 1 : i64, renormalize = true, routed_scaling_factor = 2.827000e+00 : f32, topk = 8 : i64, topk_group = 1 : i64} : (tensor<?x384xbf16>, tensor<384xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  %3:2 = llm.fused_moe_router %logits, %bias {n_group = 1 : i64, topk_group = 1 : i64, topk = 8 : i64,
                                             renormalize = true, routed_scaling_factor = 2.827 : f32}
      : (tensor<?x384xbf16>, tensor<384xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  // CHECK: %{{.+}}, %{{.+}} = llm.fused_qk_rms_norm %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xbf16>, tensor<128xbf16>) -> (tensor<?x128xbf16>, tensor<?x128xbf16>)
  %4:2 = llm.fused_qk_rms_norm %q, %k, %gw, %gw {epsilon = 1.0e-06 : f32}
      : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xbf16>, tensor<128xbf16>) -> (tensor<?x128xbf16>, tensor<?x128xbf16>)
  return
}


// The ops a decomposed RMSNorm is written with (docs/dialect.md).
// CHECK-LABEL: func.func @decomposed_norm_ops
func.func @decomposed_norm_ops(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x1xf32>, tensor<?xf32>) {
  // CHECK: llm.pow %{{.+}} {exponent = 2.000000e+00 : f32} : tensor<?x64xf32>
  %sq = llm.pow %x {exponent = 2.0 : f32} : tensor<?x64xf32>
  // CHECK: llm.mean %{{.+}} {dim = -1 : i64, keepdim = true} : (tensor<?x64xf32>) -> tensor<?x1xf32>
  %ms = llm.mean %sq {dim = -1 : i64, keepdim = true} : (tensor<?x64xf32>) -> tensor<?x1xf32>
  // CHECK: llm.mean %{{.+}} {dim = 1 : i64} : (tensor<?x64xf32>) -> tensor<?xf32>
  %m2 = llm.mean %sq {dim = 1 : i64} : (tensor<?x64xf32>) -> tensor<?xf32>
  // CHECK: llm.rsqrt %{{.+}} : tensor<?x1xf32>
  %r = llm.rsqrt %ms : tensor<?x1xf32>
  return %sq, %r, %m2 : tensor<?x64xf32>, tensor<?x1xf32>, tensor<?xf32>
}


// The layout ops of a rotary embedding.
// CHECK-LABEL: func.func @rotary_ops
func.func @rotary_ops(%x: tensor<1x?x4x16xbf16>) -> (tensor<1x4x?x16xbf16>, tensor<1x?x4x16xbf16>) {
  // CHECK: llm.transpose %{{.+}} {permutation = array<i64: 0, 2, 1, 3>} : (tensor<1x?x4x16xbf16>) -> tensor<1x4x?x16xbf16>
  %t = llm.transpose %x {permutation = array<i64: 0, 2, 1, 3>} : (tensor<1x?x4x16xbf16>) -> tensor<1x4x?x16xbf16>
  // CHECK: llm.slice %{{.+}} {dim = 3 : i64, end = 16 : i64, start = 8 : i64} : (tensor<1x?x4x16xbf16>) -> tensor<1x?x4x8xbf16>
  %hi = llm.slice %x {dim = 3 : i64, start = 8 : i64, end = 16 : i64} : (tensor<1x?x4x16xbf16>) -> tensor<1x?x4x8xbf16>
  %lo = llm.slice %x {dim = 3 : i64, start = 0 : i64, end = 8 : i64} : (tensor<1x?x4x16xbf16>) -> tensor<1x?x4x8xbf16>
  // CHECK: llm.neg %{{.+}} : tensor<1x?x4x8xbf16>
  %n = llm.neg %hi : tensor<1x?x4x8xbf16>
  // CHECK: llm.concat %{{.+}}, %{{.+}} {dim = 3 : i64} : (tensor<1x?x4x8xbf16>, tensor<1x?x4x8xbf16>) -> tensor<1x?x4x16xbf16>
  %r = llm.concat %n, %lo {dim = 3 : i64} : (tensor<1x?x4x8xbf16>, tensor<1x?x4x8xbf16>) -> tensor<1x?x4x16xbf16>
  return %t, %r : tensor<1x4x?x16xbf16>, tensor<1x?x4x16xbf16>
}

}


// The ops between the cuts of imported layers: Gemma's MLP, Qwen3-MoE's
// softmax router, DeepSeek-V3's decomposed grouped top-k, Qwen3-Next's gate.
// CHECK-LABEL: func.func @layer_ops
func.func @layer_ops(%x: tensor<?x8xf32>, %g: tensor<?x4xf32>, %i: tensor<?x2xi32>)
    -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>,
        tensor<?x1xf32>, tensor<?x4x2xf32>, tensor<?x8xf32>) {
  // CHECK: llm.gelu_tanh %{{.+}} : tensor<?x8xf32>
  %a = llm.gelu_tanh %x : tensor<?x8xf32>
  // CHECK: llm.gelu %{{.+}} : tensor<?x8xf32>
  %b = llm.gelu %x : tensor<?x8xf32>
  // CHECK: llm.exp
  %c = llm.exp %x : tensor<?x8xf32>
  // CHECK: llm.softplus
  %d = llm.softplus %x : tensor<?x8xf32>
  // CHECK: llm.softmax %{{.+}} {dim = -1 : i64} : tensor<?x8xf32>
  %e = llm.softmax %x {dim = -1 : i64} : tensor<?x8xf32>
  // CHECK: llm.sum %{{.+}} {dim = 1 : i64, keepdim = true} : (tensor<?x8xf32>) -> tensor<?x1xf32>
  %s = llm.sum %x {dim = 1 : i64, keepdim = true} : (tensor<?x8xf32>) -> tensor<?x1xf32>
  // CHECK: llm.full_like %{{.+}} {value = 0.000000e+00 : f32} : tensor<?x4xf32>
  %z = llm.full_like %g {value = 0.0 : f32} : tensor<?x4xf32>
  // CHECK: llm.scatter %{{.+}}, %{{.+}} {value = 1.000000e+00 : f32} : (tensor<?x4xf32>, tensor<?x2xi32>) -> tensor<?x4xf32>
  %m = llm.scatter %z, %i {value = 1.0 : f32} : (tensor<?x4xf32>, tensor<?x2xi32>) -> tensor<?x4xf32>
  %m3 = llm.reshape %m : tensor<?x4xf32> to tensor<?x4x1xf32>
  // CHECK: llm.broadcast %{{.+}} : tensor<?x4x1xf32> to tensor<?x4x2xf32>
  %bc = llm.broadcast %m3 : tensor<?x4x1xf32> to tensor<?x4x2xf32>
  %zero = llm.constant dense<0.0> : tensor<f32>
  // CHECK: llm.eq %{{.+}}, %{{.+}} : (tensor<?x8xf32>, tensor<f32>) -> tensor<?x8xf32>
  %keep = llm.eq %x, %zero : (tensor<?x8xf32>, tensor<f32>) -> tensor<?x8xf32>
  // CHECK: llm.ne
  %nz = llm.ne %keep, %zero : (tensor<?x8xf32>, tensor<f32>) -> tensor<?x8xf32>
  %ninf = llm.constant dense<0xFF800000> : tensor<f32>
  // CHECK: llm.select %{{.+}}, %{{.+}}, %{{.+}} : (tensor<?x8xf32>, tensor<f32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %sel = llm.select %nz, %ninf, %x : (tensor<?x8xf32>, tensor<f32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %a, %b, %c, %d, %e, %s, %bc, %sel : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x1xf32>, tensor<?x4x2xf32>, tensor<?x8xf32>
}


// The FP8 linear in its three scaling modes.
// CHECK-LABEL: func.func @fp8_linear
func.func @fp8_linear(%x: tensor<?x7168xf8E4M3FN>, %w: tensor<2112x7168xf8E4M3FN>, %t: tensor<f32>,
                      %xt: tensor<?x1xf32>, %wc: tensor<2112xf32>, %xb: tensor<?x56xf32>,
                      %wb: tensor<17x56xf32>) -> (tensor<?x2112xbf16>, tensor<?x2112xbf16>, tensor<?x2112xbf16>) {
  // CHECK: llm.matmul_fp8 %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : (tensor<?x7168xf8E4M3FN>, tensor<f32>
  %a = llm.matmul_fp8 %x, %t, %w, %t : (tensor<?x7168xf8E4M3FN>, tensor<f32>, tensor<2112x7168xf8E4M3FN>, tensor<f32>) -> tensor<?x2112xbf16>
  %b = llm.matmul_fp8 %x, %xt, %w, %wc : (tensor<?x7168xf8E4M3FN>, tensor<?x1xf32>, tensor<2112x7168xf8E4M3FN>, tensor<2112xf32>) -> tensor<?x2112xbf16>
  %c = llm.matmul_fp8 %x, %xb, %w, %wb : (tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>, tensor<2112x7168xf8E4M3FN>, tensor<17x56xf32>) -> tensor<?x2112xbf16>
  return %a, %b, %c : tensor<?x2112xbf16>, tensor<?x2112xbf16>, tensor<?x2112xbf16>
}

// Column-major FP8 scales (DeepGEMM's layout): [D / group_size, T rounded up
// to 4], on the quantization, a fused producer and the FP8 linear.
// CHECK-LABEL: func.func @col_major_scales
func.func @col_major_scales(%x3: tensor<2x3x4096xbf16>, %x: tensor<?x4096xbf16>,
                            %w: tensor<4096xbf16>, %q: tensor<6x4096xf8E4M3FN>,
                            %wq: tensor<256x4096xf8E4M3FN>, %ws: tensor<2x32xf32>) {
  // CHECK: llm.quant_fp8 %{{.+}} {group_size = 128 : i64, scale_col_major = true} : (tensor<2x3x4096xbf16>) -> (tensor<2x3x4096xf8E4M3FN>, tensor<32x8xf32>)
  %qc, %sc = llm.quant_fp8 %x3 {group_size = 128 : i64, scale_col_major = true} : (tensor<2x3x4096xbf16>) -> (tensor<2x3x4096xf8E4M3FN>, tensor<32x8xf32>)
  // CHECK: llm.fused_rms_norm_quant_fp8 %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32, group_size = 128 : i64, scale_col_major = true} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<32x?xf32>)
  %qn, %sn = llm.fused_rms_norm_quant_fp8 %x, %w {epsilon = 1.0e-6 : f32, group_size = 128 : i64, scale_col_major = true} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<32x?xf32>)
  // CHECK: llm.matmul_fp8 %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {x_scale_col_major = true} : (tensor<6x4096xf8E4M3FN>, tensor<32x8xf32>, tensor<256x4096xf8E4M3FN>, tensor<2x32xf32>) -> tensor<6x256xbf16>
  %y = llm.matmul_fp8 %q, %sc, %wq, %ws {x_scale_col_major = true} : (tensor<6x4096xf8E4M3FN>, tensor<32x8xf32>, tensor<256x4096xf8E4M3FN>, tensor<2x32xf32>) -> tensor<6x256xbf16>
  return
}
