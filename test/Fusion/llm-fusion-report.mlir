// The fusion report: per pattern, chains fused and every miss with its
// reason and location, from the flag and from the pipeline option.
// RUN: fusion-opt %s --llm-fusion-pipeline --llm-fusion-report=%t.json > /dev/null
// RUN: FileCheck %s --input-file=%t.json
// RUN: fusion-opt %s --llm-fusion-pipeline="report=%t2.json" > /dev/null
// RUN: FileCheck %s --input-file=%t2.json
// RUN: not fusion-opt %s --llm-fusion-pipeline --llm-fusion-report=%t.missing/dir/r.json 2>&1 | FileCheck %s --check-prefix=BADPATH
// A full disk and a report flag without the pipeline are errors (issue 11).
// RUN: not fusion-opt %s --llm-fusion-pipeline --llm-fusion-report=/dev/full 2>&1 | FileCheck %s --check-prefix=FULL
// FULL: error: failed to write fusion report file '/dev/full'
// RUN: not fusion-opt %s --llm-fusion-cleanup --llm-fusion-report=%t3.json 2>&1 | FileCheck %s --check-prefix=NOPIPE
// NOPIPE: fusion-opt: error: --llm-fusion-report belongs to --llm-fusion-pipeline, which did not run
// A fused op that was there before the pass, and is dead, is not counted.
// RUN: fusion-opt %S/Inputs/dead-fused-op.mlir --llm-fusion-pipeline --llm-fusion-report=%t4.json > /dev/null
// RUN: FileCheck %s --input-file=%t4.json --check-prefix=DEAD
// DEAD: "fused": 1,

// CHECK: "version": 1,
// CHECK-NEXT: "totals": {
// CHECK-NEXT: "fused": 4,
// CHECK-NEXT: "missed": 1
// CHECK: "AllReduceFusedAddGemmaRMSNorm": {
// CHECK-NEXT: "pass": "llm-fuse-allreduce-norm",
// CHECK-NEXT: "fused": 1,
// CHECK-NEXT: "missed": []
// CHECK: "AllReduceGemmaRMSNorm": {
// CHECK-NEXT: "pass": "llm-fuse-allreduce-norm",
// CHECK-NEXT: "fused": 0,
// CHECK-NEXT: "missed": [
// CHECK-NEXT: {
// CHECK-NEXT: "reason": "norm input element type bf16 differs from weight element type f32 (dtype-match check; a Gemma weight must be written as cast(w) + 1)",
// CHECK-NEXT: "location": "{{.*}}llm-fusion-report.mlir:[[# @LINE + 24]]:9"
// CHECK: "MoERouter": {
// CHECK-NEXT: "pass": "llm-fuse-moe-router",
// CHECK-NEXT: "fused": 1,
// CHECK: "QKRMSNorm": {
// CHECK-NEXT: "pass": "llm-fuse-qk-norm",
// CHECK-NEXT: "fused": 1,

// BADPATH: error: cannot open fusion report file '{{.*}}r.json' for writing

module attributes {llm.world_size = 2 : i64} {
func.func @layer(%x: tensor<?x2048xbf16>, %r: tensor<?x2048xbf16>, %g: tensor<2048xbf16>, %gf: tensor<2048xf32>,
                 %logits: tensor<?x256xbf16>, %bias: tensor<256xf32>,
                 %qkv: tensor<?x3072xbf16>, %wq: tensor<128xbf16>, %wk: tensor<128xbf16>)
    -> (tensor<?x2048xbf16>, tensor<?x2048xbf16>, tensor<?x2048xbf16>, tensor<?x8xf32>, tensor<?x8xi32>,
        tensor<?x128xbf16>, tensor<?x128xbf16>) {
  %one = llm.constant dense<1.0> : tensor<f32>
  %gc = llm.cast %g : tensor<2048xbf16> to tensor<2048xf32>
  %g1 = llm.add %gc, %one : (tensor<2048xf32>, tensor<f32>) -> tensor<2048xf32>
  %a = llm.all_reduce %x : tensor<?x2048xbf16>
  %s = llm.add %a, %r : (tensor<?x2048xbf16>, tensor<?x2048xbf16>) -> tensor<?x2048xbf16>
  %y = llm.rms_norm %s, %g1 {epsilon = 1.0e-06 : f32} : (tensor<?x2048xbf16>, tensor<2048xf32>) -> tensor<?x2048xbf16>
  %gf1 = llm.add %gf, %one : (tensor<2048xf32>, tensor<f32>) -> tensor<2048xf32>
  %b = llm.all_reduce %y : tensor<?x2048xbf16>
  %y2 = llm.rms_norm %b, %gf1 {epsilon = 1.0e-06 : f32} : (tensor<?x2048xbf16>, tensor<2048xf32>) -> tensor<?x2048xbf16>
  %lf = llm.cast %logits : tensor<?x256xbf16> to tensor<?x256xf32>
  %sg = llm.sigmoid %lf : tensor<?x256xf32>
  %bs = llm.add %sg, %bias : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
  %tw, %ti = llm.grouped_topk %sg, %bs {n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64, renormalize = true, routed_scaling_factor = 2.5 : f32}
      : (tensor<?x256xf32>, tensor<?x256xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)
  %q, %k, %v = llm.split %qkv {dim = 1 : i64, sizes = array<i64: 2048, 512, 512>}
      : tensor<?x3072xbf16> -> tensor<?x2048xbf16>, tensor<?x512xbf16>, tensor<?x512xbf16>
  %qh = llm.reshape %q : tensor<?x2048xbf16> to tensor<?x128xbf16>
  %kh = llm.reshape %k : tensor<?x512xbf16> to tensor<?x128xbf16>
  %qn = llm.rms_norm %qh, %wq {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %kn = llm.rms_norm %kh, %wk {epsilon = 1.0e-06 : f32} : (tensor<?x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  return %y, %s, %y2, %tw, %ti, %qn, %kn : tensor<?x2048xbf16>, tensor<?x2048xbf16>, tensor<?x2048xbf16>,
      tensor<?x8xf32>, tensor<?x8xi32>, tensor<?x128xbf16>, tensor<?x128xbf16>
}
}
