// vLLM's static-FP8 all-reduce test models: all-reduce + (residual add) +
// RMSNorm + FP8 quant fuse whole, and the fused op computes on every rank of
// world size 2 (the CPU communicator) the codes and scales of the chain,
// bit for bit.
//
// RUN: fusion-opt %s --llm-fusion-pipeline -o %t.mlir
// RUN: FileCheck %s --check-prefix=FUSED < %t.mlir
// RUN: fusion-run %s --function ar_norm_static --dim 7 --check exact --compare %t.mlir | FileCheck %s
// RUN: fusion-run %s --function ar_add_norm_static --dim 5 --check exact --compare %t.mlir | FileCheck %s
// RUN: fusion-run %s --function ar_add_norm_block --dim 3 --check exact --compare %t.mlir | FileCheck %s

// FUSED-LABEL: func.func @ar_norm_static
// FUSED: llm.fused_all_reduce_rms_norm_quant_fp8_static
// FUSED-NOT: llm.all_reduce
// FUSED-LABEL: func.func @ar_add_norm_static
// FUSED: llm.fused_all_reduce_add_rms_norm_quant_fp8_static
// FUSED-LABEL: func.func @ar_add_norm_block
// FUSED: llm.fused_all_reduce_add_rms_norm_quant_fp8 {{.*}}group_size = 128

// CHECK: PASS: all {{[0-9]+}} outputs match (exact)

module attributes {llm.world_size = 2 : i64} {
func.func @ar_norm_static(%x: tensor<?x256xbf16>, %w: tensor<256xbf16>) -> tensor<?x256xf8E4M3FN> {
  %scale = llm.constant dense<0.01> : tensor<f32>
  %a = llm.all_reduce %x : tensor<?x256xbf16>
  %y = llm.rms_norm %a, %w {epsilon = 1.0e-06 : f32} : (tensor<?x256xbf16>, tensor<256xbf16>) -> tensor<?x256xbf16>
  %q = llm.quant_fp8_static %y, %scale : (tensor<?x256xbf16>, tensor<f32>) -> tensor<?x256xf8E4M3FN>
  return %q : tensor<?x256xf8E4M3FN>
}

func.func @ar_add_norm_static(%x: tensor<?x256xbf16>, %r: tensor<?x256xbf16>, %w: tensor<256xbf16>) -> (tensor<?x256xf8E4M3FN>, tensor<?x256xbf16>) {
  %scale = llm.constant dense<0.01> : tensor<f32>
  %a = llm.all_reduce %x : tensor<?x256xbf16>
  %s = llm.add %a, %r : (tensor<?x256xbf16>, tensor<?x256xbf16>) -> tensor<?x256xbf16>
  %y = llm.rms_norm %s, %w {epsilon = 1.0e-06 : f32} : (tensor<?x256xbf16>, tensor<256xbf16>) -> tensor<?x256xbf16>
  %q = llm.quant_fp8_static %y, %scale : (tensor<?x256xbf16>, tensor<f32>) -> tensor<?x256xf8E4M3FN>
  return %q, %s : tensor<?x256xf8E4M3FN>, tensor<?x256xbf16>
}

func.func @ar_add_norm_block(%x: tensor<?x256xbf16>, %r: tensor<?x256xbf16>, %w: tensor<256xbf16>) -> (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<?x256xbf16>) {
  %a = llm.all_reduce %x : tensor<?x256xbf16>
  %s = llm.add %a, %r : (tensor<?x256xbf16>, tensor<?x256xbf16>) -> tensor<?x256xbf16>
  %y = llm.rms_norm %s, %w {epsilon = 1.0e-06 : f32} : (tensor<?x256xbf16>, tensor<256xbf16>) -> tensor<?x256xbf16>
  %q, %sc = llm.quant_fp8 %y {group_size = 128 : i64} : (tensor<?x256xbf16>) -> (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>)
  return %q, %sc, %s : tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<?x256xbf16>
}
}
