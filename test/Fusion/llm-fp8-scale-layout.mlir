// RUN: fusion-opt %s -split-input-file -llm-fp8-scale-layout | FileCheck %s
// RUN: fusion-opt %s -split-input-file -llm-fp8-scale-layout -llm-fp8-scale-layout=layout=row-major | FileCheck %s --check-prefix=BACK
// RUN: not fusion-opt %s -split-input-file -llm-fp8-scale-layout=layout=diagonal 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: llm-fp8-scale-layout: layout must be 'col-major' or 'row-major', got 'diagonal'

// Scales only FP8 linears read take DeepGEMM's column-major layout, and the
// linears read it so; row-major again gives back the input.
// CHECK-LABEL: func.func @relayout_linear_scales
// CHECK: %[[Q:.+]], %[[S:.+]] = llm.quant_fp8 %arg0 {group_size = 128 : i64, scale_col_major = true} : (tensor<6x7168xbf16>) -> (tensor<6x7168xf8E4M3FN>, tensor<56x8xf32>)
// CHECK: llm.matmul_fp8 %[[Q]], %[[S]], %arg1, %arg2 {x_scale_col_major = true} : (tensor<6x7168xf8E4M3FN>, tensor<56x8xf32>, {{.*}}
// CHECK: llm.matmul_fp8 %[[Q]], %[[S]], %arg3, %arg4 {x_scale_col_major = true}
// BACK-LABEL: func.func @relayout_linear_scales
// BACK: llm.quant_fp8 %arg0 {group_size = 128 : i64} : (tensor<6x7168xbf16>) -> (tensor<6x7168xf8E4M3FN>, tensor<6x56xf32>)
// BACK: llm.matmul_fp8 %{{.+}}, %{{.+}}, %arg1, %arg2 : (tensor<6x7168xf8E4M3FN>, tensor<6x56xf32>
func.func @relayout_linear_scales(%y: tensor<6x7168xbf16>, %w1: tensor<256x7168xf8E4M3FN>, %s1: tensor<2x56xf32>,
                                  %w2: tensor<512x7168xf8E4M3FN>, %s2: tensor<4x56xf32>) -> (tensor<6x256xbf16>, tensor<6x512xbf16>) {
  %q, %s = llm.quant_fp8 %y {group_size = 128 : i64} : (tensor<6x7168xbf16>) -> (tensor<6x7168xf8E4M3FN>, tensor<6x56xf32>)
  %a = llm.matmul_fp8 %q, %s, %w1, %s1 : (tensor<6x7168xf8E4M3FN>, tensor<6x56xf32>, tensor<256x7168xf8E4M3FN>, tensor<2x56xf32>) -> tensor<6x256xbf16>
  %b = llm.matmul_fp8 %q, %s, %w2, %s2 : (tensor<6x7168xf8E4M3FN>, tensor<6x56xf32>, tensor<512x7168xf8E4M3FN>, tensor<4x56xf32>) -> tensor<6x512xbf16>
  return %a, %b : tensor<6x256xbf16>, tensor<6x512xbf16>
}

// -----

// A fused producer with a dynamic token count: [G, ?].
// CHECK-LABEL: func.func @relayout_fused_dynamic
// CHECK: llm.fused_silu_mul_quant_fp8 {{.*}}scale_col_major = true} : {{.*}} -> (tensor<?x2048xf8E4M3FN>, tensor<16x?xf32>)
// CHECK: llm.matmul_fp8 {{.*}}{x_scale_col_major = true}
func.func @relayout_fused_dynamic(%g: tensor<?x2048xbf16>, %u: tensor<?x2048xbf16>, %w: tensor<128x2048xf8E4M3FN>, %ws: tensor<1x16xf32>) -> tensor<?x128xbf16> {
  %q, %s = llm.fused_silu_mul_quant_fp8 %g, %u {group_size = 128 : i64} : (tensor<?x2048xbf16>, tensor<?x2048xbf16>) -> (tensor<?x2048xf8E4M3FN>, tensor<?x16xf32>)
  %o = llm.matmul_fp8 %q, %s, %w, %ws : (tensor<?x2048xf8E4M3FN>, tensor<?x16xf32>, tensor<128x2048xf8E4M3FN>, tensor<1x16xf32>) -> tensor<?x128xbf16>
  return %o : tensor<?x128xbf16>
}

// -----

// The scales are also a function result: their layout is a promise, kept.
// CHECK-LABEL: func.func @keep_returned_scales
// CHECK: llm.quant_fp8 %arg0 {group_size = 128 : i64} : (tensor<6x256xbf16>) -> (tensor<6x256xf8E4M3FN>, tensor<6x2xf32>)
// CHECK-NOT: x_scale_col_major
func.func @keep_returned_scales(%y: tensor<6x256xbf16>, %w: tensor<128x256xf8E4M3FN>, %ws: tensor<1x2xf32>) -> (tensor<6x128xbf16>, tensor<6x2xf32>) {
  %q, %s = llm.quant_fp8 %y {group_size = 128 : i64} : (tensor<6x256xbf16>) -> (tensor<6x256xf8E4M3FN>, tensor<6x2xf32>)
  %o = llm.matmul_fp8 %q, %s, %w, %ws : (tensor<6x256xf8E4M3FN>, tensor<6x2xf32>, tensor<128x256xf8E4M3FN>, tensor<1x2xf32>) -> tensor<6x128xbf16>
  return %o, %s : tensor<6x128xbf16>, tensor<6x2xf32>
}

// -----

// Per-token scales ([T, 1]) feed a per-token linear, which has no layout: kept.
// CHECK-LABEL: func.func @keep_per_token
// CHECK: llm.quant_fp8 %arg0 {group_size = 256 : i64} : (tensor<6x256xbf16>) -> (tensor<6x256xf8E4M3FN>, tensor<6x1xf32>)
func.func @keep_per_token(%y: tensor<6x256xbf16>, %w: tensor<128x256xf8E4M3FN>, %ws: tensor<128xf32>) -> tensor<6x128xbf16> {
  %q, %s = llm.quant_fp8 %y {group_size = 256 : i64} : (tensor<6x256xbf16>) -> (tensor<6x256xf8E4M3FN>, tensor<6x1xf32>)
  %o = llm.matmul_fp8 %q, %s, %w, %ws : (tensor<6x256xf8E4M3FN>, tensor<6x1xf32>, tensor<128x256xf8E4M3FN>, tensor<128xf32>) -> tensor<6x128xbf16>
  return %o : tensor<6x128xbf16>
}
