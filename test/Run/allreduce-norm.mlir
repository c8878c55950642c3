// All-reduce + (residual add) + RMSNorm, plain and Gemma, at world sizes 2
// and 4: the fused graph computes what the unfused graph computes on every
// rank (each rank draws its own random inputs).
//
// RUN: fusion-opt %s --llm-fusion-pipeline -o %t.tp2.mlir
// RUN: FileCheck %s --check-prefix=FUSED < %t.tp2.mlir
// RUN: fusion-run %s --function ar_norm --dim 7 --compare %t.tp2.mlir | FileCheck %s --check-prefixes=CMP,TP2
// RUN: fusion-run %s --function ar_add_norm --dim 33 --compare %t.tp2.mlir | FileCheck %s --check-prefixes=CMP,TP2
// RUN: fusion-run %s --function gemma --dim 5 --seed 3 --compare %t.tp2.mlir | FileCheck %s --check-prefixes=CMP,TP2
// RUN: fusion-run %s --function ar_fused_add_norm --dim 1 --compare %t.tp2.mlir | FileCheck %s --check-prefixes=CMP,TP2
//
// RUN: sed 's/llm.world_size = 2/llm.world_size = 4/' %s > %t.tp4.src.mlir
// RUN: fusion-opt %t.tp4.src.mlir --llm-fusion-pipeline -o %t.tp4.mlir
// RUN: fusion-run %t.tp4.src.mlir --function ar_norm --dim 7 --compare %t.tp4.mlir | FileCheck %s --check-prefixes=CMP,TP4
// RUN: fusion-run %t.tp4.src.mlir --function ar_add_norm --dim 33 --compare %t.tp4.mlir | FileCheck %s --check-prefixes=CMP,TP4
// RUN: fusion-run %t.tp4.src.mlir --function gemma --dim 5 --compare %t.tp4.mlir | FileCheck %s --check-prefixes=CMP,TP4
// RUN: fusion-run %t.tp4.src.mlir --function ar_fused_add_norm --dim 2 --compare %t.tp4.mlir | FileCheck %s --check-prefixes=CMP,TP4

// FUSED-LABEL: func.func @ar_norm
// FUSED: llm.fused_all_reduce_rms_norm
// FUSED-LABEL: func.func @ar_add_norm
// FUSED: llm.fused_all_reduce_add_rms_norm
// FUSED-LABEL: func.func @gemma
// FUSED: llm.fused_all_reduce_add_rms_norm {{.*}}weight_bias = 1.000000e+00
// FUSED: llm.fused_all_reduce_rms_norm {{.*}}weight_bias = 1.000000e+00
// FUSED-LABEL: func.func @ar_fused_add_norm
// FUSED: llm.fused_all_reduce_add_rms_norm

// CMP: compare
// TP2-SAME: world size 2
// TP4-SAME: world size 4
// CMP-NOT: MISMATCH
// CMP: PASS: all {{[0-9]+}} outputs match

module attributes {llm.world_size = 2 : i64} {
  func.func @ar_norm(%x: tensor<?x4096xbf16>, %w: tensor<4096xbf16>)
      -> (tensor<?x4096xbf16>, tensor<?x4096xbf16>) {
    %a = llm.all_reduce %x : tensor<?x4096xbf16>
    %y = llm.rms_norm %a, %w {epsilon = 1.0e-06 : f32} : (tensor<?x4096xbf16>, tensor<4096xbf16>) -> tensor<?x4096xbf16>
    return %y, %a : tensor<?x4096xbf16>, tensor<?x4096xbf16>
  }

  func.func @ar_add_norm(%x: tensor<?x7168xbf16>, %r: tensor<?x7168xbf16>, %w: tensor<7168xbf16>)
      -> (tensor<?x7168xbf16>, tensor<?x7168xbf16>) {
    %a = llm.all_reduce %x : tensor<?x7168xbf16>
    %s = llm.add %a, %r : (tensor<?x7168xbf16>, tensor<?x7168xbf16>) -> tensor<?x7168xbf16>
    %y = llm.rms_norm %s, %w {epsilon = 1.0e-05 : f32} : (tensor<?x7168xbf16>, tensor<7168xbf16>) -> tensor<?x7168xbf16>
    return %y, %s : tensor<?x7168xbf16>, tensor<?x7168xbf16>
  }

  func.func @gemma(%x: tensor<?x2304xbf16>, %r: tensor<?x2304xbf16>, %w: tensor<2304xbf16>)
      -> (tensor<?x2304xbf16>, tensor<?x2304xbf16>, tensor<?x2304xbf16>) {
    %one = llm.constant dense<1.0> : tensor<f32>
    %wf = llm.cast %w : tensor<2304xbf16> to tensor<2304xf32>
    %w1 = llm.add %wf, %one : (tensor<2304xf32>, tensor<f32>) -> tensor<2304xf32>
    %a = llm.all_reduce %x : tensor<?x2304xbf16>
    %s = llm.add %a, %r : (tensor<?x2304xbf16>, tensor<?x2304xbf16>) -> tensor<?x2304xbf16>
    %y = llm.rms_norm %s, %w1 {epsilon = 1.0e-06 : f32} : (tensor<?x2304xbf16>, tensor<2304xf32>) -> tensor<?x2304xbf16>
    %b = llm.all_reduce %r : tensor<?x2304xbf16>
    %y2 = llm.rms_norm %b, %w1 {epsilon = 1.0e-06 : f32} : (tensor<?x2304xbf16>, tensor<2304xf32>) -> tensor<?x2304xbf16>
    return %y, %s, %y2 : tensor<?x2304xbf16>, tensor<?x2304xbf16>, tensor<?x2304xbf16>
  }

  func.func @ar_fused_add_norm(%x: tensor<?x1000xf16>, %r: tensor<?x1000xf16>, %w: tensor<1000xf16>)
      -> (tensor<?x1000xf16>, tensor<?x1000xf16>) {
    %a = llm.all_reduce %x : tensor<?x1000xf16>
    %y, %res = llm.fused_add_rms_norm %a, %r, %w {epsilon = 1.0e-06 : f32}
        : (tensor<?x1000xf16>, tensor<?x1000xf16>, tensor<1000xf16>) -> (tensor<?x1000xf16>, tensor<?x1000xf16>)
    return %y, %res : tensor<?x1000xf16>, tensor<?x1000xf16>
  }
}
