// matmul_fp8 written out (test/Run/matmul-fp8.mlir): dequantize, then an
// f32 matmul. Not a test on its own.

func.func @per_tensor(%x: tensor<?x256xf8E4M3FN>, %w: tensor<128x256xf8E4M3FN>) -> tensor<?x128xbf16> {
  %xs = llm.constant dense<0.05> : tensor<f32>
  %ws = llm.constant dense<0.01> : tensor<f32>
  %xf = llm.cast %x : tensor<?x256xf8E4M3FN> to tensor<?x256xf32>
  %wf = llm.cast %w : tensor<128x256xf8E4M3FN> to tensor<128x256xf32>
  %xd = llm.mul %xf, %xs : (tensor<?x256xf32>, tensor<f32>) -> tensor<?x256xf32>
  %wd = llm.mul %wf, %ws : (tensor<128x256xf32>, tensor<f32>) -> tensor<128x256xf32>
  %y = llm.matmul %xd, %wd : (tensor<?x256xf32>, tensor<128x256xf32>) -> tensor<?x128xf32>
  %yb = llm.cast %y : tensor<?x128xf32> to tensor<?x128xbf16>
  return %yb : tensor<?x128xbf16>
}

func.func @per_token(%x: tensor<?x256xf8E4M3FN>, %xs: tensor<?x1xf32>, %w: tensor<128x256xf8E4M3FN>, %ws: tensor<128xf32>) -> tensor<?x128xf32> {
  %xf = llm.cast %x : tensor<?x256xf8E4M3FN> to tensor<?x256xf32>
  %wf = llm.cast %w : tensor<128x256xf8E4M3FN> to tensor<128x256xf32>
  %xd = llm.mul %xf, %xs : (tensor<?x256xf32>, tensor<?x1xf32>) -> tensor<?x256xf32>
  %ws2 = llm.reshape %ws : tensor<128xf32> to tensor<128x1xf32>
  %wd = llm.mul %wf, %ws2 : (tensor<128x256xf32>, tensor<128x1xf32>) -> tensor<128x256xf32>
  %y = llm.matmul %xd, %wd : (tensor<?x256xf32>, tensor<128x256xf32>) -> tensor<?x128xf32>
  return %y : tensor<?x128xf32>
}

func.func @blocks(%x: tensor<?x256xf8E4M3FN>, %xs: tensor<?x2xf32>, %w: tensor<256x256xf8E4M3FN>, %ws: tensor<2x2xf32>) -> tensor<?x256xf32> {
  %xf = llm.cast %x : tensor<?x256xf8E4M3FN> to tensor<?x256xf32>
  %xb = llm.reshape %xf : tensor<?x256xf32> to tensor<?x2x128xf32>
  %xs3 = llm.reshape %xs : tensor<?x2xf32> to tensor<?x2x1xf32>
  %xd3 = llm.mul %xb, %xs3 : (tensor<?x2x128xf32>, tensor<?x2x1xf32>) -> tensor<?x2x128xf32>
  %xd = llm.reshape %xd3 : tensor<?x2x128xf32> to tensor<?x256xf32>
  %wf = llm.cast %w : tensor<256x256xf8E4M3FN> to tensor<256x256xf32>
  %wb = llm.reshape %wf : tensor<256x256xf32> to tensor<2x128x2x128xf32>
  %ws4 = llm.reshape %ws : tensor<2x2xf32> to tensor<2x1x2x1xf32>
  %wd4 = llm.mul %wb, %ws4 : (tensor<2x128x2x128xf32>, tensor<2x1x2x1xf32>) -> tensor<2x128x2x128xf32>
  %wd = llm.reshape %wd4 : tensor<2x128x2x128xf32> to tensor<256x256xf32>
  %y = llm.matmul %xd, %wd : (tensor<?x256xf32>, tensor<256x256xf32>) -> tensor<?x256xf32>
  return %y : tensor<?x256xf32>
}
