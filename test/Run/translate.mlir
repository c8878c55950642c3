// fusion-translate --llm-to-plan writes the plan a machine without MLIR
// runs: buffers with -1 for dynamic dims, constants with their values,
// argument roles read off their uses, steps with the spec's attributes
// (defaults written out) and source locations; fusion-run runs the file.
//
// RUN: fusion-translate --llm-to-plan %s -o %t.json
// RUN: FileCheck %s < %t.json
// RUN: fusion-run %t.json --dim 6 | FileCheck %s --check-prefix=EXEC
// RUN: fusion-run %s --dim 6 --compare %t.json | FileCheck %s --check-prefix=SAME
// RUN: fusion-run %s --emit-plan %t.emitted.json --dim 2 > /dev/null
// RUN: diff %t.json %t.emitted.json

// CHECK: "format": "llm-fusion-plan",
// CHECK-NEXT: "version": 1,
// CHECK-NEXT: "world_size": 1,
// CHECK: "name": "gemma_router",
// CHECK: "id": 0,
// CHECK-NEXT: "dtype": "bf16",
// CHECK-NEXT: "shape": [
// CHECK-NEXT: -1,
// CHECK-NEXT: 64
// CHECK-NEXT: ],
// CHECK-NEXT: "name": "arg0"
// CHECK: "id": 4,
// CHECK-NEXT: "dtype": "bf16",
// CHECK-NEXT: "shape": [],
// CHECK-NEXT: "constant": [
// CHECK-NEXT: 1.0
// CHECK: "role": "activation"
// CHECK: "role": "norm_weight"
// CHECK: "role": "linear_weight"
// CHECK: "role": "bias"
// CHECK: "op": "add",
// CHECK: "loc": "{{.*}}translate.mlir:[[# @LINE + 21]]:9"
// CHECK: "op": "rms_norm",
// CHECK: "epsilon": 9.99999997475{{[0-9]*}}e-07,
// CHECK-NEXT: "weight_bias": 0.0
// CHECK: "op": "matmul",
// CHECK: "transpose_w": true
// CHECK: "op": "fused_moe_router",
// CHECK: "n_group": 4,
// CHECK-NEXT: "topk_group": 2,
// CHECK-NEXT: "topk": 2,
// CHECK-NEXT: "renormalize": false,
// CHECK-NEXT: "routed_scaling_factor": 1.0

// EXEC: function 'gemma_router': world size 1, dim 6
// EXEC: out 0  f32 [6, 2]
// EXEC: out 1  i32 [6, 2]
// SAME: PASS: all 2 outputs match

func.func @gemma_router(%x: tensor<?x64xbf16>, %w: tensor<64xbf16>, %router: tensor<16x64xbf16>,
                        %bias: tensor<16xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>) {
  %one = llm.constant dense<1.0> : tensor<bf16>
  %w1 = llm.add %w, %one : (tensor<64xbf16>, tensor<bf16>) -> tensor<64xbf16>
  %n = llm.rms_norm %x, %w1 {epsilon = 1.0e-06 : f32} : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  %l = llm.matmul %n, %router : (tensor<?x64xbf16>, tensor<16x64xbf16>) -> tensor<?x16xbf16>
  %wts, %ids = llm.fused_moe_router %l, %bias {n_group = 4 : i64, topk_group = 2 : i64, topk = 2 : i64}
      : (tensor<?x16xbf16>, tensor<16xf32>) -> (tensor<?x2xf32>, tensor<?x2xi32>)
  return %wts, %ids : tensor<?x2xf32>, tensor<?x2xi32>
}
