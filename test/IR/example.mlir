// The README's example graph parses and verifies, and keeps every chain the
// fusion passes look for.
// RUN: fusion-opt %examples/decoder_layer.mlir | FileCheck %s

// CHECK: module attributes {llm.world_size = 2 : i64}
// CHECK-LABEL: func.func @attention_in
// CHECK: llm.split
// CHECK-COUNT-2: llm.reshape
// CHECK-COUNT-2: llm.rms_norm
// CHECK-LABEL: func.func @attention_out_moe
// CHECK: llm.all_reduce
// CHECK: llm.fused_add_rms_norm
// CHECK: llm.grouped_topk
// CHECK-LABEL: func.func @gated_delta_net_out
// CHECK: llm.rms_norm_gated
// CHECK: llm.quant_fp8
