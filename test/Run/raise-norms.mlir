// A decomposed Llama RMSNorm (as torch.export writes it) raised to rms_norm
// and, with the residual add before it, fused to fused_add_rms_norm: the
// result matches the decomposed graph by the accuracy model (the raise drops
// the bf16 rounding of the normalized value before the weight multiply, one
// rounding of the output), on the CPU.
// RUN: fusion-opt %s --llm-fusion-pipeline --llm-fusion-remarks -o %t.mlir
// RUN: FileCheck %s --check-prefix=FUSED < %t.mlir
// RUN: fusion-run %s --function layer_norm --dim 16 --compare %t.mlir | FileCheck %s
// RUN: fusion-run %s --function f32_norm --dim 7 --compare %t.mlir | FileCheck %s --check-prefix=F32

// FUSED-LABEL: func.func @layer_norm
// FUSED: llm.fused_add_rms_norm
// FUSED-NOT: llm.rsqrt
// FUSED-LABEL: func.func @f32_norm
// FUSED: llm.rms_norm

// CHECK: PASS: all 2 outputs match (accuracy)
// An f32 chain rounds at every step (mean, + eps, rsqrt, products), the raised
// op once: within f32's rounding.
// F32: PASS: all 1 outputs match (accuracy)

func.func @layer_norm(%h: tensor<?x256xbf16>, %res: tensor<?x256xbf16>, %w: tensor<256xbf16>)
    -> (tensor<?x256xbf16>, tensor<?x256xbf16>) {
  %eps = llm.constant dense<1.0e-06> : tensor<f32>
  %x = llm.add %h, %res : (tensor<?x256xbf16>, tensor<?x256xbf16>) -> tensor<?x256xbf16>
  %xf = llm.cast %x : tensor<?x256xbf16> to tensor<?x256xf32>
  %sq = llm.pow %xf {exponent = 2.0 : f32} : tensor<?x256xf32>
  %ms = llm.mean %sq {dim = -1 : i64, keepdim = true} : (tensor<?x256xf32>) -> tensor<?x1xf32>
  %ve = llm.add %ms, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %r = llm.rsqrt %ve : tensor<?x1xf32>
  %n = llm.mul %xf, %r : (tensor<?x256xf32>, tensor<?x1xf32>) -> tensor<?x256xf32>
  %nb = llm.cast %n : tensor<?x256xf32> to tensor<?x256xbf16>
  %y = llm.mul %w, %nb : (tensor<256xbf16>, tensor<?x256xbf16>) -> tensor<?x256xbf16>
  return %y, %x : tensor<?x256xbf16>, tensor<?x256xbf16>
}

func.func @f32_norm(%x: tensor<?x96xf32>, %w: tensor<96xf32>) -> tensor<?x96xf32> {
  %eps = llm.constant dense<1.0e-05> : tensor<f32>
  %sq = llm.pow %x {exponent = 2.0 : f32} : tensor<?x96xf32>
  %ms = llm.mean %sq {dim = -1 : i64, keepdim = true} : (tensor<?x96xf32>) -> tensor<?x1xf32>
  %ve = llm.add %ms, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %r = llm.rsqrt %ve : tensor<?x1xf32>
  %n = llm.mul %x, %r : (tensor<?x96xf32>, tensor<?x1xf32>) -> tensor<?x96xf32>
  %y = llm.mul %n, %w : (tensor<?x96xf32>, tensor<96xf32>) -> tensor<?x96xf32>
  return %y : tensor<?x96xf32>
}

// Gemma: the raised norm meets the Gemma fold and the residual add.
// RUN: fusion-run %s --function gemma_norm --dim 9 --compare %t.mlir | FileCheck %s --check-prefix=GEMMA
// FUSED-LABEL: func.func @gemma_norm
// FUSED: llm.fused_add_rms_norm {{.*}}weight_bias = 1.0
// GEMMA: PASS: all 2 outputs match (accuracy)
func.func @gemma_norm(%h: tensor<?x128xbf16>, %res: tensor<?x128xbf16>, %w: tensor<128xbf16>)
    -> (tensor<?x128xbf16>, tensor<?x128xbf16>) {
  %eps = llm.constant dense<1.0e-06> : tensor<f32>
  %one = llm.constant dense<1.0> : tensor<f32>
  %x = llm.add %h, %res : (tensor<?x128xbf16>, tensor<?x128xbf16>) -> tensor<?x128xbf16>
  %xf = llm.cast %x : tensor<?x128xbf16> to tensor<?x128xf32>
  %sq = llm.pow %xf {exponent = 2.0 : f32} : tensor<?x128xf32>
  %ms = llm.mean %sq {dim = -1 : i64, keepdim = true} : (tensor<?x128xf32>) -> tensor<?x1xf32>
  %ve = llm.add %ms, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %r = llm.rsqrt %ve : tensor<?x1xf32>
  %n = llm.mul %xf, %r : (tensor<?x128xf32>, tensor<?x1xf32>) -> tensor<?x128xf32>
  %wf = llm.cast %w : tensor<128xbf16> to tensor<128xf32>
  %w1 = llm.add %wf, %one : (tensor<128xf32>, tensor<f32>) -> tensor<128xf32>
  %yf = llm.mul %n, %w1 : (tensor<?x128xf32>, tensor<128xf32>) -> tensor<?x128xf32>
  %y = llm.cast %yf : tensor<?x128xf32> to tensor<?x128xbf16>
  return %y, %x : tensor<?x128xbf16>, tensor<?x128xbf16>
}
