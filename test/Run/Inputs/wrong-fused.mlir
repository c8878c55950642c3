// Deliberately wrong fusions of ../wrong-fusion.mlir.
module attributes {llm.world_size = 2 : i64} {
  func.func @norm(%x: tensor<?x512xbf16>, %w: tensor<512xbf16>) -> (tensor<?x512xbf16>, tensor<?x512xbf16>) {
    %y, %a = llm.fused_all_reduce_rms_norm %x, %w {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32}
        : (tensor<?x512xbf16>, tensor<512xbf16>) -> (tensor<?x512xbf16>, tensor<?x512xbf16>)
    return %y, %a : tensor<?x512xbf16>, tensor<?x512xbf16>
  }
  func.func @router(%logits: tensor<?x256xf32>, %bias: tensor<256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>) {
    %w, %ids = llm.fused_moe_router %logits, %bias {n_group = 8 : i64, topk_group = 2 : i64, topk = 8 : i64}
        : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
    return %w, %ids : tensor<?x8xf32>, tensor<?x8xi32>
  }
}
