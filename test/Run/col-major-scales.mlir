// Column-major FP8 scales (scale_col_major, DeepGEMM's layout) end to end
// on the CPU: add + RMSNorm + block quant feeding the FP8 linear gives the
// same bits with either scale layout, unfused and fused, at token counts
// that need padding (7 -> 8) and that do not (8).
//
// RUN: fusion-opt %s --llm-fusion-pipeline -o %t.mlir
// RUN: FileCheck %s --check-prefix=FUSED < %t.mlir
// RUN: fusion-run %s --function linear --dim 7 --check exact --compare %S/Inputs/row-major-scales.mlir | FileCheck %s
// RUN: fusion-run %t.mlir --function linear --dim 7 --check exact --compare %S/Inputs/row-major-scales.mlir | FileCheck %s
// RUN: fusion-run %t.mlir --function linear --dim 8 --check exact --compare %s | FileCheck %s

// FUSED-LABEL: func.func @linear
// FUSED: llm.fused_add_rms_norm_quant_fp8 {{.*}}scale_col_major = true
// FUSED: llm.matmul_fp8 {{.*}}x_scale_col_major = true

// CHECK: PASS: all 2 outputs match (exact)

func.func @linear(%x: tensor<?x512xbf16>, %r: tensor<?x512xbf16>, %w: tensor<512xbf16>,
                  %wq: tensor<256x512xf8E4M3FN>, %ws: tensor<2x4xf32>)
    -> (tensor<?x256xbf16>, tensor<?x512xbf16>) {
  %s = llm.add %x, %r : (tensor<?x512xbf16>, tensor<?x512xbf16>) -> tensor<?x512xbf16>
  %y = llm.rms_norm %s, %w {epsilon = 1.0e-06 : f32} : (tensor<?x512xbf16>, tensor<512xbf16>) -> tensor<?x512xbf16>
  %q, %sc = llm.quant_fp8 %y {group_size = 128 : i64, scale_col_major = true} : (tensor<?x512xbf16>) -> (tensor<?x512xf8E4M3FN>, tensor<4x?xf32>)
  %o = llm.matmul_fp8 %q, %sc, %wq, %ws {x_scale_col_major = true} : (tensor<?x512xf8E4M3FN>, tensor<4x?xf32>, tensor<256x512xf8E4M3FN>, tensor<2x4xf32>) -> tensor<?x256xbf16>
  return %o, %s : tensor<?x256xbf16>, tensor<?x512xbf16>
}
