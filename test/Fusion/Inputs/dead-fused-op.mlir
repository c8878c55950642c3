// A dead fused op written by hand before the pipeline runs, and one chain
// the pipeline fuses: the report counts one fusion.
module attributes {llm.world_size = 2 : i64} {
func.func @f(%x: tensor<?x64xbf16>, %w: tensor<64xbf16>) -> tensor<?x64xbf16> {
  %dead, %dead_ar = llm.fused_all_reduce_rms_norm %x, %w {epsilon = 1.0e-06 : f32}
      : (tensor<?x64xbf16>, tensor<64xbf16>) -> (tensor<?x64xbf16>, tensor<?x64xbf16>)
  %a = llm.all_reduce %x : tensor<?x64xbf16>
  %y = llm.rms_norm %a, %w {epsilon = 1.0e-06 : f32} : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}
}
