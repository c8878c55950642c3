// The README's example decoder layer fuses every chain it holds.
// RUN: fusion-opt %examples/decoder_layer.mlir --llm-fusion-pipeline --llm-fusion-remarks 2>&1 | FileCheck %s

// CHECK-NOT: remark
// CHECK-LABEL: func.func @attention_in
// CHECK: llm.fused_add_rms_norm
// CHECK: llm.fused_qk_rms_norm
// CHECK-LABEL: func.func @attention_out_moe
// CHECK-NOT: llm.all_reduce
// CHECK: llm.fused_all_reduce_add_rms_norm
// CHECK: llm.fused_moe_router
// CHECK: llm.fused_all_reduce_add_rms_norm
// CHECK-LABEL: func.func @gated_delta_net_out
// CHECK: llm.fused_rms_norm_gated_quant_fp8
// CHECK-NOT: llm.quant_fp8 
