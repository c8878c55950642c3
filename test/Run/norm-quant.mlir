// The FP8 serving chains (llm-fuse-norm-quant): each fused op computes the
// codes and scales of its unfused chain, bit for bit on the CPU (the fused
// kernels round where the chain stores), per group, per token and static.
//
// RUN: fusion-opt %s --llm-fusion-pipeline -o %t.mlir
// RUN: FileCheck %s --check-prefix=FUSED < %t.mlir
// RUN: fusion-run %s --function add_norm_quant --dim 7 --check exact --compare %t.mlir | FileCheck %s
// RUN: fusion-run %s --function norm_quant_static --dim 33 --check exact --compare %t.mlir | FileCheck %s
// RUN: fusion-run %s --function silu_mul_quant --dim 5 --check exact --compare %t.mlir | FileCheck %s
// RUN: fusion-run %s --function norm_quant_per_token --dim 3 --check exact --compare %t.mlir | FileCheck %s

// FUSED-LABEL: func.func @add_norm_quant
// FUSED: llm.fused_add_rms_norm_quant_fp8
// FUSED-NOT: llm.quant_fp8
// FUSED-LABEL: func.func @norm_quant_static
// FUSED: llm.fused_rms_norm_quant_fp8_static
// FUSED-LABEL: func.func @silu_mul_quant
// FUSED: llm.fused_silu_mul_quant_fp8
// FUSED-LABEL: func.func @norm_quant_per_token
// FUSED: llm.fused_rms_norm_quant_fp8 {{.*}}group_size = 512

// CHECK: PASS: all {{[0-9]+}} outputs match (exact)

func.func @add_norm_quant(%x: tensor<?x512xbf16>, %r: tensor<?x512xbf16>, %w: tensor<512xbf16>)
    -> (tensor<?x512xf8E4M3FN>, tensor<?x4xf32>, tensor<?x512xbf16>) {
  %s = llm.add %x, %r : (tensor<?x512xbf16>, tensor<?x512xbf16>) -> tensor<?x512xbf16>
  %y = llm.rms_norm %s, %w {epsilon = 1.0e-06 : f32} : (tensor<?x512xbf16>, tensor<512xbf16>) -> tensor<?x512xbf16>
  %q, %sc = llm.quant_fp8 %y {group_size = 128 : i64} : (tensor<?x512xbf16>) -> (tensor<?x512xf8E4M3FN>, tensor<?x4xf32>)
  return %q, %sc, %s : tensor<?x512xf8E4M3FN>, tensor<?x4xf32>, tensor<?x512xbf16>
}

func.func @norm_quant_static(%x: tensor<?x256xf16>, %w: tensor<256xf16>) -> tensor<?x256xf8E4M3FN> {
  %scale = llm.constant dense<0.02> : tensor<f32>
  %y = llm.rms_norm %x, %w {epsilon = 1.0e-05 : f32, weight_bias = 1.0 : f32} : (tensor<?x256xf16>, tensor<256xf16>) -> tensor<?x256xf16>
  %q = llm.quant_fp8_static %y, %scale : (tensor<?x256xf16>, tensor<f32>) -> tensor<?x256xf8E4M3FN>
  return %q : tensor<?x256xf8E4M3FN>
}

func.func @silu_mul_quant(%g: tensor<?x384xbf16>, %u: tensor<?x384xbf16>) -> (tensor<?x384xf8E4M3FN>, tensor<?x3xf32>) {
  %a = llm.silu %g : tensor<?x384xbf16>
  %m = llm.mul %u, %a : (tensor<?x384xbf16>, tensor<?x384xbf16>) -> tensor<?x384xbf16>
  %q, %s = llm.quant_fp8 %m {group_size = 128 : i64} : (tensor<?x384xbf16>) -> (tensor<?x384xf8E4M3FN>, tensor<?x3xf32>)
  return %q, %s : tensor<?x384xf8E4M3FN>, tensor<?x3xf32>
}

func.func @norm_quant_per_token(%x: tensor<?x512xf32>, %w: tensor<512xf32>) -> (tensor<?x512xf8E4M3FN>, tensor<?x1xf32>) {
  %y = llm.rms_norm %x, %w {epsilon = 1.0e-06 : f32} : (tensor<?x512xf32>, tensor<512xf32>) -> tensor<?x512xf32>
  %q, %s = llm.quant_fp8 %y {group_size = 512 : i64} : (tensor<?x512xf32>) -> (tensor<?x512xf8E4M3FN>, tensor<?x1xf32>)
  return %q, %s : tensor<?x512xf8E4M3FN>, tensor<?x1xf32>
}
