// A "fused" @norm whose weight argument changed type: not comparable.
module attributes {llm.world_size = 2 : i64} {
  func.func @norm(%x: tensor<?x512xbf16>, %w: tensor<512xf32>) -> (tensor<?x512xbf16>, tensor<?x512xbf16>) {
    %a = llm.all_reduce %x : tensor<?x512xbf16>
    %y = llm.rms_norm %a, %w {epsilon = 1.0e-06 : f32} : (tensor<?x512xbf16>, tensor<512xf32>) -> tensor<?x512xbf16>
    return %y, %a : tensor<?x512xbf16>, tensor<?x512xbf16>
  }
}
