// RUN: fusion-opt %s -split-input-file -llm-fuse-norm-quant=remarks=true -verify-diagnostics | FileCheck %s

// DeepSeek-V3's block FP8: RMSNorm then group-128 quantization.
// CHECK-LABEL: func.func @fuse_rms_norm_quant
// CHECK: = llm.fused_rms_norm_quant_fp8 %arg0, %arg1 {epsilon = 9.99999997E-7 : f32, group_size = 128 : i64}
// CHECK-NOT: llm.quant_fp8
func.func @fuse_rms_norm_quant(%x: tensor<?x7168xbf16>, %w: tensor<7168xbf16>) -> (tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>) {
  %y = llm.rms_norm %x, %w {epsilon = 1.0e-06 : f32} : (tensor<?x7168xbf16>, tensor<7168xbf16>) -> tensor<?x7168xbf16>
  %q, %s = llm.quant_fp8 %y {group_size = 128 : i64} : (tensor<?x7168xbf16>) -> (tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>)
  return %q, %s : tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>
}

// -----

// Per-token (the group is the row) and a Gemma weight: the attributes carry over.
// CHECK-LABEL: func.func @fuse_rms_norm_quant_per_token_gemma
// CHECK: llm.fused_rms_norm_quant_fp8 {{.*}}group_size = 4096 : i64, weight_bias = 1.000000e+00 : f32
func.func @fuse_rms_norm_quant_per_token_gemma(%x: tensor<?x4096xbf16>, %w: tensor<4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x1xf32>) {
  %y = llm.rms_norm %x, %w {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  %q, %s = llm.quant_fp8 %y {group_size = 4096 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x1xf32>)
  return %q, %s : tensor<?x4096xf8E4M3FN>, tensor<?x1xf32>
}

// -----

// The normalized value is also read elsewhere: the fused op would not return it.
// CHECK-LABEL: func.func @no_fuse_rms_norm_quant_second_user
// CHECK-NOT: llm.fused_rms_norm_quant_fp8
func.func @no_fuse_rms_norm_quant_second_user(%x: tensor<?x4096xbf16>, %w: tensor<4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>, tensor<?x4096xbf16>) {
  %y = llm.rms_norm %x, %w {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  // expected-remark @+1 {{missed fusion RMSNormQuantFP8 (llm-fuse-norm-quant): the normalized value has users outside the chain}}
  %q, %s = llm.quant_fp8 %y {group_size = 128 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>)
  return %q, %s, %y : tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>, tensor<?x4096xbf16>
}

// -----

// Static per-tensor FP8 (vLLM's static-scale checkpoints).
// CHECK-LABEL: func.func @fuse_rms_norm_quant_static
// CHECK: llm.fused_rms_norm_quant_fp8_static %arg0, %arg1, %arg2
func.func @fuse_rms_norm_quant_static(%x: tensor<?x4096xf16>, %w: tensor<4096xf16>, %scale: tensor<f32>) -> tensor<?x4096xf8E4M3FN> {
  %y = llm.rms_norm %x, %w {epsilon = 1.0e-05 : f32} : (tensor<?x4096xf16>, tensor<4096xf16>) -> tensor<?x4096xf16>
  %q = llm.quant_fp8_static %y, %scale : (tensor<?x4096xf16>, tensor<f32>) -> tensor<?x4096xf8E4M3FN>
  return %q : tensor<?x4096xf8E4M3FN>
}

// -----

// The residual add + RMSNorm that feeds every FP8 linear after attention.
// CHECK-LABEL: func.func @fuse_add_rms_norm_quant
// CHECK: %[[Q:.+]], %[[S:.+]], %[[R:.+]] = llm.fused_add_rms_norm_quant_fp8 %arg0, %arg1, %arg2
// CHECK: return %[[Q]], %[[S]], %[[R]]
func.func @fuse_add_rms_norm_quant(%x: tensor<?x7168xbf16>, %r: tensor<?x7168xbf16>, %w: tensor<7168xbf16>) -> (tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>, tensor<?x7168xbf16>) {
  %y, %res = llm.fused_add_rms_norm %x, %r, %w {epsilon = 1.0e-06 : f32} : (tensor<?x7168xbf16>, tensor<?x7168xbf16>, tensor<7168xbf16>) -> (tensor<?x7168xbf16>, tensor<?x7168xbf16>)
  %q, %s = llm.quant_fp8 %y {group_size = 128 : i64} : (tensor<?x7168xbf16>) -> (tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>)
  return %q, %s, %res : tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>, tensor<?x7168xbf16>
}

// -----

// CHECK-LABEL: func.func @fuse_add_rms_norm_quant_static
// CHECK: = llm.fused_add_rms_norm_quant_fp8_static %arg0, %arg1, %arg2, %arg3
func.func @fuse_add_rms_norm_quant_static(%x: tensor<?x4096xbf16>, %r: tensor<?x4096xbf16>, %w: tensor<4096xbf16>, %scale: tensor<f32>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x4096xbf16>) {
  %y, %res = llm.fused_add_rms_norm %x, %r, %w {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  %q = llm.quant_fp8_static %y, %scale : (tensor<?x4096xbf16>, tensor<f32>) -> tensor<?x4096xf8E4M3FN>
  return %q, %res : tensor<?x4096xf8E4M3FN>, tensor<?x4096xbf16>
}

// -----

// CHECK-LABEL: func.func @no_fuse_add_rms_norm_quant_second_user
// CHECK-NOT: llm.fused_add_rms_norm_quant_fp8
func.func @no_fuse_add_rms_norm_quant_second_user(%x: tensor<?x4096xbf16>, %r: tensor<?x4096xbf16>, %w: tensor<4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>, tensor<?x4096xbf16>) {
  %y, %res = llm.fused_add_rms_norm %x, %r, %w {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  // expected-remark @+1 {{missed fusion FusedAddRMSNormQuantFP8 (llm-fuse-norm-quant): the normalized value has users outside the chain}}
  %q, %s = llm.quant_fp8 %y {group_size = 128 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>)
  return %q, %s, %y : tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>, tensor<?x4096xbf16>
}

// -----

// vLLM's static-FP8 all-reduce test model: all-reduce + RMSNorm + static quant.
// CHECK-LABEL: func.func @fuse_all_reduce_rms_norm_quant_static
// CHECK: = llm.fused_all_reduce_rms_norm_quant_fp8_static %arg0, %arg1, %arg2
module attributes {llm.world_size = 2 : i64} {
func.func @fuse_all_reduce_rms_norm_quant_static(%x: tensor<?x4096xbf16>, %w: tensor<4096xbf16>, %scale: tensor<f32>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x4096xbf16>) {
  %y, %ar = llm.fused_all_reduce_rms_norm %x, %w {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  %q = llm.quant_fp8_static %y, %scale : (tensor<?x4096xbf16>, tensor<f32>) -> tensor<?x4096xf8E4M3FN>
  return %q, %ar : tensor<?x4096xf8E4M3FN>, tensor<?x4096xbf16>
}
}

// -----

// CHECK-LABEL: func.func @fuse_all_reduce_rms_norm_quant
// CHECK: = llm.fused_all_reduce_rms_norm_quant_fp8 %arg0, %arg1 {{.*}}group_size = 128
module attributes {llm.world_size = 2 : i64} {
func.func @fuse_all_reduce_rms_norm_quant(%x: tensor<?x4096xbf16>, %w: tensor<4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>, tensor<?x4096xbf16>) {
  %y, %ar = llm.fused_all_reduce_rms_norm %x, %w {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  %q, %s = llm.quant_fp8 %y {group_size = 128 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>)
  return %q, %s, %ar : tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>, tensor<?x4096xbf16>
}
}

// -----

module attributes {llm.world_size = 2 : i64} {
// CHECK-LABEL: func.func @no_fuse_all_reduce_rms_norm_quant_second_user
// CHECK-NOT: llm.fused_all_reduce_rms_norm_quant_fp8
func.func @no_fuse_all_reduce_rms_norm_quant_second_user(%x: tensor<?x4096xbf16>, %w: tensor<4096xbf16>, %scale: tensor<f32>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x4096xbf16>) {
  %y, %ar = llm.fused_all_reduce_rms_norm %x, %w {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  // expected-remark @+1 {{missed fusion AllReduceRMSNormQuantFP8 (llm-fuse-norm-quant): the normalized value has users outside the chain}}
  %q = llm.quant_fp8_static %y, %scale : (tensor<?x4096xbf16>, tensor<f32>) -> tensor<?x4096xf8E4M3FN>
  return %q, %y : tensor<?x4096xf8E4M3FN>, tensor<?x4096xbf16>
}
}

// -----

module attributes {llm.world_size = 2 : i64} {
// CHECK-LABEL: func.func @fuse_all_reduce_add_rms_norm_quant
// CHECK: = llm.fused_all_reduce_add_rms_norm_quant_fp8 %arg0, %arg1, %arg2
func.func @fuse_all_reduce_add_rms_norm_quant(%x: tensor<?x4096xbf16>, %r: tensor<?x4096xbf16>, %w: tensor<4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>, tensor<?x4096xbf16>) {
  %y, %res = llm.fused_all_reduce_add_rms_norm %x, %r, %w {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  %q, %s = llm.quant_fp8 %y {group_size = 128 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>)
  return %q, %s, %res : tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>, tensor<?x4096xbf16>
}

// CHECK-LABEL: func.func @fuse_all_reduce_add_rms_norm_quant_static
// CHECK: = llm.fused_all_reduce_add_rms_norm_quant_fp8_static %arg0, %arg1, %arg2, %arg3
func.func @fuse_all_reduce_add_rms_norm_quant_static(%x: tensor<?x4096xbf16>, %r: tensor<?x4096xbf16>, %w: tensor<4096xbf16>, %scale: tensor<f32>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x4096xbf16>) {
  %y, %res = llm.fused_all_reduce_add_rms_norm %x, %r, %w {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  %q = llm.quant_fp8_static %y, %scale : (tensor<?x4096xbf16>, tensor<f32>) -> tensor<?x4096xf8E4M3FN>
  return %q, %res : tensor<?x4096xf8E4M3FN>, tensor<?x4096xbf16>
}

// CHECK-LABEL: func.func @no_fuse_all_reduce_add_rms_norm_quant_second_user
// CHECK-NOT: llm.fused_all_reduce_add_rms_norm_quant_fp8
func.func @no_fuse_all_reduce_add_rms_norm_quant_second_user(%x: tensor<?x4096xbf16>, %r: tensor<?x4096xbf16>, %w: tensor<4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>, tensor<?x4096xbf16>) {
  %y, %res = llm.fused_all_reduce_add_rms_norm %x, %r, %w {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  // expected-remark @+1 {{missed fusion AllReduceFusedAddRMSNormQuantFP8 (llm-fuse-norm-quant): the normalized value has users outside the chain}}
  %q, %s = llm.quant_fp8 %y {group_size = 128 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>)
  return %q, %s, %y : tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>, tensor<?x4096xbf16>
}
}

// -----

// The MLP's activation as imported graphs write it: silu(gate) * up.
// CHECK-LABEL: func.func @fuse_silu_mul_quant
// CHECK: llm.fused_silu_mul_quant_fp8 %arg0, %arg1 {group_size = 128 : i64}
func.func @fuse_silu_mul_quant(%g: tensor<1x?x2048xbf16>, %u: tensor<1x?x2048xbf16>) -> (tensor<1x?x2048xf8E4M3FN>, tensor<1x?x16xf32>) {
  %a = llm.silu %g : tensor<1x?x2048xbf16>
  %m = llm.mul %a, %u : (tensor<1x?x2048xbf16>, tensor<1x?x2048xbf16>) -> tensor<1x?x2048xbf16>
  %q, %s = llm.quant_fp8 %m {group_size = 128 : i64} : (tensor<1x?x2048xbf16>) -> (tensor<1x?x2048xf8E4M3FN>, tensor<1x?x16xf32>)
  return %q, %s : tensor<1x?x2048xf8E4M3FN>, tensor<1x?x16xf32>
}

// -----

// up * silu(gate), static scale.
// CHECK-LABEL: func.func @fuse_silu_mul_quant_static_up_first
// CHECK: llm.fused_silu_mul_quant_fp8_static %arg0, %arg1, %arg2
func.func @fuse_silu_mul_quant_static_up_first(%g: tensor<?x2048xbf16>, %u: tensor<?x2048xbf16>, %scale: tensor<f32>) -> tensor<?x2048xf8E4M3FN> {
  %a = llm.silu %g : tensor<?x2048xbf16>
  %m = llm.mul %u, %a : (tensor<?x2048xbf16>, tensor<?x2048xbf16>) -> tensor<?x2048xbf16>
  %q = llm.quant_fp8_static %m, %scale : (tensor<?x2048xbf16>, tensor<f32>) -> tensor<?x2048xf8E4M3FN>
  return %q : tensor<?x2048xf8E4M3FN>
}

// -----

// A product broadcast from [T, 1]: not the MLP's activation.
// CHECK-LABEL: func.func @no_fuse_silu_mul_quant_broadcast
// CHECK-NOT: llm.fused_silu_mul_quant_fp8
func.func @no_fuse_silu_mul_quant_broadcast(%g: tensor<?x2048xbf16>, %u: tensor<?x1xbf16>) -> (tensor<?x2048xf8E4M3FN>, tensor<?x16xf32>) {
  %a = llm.silu %g : tensor<?x2048xbf16>
  %m = llm.mul %a, %u : (tensor<?x2048xbf16>, tensor<?x1xbf16>) -> tensor<?x2048xbf16>
  // expected-remark @+1 {{missed fusion SiluMulQuantFP8 (llm-fuse-norm-quant): gate tensor<?x2048xbf16> and up tensor<?x1xbf16> differ}}
  %q, %s = llm.quant_fp8 %m {group_size = 128 : i64} : (tensor<?x2048xbf16>) -> (tensor<?x2048xf8E4M3FN>, tensor<?x16xf32>)
  return %q, %s : tensor<?x2048xf8E4M3FN>, tensor<?x16xf32>
}

// -----

// DeepGEMM's column-major scales: the fused op writes the layout the
// quantization promised its consumer (here the FP8 linear).
// CHECK-LABEL: func.func @fuse_add_rms_norm_quant_col_major
// CHECK: %[[Q:.+]], %[[S:.+]], %{{.+}} = llm.fused_add_rms_norm_quant_fp8 %arg0, %arg1, %arg2 {epsilon = 9.99999997E-7 : f32, group_size = 128 : i64, scale_col_major = true} : {{.*}} -> (tensor<6x7168xf8E4M3FN>, tensor<56x8xf32>, tensor<6x7168xbf16>)
// CHECK: llm.matmul_fp8 %[[Q]], %[[S]], %arg3, %arg4 {x_scale_col_major = true}
func.func @fuse_add_rms_norm_quant_col_major(%x: tensor<6x7168xbf16>, %r: tensor<6x7168xbf16>, %w: tensor<7168xbf16>, %wq: tensor<256x7168xf8E4M3FN>, %ws: tensor<2x56xf32>) -> (tensor<6x256xbf16>, tensor<6x7168xbf16>) {
  %y, %res = llm.fused_add_rms_norm %x, %r, %w {epsilon = 1.0e-06 : f32} : (tensor<6x7168xbf16>, tensor<6x7168xbf16>, tensor<7168xbf16>) -> (tensor<6x7168xbf16>, tensor<6x7168xbf16>)
  %q, %s = llm.quant_fp8 %y {group_size = 128 : i64, scale_col_major = true} : (tensor<6x7168xbf16>) -> (tensor<6x7168xf8E4M3FN>, tensor<56x8xf32>)
  %o = llm.matmul_fp8 %q, %s, %wq, %ws {x_scale_col_major = true} : (tensor<6x7168xf8E4M3FN>, tensor<56x8xf32>, tensor<256x7168xf8E4M3FN>, tensor<2x56xf32>) -> tensor<6x256xbf16>
  return %o, %res : tensor<6x256xbf16>, tensor<6x7168xbf16>
}

// -----

// SiLU-and-mul keeps the column-major layout too.
// CHECK-LABEL: func.func @fuse_silu_mul_quant_col_major
// CHECK: llm.fused_silu_mul_quant_fp8 %arg0, %arg1 {group_size = 128 : i64, scale_col_major = true} : {{.*}} -> (tensor<?x2048xf8E4M3FN>, tensor<16x?xf32>)
func.func @fuse_silu_mul_quant_col_major(%g: tensor<?x2048xbf16>, %u: tensor<?x2048xbf16>) -> (tensor<?x2048xf8E4M3FN>, tensor<16x?xf32>) {
  %a = llm.silu %g : tensor<?x2048xbf16>
  %m = llm.mul %a, %u : (tensor<?x2048xbf16>, tensor<?x2048xbf16>) -> tensor<?x2048xbf16>
  %q, %s = llm.quant_fp8 %m {group_size = 128 : i64, scale_col_major = true} : (tensor<?x2048xbf16>) -> (tensor<?x2048xf8E4M3FN>, tensor<16x?xf32>)
  return %q, %s : tensor<?x2048xf8E4M3FN>, tensor<16x?xf32>
}
