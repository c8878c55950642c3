// cast + sigmoid + bias + grouped top-k routing, DeepSeek-V3 (bf16 logits,
// 256 experts in 8 groups) and Kimi-K2 shaped (f32 logits, 384 experts, one
// group): fused and unfused pick the same experts with the same weights.
//
// RUN: fusion-opt %s --llm-fusion-pipeline -o %t.mlir
// RUN: FileCheck %s --check-prefix=FUSED < %t.mlir
// RUN: fusion-run %s --function deepseek --dim 130 --compare %t.mlir | FileCheck %s
// RUN: fusion-run %s --function kimi --dim 17 --seed 5 --compare %t.mlir | FileCheck %s

// FUSED-LABEL: func.func @deepseek
// FUSED: llm.fused_moe_router
// FUSED-NOT: llm.grouped_topk
// FUSED-LABEL: func.func @kimi
// FUSED: llm.fused_moe_router

// CHECK: rank  out  dtype
// CHECK: 0     0    f32
// CHECK: 0     1    i32
// CHECK: PASS: all 2 outputs match

func.func @deepseek(%logits: tensor<?x256xbf16>, %bias: tensor<256xf32>)
    -> (tensor<?x8xf32>, tensor<?x8xi32>) {
  %f = llm.cast %logits : tensor<?x256xbf16> to tensor<?x256xf32>
  %s = llm.sigmoid %f : tensor<?x256xf32>
  %b = llm.add %s, %bias : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
  %w, %ids = llm.grouped_topk %s, %b {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64,
                                     renormalize = true, routed_scaling_factor = 2.5 : f32}
      : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return %w, %ids : tensor<?x8xf32>, tensor<?x8xi32>
}

func.func @kimi(%logits: tensor<?x384xf32>, %bias: tensor<384xf32>)
    -> (tensor<?x8xf32>, tensor<?x8xi32>) {
  %s = llm.sigmoid %logits : tensor<?x384xf32>
  %b = llm.add %s, %bias : (tensor<?x384xf32>, tensor<384xf32>) -> tensor<?x384xf32>
  %w, %ids = llm.grouped_topk %s, %b {n_group = 1 : i64, topk_group = 1 : i64, topk = 8 : i64,
                                     renormalize = true, routed_scaling_factor = 2.827 : f32}
      : (tensor<?x384xf32>, tensor<?x384xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  return %w, %ids : tensor<?x8xf32>, tensor<?x8xi32>
}
