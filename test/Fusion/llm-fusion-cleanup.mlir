// RUN: fusion-opt %s -split-input-file -allow-unregistered-dialect -llm-fusion-cleanup=remarks=true -verify-diagnostics | FileCheck %s

// View chains collapse to one reshape; identity reshapes and casts vanish.
// CHECK-LABEL: func.func @fuse_reshapes_and_identities
// CHECK-SAME: (%[[X:.+]]: tensor<?x128xbf16>)
// CHECK-NEXT: %[[R:.+]] = llm.reshape %[[X]] : tensor<?x128xbf16> to tensor<?x4096xbf16>
// CHECK-NEXT: return %[[R]], %[[X]]
func.func @fuse_reshapes_and_identities(%x: tensor<?x128xbf16>) -> (tensor<?x4096xbf16>, tensor<?x128xbf16>) {
  %a = llm.reshape %x : tensor<?x128xbf16> to tensor<?x32x128xbf16>
  %b = llm.reshape %a : tensor<?x32x128xbf16> to tensor<?x4096xbf16>
  %c = llm.reshape %x : tensor<?x128xbf16> to tensor<?x128xbf16>
  %d = llm.cast %c : tensor<?x128xbf16> to tensor<?x128xbf16>
  return %b, %d : tensor<?x4096xbf16>, tensor<?x128xbf16>
}

// -----

// World size 1 (no attribute): all_reduce is the identity.
// CHECK-LABEL: func.func @fuse_all_reduce_world_size_1
// CHECK-NOT: llm.all_reduce
func.func @fuse_all_reduce_world_size_1(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %a = llm.all_reduce %x : tensor<?x64xf32>
  return %a : tensor<?x64xf32>
}

// -----

// World size 2: the all-reduce stays.
// CHECK-LABEL: func.func @no_fuse_all_reduce_world_size_2
// CHECK: llm.all_reduce
module attributes {llm.world_size = 2 : i64} {
func.func @no_fuse_all_reduce_world_size_2(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %a = llm.all_reduce %x : tensor<?x64xf32>
  return %a : tensor<?x64xf32>
}
}

// -----

// add -> rms_norm; the sum is the next residual and comes back as residual_out.
// CHECK-LABEL: func.func @fuse_add_rms_norm
// CHECK-SAME: (%[[X:.+]]: tensor<?x64xbf16>, %[[R:.+]]: tensor<?x64xbf16>, %[[W:.+]]: tensor<64xbf16>)
// CHECK: %[[Y:.+]], %[[RO:.+]] = llm.fused_add_rms_norm %[[X]], %[[R]], %[[W]] {epsilon = 9.99999997E-7 : f32}
// CHECK-NOT: llm.add
// CHECK: return %[[Y]], %[[RO]]
func.func @fuse_add_rms_norm(%x: tensor<?x64xbf16>, %r: tensor<?x64xbf16>, %w: tensor<64xbf16>)
    -> (tensor<?x64xbf16>, tensor<?x64xbf16>) {
  %s = llm.add %x, %r : (tensor<?x64xbf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  %y = llm.rms_norm %s, %w {epsilon = 1.0e-06 : f32} : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  return %y, %s : tensor<?x64xbf16>, tensor<?x64xbf16>
}

// -----

// A broadcasting add is a bias, not a residual.
// CHECK-LABEL: func.func @no_fuse_add_rms_norm_broadcast
// CHECK: llm.add
// CHECK: llm.rms_norm
func.func @no_fuse_add_rms_norm_broadcast(%x: tensor<?x64xbf16>, %b: tensor<64xbf16>, %w: tensor<64xbf16>) -> tensor<?x64xbf16> {
  %s = llm.add %x, %b : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  // expected-remark @+1 {{missed fusion AddRMSNorm (llm-fusion-cleanup): the residual add broadcasts}}
  %y = llm.rms_norm %s, %w {epsilon = 1.0e-06 : f32} : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

// -----

// Gemma weights fold into weight_bias = 1 on every norm kind.
// CHECK-LABEL: func.func @fuse_gemma_weights
// CHECK-SAME: (%[[X:.+]]: tensor<?x128xbf16>, %[[Z:.+]]: tensor<?x128xbf16>, %[[W:.+]]: tensor<128xbf16>)
// CHECK: llm.rms_norm %[[X]], %[[W]] {epsilon = 9.99999997E-7 : f32, weight_bias = 1.000000e+00 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>)
// CHECK: llm.rms_norm_gated %[[X]], %[[Z]], %[[W]] {epsilon = 9.99999997E-7 : f32, weight_bias = 1.000000e+00 : f32}
// CHECK-NOT: llm.cast
// CHECK-NOT: llm.add
func.func @fuse_gemma_weights(%x: tensor<?x128xbf16>, %z: tensor<?x128xbf16>, %w: tensor<128xbf16>)
    -> (tensor<?x128xbf16>, tensor<?x128xbf16>) {
  %one = llm.constant dense<1.0> : tensor<f32>
  %wf = llm.cast %w : tensor<128xbf16> to tensor<128xf32>
  %w1 = llm.add %wf, %one : (tensor<128xf32>, tensor<f32>) -> tensor<128xf32>
  %y = llm.rms_norm %x, %w1 {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xf32>) -> tensor<?x128xbf16>
  %g = llm.rms_norm_gated %x, %z, %w1 {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xf32>) -> tensor<?x128xbf16>
  return %y, %g : tensor<?x128xbf16>, tensor<?x128xbf16>
}

// -----

// Not Gemma: adding 2.0, or a norm that already has weight_bias = 1.
// CHECK-LABEL: func.func @no_fuse_gemma_not_one
// CHECK: llm.add
// CHECK: llm.rms_norm %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32} : (tensor<?x128xbf16>, tensor<128xf32>)
// CHECK: llm.rms_norm %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32, weight_bias = 1.000000e+00 : f32} : (tensor<?x128xbf16>, tensor<128xf32>)
func.func @no_fuse_gemma_not_one(%x: tensor<?x128xbf16>, %w: tensor<128xbf16>) -> (tensor<?x128xbf16>, tensor<?x128xbf16>) {
  %two = llm.constant dense<2.0> : tensor<f32>
  %one = llm.constant dense<1.0> : tensor<f32>
  %wf = llm.cast %w : tensor<128xbf16> to tensor<128xf32>
  %w2 = llm.add %wf, %two : (tensor<128xf32>, tensor<f32>) -> tensor<128xf32>
  %y = llm.rms_norm %x, %w2 {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xf32>) -> tensor<?x128xbf16>
  %w1 = llm.add %wf, %one : (tensor<128xf32>, tensor<f32>) -> tensor<128xf32>
  %y1 = llm.rms_norm %x, %w1 {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32} : (tensor<?x128xbf16>, tensor<128xf32>) -> tensor<?x128xbf16>
  return %y, %y1 : tensor<?x128xbf16>, tensor<?x128xbf16>
}

// -----

// Constants move to the right of an add.
// CHECK-LABEL: func.func @fuse_constant_right
// CHECK: %[[C:.+]] = llm.constant
// CHECK: llm.add %{{.+}}, %[[C]]
func.func @fuse_constant_right(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %c = llm.constant dense<3.0> : tensor<f32>
  %s = llm.add %c, %x : (tensor<f32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %s : tensor<?x8xf32>
}

// -----

// The sum is also the norm's weight: fusing would make the fused op read its
// own residual_out, so the chain stays (issue 11, class 2).
// CHECK-LABEL: func.func @no_fuse_add_norm_sum_is_weight
// CHECK: llm.add
// CHECK: llm.rms_norm
func.func @no_fuse_add_norm_sum_is_weight(%x: tensor<64xf32>, %r: tensor<64xf32>) -> tensor<64xf32> {
  %s = llm.add %x, %r : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
  // expected-remark @+1 {{missed fusion AddRMSNorm (llm-fusion-cleanup): a value the chain defines (llm.add) also feeds the fused op as another operand}}
  %y = llm.rms_norm %s, %s {epsilon = 1.0e-06 : f32} : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
  return %y : tensor<64xf32>
}

// -----

// The sum has a user nested in another dialect's region before the norm, and
// the weight is defined after it: no point keeps dominance, so no fusion.
// CHECK-LABEL: func.func @no_fuse_add_norm_nested_user
// CHECK: llm.add
// CHECK: llm.rms_norm
func.func @no_fuse_add_norm_nested_user(%x: tensor<?x64xf32>, %r: tensor<?x64xf32>, %w0: tensor<64xf32>) -> tensor<?x64xf32> {
  %s = llm.add %x, %r : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  "test.region"() ({
    "test.use"(%s) : (tensor<?x64xf32>) -> ()
    "test.end"() : () -> ()
  }) : () -> ()
  %w = llm.relu %w0 : tensor<64xf32>
  // expected-remark @+1 {{missed fusion AddRMSNorm (llm-fusion-cleanup): no point in the block dominates}}
  %y = llm.rms_norm %s, %w {epsilon = 1.0e-06 : f32} : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// A bf16 `w + 1` on an f32 input is not folded into weight_bias = 1: that
// would drop a bf16 rounding, more than one rounding of the f32 output.
// CHECK-LABEL: func.func @no_fuse_gemma_bf16_add_on_f32_input
// CHECK: llm.add
// CHECK: llm.rms_norm %{{.*}}, %{{.*}} {epsilon
// CHECK-NOT: weight_bias
func.func @no_fuse_gemma_bf16_add_on_f32_input(%x: tensor<?x64xf32>, %w: tensor<64xbf16>) -> tensor<?x64xf32> {
  %one = llm.constant dense<1.0> : tensor<bf16>
  %w1 = llm.add %w, %one : (tensor<64xbf16>, tensor<bf16>) -> tensor<64xbf16>
  %y = llm.rms_norm %x, %w1 {epsilon = 1.0e-06 : f32} : (tensor<?x64xf32>, tensor<64xbf16>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// An f16 `w + 1` on a bf16 input folds: f16 is finer than bf16.
// CHECK-LABEL: func.func @fuse_gemma_f16_add_on_bf16_input
// CHECK: llm.rms_norm %{{.*}}, %{{.*}} {epsilon = {{.*}}, weight_bias = 1.0
func.func @fuse_gemma_f16_add_on_bf16_input(%x: tensor<?x64xbf16>, %w: tensor<64xf16>) -> tensor<?x64xbf16> {
  %one = llm.constant dense<1.0> : tensor<f16>
  %w1 = llm.add %w, %one : (tensor<64xf16>, tensor<f16>) -> tensor<64xf16>
  %y = llm.rms_norm %x, %w1 {epsilon = 1.0e-06 : f32} : (tensor<?x64xbf16>, tensor<64xf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}
