// fusion-run --compare's accuracy model (issue 11, class 4): it catches a
// router that ignores the bias although the weights it returns tie, and a
// changed epsilon; it passes a spec-allowed Gemma fold that later ops amplify.
//
// RUN: not fusion-run %s --function router --compare %S/Inputs/compare-wrong.mlir | FileCheck %s --check-prefix=ROUTER
// ROUTER: 0     0    f32 {{.*}} ok
// ROUTER: 0     1    i32 {{.*}} MISMATCH (first at element 0
// ROUTER: FAIL: 1 of 2 outputs differ
//
// RUN: not fusion-run %s --function eps --dim 16 --compare %S/Inputs/compare-wrong.mlir | FileCheck %s --check-prefix=EPS
// EPS: MISMATCH (error
// RUN: not fusion-run %s --function eps --dim 16 --compare %S/Inputs/compare-wrong.mlir --check exact | FileCheck %s --check-prefix=EPSX
// EPSX: MISMATCH (first at element
//
// RUN: fusion-opt %s --llm-fusion-pipeline -o %t.mlir
// RUN: FileCheck %s --input-file=%t.mlir --check-prefix=FOLD
// FOLD-LABEL: func.func @gemma_amplified
// FOLD: llm.fused_add_rms_norm {{.*}}weight_bias = 1.0
// RUN: fusion-run %s --function gemma_amplified --dim 64 --seed 3 --compare %t.mlir | FileCheck %s --check-prefix=GEMMA
// GEMMA: check accuracy
// GEMMA: PASS: all 2 outputs match (accuracy)
// The per-element tolerance of one bf16 rounding rejects it: why accuracy is the default.
// RUN: not fusion-run %s --function gemma_amplified --dim 64 --seed 3 --compare %t.mlir --check tolerance | FileCheck %s --check-prefix=TOL
// TOL: 0     0    bf16 {{.*}} MISMATCH
//
// The same fused module compared to itself is bit-exact.
// RUN: fusion-run %t.mlir --function gemma_amplified --dim 64 --compare %t.mlir --check exact | FileCheck %s --check-prefix=SELF
// SELF: PASS: all 2 outputs match (exact)

// Every logit saturates the sigmoid to 1.0: only the bias ranks experts.
func.func @router(%bias: tensor<64xf32>) -> (tensor<4x4xf32>, tensor<4x4xi32>) {
  %logits = llm.constant dense<20.0> : tensor<4x64xf32>
  %s = llm.sigmoid %logits : tensor<4x64xf32>
  %b = llm.add %s, %bias : (tensor<4x64xf32>, tensor<64xf32>) -> tensor<4x64xf32>
  %w, %ids = llm.grouped_topk %s, %b {n_group = 4 : i64, topk_group = 2 : i64, topk = 4 : i64}
      : (tensor<4x64xf32>, tensor<4x64xf32>) -> (tensor<4x4xf32>, tensor<4x4xi32>)
  return %w, %ids : tensor<4x4xf32>, tensor<4x4xi32>
}

func.func @eps(%x: tensor<?x256xf32>, %w: tensor<256xf32>) -> tensor<?x256xf32> {
  %y = llm.rms_norm %x, %w {epsilon = 1.0e-06 : f32} : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
  return %y : tensor<?x256xf32>
}

// Gemma's bf16 `w + 1` folded into weight_bias = 1 drops one rounding of the
// weight; the square and the matmul after the norm amplify the difference.
func.func @gemma_amplified(%x: tensor<?x512xbf16>, %r: tensor<?x512xbf16>, %w: tensor<512xbf16>, %proj: tensor<512x512xbf16>)
    -> (tensor<?x512xbf16>, tensor<?x512xbf16>) {
  %one = llm.constant dense<1.0> : tensor<bf16>
  %w1 = llm.add %w, %one : (tensor<512xbf16>, tensor<bf16>) -> tensor<512xbf16>
  %s = llm.add %x, %r : (tensor<?x512xbf16>, tensor<?x512xbf16>) -> tensor<?x512xbf16>
  %y = llm.rms_norm %s, %w1 {epsilon = 1.0e-06 : f32} : (tensor<?x512xbf16>, tensor<512xbf16>) -> tensor<?x512xbf16>
  %sq = llm.mul %y, %y : (tensor<?x512xbf16>, tensor<?x512xbf16>) -> tensor<?x512xbf16>
  %o = llm.matmul %sq, %proj : (tensor<?x512xbf16>, tensor<512x512xbf16>) -> tensor<?x512xbf16>
  return %o, %s : tensor<?x512xbf16>, tensor<?x512xbf16>
}
