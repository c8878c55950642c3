// The compare check can fail: a hand-written "fused" module with a wrong
// weight_bias and a wrong routing group count is caught, with a table
// saying which output differs, and exit code 1.
//
// RUN: not fusion-run %s --function norm --dim 4 --compare %S/Inputs/wrong-fused.mlir | FileCheck %s --check-prefix=NORM
// RUN: not fusion-run %s --function router --dim 64 --compare %S/Inputs/wrong-fused.mlir | FileCheck %s --check-prefix=ROUTER
// RUN: not fusion-run %s --function norm --compare %S/Inputs/wrong-signature.mlir 2>&1 | FileCheck %s --check-prefix=SIG

// NORM: 0     0    bf16      [4, 512]  {{.*}} MISMATCH (error
// NORM: 0     1    bf16      [4, 512]  {{.*}} ok
// NORM: FAIL: 2 of 4 outputs differ

// ROUTER: MISMATCH
// ROUTER: FAIL:

// SIG: fusion-run: error: cannot compare: input 1 is bf16 [512] in '{{.*}}wrong-fusion.mlir' but f32 [512] in

module attributes {llm.world_size = 2 : i64} {
  func.func @norm(%x: tensor<?x512xbf16>, %w: tensor<512xbf16>) -> (tensor<?x512xbf16>, tensor<?x512xbf16>) {
    %a = llm.all_reduce %x : tensor<?x512xbf16>
    %y = llm.rms_norm %a, %w {epsilon = 1.0e-06 : f32} : (tensor<?x512xbf16>, tensor<512xbf16>) -> tensor<?x512xbf16>
    return %y, %a : tensor<?x512xbf16>, tensor<?x512xbf16>
  }
  func.func @router(%logits: tensor<?x256xf32>, %bias: tensor<256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>) {
    %s = llm.sigmoid %logits : tensor<?x256xf32>
    %b = llm.add %s, %bias : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
    %w, %ids = llm.grouped_topk %s, %b {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64}
        : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
    return %w, %ids : tensor<?x8xf32>, tensor<?x8xi32>
  }
}
