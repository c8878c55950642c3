// col-major-scales.mlir's @linear with the contract's row-major scales.
func.func @linear(%x: tensor<?x512xbf16>, %r: tensor<?x512xbf16>, %w: tensor<512xbf16>,
                  %wq: tensor<256x512xf8E4M3FN>, %ws: tensor<2x4xf32>)
    -> (tensor<?x256xbf16>, tensor<?x512xbf16>) {
  %s = llm.add %x, %r : (tensor<?x512xbf16>, tensor<?x512xbf16>) -> tensor<?x512xbf16>
  %y = llm.rms_norm %s, %w {epsilon = 1.0e-06 : f32} : (tensor<?x512xbf16>, tensor<512xbf16>) -> tensor<?x512xbf16>
  %q, %sc = llm.quant_fp8 %y {group_size = 128 : i64} : (tensor<?x512xbf16>) -> (tensor<?x512xf8E4M3FN>, tensor<?x4xf32>)
  %o = llm.matmul_fp8 %q, %sc, %wq, %ws : (tensor<?x512xf8E4M3FN>, tensor<?x4xf32>, tensor<256x512xf8E4M3FN>, tensor<2x4xf32>) -> tensor<?x256xbf16>
  return %o, %s : tensor<?x256xbf16>, tensor<?x512xbf16>
}
