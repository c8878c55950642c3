// RUN: fusion-opt %s -split-input-file -llm-fuse-gated-norm-quant=remarks=true -verify-diagnostics | FileCheck %s

// Qwen3-Next: 32 heads of 128, group 128 = head dim.
// CHECK-LABEL: func.func @fuse_gated_quant
// CHECK-SAME: (%[[X:.+]]: tensor<?x128xbf16>, %[[Z:.+]]: tensor<?x128xbf16>, %[[W:.+]]: tensor<128xf32>)
// CHECK-NEXT: %[[Q:.+]], %[[S:.+]] = llm.fused_rms_norm_gated_quant_fp8 %[[X]], %[[Z]], %[[W]] {epsilon = 9.99999997E-7 : f32, group_size = 128 : i64} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xf32>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>)
// CHECK-NEXT: return %[[Q]], %[[S]]
func.func @fuse_gated_quant(%x: tensor<?x128xbf16>, %z: tensor<?x128xbf16>, %w: tensor<128xf32>)
    -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>) {
  %g = llm.rms_norm_gated %x, %z, %w {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xf32>) -> tensor<?x128xbf16>
  %t = llm.reshape %g : tensor<?x128xbf16> to tensor<?x4096xbf16>
  %q, %s = llm.quant_fp8 %t {group_size = 128 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>)
  return %q, %s : tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>
}

// -----

// Two reshapes (view chain), group 64 inside a 128 head, norm after the gate,
// Gemma weight, static token count.
// CHECK-LABEL: func.func @fuse_gated_quant_view_chain
// CHECK: llm.fused_rms_norm_gated_quant_fp8 %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32, group_size = 64 : i64, norm_before_gate = false, weight_bias = 1.000000e+00 : f32} : (tensor<64x128xbf16>, tensor<64x128xbf16>, tensor<128xbf16>) -> (tensor<4x2048xf8E4M3FN>, tensor<4x32xf32>)
// CHECK-NOT: llm.reshape
func.func @fuse_gated_quant_view_chain(%x: tensor<64x128xbf16>, %z: tensor<64x128xbf16>, %w: tensor<128xbf16>)
    -> (tensor<4x2048xf8E4M3FN>, tensor<4x32xf32>) {
  %g = llm.rms_norm_gated %x, %z, %w {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32, norm_before_gate = false}
      : (tensor<64x128xbf16>, tensor<64x128xbf16>, tensor<128xbf16>) -> tensor<64x128xbf16>
  %v = llm.reshape %g : tensor<64x128xbf16> to tensor<4x16x128xbf16>
  %t = llm.reshape %v : tensor<4x16x128xbf16> to tensor<4x2048xbf16>
  %q, %s = llm.quant_fp8 %t {group_size = 64 : i64} : (tensor<4x2048xbf16>) -> (tensor<4x2048xf8E4M3FN>, tensor<4x32xf32>)
  return %q, %s : tensor<4x2048xf8E4M3FN>, tensor<4x32xf32>
}

// -----

// Per-tensor static quantization has no fused kernel.
// CHECK-LABEL: func.func @no_fuse_static_quant
// CHECK: llm.rms_norm_gated
// CHECK: llm.quant_fp8_static
func.func @no_fuse_static_quant(%x: tensor<?x128xbf16>, %z: tensor<?x128xbf16>, %w: tensor<128xf32>, %sc: tensor<f32>)
    -> tensor<?x4096xf8E4M3FN> {
  %g = llm.rms_norm_gated %x, %z, %w {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xf32>) -> tensor<?x128xbf16>
  %t = llm.reshape %g : tensor<?x128xbf16> to tensor<?x4096xbf16>
  // expected-remark @+1 {{missed fusion RMSNormGatedQuantFP8 (llm-fuse-gated-norm-quant): per-tensor static quantization (quant_fp8_static) is not fused}}
  %q = llm.quant_fp8_static %t, %sc : (tensor<?x4096xbf16>, tensor<f32>) -> tensor<?x4096xf8E4M3FN>
  return %q : tensor<?x4096xf8E4M3FN>
}

// -----

// A group of 256 would straddle two heads of 128.
// CHECK-LABEL: func.func @no_fuse_group_straddles_heads
// CHECK: llm.quant_fp8
func.func @no_fuse_group_straddles_heads(%x: tensor<?x128xbf16>, %z: tensor<?x128xbf16>, %w: tensor<128xf32>)
    -> (tensor<?x4096xf8E4M3FN>, tensor<?x16xf32>) {
  %g = llm.rms_norm_gated %x, %z, %w {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xf32>) -> tensor<?x128xbf16>
  %t = llm.reshape %g : tensor<?x128xbf16> to tensor<?x4096xbf16>
  // expected-remark @+1 {{missed fusion RMSNormGatedQuantFP8 (llm-fuse-gated-norm-quant): group size 256 does not divide the head dim 128 (a group would straddle two heads)}}
  %q, %s = llm.quant_fp8 %t {group_size = 256 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x16xf32>)
  return %q, %s : tensor<?x4096xf8E4M3FN>, tensor<?x16xf32>
}

// -----

// The gated output is also returned.
// CHECK-LABEL: func.func @no_fuse_gated_output_used
// CHECK: llm.quant_fp8
func.func @no_fuse_gated_output_used(%x: tensor<?x128xbf16>, %z: tensor<?x128xbf16>, %w: tensor<128xf32>)
    -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>, tensor<?x128xbf16>) {
  %g = llm.rms_norm_gated %x, %z, %w {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xf32>) -> tensor<?x128xbf16>
  %t = llm.reshape %g : tensor<?x128xbf16> to tensor<?x4096xbf16>
  // expected-remark @+1 {{missed fusion RMSNormGatedQuantFP8 (llm-fuse-gated-norm-quant): the gated norm output has users outside the chain}}
  %q, %s = llm.quant_fp8 %t {group_size = 128 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>)
  return %q, %s, %g : tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>, tensor<?x128xbf16>
}

// -----

// The reshaped tokens are also returned.
// CHECK-LABEL: func.func @no_fuse_reshape_used
// CHECK: llm.quant_fp8
func.func @no_fuse_reshape_used(%x: tensor<?x128xbf16>, %z: tensor<?x128xbf16>, %w: tensor<128xf32>)
    -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>, tensor<?x4096xbf16>) {
  %g = llm.rms_norm_gated %x, %z, %w {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xf32>) -> tensor<?x128xbf16>
  %t = llm.reshape %g : tensor<?x128xbf16> to tensor<?x4096xbf16>
  // expected-remark @+1 {{missed fusion RMSNormGatedQuantFP8 (llm-fuse-gated-norm-quant): the reshape to tokens has users outside the chain}}
  %q, %s = llm.quant_fp8 %t {group_size = 128 : i64} : (tensor<?x4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>)
  return %q, %s, %t : tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>, tensor<?x4096xbf16>
}

// -----

// Splitting heads further ([M, 128] -> [N, 64]) is not a regrouping of heads.
// CHECK-LABEL: func.func @no_fuse_not_head_regroup
// CHECK: llm.quant_fp8
func.func @no_fuse_not_head_regroup(%x: tensor<?x128xbf16>, %z: tensor<?x128xbf16>, %w: tensor<128xf32>)
    -> (tensor<?x64xf8E4M3FN>, tensor<?x1xf32>) {
  %g = llm.rms_norm_gated %x, %z, %w {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xf32>) -> tensor<?x128xbf16>
  %t = llm.reshape %g : tensor<?x128xbf16> to tensor<?x64xbf16>
  // expected-remark @+1 {{does not regroup whole heads [N*H, D] -> [..., H*D]}}
  %q, %s = llm.quant_fp8 %t {group_size = 64 : i64} : (tensor<?x64xbf16>) -> (tensor<?x64xf8E4M3FN>, tensor<?x1xf32>)
  return %q, %s : tensor<?x64xf8E4M3FN>, tensor<?x1xf32>
}

// -----

// One head: the identity reshape [N, D] -> [N, D] was removed by cleanup,
// and the gated norm feeds the quant directly; it still fuses (issue 11,
// class 6).
// CHECK-LABEL: func.func @fuse_gated_norm_quant_one_head
// CHECK: llm.fused_rms_norm_gated_quant_fp8 {{.*}}group_size = 64
// CHECK-NOT: llm.quant_fp8
func.func @fuse_gated_norm_quant_one_head(%x: tensor<?x128xbf16>, %z: tensor<?x128xbf16>, %w: tensor<128xbf16>) -> (tensor<?x128xf8E4M3FN>, tensor<?x2xf32>) {
  %y = llm.rms_norm_gated %x, %z, %w {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %q, %s = llm.quant_fp8 %y {group_size = 64 : i64} : (tensor<?x128xbf16>) -> (tensor<?x128xf8E4M3FN>, tensor<?x2xf32>)
  return %q, %s : tensor<?x128xf8E4M3FN>, tensor<?x2xf32>
}

// -----

// A zero head dim never divides anything (it crashed the check once); the
// identity reshape is gone, as cleanup would remove it.
// CHECK-LABEL: func.func @no_fuse_gated_norm_quant_zero_head_dim
// CHECK: llm.quant_fp8
func.func @no_fuse_gated_norm_quant_zero_head_dim(%x: tensor<4x0xbf16>, %w: tensor<0xbf16>) -> (tensor<4x0xf8E4M3FN>, tensor<4x0xf32>) {
  %y = llm.rms_norm_gated %x, %x, %w {epsilon = 1.0e-06 : f32} : (tensor<4x0xbf16>, tensor<4x0xbf16>, tensor<0xbf16>) -> tensor<4x0xbf16>
  %r = llm.reshape %y : tensor<4x0xbf16> to tensor<4x0xbf16>
  // expected-remark @+1 {{missed fusion RMSNormGatedQuantFP8 (llm-fuse-gated-norm-quant): the gated norm tensor<4x0xbf16> -> tensor<4x0xbf16> does not regroup whole heads}}
  %q, %s = llm.quant_fp8 %r {group_size = 128 : i64} : (tensor<4x0xbf16>) -> (tensor<4x0xf8E4M3FN>, tensor<4x0xf32>)
  return %q, %s : tensor<4x0xf8E4M3FN>, tensor<4x0xf32>
}

// -----

// Qwen3-Next as imported: the gated norm on [T*H, D], the reshape back to
// [1, T, H*D] (the batch dim kept), the out_proj's block quantization.
// CHECK-LABEL: func.func @fuse_gated_quant_batched
// CHECK: llm.fused_rms_norm_gated_quant_fp8 {{.*}} -> (tensor<1x?x512xf8E4M3FN>, tensor<1x?x4xf32>)
func.func @fuse_gated_quant_batched(%x: tensor<?x128xbf16>, %z: tensor<?x128xbf16>, %w: tensor<128xbf16>)
    -> (tensor<1x?x512xf8E4M3FN>, tensor<1x?x4xf32>) {
  %g = llm.rms_norm_gated %x, %z, %w {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %r = llm.reshape %g : tensor<?x128xbf16> to tensor<1x?x512xbf16>
  %q, %s = llm.quant_fp8 %r {group_size = 128 : i64} : (tensor<1x?x512xbf16>) -> (tensor<1x?x512xf8E4M3FN>, tensor<1x?x4xf32>)
  return %q, %s : tensor<1x?x512xf8E4M3FN>, tensor<1x?x4xf32>
}

// -----

// Column-major scales: [H*D / group_size, N rounded up to 4] carried over.
// CHECK-LABEL: func.func @fuse_gated_quant_col_major
// CHECK: llm.fused_rms_norm_gated_quant_fp8 {{.*}}scale_col_major = true} : (tensor<96x128xbf16>, tensor<96x128xbf16>, tensor<128xf32>) -> (tensor<3x4096xf8E4M3FN>, tensor<32x4xf32>)
func.func @fuse_gated_quant_col_major(%x: tensor<96x128xbf16>, %z: tensor<96x128xbf16>, %w: tensor<128xf32>)
    -> (tensor<3x4096xf8E4M3FN>, tensor<32x4xf32>) {
  %g = llm.rms_norm_gated %x, %z, %w {epsilon = 1.0e-06 : f32} : (tensor<96x128xbf16>, tensor<96x128xbf16>, tensor<128xf32>) -> tensor<96x128xbf16>
  %t = llm.reshape %g : tensor<96x128xbf16> to tensor<3x4096xbf16>
  %q, %s = llm.quant_fp8 %t {group_size = 128 : i64, scale_col_major = true} : (tensor<3x4096xbf16>) -> (tensor<3x4096xf8E4M3FN>, tensor<32x4xf32>)
  return %q, %s : tensor<3x4096xf8E4M3FN>, tensor<32x4xf32>
}
