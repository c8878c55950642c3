// The example decoder layer (TP=2): every function of the fused module
// computes what the importer's unfused graph computes.
//
// RUN: fusion-opt %examples/decoder_layer.mlir --llm-fusion-pipeline -o %t.mlir
// RUN: fusion-run %examples/decoder_layer.mlir --function attention_in --dim 16 --compare %t.mlir | FileCheck %s
// RUN: fusion-run %examples/decoder_layer.mlir --function attention_out_moe --dim 5 --compare %t.mlir | FileCheck %s
// RUN: fusion-run %examples/decoder_layer.mlir --function gated_delta_net_out --dim 48 --compare %t.mlir | FileCheck %s

// CHECK: world size 2
// CHECK-NOT: MISMATCH
// CHECK: PASS: all {{[0-9]+}} outputs match
