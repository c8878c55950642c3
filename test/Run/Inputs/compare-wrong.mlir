// Deliberately wrong versions of ../compare-checks.mlir.
func.func @router(%bias: tensor<64xf32>) -> (tensor<4x4xf32>, tensor<4x4xi32>) {
  %logits = llm.constant dense<20.0> : tensor<4x64xf32>
  %s = llm.sigmoid %logits : tensor<4x64xf32>
  // Ranks by the scores alone: the bias is ignored.
  %w, %ids = llm.grouped_topk %s, %s {n_group = 4 : i64, topk_group = 2 : i64, topk = 4 : i64}
      : (tensor<4x64xf32>, tensor<4x64xf32>) -> (tensor<4x4xf32>, tensor<4x4xi32>)
  return %w, %ids : tensor<4x4xf32>, tensor<4x4xi32>
}

func.func @eps(%x: tensor<?x256xf32>, %w: tensor<256xf32>) -> tensor<?x256xf32> {
  // epsilon 1e-5 instead of 1e-6.
  %y = llm.rms_norm %x, %w {epsilon = 1.0e-05 : f32} : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
  return %y : tensor<?x256xf32>
}
