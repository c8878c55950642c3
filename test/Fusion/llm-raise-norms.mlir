// RUN: fusion-opt %s -split-input-file -llm-raise-norms=remarks=true -verify-diagnostics | FileCheck %s

// Llama's RMSNorm as torch.export writes it (bf16: casts around the f32
// arithmetic, the weight multiplied first).
// CHECK-LABEL: func.func @fuse_llama_bf16
// CHECK-SAME: (%[[X:.+]]: tensor<?x64xbf16>, %[[W:.+]]: tensor<64xbf16>)
// CHECK-NEXT: %[[Y:.+]] = llm.rms_norm %[[X]], %[[W]] {epsilon = 9.99999997E-7 : f32}
// CHECK-NEXT: return %[[Y]]
func.func @fuse_llama_bf16(%x: tensor<?x64xbf16>, %w: tensor<64xbf16>) -> tensor<?x64xbf16> {
  %eps = llm.constant dense<1.0e-06> : tensor<f32>
  %xf = llm.cast %x : tensor<?x64xbf16> to tensor<?x64xf32>
  %sq = llm.pow %xf {exponent = 2.0 : f32} : tensor<?x64xf32>
  %ms = llm.mean %sq {dim = -1 : i64, keepdim = true} : (tensor<?x64xf32>) -> tensor<?x1xf32>
  %ve = llm.add %ms, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %r = llm.rsqrt %ve : tensor<?x1xf32>
  %n = llm.mul %xf, %r : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %nb = llm.cast %n : tensor<?x64xf32> to tensor<?x64xbf16>
  %y = llm.mul %w, %nb : (tensor<64xbf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

// -----

// An f32 input has no casts; operands in the other order, epsilon first.
// CHECK-LABEL: func.func @fuse_f32_other_order
// CHECK-NEXT: llm.rms_norm %arg0, %arg1 {epsilon = 9.99999974E-6 : f32}
func.func @fuse_f32_other_order(%x: tensor<4x32xf32>, %w: tensor<32xf32>) -> tensor<4x32xf32> {
  %eps = llm.constant dense<1.0e-05> : tensor<f32>
  %sq = llm.pow %x {exponent = 2.0 : f32} : tensor<4x32xf32>
  %ms = llm.mean %sq {dim = 1 : i64, keepdim = true} : (tensor<4x32xf32>) -> tensor<4x1xf32>
  %ve = llm.add %eps, %ms : (tensor<f32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  %r = llm.rsqrt %ve : tensor<4x1xf32>
  %n = llm.mul %r, %x : (tensor<4x1xf32>, tensor<4x32xf32>) -> tensor<4x32xf32>
  %y = llm.mul %n, %w : (tensor<4x32xf32>, tensor<32xf32>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// The mean is over the first dim: not an RMSNorm over the features.
// CHECK-LABEL: func.func @no_fuse_mean_not_last_dim
// CHECK: llm.rsqrt
func.func @no_fuse_mean_not_last_dim(%x: tensor<4x32xf32>, %w: tensor<32xf32>) -> tensor<4x32xf32> {
  %eps = llm.constant dense<1.0e-05> : tensor<f32>
  %sq = llm.pow %x {exponent = 2.0 : f32} : tensor<4x32xf32>
  %ms = llm.mean %sq {dim = 0 : i64, keepdim = true} : (tensor<4x32xf32>) -> tensor<1x32xf32>
  %ve = llm.add %ms, %eps : (tensor<1x32xf32>, tensor<f32>) -> tensor<1x32xf32>
  %r = llm.rsqrt %ve : tensor<1x32xf32>
  %n = llm.mul %x, %r : (tensor<4x32xf32>, tensor<1x32xf32>) -> tensor<4x32xf32>
  // expected-remark @+1 {{missed fusion RaiseRMSNorm (llm-raise-norms): the mean is over dim 0, not the last dim with keepdim}}
  %y = llm.mul %w, %n : (tensor<32xf32>, tensor<4x32xf32>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// A cube is no mean square.
// CHECK-LABEL: func.func @no_fuse_not_a_square
// CHECK: llm.pow
func.func @no_fuse_not_a_square(%x: tensor<4x32xf32>, %w: tensor<32xf32>) -> tensor<4x32xf32> {
  %eps = llm.constant dense<1.0e-05> : tensor<f32>
  %sq = llm.pow %x {exponent = 3.0 : f32} : tensor<4x32xf32>
  %ms = llm.mean %sq {dim = -1 : i64, keepdim = true} : (tensor<4x32xf32>) -> tensor<4x1xf32>
  %ve = llm.add %ms, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %r = llm.rsqrt %ve : tensor<4x1xf32>
  %n = llm.mul %x, %r : (tensor<4x32xf32>, tensor<4x1xf32>) -> tensor<4x32xf32>
  // expected-remark @+1 {{missed fusion RaiseRMSNorm (llm-raise-norms): the square is pow(x, 3.000000e+00)}}
  %y = llm.mul %w, %n : (tensor<32xf32>, tensor<4x32xf32>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// The epsilon is an argument, not a constant.
// CHECK-LABEL: func.func @no_fuse_epsilon_not_constant
// CHECK: llm.rsqrt
func.func @no_fuse_epsilon_not_constant(%x: tensor<4x32xf32>, %w: tensor<32xf32>, %eps: tensor<f32>) -> tensor<4x32xf32> {
  %sq = llm.pow %x {exponent = 2.0 : f32} : tensor<4x32xf32>
  %ms = llm.mean %sq {dim = -1 : i64, keepdim = true} : (tensor<4x32xf32>) -> tensor<4x1xf32>
  %ve = llm.add %ms, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %r = llm.rsqrt %ve : tensor<4x1xf32>
  %n = llm.mul %x, %r : (tensor<4x32xf32>, tensor<4x1xf32>) -> tensor<4x32xf32>
  // expected-remark @+1 {{missed fusion RaiseRMSNorm (llm-raise-norms): epsilon is not a finite, non-negative splat constant}}
  %y = llm.mul %w, %n : (tensor<32xf32>, tensor<4x32xf32>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// The normalized value is also returned: the raised op would not produce it.
// CHECK-LABEL: func.func @no_fuse_normalized_value_used
// CHECK: llm.rsqrt
func.func @no_fuse_normalized_value_used(%x: tensor<4x32xf32>, %w: tensor<32xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>) {
  %eps = llm.constant dense<1.0e-05> : tensor<f32>
  %sq = llm.pow %x {exponent = 2.0 : f32} : tensor<4x32xf32>
  %ms = llm.mean %sq {dim = -1 : i64, keepdim = true} : (tensor<4x32xf32>) -> tensor<4x1xf32>
  %ve = llm.add %ms, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %r = llm.rsqrt %ve : tensor<4x1xf32>
  %n = llm.mul %x, %r : (tensor<4x32xf32>, tensor<4x1xf32>) -> tensor<4x32xf32>
  // expected-remark @+1 {{missed fusion RaiseRMSNorm (llm-raise-norms): the normalized value has users outside the chain}}
  %y = llm.mul %w, %n : (tensor<32xf32>, tensor<4x32xf32>) -> tensor<4x32xf32>
  return %y, %n : tensor<4x32xf32>, tensor<4x32xf32>
}

// -----

// Gemma's norm: the weight multiply in f32 with 1 + w.float(), then the
// cast back to x's type ends the chain. Raised to rms_norm on x with the f32
// weight expression (the cleanup then folds it into weight_bias = 1).
// CHECK-LABEL: func.func @fuse_gemma_f32_weight
// CHECK-SAME: (%[[X:.+]]: tensor<?x64xbf16>, %[[W:.+]]: tensor<64xbf16>)
// CHECK: %[[W1:.+]] = llm.add
// CHECK-NEXT: %[[Y:.+]] = llm.rms_norm %[[X]], %[[W1]] {epsilon = 9.99999997E-7 : f32} : (tensor<?x64xbf16>, tensor<64xf32>) -> tensor<?x64xbf16>
// CHECK-NEXT: return %[[Y]]
func.func @fuse_gemma_f32_weight(%x: tensor<?x64xbf16>, %w: tensor<64xbf16>) -> tensor<?x64xbf16> {
  %eps = llm.constant dense<1.0e-06> : tensor<f32>
  %one = llm.constant dense<1.0> : tensor<f32>
  %xf = llm.cast %x : tensor<?x64xbf16> to tensor<?x64xf32>
  %sq = llm.pow %xf {exponent = 2.0 : f32} : tensor<?x64xf32>
  %ms = llm.mean %sq {dim = -1 : i64, keepdim = true} : (tensor<?x64xf32>) -> tensor<?x1xf32>
  %ve = llm.add %ms, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %r = llm.rsqrt %ve : tensor<?x1xf32>
  %n = llm.mul %xf, %r : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %wf = llm.cast %w : tensor<64xbf16> to tensor<64xf32>
  %w1 = llm.add %wf, %one : (tensor<64xf32>, tensor<f32>) -> tensor<64xf32>
  %yf = llm.mul %n, %w1 : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %y = llm.cast %yf : tensor<?x64xf32> to tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

// -----

// Qwen3-Next's gated norm: the norm in bf16, then the f32 multiply by
// silu(z) and the cast back (PyTorch's bf16 x f32 promotion made explicit).
// CHECK-LABEL: func.func @fuse_gated_norm
// CHECK: llm.rms_norm_gated %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32}
// CHECK-NOT: llm.silu
func.func @fuse_gated_norm(%x: tensor<?x16xbf16>, %z: tensor<?x16xbf16>, %w: tensor<16xbf16>) -> tensor<?x16xbf16> {
  %n = llm.rms_norm %x, %w {epsilon = 1.0e-06 : f32} : (tensor<?x16xbf16>, tensor<16xbf16>) -> tensor<?x16xbf16>
  %zf = llm.cast %z : tensor<?x16xbf16> to tensor<?x16xf32>
  %s = llm.silu %zf : tensor<?x16xf32>
  %nf = llm.cast %n : tensor<?x16xbf16> to tensor<?x16xf32>
  %g = llm.mul %nf, %s : (tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  %y = llm.cast %g : tensor<?x16xf32> to tensor<?x16xbf16>
  return %y : tensor<?x16xbf16>
}

// -----

// A gate broadcast over the heads ([T, 1]): not the gated norm's z.
// CHECK-LABEL: func.func @no_fuse_gated_norm_broadcast_gate
// CHECK-NOT: llm.rms_norm_gated
func.func @no_fuse_gated_norm_broadcast_gate(%x: tensor<?x16xbf16>, %z: tensor<?x1xbf16>, %w: tensor<16xbf16>) -> tensor<?x16xbf16> {
  %n = llm.rms_norm %x, %w {epsilon = 1.0e-06 : f32} : (tensor<?x16xbf16>, tensor<16xbf16>) -> tensor<?x16xbf16>
  %zf = llm.cast %z : tensor<?x1xbf16> to tensor<?x1xf32>
  %s = llm.silu %zf : tensor<?x1xf32>
  %nf = llm.cast %n : tensor<?x16xbf16> to tensor<?x16xf32>
  %g = llm.mul %nf, %s : (tensor<?x16xf32>, tensor<?x1xf32>) -> tensor<?x16xf32>
  // expected-remark @+1 {{missed fusion RaiseRMSNormGated (llm-raise-norms): the gate tensor<?x1xbf16> differs from the normed tensor<?x16xbf16>}}
  %y = llm.cast %g : tensor<?x16xf32> to tensor<?x16xbf16>
  return %y : tensor<?x16xbf16>
}
