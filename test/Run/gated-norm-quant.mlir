// Gated RMSNorm on [N*H, D] + reshape to [N, H*D] + FP8 group quantization
// (Qwen3-Next): the fused op produces the same fp8 codes and scales.
//
// RUN: fusion-opt %s --llm-fusion-pipeline -o %t.mlir
// RUN: FileCheck %s --check-prefix=FUSED < %t.mlir
// RUN: fusion-run %s --function before_gate --dim 64 --compare %t.mlir | FileCheck %s
// RUN: fusion-run %s --function after_gate --dim 24 --seed 9 --compare %t.mlir | FileCheck %s
// RUN: fusion-run %s --function batched --dim 7 --compare %t.mlir | FileCheck %s

// FUSED-LABEL: func.func @before_gate
// FUSED: llm.fused_rms_norm_gated_quant_fp8
// FUSED-NOT: llm.quant_fp8 
// FUSED-LABEL: func.func @after_gate
// FUSED: llm.fused_rms_norm_gated_quant_fp8 {{.*}}norm_before_gate = false
// FUSED-LABEL: func.func @batched
// FUSED: llm.fused_rms_norm_gated_quant_fp8

// CHECK: 0     0    f8E4M3FN
// CHECK: 0     1    f32
// CHECK: PASS: all 2 outputs match

func.func @before_gate(%x: tensor<?x128xbf16>, %z: tensor<?x128xbf16>, %w: tensor<128xf32>)
    -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>) {
  %y = llm.rms_norm_gated %x, %z, %w {epsilon = 1.0e-06 : f32}
      : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xf32>) -> tensor<?x128xbf16>
  %r = llm.reshape %y : tensor<?x128xbf16> to tensor<?x4096xbf16>
  %q, %s = llm.quant_fp8 %r {group_size = 128 : i64}
      : (tensor<?x4096xbf16>) -> (tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>)
  return %q, %s : tensor<?x4096xf8E4M3FN>, tensor<?x32xf32>
}

func.func @after_gate(%x: tensor<?x64xf16>, %z: tensor<?x64xf16>, %w: tensor<64xf16>)
    -> (tensor<?x512xf8E4M3FN>, tensor<?x16xf32>) {
  %y = llm.rms_norm_gated %x, %z, %w {epsilon = 1.0e-05 : f32, norm_before_gate = false}
      : (tensor<?x64xf16>, tensor<?x64xf16>, tensor<64xf16>) -> tensor<?x64xf16>
  %r = llm.reshape %y : tensor<?x64xf16> to tensor<?x512xf16>
  %q, %s = llm.quant_fp8 %r {group_size = 32 : i64}
      : (tensor<?x512xf16>) -> (tensor<?x512xf8E4M3FN>, tensor<?x16xf32>)
  return %q, %s : tensor<?x512xf8E4M3FN>, tensor<?x16xf32>
}

// Qwen3-Next as imported: q keeps the batch dim, [1, T, H*D].
func.func @batched(%x: tensor<1x?x4x128xbf16>, %z: tensor<1x?x4x128xbf16>, %w: tensor<128xbf16>)
    -> (tensor<1x?x512xf8E4M3FN>, tensor<1x?x4xf32>) {
  %x2 = llm.reshape %x : tensor<1x?x4x128xbf16> to tensor<?x128xbf16>
  %z2 = llm.reshape %z : tensor<1x?x4x128xbf16> to tensor<?x128xbf16>
  %g = llm.rms_norm_gated %x2, %z2, %w {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %r = llm.reshape %g : tensor<?x128xbf16> to tensor<1x?x512xbf16>
  %q, %s = llm.quant_fp8 %r {group_size = 128 : i64} : (tensor<1x?x512xbf16>) -> (tensor<1x?x512xf8E4M3FN>, tensor<1x?x4xf32>)
  return %q, %s : tensor<1x?x512xf8E4M3FN>, tensor<1x?x4xf32>
}
