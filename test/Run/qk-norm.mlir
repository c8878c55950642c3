// Per-head Q/K RMSNorm read straight out of the fused qkv tensor (Qwen3:
// 32 q heads, 8 k heads, head dim 128): the fused op reads q and k as views
// inside qkv and matches the two unfused norms, plain and Gemma.
//
// RUN: fusion-opt %s --llm-fusion-pipeline -o %t.mlir
// RUN: FileCheck %s --check-prefix=FUSED < %t.mlir
// RUN: fusion-run %s --function qwen3 --dim 9 --compare %t.mlir | FileCheck %s
// RUN: fusion-run %s --function gemma --dim 3 --compare %t.mlir | FileCheck %s

// FUSED-LABEL: func.func @qwen3
// FUSED: llm.fused_qk_rms_norm
// FUSED-NOT: llm.rms_norm
// FUSED-LABEL: func.func @gemma
// FUSED: llm.fused_qk_rms_norm {{.*}}weight_bias = 1.000000e+00

// CHECK-NOT: MISMATCH
// CHECK: PASS: all 3 outputs match

func.func @qwen3(%qkv: tensor<?x6144xbf16>, %wq: tensor<128xbf16>, %wk: tensor<128xbf16>)
    -> (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?x1024xbf16>) {
  %q, %k, %v = llm.split %qkv {dim = 1 : i64, sizes = array<i64: 4096, 1024, 1024>}
      : tensor<?x6144xbf16> -> tensor<?x4096xbf16>, tensor<?x1024xbf16>, tensor<?x1024xbf16>
  %qh = llm.reshape %q : tensor<?x4096xbf16> to tensor<?x128xbf16>
  %kh = llm.reshape %k : tensor<?x1024xbf16> to tensor<?x128xbf16>
  %qn = llm.rms_norm %qh, %wq {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %kn = llm.rms_norm %kh, %wk {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  return %qn, %kn, %v : tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?x1024xbf16>
}

func.func @gemma(%qkv: tensor<?x2048xf32>, %wq: tensor<256xf32>, %wk: tensor<256xf32>)
    -> (tensor<?x256xf32>, tensor<?x256xf32>, tensor<?x256xf32>) {
  %q, %k, %v = llm.split %qkv {dim = 1 : i64, sizes = array<i64: 1024, 512, 512>}
      : tensor<?x2048xf32> -> tensor<?x1024xf32>, tensor<?x512xf32>, tensor<?x512xf32>
  %kh = llm.reshape %k : tensor<?x512xf32> to tensor<?x256xf32>
  %kn = llm.rms_norm %kh, %wk {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32} : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
  %qh = llm.reshape %q : tensor<?x1024xf32> to tensor<?x256xf32>
  %qn = llm.rms_norm %qh, %wq {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32} : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
  return %qn, %kn, %qh : tensor<?x256xf32>, tensor<?x256xf32>, tensor<?x256xf32>
}
