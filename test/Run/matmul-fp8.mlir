// The FP8 linear on the CPU against its definition written out: both
// operands dequantized in f32 (per tensor, per token and channel, and
// DeepSeek-V3's 1x128 / 128x128 blocks), an f32 matmul, one rounding.
//
// RUN: fusion-run %s --function per_tensor --dim 9 --compare %S/Inputs/matmul-fp8-dequant.mlir | FileCheck %s
// RUN: fusion-run %s --function per_token --dim 5 --compare %S/Inputs/matmul-fp8-dequant.mlir | FileCheck %s
// RUN: fusion-run %s --function blocks --dim 7 --compare %S/Inputs/matmul-fp8-dequant.mlir | FileCheck %s
// RUN: not fusion-translate --llm-to-plan %S/Inputs/matmul-fp8-bad-scales.mlir 2>&1 | FileCheck %s --check-prefix=BAD

// CHECK: PASS: all 1 outputs match
// BAD: matmul_fp8' op expects per-tensor scales (rank 0, rank 0), per-token and channel

func.func @per_tensor(%x: tensor<?x256xf8E4M3FN>, %w: tensor<128x256xf8E4M3FN>) -> tensor<?x128xbf16> {
  %xs = llm.constant dense<0.05> : tensor<f32>
  %ws = llm.constant dense<0.01> : tensor<f32>
  %y = llm.matmul_fp8 %x, %xs, %w, %ws : (tensor<?x256xf8E4M3FN>, tensor<f32>, tensor<128x256xf8E4M3FN>, tensor<f32>) -> tensor<?x128xbf16>
  return %y : tensor<?x128xbf16>
}

func.func @per_token(%x: tensor<?x256xf8E4M3FN>, %xs: tensor<?x1xf32>, %w: tensor<128x256xf8E4M3FN>, %ws: tensor<128xf32>) -> tensor<?x128xf32> {
  %y = llm.matmul_fp8 %x, %xs, %w, %ws : (tensor<?x256xf8E4M3FN>, tensor<?x1xf32>, tensor<128x256xf8E4M3FN>, tensor<128xf32>) -> tensor<?x128xf32>
  return %y : tensor<?x128xf32>
}

func.func @blocks(%x: tensor<?x256xf8E4M3FN>, %xs: tensor<?x2xf32>, %w: tensor<256x256xf8E4M3FN>, %ws: tensor<2x2xf32>) -> tensor<?x256xf32> {
  %y = llm.matmul_fp8 %x, %xs, %w, %ws : (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<256x256xf8E4M3FN>, tensor<2x2xf32>) -> tensor<?x256xf32>
  return %y : tensor<?x256xf32>
}
