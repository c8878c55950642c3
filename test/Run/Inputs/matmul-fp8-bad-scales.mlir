// A weight scale per 64 rows: none of matmul_fp8's modes (test/Run/matmul-fp8.mlir).
func.func @bad(%x: tensor<?x256xf8E4M3FN>, %xs: tensor<?x2xf32>, %w: tensor<256x256xf8E4M3FN>, %ws: tensor<4x2xf32>) -> tensor<?x256xf32> {
  %y = llm.matmul_fp8 %x, %xs, %w, %ws : (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<256x256xf8E4M3FN>, tensor<4x2xf32>) -> tensor<?x256xf32>
  return %y : tensor<?x256xf32>
}
