// RUN: fusion-opt %s -split-input-file -llm-fuse-allreduce-norm=remarks=true -verify-diagnostics | FileCheck %s

// all_reduce -> rms_norm; the all-reduce result also feeds the residual.
// CHECK-LABEL: func.func @fuse_ar_rms_norm
// CHECK-SAME: (%[[X:.+]]: tensor<?x4096xbf16>, %[[W:.+]]: tensor<4096xbf16>)
// CHECK-NOT: llm.all_reduce
// CHECK: %[[Y:.+]], %[[AR:.+]] = llm.fused_all_reduce_rms_norm %[[X]], %[[W]] {epsilon = 9.99999997E-7 : f32}
// CHECK-NOT: llm.rms_norm
// CHECK: return %[[Y]], %[[AR]]
module attributes {llm.world_size = 2 : i64} {
func.func @fuse_ar_rms_norm(%x: tensor<?x4096xbf16>, %w: tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>) {
  %a = llm.all_reduce %x : tensor<?x4096xbf16>
  %y = llm.rms_norm %a, %w {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  return %y, %a : tensor<?x4096xbf16>, tensor<?x4096xbf16>
}
}

// -----

// all_reduce -> fused_add_rms_norm, the all-reduce result as x or as residual.
// CHECK-LABEL: func.func @fuse_ar_fused_add
// CHECK-SAME: (%[[X:.+]]: tensor<?x4096xbf16>, %[[R:.+]]: tensor<?x4096xbf16>, %[[W:.+]]: tensor<4096xbf16>)
// CHECK: %[[Y:.+]], %[[RO:.+]] = llm.fused_all_reduce_add_rms_norm %[[X]], %[[R]], %[[W]]
// CHECK: %{{.+}}, %{{.+}} = llm.fused_all_reduce_add_rms_norm %[[X]], %[[RO]], %[[W]]
// CHECK-NOT: llm.all_reduce
// CHECK-NOT: llm.fused_add_rms_norm
func.func @fuse_ar_fused_add(%x: tensor<?x4096xbf16>, %r: tensor<?x4096xbf16>, %w: tensor<4096xbf16>)
    -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>) {
  %a = llm.all_reduce %x : tensor<?x4096xbf16>
  %y, %ro = llm.fused_add_rms_norm %a, %r, %w {epsilon = 1.0e-06 : f32}
      : (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  %b = llm.all_reduce %x : tensor<?x4096xbf16>
  %y2, %ro2 = llm.fused_add_rms_norm %ro, %b, %w {epsilon = 1.0e-06 : f32}
      : (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  return %y2, %ro2 : tensor<?x4096xbf16>, tensor<?x4096xbf16>
}

// -----

// all_reduce -> add -> rms_norm (residual first or second); the sum is also
// the next residual, so it comes back as residual_out.
// CHECK-LABEL: func.func @fuse_ar_add_rms_norm
// CHECK-SAME: (%[[X:.+]]: tensor<?x4096xbf16>, %[[R:.+]]: tensor<?x4096xbf16>, %[[W:.+]]: tensor<4096xbf16>)
// CHECK: %[[Y:.+]], %[[RO:.+]] = llm.fused_all_reduce_add_rms_norm %[[X]], %[[R]], %[[W]] {epsilon = 9.99999997E-7 : f32}
// CHECK: %[[Y2:.+]], %[[RO2:.+]] = llm.fused_all_reduce_add_rms_norm %[[X]], %[[RO]], %[[W]]
// CHECK-NOT: llm.add
// CHECK: return %[[Y]], %[[Y2]], %[[RO2]]
func.func @fuse_ar_add_rms_norm(%x: tensor<?x4096xbf16>, %r: tensor<?x4096xbf16>, %w: tensor<4096xbf16>)
    -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<?x4096xbf16>) {
  %a = llm.all_reduce %x : tensor<?x4096xbf16>
  %s = llm.add %a, %r : (tensor<?x4096xbf16>, tensor<?x4096xbf16>) -> tensor<?x4096xbf16>
  %y = llm.rms_norm %s, %w {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  %b = llm.all_reduce %x : tensor<?x4096xbf16>
  %s2 = llm.add %s, %b : (tensor<?x4096xbf16>, tensor<?x4096xbf16>) -> tensor<?x4096xbf16>
  %y2 = llm.rms_norm %s2, %w {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  return %y, %y2, %s2 : tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<?x4096xbf16>
}

// -----

// Gemma: cast(w) to f32 + 1.0 (constant on either side) fuses with the
// original bf16 weight and weight_bias = 1.
// CHECK-LABEL: func.func @fuse_gemma_cast_weight
// CHECK-SAME: (%[[X:.+]]: tensor<?x2048xbf16>, %[[R:.+]]: tensor<?x2048xbf16>, %[[W:.+]]: tensor<2048xbf16>)
// CHECK: llm.fused_all_reduce_add_rms_norm %[[X]], %[[R]], %[[W]] {epsilon = 9.99999997E-7 : f32, weight_bias = 1.000000e+00 : f32}
// CHECK: llm.fused_all_reduce_rms_norm %[[X]], %[[W]] {epsilon = 9.99999997E-7 : f32, weight_bias = 1.000000e+00 : f32}
// CHECK-NOT: llm.cast
func.func @fuse_gemma_cast_weight(%x: tensor<?x2048xbf16>, %r: tensor<?x2048xbf16>, %w: tensor<2048xbf16>)
    -> (tensor<?x2048xbf16>, tensor<?x2048xbf16>) {
  %one = llm.constant dense<1.0> : tensor<f32>
  %wf = llm.cast %w : tensor<2048xbf16> to tensor<2048xf32>
  %w1 = llm.add %wf, %one : (tensor<2048xf32>, tensor<f32>) -> tensor<2048xf32>
  %a = llm.all_reduce %x : tensor<?x2048xbf16>
  %s = llm.add %a, %r : (tensor<?x2048xbf16>, tensor<?x2048xbf16>) -> tensor<?x2048xbf16>
  %y = llm.rms_norm %s, %w1 {epsilon = 1.0e-06 : f32} : (tensor<?x2048xbf16>, tensor<2048xf32>) -> tensor<?x2048xbf16>
  %w2 = llm.add %one, %wf : (tensor<f32>, tensor<2048xf32>) -> tensor<2048xf32>
  %b = llm.all_reduce %x : tensor<?x2048xbf16>
  %y2 = llm.rms_norm %b, %w2 {epsilon = 1.0e-06 : f32} : (tensor<?x2048xbf16>, tensor<2048xf32>) -> tensor<?x2048xbf16>
  return %y, %y2 : tensor<?x2048xbf16>, tensor<?x2048xbf16>
}

// -----

// Gemma written as w + 1.0 in w's own type (bf16) fuses the same way.
// CHECK-LABEL: func.func @fuse_gemma_same_type_weight
// CHECK: llm.fused_all_reduce_rms_norm %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32, weight_bias = 1.000000e+00 : f32} : (tensor<?x2048xbf16>, tensor<2048xbf16>)
func.func @fuse_gemma_same_type_weight(%x: tensor<?x2048xbf16>, %w: tensor<2048xbf16>) -> tensor<?x2048xbf16> {
  %one = llm.constant dense<1.0> : tensor<bf16>
  %w1 = llm.add %w, %one : (tensor<2048xbf16>, tensor<bf16>) -> tensor<2048xbf16>
  %a = llm.all_reduce %x : tensor<?x2048xbf16>
  %y = llm.rms_norm %a, %w1 {epsilon = 1.0e-06 : f32} : (tensor<?x2048xbf16>, tensor<2048xbf16>) -> tensor<?x2048xbf16>
  return %y : tensor<?x2048xbf16>
}

// -----

// A plain f32 weight on a bf16 input fails the dtype-match check.
// CHECK-LABEL: func.func @no_fuse_fp32_weight
// CHECK: llm.all_reduce
// CHECK: llm.rms_norm
func.func @no_fuse_fp32_weight(%x: tensor<?x4096xbf16>, %w: tensor<4096xf32>) -> tensor<?x4096xbf16> {
  %a = llm.all_reduce %x : tensor<?x4096xbf16>
  // expected-remark @+1 {{missed fusion AllReduceRMSNorm (llm-fuse-allreduce-norm): norm input element type bf16 differs from weight element type f32 (dtype-match check}}
  %y = llm.rms_norm %a, %w {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<4096xf32>) -> tensor<?x4096xbf16>
  return %y : tensor<?x4096xbf16>
}

// -----

// Gemma with an f32 parameter (w_f32 + 1): folded to weight_bias = 1, but the
// weight is still f32 on a bf16 input, so the all-reduce fusion is refused.
// CHECK-LABEL: func.func @no_fuse_gemma_fp32_param
// CHECK: llm.all_reduce
// CHECK: llm.fused_add_rms_norm %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32, weight_bias = 1.000000e+00 : f32}
func.func @no_fuse_gemma_fp32_param(%x: tensor<?x4096xbf16>, %r: tensor<?x4096xbf16>, %w: tensor<4096xf32>)
    -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>) {
  %one = llm.constant dense<1.0> : tensor<f32>
  %w1 = llm.add %w, %one : (tensor<4096xf32>, tensor<f32>) -> tensor<4096xf32>
  %a = llm.all_reduce %x : tensor<?x4096xbf16>
  // expected-remark @+1 {{missed fusion AllReduceFusedAddGemmaRMSNorm (llm-fuse-allreduce-norm): norm input element type bf16 differs from weight element type f32}}
  %y, %ro = llm.fused_add_rms_norm %a, %r, %w1 {epsilon = 1.0e-06 : f32}
      : (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<4096xf32>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  return %y, %ro : tensor<?x4096xbf16>, tensor<?x4096xbf16>
}

// -----

// The fused add op does not return the all-reduce result: another user blocks it.
// CHECK-LABEL: func.func @no_fuse_ar_extra_use
// CHECK: llm.all_reduce
// CHECK: llm.fused_add_rms_norm
func.func @no_fuse_ar_extra_use(%x: tensor<?x4096xbf16>, %r: tensor<?x4096xbf16>, %w: tensor<4096xbf16>)
    -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>) {
  %a = llm.all_reduce %x : tensor<?x4096xbf16>
  // expected-remark @+1 {{missed fusion AllReduceFusedAddRMSNorm (llm-fuse-allreduce-norm): the all-reduce result has users outside the chain}}
  %y, %ro = llm.fused_add_rms_norm %a, %r, %w {epsilon = 1.0e-06 : f32}
      : (tensor<?x4096xbf16>, tensor<?x4096xbf16>, tensor<4096xbf16>) -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>)
  return %y, %a : tensor<?x4096xbf16>, tensor<?x4096xbf16>
}

// -----

// A residual add that broadcasts is not a residual add.
// CHECK-LABEL: func.func @no_fuse_broadcast_add
// CHECK: llm.all_reduce
func.func @no_fuse_broadcast_add(%x: tensor<?x4096xbf16>, %r: tensor<4096xbf16>, %w: tensor<4096xbf16>) -> tensor<?x4096xbf16> {
  %a = llm.all_reduce %x : tensor<?x4096xbf16>
  %s = llm.add %a, %r : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  // expected-remark @+1 {{missed fusion AllReduceFusedAddRMSNorm (llm-fuse-allreduce-norm): the residual add broadcasts}}
  %y = llm.rms_norm %s, %w {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  return %y : tensor<?x4096xbf16>
}

// -----

// The all-reduce result added to itself has no separate residual.
// CHECK-LABEL: func.func @no_fuse_ar_add_self
// CHECK: llm.all_reduce
func.func @no_fuse_ar_add_self(%x: tensor<?x4096xbf16>, %w: tensor<4096xbf16>) -> tensor<?x4096xbf16> {
  %a = llm.all_reduce %x : tensor<?x4096xbf16>
  %s = llm.add %a, %a : (tensor<?x4096xbf16>, tensor<?x4096xbf16>) -> tensor<?x4096xbf16>
  // expected-remark @+1 {{missed fusion AllReduceFusedAddRMSNorm (llm-fuse-allreduce-norm): the all-reduce result is added to itself}}
  %y = llm.rms_norm %s, %w {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
  return %y : tensor<?x4096xbf16>
}

// -----

// The norm's weight is defined after a user of the all-reduce result that
// precedes the norm: no placement keeps dominance.
// CHECK-LABEL: func.func @no_fuse_dominance
// CHECK: llm.all_reduce
func.func @no_fuse_dominance(%x: tensor<?x64xf32>, %wp: tensor<64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %a = llm.all_reduce %x : tensor<?x64xf32>
  %u = llm.relu %a : tensor<?x64xf32>
  %w = llm.relu %wp : tensor<64xf32>
  // expected-remark @+1 {{missed fusion AllReduceRMSNorm (llm-fuse-allreduce-norm): no point in the block dominates the fused op's operands and precedes every user of the chain}}
  %y = llm.rms_norm %a, %w {epsilon = 1.0e-06 : f32} : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  return %y, %u : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// Placement after the chain: the weight comes after the all-reduce but no
// other user sits in between, so the fused op goes where the norm was.
// CHECK-LABEL: func.func @fuse_late_weight
// CHECK: %[[W:.+]] = llm.relu
// CHECK: llm.fused_all_reduce_rms_norm %{{.+}}, %[[W]]
func.func @fuse_late_weight(%x: tensor<?x64xf32>, %wp: tensor<64xf32>) -> tensor<?x64xf32> {
  %a = llm.all_reduce %x : tensor<?x64xf32>
  %w = llm.relu %wp : tensor<64xf32>
  %y = llm.rms_norm %a, %w {epsilon = 1.0e-06 : f32} : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// One all-reduce result is both the norm's input and its weight: the fused
// op would read its own all_reduce_out (issue 11, class 2).
// CHECK-LABEL: func.func @no_fuse_all_reduce_result_is_weight
// CHECK: llm.all_reduce
// CHECK: llm.rms_norm
module attributes {llm.world_size = 2 : i64} {
func.func @no_fuse_all_reduce_result_is_weight(%x: tensor<64xf32>) -> tensor<64xf32> {
  %a = llm.all_reduce %x : tensor<64xf32>
  // expected-remark @+1 {{missed fusion AllReduceRMSNorm (llm-fuse-allreduce-norm): a value the chain defines (llm.all_reduce) also feeds the fused op as another operand}}
  %y = llm.rms_norm %a, %a {epsilon = 1.0e-06 : f32} : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
  return %y : tensor<64xf32>
}
}

// -----

// The all-reduce result is x and the weight of fused_add_rms_norm: erasing
// the all-reduce would leave the weight without a definition.
// CHECK-LABEL: func.func @no_fuse_all_reduce_fused_add_result_is_weight
// CHECK: llm.all_reduce
// CHECK: llm.fused_add_rms_norm
module attributes {llm.world_size = 2 : i64} {
func.func @no_fuse_all_reduce_fused_add_result_is_weight(%x: tensor<64xf32>, %r: tensor<64xf32>) -> tensor<64xf32> {
  %a = llm.all_reduce %x : tensor<64xf32>
  // expected-remark @+1 {{missed fusion AllReduceFusedAddRMSNorm (llm-fuse-allreduce-norm): a value the chain defines (llm.all_reduce) also feeds the fused op as another operand}}
  %y, %s = llm.fused_add_rms_norm %a, %r, %a {epsilon = 1.0e-06 : f32} : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
  return %y : tensor<64xf32>
}
}
