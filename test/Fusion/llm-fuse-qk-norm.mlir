// RUN: fusion-opt %s -split-input-file -llm-fuse-qk-norm=remarks=true -verify-diagnostics | FileCheck %s

// 32 q heads and 8 kv heads of 128 in qkv [T, 6144]; q and k stay views.
// CHECK-LABEL: func.func @fuse_qk_norm
// CHECK: %[[S:.+]]:3 = llm.split
// CHECK: %[[Q:.+]] = llm.reshape %[[S]]#0
// CHECK: %[[K:.+]] = llm.reshape %[[S]]#1
// CHECK: %[[QO:.+]], %[[KO:.+]] = llm.fused_qk_rms_norm %[[Q]], %[[K]], %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<128xbf16>, tensor<128xbf16>) -> (tensor<?x128xbf16>, tensor<?x128xbf16>)
// CHECK-NOT: llm.rms_norm
// CHECK: return %[[QO]], %[[KO]]
func.func @fuse_qk_norm(%qkv: tensor<?x6144xbf16>, %wq: tensor<128xbf16>, %wk: tensor<128xbf16>)
    -> (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?x1024xbf16>) {
  %q, %k, %v = llm.split %qkv {dim = 1 : i64, sizes = array<i64: 4096, 1024, 1024>}
      : tensor<?x6144xbf16> -> tensor<?x4096xbf16>, tensor<?x1024xbf16>, tensor<?x1024xbf16>
  %qh = llm.reshape %q : tensor<?x4096xbf16> to tensor<?x128xbf16>
  %kh = llm.reshape %k : tensor<?x1024xbf16> to tensor<?x128xbf16>
  %qn = llm.rms_norm %qh, %wq {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %kn = llm.rms_norm %kh, %wk {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  return %qn, %kn, %v : tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?x1024xbf16>
}

// -----

// Gemma (1 + w) Q/K norm with k normalized before q, f32 activations.
// CHECK-LABEL: func.func @fuse_qk_gemma_k_first
// CHECK: llm.fused_qk_rms_norm %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 9.99999997E-7 : f32, weight_bias = 1.000000e+00 : f32} : (tensor<64x128xf32>, tensor<16x128xf32>
func.func @fuse_qk_gemma_k_first(%qkv: tensor<4x3072xf32>, %wq: tensor<128xf32>, %wk: tensor<128xf32>)
    -> (tensor<64x128xf32>, tensor<16x128xf32>) {
  %q, %k, %v = llm.split %qkv {dim = 1 : i64, sizes = array<i64: 2048, 512, 512>}
      : tensor<4x3072xf32> -> tensor<4x2048xf32>, tensor<4x512xf32>, tensor<4x512xf32>
  %kh = llm.reshape %k : tensor<4x512xf32> to tensor<16x128xf32>
  %kn = llm.rms_norm %kh, %wk {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32} : (tensor<16x128xf32>, tensor<128xf32>) -> tensor<16x128xf32>
  %qh = llm.reshape %q : tensor<4x2048xf32> to tensor<64x128xf32>
  %qn = llm.rms_norm %qh, %wq {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32} : (tensor<64x128xf32>, tensor<128xf32>) -> tensor<64x128xf32>
  return %qn, %kn : tensor<64x128xf32>, tensor<16x128xf32>
}

// -----

// A lone q norm is not a Q/K pair: no fusion, and not a near miss.
// CHECK-LABEL: func.func @no_fuse_lone_norm
// CHECK: llm.rms_norm
func.func @no_fuse_lone_norm(%qkv: tensor<?x6144xbf16>, %wq: tensor<128xbf16>) -> tensor<?x128xbf16> {
  %q, %k, %v = llm.split %qkv {dim = 1 : i64, sizes = array<i64: 4096, 1024, 1024>}
      : tensor<?x6144xbf16> -> tensor<?x4096xbf16>, tensor<?x1024xbf16>, tensor<?x1024xbf16>
  %qh = llm.reshape %q : tensor<?x4096xbf16> to tensor<?x128xbf16>
  %qn = llm.rms_norm %qh, %wq {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  return %qn : tensor<?x128xbf16>
}

// -----

// Different epsilon on q and k.
// CHECK-LABEL: func.func @no_fuse_qk_epsilon
// CHECK-COUNT-2: llm.rms_norm
func.func @no_fuse_qk_epsilon(%qkv: tensor<?x6144xbf16>, %wq: tensor<128xbf16>, %wk: tensor<128xbf16>)
    -> (tensor<?x128xbf16>, tensor<?x128xbf16>) {
  %q, %k, %v = llm.split %qkv {dim = 1 : i64, sizes = array<i64: 4096, 1024, 1024>}
      : tensor<?x6144xbf16> -> tensor<?x4096xbf16>, tensor<?x1024xbf16>, tensor<?x1024xbf16>
  %qh = llm.reshape %q : tensor<?x4096xbf16> to tensor<?x128xbf16>
  %kh = llm.reshape %k : tensor<?x1024xbf16> to tensor<?x128xbf16>
  // expected-remark @+1 {{missed fusion QKRMSNorm (llm-fuse-qk-norm): q and k norms use different epsilon (1.000000e-06 vs 1.000000e-05)}}
  %qn = llm.rms_norm %qh, %wq {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %kn = llm.rms_norm %kh, %wk {epsilon = 1.0e-05 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  return %qn, %kn : tensor<?x128xbf16>, tensor<?x128xbf16>
}

// -----

// Gemma on q only.
// CHECK-LABEL: func.func @no_fuse_qk_weight_bias
// CHECK-COUNT-2: llm.rms_norm
func.func @no_fuse_qk_weight_bias(%qkv: tensor<?x6144xbf16>, %wq: tensor<128xbf16>, %wk: tensor<128xbf16>)
    -> (tensor<?x128xbf16>, tensor<?x128xbf16>) {
  %q, %k, %v = llm.split %qkv {dim = 1 : i64, sizes = array<i64: 4096, 1024, 1024>}
      : tensor<?x6144xbf16> -> tensor<?x4096xbf16>, tensor<?x1024xbf16>, tensor<?x1024xbf16>
  %qh = llm.reshape %q : tensor<?x4096xbf16> to tensor<?x128xbf16>
  %kh = llm.reshape %k : tensor<?x1024xbf16> to tensor<?x128xbf16>
  // expected-remark @+1 {{missed fusion QKGemmaRMSNorm (llm-fuse-qk-norm): q and k norms use different weight_bias (1.000000e+00 vs 0.000000e+00)}}
  %qn = llm.rms_norm %qh, %wq {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %kn = llm.rms_norm %kh, %wk {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  return %qn, %kn : tensor<?x128xbf16>, tensor<?x128xbf16>
}

// -----

// A reshape that is not a head split (4096 is not a multiple of 96).
// CHECK-LABEL: func.func @no_fuse_qk_not_head_split
// CHECK-COUNT-2: llm.rms_norm
func.func @no_fuse_qk_not_head_split(%qkv: tensor<?x6144xbf16>, %wq: tensor<96xbf16>, %wk: tensor<128xbf16>)
    -> (tensor<?x96xbf16>, tensor<?x128xbf16>) {
  %q, %k, %v = llm.split %qkv {dim = 1 : i64, sizes = array<i64: 4096, 1024, 1024>}
      : tensor<?x6144xbf16> -> tensor<?x4096xbf16>, tensor<?x1024xbf16>, tensor<?x1024xbf16>
  %qh = llm.reshape %q : tensor<?x4096xbf16> to tensor<?x96xbf16>
  %kh = llm.reshape %k : tensor<?x1024xbf16> to tensor<?x128xbf16>
  // expected-remark @+1 {{missed fusion QKRMSNorm (llm-fuse-qk-norm): a q/k reshape is not a head split [T, H*D] -> [T*H, D]}}
  %qn = llm.rms_norm %qh, %wq {epsilon = 1.0e-06 : f32} : (tensor<?x96xbf16>, tensor<96xbf16>) -> tensor<?x96xbf16>
  %kn = llm.rms_norm %kh, %wk {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  return %qn, %kn : tensor<?x96xbf16>, tensor<?x128xbf16>
}

// -----

// The split is along the token dim, so "q" and "k" are not per-token features.
// CHECK-LABEL: func.func @no_fuse_qk_split_dim0
// CHECK-COUNT-2: llm.rms_norm
func.func @no_fuse_qk_split_dim0(%qkv: tensor<12x128xf32>, %w: tensor<128xf32>) -> (tensor<4x128xf32>, tensor<4x128xf32>) {
  %q, %k, %v = llm.split %qkv {dim = 0 : i64, sizes = array<i64: 4, 4, 4>}
      : tensor<12x128xf32> -> tensor<4x128xf32>, tensor<4x128xf32>, tensor<4x128xf32>
  %qh = llm.reshape %q : tensor<4x128xf32> to tensor<8x64xf32>
  %kh = llm.reshape %k : tensor<4x128xf32> to tensor<8x64xf32>
  %w64 = llm.reshape %w : tensor<128xf32> to tensor<2x64xf32>
  %w1, %w2 = llm.split %w64 {dim = 0 : i64, sizes = array<i64: 1, 1>} : tensor<2x64xf32> -> tensor<1x64xf32>, tensor<1x64xf32>
  %wv = llm.reshape %w1 : tensor<1x64xf32> to tensor<64xf32>
  // expected-remark @+1 {{missed fusion QKRMSNorm (llm-fuse-qk-norm): the qkv split is along dim 0, not the feature dim}}
  %qn = llm.rms_norm %qh, %wv {epsilon = 1.0e-06 : f32} : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  %kn = llm.rms_norm %kh, %wv {epsilon = 1.0e-06 : f32} : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  %qo = llm.reshape %qn : tensor<8x64xf32> to tensor<4x128xf32>
  %ko = llm.reshape %kn : tensor<8x64xf32> to tensor<4x128xf32>
  return %qo, %ko : tensor<4x128xf32>, tensor<4x128xf32>
}

// -----

// The q norm's result is used before the k weight exists: no placement keeps
// dominance.
// CHECK-LABEL: func.func @no_fuse_qk_dominance
// CHECK-COUNT-2: llm.rms_norm
func.func @no_fuse_qk_dominance(%qkv: tensor<?x6144xbf16>, %wq: tensor<128xbf16>, %wkp: tensor<128xbf16>)
    -> (tensor<?x128xbf16>, tensor<?x128xbf16>) {
  %q, %k, %v = llm.split %qkv {dim = 1 : i64, sizes = array<i64: 4096, 1024, 1024>}
      : tensor<?x6144xbf16> -> tensor<?x4096xbf16>, tensor<?x1024xbf16>, tensor<?x1024xbf16>
  %qh = llm.reshape %q : tensor<?x4096xbf16> to tensor<?x128xbf16>
  %kh = llm.reshape %k : tensor<?x1024xbf16> to tensor<?x128xbf16>
  // expected-remark @+1 {{missed fusion QKRMSNorm (llm-fuse-qk-norm): no point in the block dominates the fused op's operands and precedes every user of the chain}}
  %qn = llm.rms_norm %qh, %wq {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %qr = llm.relu %qn : tensor<?x128xbf16>
  %wk = llm.relu %wkp : tensor<128xbf16>
  %kn = llm.rms_norm %kh, %wk {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  return %qr, %kn : tensor<?x128xbf16>, tensor<?x128xbf16>
}

// -----

// One kv head per rank (Qwen3-235B at TP 4): k is [T, 128] and has no
// reshape once cleanup removed the identity one; it still fuses (issue 11,
// class 6).
// CHECK-LABEL: func.func @fuse_qk_one_kv_head
// CHECK: llm.fused_qk_rms_norm
// CHECK-NOT: llm.rms_norm
func.func @fuse_qk_one_kv_head(%qkv: tensor<?x1280xbf16>, %wq: tensor<128xbf16>, %wk: tensor<128xbf16>) -> (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?x128xbf16>) {
  %q, %k, %v = llm.split %qkv {dim = 1 : i64, sizes = array<i64: 1024, 128, 128>} : tensor<?x1280xbf16> -> tensor<?x1024xbf16>, tensor<?x128xbf16>, tensor<?x128xbf16>
  %qh = llm.reshape %q : tensor<?x1024xbf16> to tensor<?x128xbf16>
  %qn = llm.rms_norm %qh, %wq {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %kn = llm.rms_norm %k, %wk {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  return %qn, %kn, %v : tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?x128xbf16>
}

// -----

// One kv head with different epsilons: the one-head form explains its miss.
// CHECK-LABEL: func.func @no_fuse_qk_one_kv_head_epsilon
// CHECK-NOT: llm.fused_qk_rms_norm
func.func @no_fuse_qk_one_kv_head_epsilon(%qkv: tensor<?x1280xbf16>, %wq: tensor<128xbf16>, %wk: tensor<128xbf16>) -> (tensor<?x128xbf16>, tensor<?x128xbf16>) {
  %q, %k, %v = llm.split %qkv {dim = 1 : i64, sizes = array<i64: 1024, 128, 128>} : tensor<?x1280xbf16> -> tensor<?x1024xbf16>, tensor<?x128xbf16>, tensor<?x128xbf16>
  %qh = llm.reshape %q : tensor<?x1024xbf16> to tensor<?x128xbf16>
  // expected-remark @+1 {{missed fusion QKRMSNorm (llm-fuse-qk-norm): q and k norms use different epsilon}}
  %qn = llm.rms_norm %qh, %wq {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %kn = llm.rms_norm %k, %wk {epsilon = 1.0e-05 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  return %qn, %kn : tensor<?x128xbf16>, tensor<?x128xbf16>
}

// -----

// q and k from separate projections of one hidden state, normed per head on
// [1, T, H, D] views (Qwen3, Gemma3, GLM-4.5 as torch.export writes them).
// CHECK-LABEL: func.func @fuse_qk_separate_projections
// CHECK: %[[Q:.+]] = llm.reshape
// CHECK: %[[K:.+]] = llm.reshape
// CHECK: llm.fused_qk_rms_norm %[[Q]], %[[K]]
// CHECK-NOT: llm.rms_norm
func.func @fuse_qk_separate_projections(%x: tensor<1x?x64xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<32x64xbf16>,
                                        %gq: tensor<16xbf16>, %gk: tensor<16xbf16>) -> (tensor<1x?x4x16xbf16>, tensor<1x?x2x16xbf16>) {
  %q = llm.matmul %x, %wq : (tensor<1x?x64xbf16>, tensor<64x64xbf16>) -> tensor<1x?x64xbf16>
  %qh = llm.reshape %q : tensor<1x?x64xbf16> to tensor<1x?x4x16xbf16>
  %qn = llm.rms_norm %qh, %gq {epsilon = 1.0e-06 : f32} : (tensor<1x?x4x16xbf16>, tensor<16xbf16>) -> tensor<1x?x4x16xbf16>
  %k = llm.matmul %x, %wk : (tensor<1x?x64xbf16>, tensor<32x64xbf16>) -> tensor<1x?x32xbf16>
  %kh = llm.reshape %k : tensor<1x?x32xbf16> to tensor<1x?x2x16xbf16>
  %kn = llm.rms_norm %kh, %gk {epsilon = 1.0e-06 : f32} : (tensor<1x?x2x16xbf16>, tensor<16xbf16>) -> tensor<1x?x2x16xbf16>
  return %qn, %kn : tensor<1x?x4x16xbf16>, tensor<1x?x2x16xbf16>
}

// -----

// Separate projections with different epsilons: a remark, not a fusion.
// CHECK-LABEL: func.func @no_fuse_qk_separate_epsilon
// CHECK-NOT: llm.fused_qk_rms_norm
func.func @no_fuse_qk_separate_epsilon(%x: tensor<1x?x64xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<32x64xbf16>,
                                       %gq: tensor<16xbf16>, %gk: tensor<16xbf16>) -> (tensor<1x?x4x16xbf16>, tensor<1x?x2x16xbf16>) {
  %q = llm.matmul %x, %wq : (tensor<1x?x64xbf16>, tensor<64x64xbf16>) -> tensor<1x?x64xbf16>
  %qh = llm.reshape %q : tensor<1x?x64xbf16> to tensor<1x?x4x16xbf16>
  // expected-remark @+1 {{missed fusion QKRMSNorm (llm-fuse-qk-norm): q and k norms use different epsilon}}
  %qn = llm.rms_norm %qh, %gq {epsilon = 1.0e-06 : f32} : (tensor<1x?x4x16xbf16>, tensor<16xbf16>) -> tensor<1x?x4x16xbf16>
  %k = llm.matmul %x, %wk : (tensor<1x?x64xbf16>, tensor<32x64xbf16>) -> tensor<1x?x32xbf16>
  %kh = llm.reshape %k : tensor<1x?x32xbf16> to tensor<1x?x2x16xbf16>
  %kn = llm.rms_norm %kh, %gk {epsilon = 1.0e-05 : f32} : (tensor<1x?x2x16xbf16>, tensor<16xbf16>) -> tensor<1x?x2x16xbf16>
  return %qn, %kn : tensor<1x?x4x16xbf16>, tensor<1x?x2x16xbf16>
}

// -----

// The q norm's output is read (by the rotary embedding) before k's
// projection is computed: the k projection moves up and the pair fuses at
// the q norm.
// CHECK-LABEL: func.func @fuse_qk_separate_k_projection_later
// CHECK: llm.matmul
// CHECK: llm.matmul
// CHECK: llm.fused_qk_rms_norm
// CHECK: llm.neg
func.func @fuse_qk_separate_k_projection_later(%x: tensor<1x?x64xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<32x64xbf16>,
                                               %gq: tensor<16xbf16>, %gk: tensor<16xbf16>) -> (tensor<1x?x4x16xbf16>, tensor<1x?x2x16xbf16>) {
  %q = llm.matmul %x, %wq : (tensor<1x?x64xbf16>, tensor<64x64xbf16>) -> tensor<1x?x64xbf16>
  %qh = llm.reshape %q : tensor<1x?x64xbf16> to tensor<1x?x4x16xbf16>
  %qn = llm.rms_norm %qh, %gq {epsilon = 1.0e-06 : f32} : (tensor<1x?x4x16xbf16>, tensor<16xbf16>) -> tensor<1x?x4x16xbf16>
  %qr = llm.neg %qn : tensor<1x?x4x16xbf16>
  %k = llm.matmul %x, %wk : (tensor<1x?x64xbf16>, tensor<32x64xbf16>) -> tensor<1x?x32xbf16>
  %kh = llm.reshape %k : tensor<1x?x32xbf16> to tensor<1x?x2x16xbf16>
  %kn = llm.rms_norm %kh, %gk {epsilon = 1.0e-06 : f32} : (tensor<1x?x2x16xbf16>, tensor<16xbf16>) -> tensor<1x?x2x16xbf16>
  return %qr, %kn : tensor<1x?x4x16xbf16>, tensor<1x?x2x16xbf16>
}

// -----

// Gemma3 norms q and k after the transpose to [1, H, T, D]: the transpose
// keeps D last, so the norm is still per head.
// CHECK-LABEL: func.func @fuse_qk_separate_transposed
// CHECK: llm.fused_qk_rms_norm {{.*}}weight_bias = 1.000000e+00
// CHECK-NOT: llm.rms_norm
func.func @fuse_qk_separate_transposed(%x: tensor<1x?x64xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<32x64xbf16>,
                                       %gq: tensor<16xbf16>, %gk: tensor<16xbf16>) -> (tensor<1x4x?x16xbf16>, tensor<1x2x?x16xbf16>) {
  %q = llm.matmul %x, %wq : (tensor<1x?x64xbf16>, tensor<64x64xbf16>) -> tensor<1x?x64xbf16>
  %qh = llm.reshape %q : tensor<1x?x64xbf16> to tensor<1x?x4x16xbf16>
  %qt = llm.transpose %qh {permutation = array<i64: 0, 2, 1, 3>} : (tensor<1x?x4x16xbf16>) -> tensor<1x4x?x16xbf16>
  %k = llm.matmul %x, %wk : (tensor<1x?x64xbf16>, tensor<32x64xbf16>) -> tensor<1x?x32xbf16>
  %kh = llm.reshape %k : tensor<1x?x32xbf16> to tensor<1x?x2x16xbf16>
  %kt = llm.transpose %kh {permutation = array<i64: 0, 2, 1, 3>} : (tensor<1x?x2x16xbf16>) -> tensor<1x2x?x16xbf16>
  %qn = llm.rms_norm %qt, %gq {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32} : (tensor<1x4x?x16xbf16>, tensor<16xbf16>) -> tensor<1x4x?x16xbf16>
  %kn = llm.rms_norm %kt, %gk {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32} : (tensor<1x2x?x16xbf16>, tensor<16xbf16>) -> tensor<1x2x?x16xbf16>
  return %qn, %kn : tensor<1x4x?x16xbf16>, tensor<1x2x?x16xbf16>
}

// -----

// A transpose that moves D away from the last dim: the norm no longer runs
// over a head's features of the projection.
// CHECK-LABEL: func.func @no_fuse_qk_transposed_head_dim_moved
// CHECK-NOT: llm.fused_qk_rms_norm
func.func @no_fuse_qk_transposed_head_dim_moved(%x: tensor<1x?x64xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<64x64xbf16>,
                                                %gq: tensor<4xbf16>, %gk: tensor<4xbf16>) -> (tensor<1x?x16x4xbf16>, tensor<1x?x16x4xbf16>) {
  %q = llm.matmul %x, %wq : (tensor<1x?x64xbf16>, tensor<64x64xbf16>) -> tensor<1x?x64xbf16>
  %qh = llm.reshape %q : tensor<1x?x64xbf16> to tensor<1x?x4x16xbf16>
  %qt = llm.transpose %qh {permutation = array<i64: 0, 1, 3, 2>} : (tensor<1x?x4x16xbf16>) -> tensor<1x?x16x4xbf16>
  %k = llm.matmul %x, %wk : (tensor<1x?x64xbf16>, tensor<64x64xbf16>) -> tensor<1x?x64xbf16>
  %kh = llm.reshape %k : tensor<1x?x64xbf16> to tensor<1x?x4x16xbf16>
  %kt = llm.transpose %kh {permutation = array<i64: 0, 1, 3, 2>} : (tensor<1x?x4x16xbf16>) -> tensor<1x?x16x4xbf16>
  // expected-remark @+1 {{missed fusion QKRMSNorm (llm-fuse-qk-norm): q reaches its norm through a step that is not per head}}
  %qn = llm.rms_norm %qt, %gq {epsilon = 1.0e-06 : f32} : (tensor<1x?x16x4xbf16>, tensor<4xbf16>) -> tensor<1x?x16x4xbf16>
  %kn = llm.rms_norm %kt, %gk {epsilon = 1.0e-06 : f32} : (tensor<1x?x16x4xbf16>, tensor<4xbf16>) -> tensor<1x?x16x4xbf16>
  return %qn, %kn : tensor<1x?x16x4xbf16>, tensor<1x?x16x4xbf16>
}

// -----

// Qwen3-Next: q_proj gives q and its output gate per head ([..., H, 2D]),
// split along the last dim; q is result 0.
// CHECK-LABEL: func.func @fuse_qk_gated_query
// CHECK: %[[S:.+]]:2 = llm.split
// CHECK: llm.fused_qk_rms_norm %[[S]]#0
func.func @fuse_qk_gated_query(%x: tensor<1x?x64xbf16>, %wq: tensor<128x64xbf16>, %wk: tensor<32x64xbf16>,
                               %gq: tensor<16xbf16>, %gk: tensor<16xbf16>) -> (tensor<1x?x4x16xbf16>, tensor<1x?x4x16xbf16>, tensor<1x?x2x16xbf16>) {
  %q = llm.matmul %x, %wq : (tensor<1x?x64xbf16>, tensor<128x64xbf16>) -> tensor<1x?x128xbf16>
  %qh = llm.reshape %q : tensor<1x?x128xbf16> to tensor<1x?x4x32xbf16>
  %s:2 = llm.split %qh {dim = 3 : i64, sizes = array<i64: 16, 16>} : tensor<1x?x4x32xbf16> -> tensor<1x?x4x16xbf16>, tensor<1x?x4x16xbf16>
  %qn = llm.rms_norm %s#0, %gq {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32} : (tensor<1x?x4x16xbf16>, tensor<16xbf16>) -> tensor<1x?x4x16xbf16>
  %k = llm.matmul %x, %wk : (tensor<1x?x64xbf16>, tensor<32x64xbf16>) -> tensor<1x?x32xbf16>
  %kh = llm.reshape %k : tensor<1x?x32xbf16> to tensor<1x?x2x16xbf16>
  %kn = llm.rms_norm %kh, %gk {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32} : (tensor<1x?x2x16xbf16>, tensor<16xbf16>) -> tensor<1x?x2x16xbf16>
  return %qn, %s#1, %kn : tensor<1x?x4x16xbf16>, tensor<1x?x4x16xbf16>, tensor<1x?x2x16xbf16>
}

// -----

// The normed part is the gate (split result 1), not the head's leading
// features: not the q norm of a gated query.
// CHECK-LABEL: func.func @no_fuse_qk_gated_query_second_half
// CHECK-NOT: llm.fused_qk_rms_norm
func.func @no_fuse_qk_gated_query_second_half(%x: tensor<1x?x64xbf16>, %wq: tensor<128x64xbf16>, %wk: tensor<32x64xbf16>,
                               %gq: tensor<16xbf16>, %gk: tensor<16xbf16>) -> (tensor<1x?x4x16xbf16>, tensor<1x?x4x16xbf16>, tensor<1x?x2x16xbf16>) {
  %q = llm.matmul %x, %wq : (tensor<1x?x64xbf16>, tensor<128x64xbf16>) -> tensor<1x?x128xbf16>
  %qh = llm.reshape %q : tensor<1x?x128xbf16> to tensor<1x?x4x32xbf16>
  %s:2 = llm.split %qh {dim = 3 : i64, sizes = array<i64: 16, 16>} : tensor<1x?x4x32xbf16> -> tensor<1x?x4x16xbf16>, tensor<1x?x4x16xbf16>
  // expected-remark @+1 {{missed fusion QKGemmaRMSNorm (llm-fuse-qk-norm): q reaches its norm through a step that is not per head}}
  %qn = llm.rms_norm %s#1, %gq {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32} : (tensor<1x?x4x16xbf16>, tensor<16xbf16>) -> tensor<1x?x4x16xbf16>
  %k = llm.matmul %x, %wk : (tensor<1x?x64xbf16>, tensor<32x64xbf16>) -> tensor<1x?x32xbf16>
  %kh = llm.reshape %k : tensor<1x?x32xbf16> to tensor<1x?x2x16xbf16>
  %kn = llm.rms_norm %kh, %gk {epsilon = 1.0e-06 : f32, weight_bias = 1.0 : f32} : (tensor<1x?x2x16xbf16>, tensor<16xbf16>) -> tensor<1x?x2x16xbf16>
  return %qn, %s#0, %kn : tensor<1x?x4x16xbf16>, tensor<1x?x4x16xbf16>, tensor<1x?x2x16xbf16>
}

// -----

// An FP8 checkpoint: q_proj and k_proj are FP8 GEMMs of one quantized hidden.
// CHECK-LABEL: func.func @fuse_qk_separate_fp8_projections
// CHECK: llm.fused_qk_rms_norm
// CHECK-NOT: llm.rms_norm
func.func @fuse_qk_separate_fp8_projections(%x: tensor<1x?x256xf8E4M3FN>, %xs: tensor<1x?x2xf32>,
    %wq: tensor<256x256xf8E4M3FN>, %sq: tensor<2x2xf32>, %wk: tensor<128x256xf8E4M3FN>, %sk: tensor<1x2xf32>,
    %gq: tensor<64xbf16>, %gk: tensor<64xbf16>) -> (tensor<1x?x4x64xbf16>, tensor<1x?x2x64xbf16>) {
  %q = llm.matmul_fp8 %x, %xs, %wq, %sq : (tensor<1x?x256xf8E4M3FN>, tensor<1x?x2xf32>, tensor<256x256xf8E4M3FN>, tensor<2x2xf32>) -> tensor<1x?x256xbf16>
  %qh = llm.reshape %q : tensor<1x?x256xbf16> to tensor<1x?x4x64xbf16>
  %qn = llm.rms_norm %qh, %gq {epsilon = 1.0e-06 : f32} : (tensor<1x?x4x64xbf16>, tensor<64xbf16>) -> tensor<1x?x4x64xbf16>
  %k = llm.matmul_fp8 %x, %xs, %wk, %sk : (tensor<1x?x256xf8E4M3FN>, tensor<1x?x2xf32>, tensor<128x256xf8E4M3FN>, tensor<1x2xf32>) -> tensor<1x?x128xbf16>
  %kh = llm.reshape %k : tensor<1x?x128xbf16> to tensor<1x?x2x64xbf16>
  %kn = llm.rms_norm %kh, %gk {epsilon = 1.0e-06 : f32} : (tensor<1x?x2x64xbf16>, tensor<64xbf16>) -> tensor<1x?x2x64xbf16>
  return %qn, %kn : tensor<1x?x4x64xbf16>, tensor<1x?x2x64xbf16>
}
