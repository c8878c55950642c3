// .npy in and out: outputs written by one run feed the next as inputs;
// --bench prints per-run counts and wall times.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: fusion-run %s --function produce --dim 5 --output-dir %t | FileCheck %s --check-prefix=PRODUCE
// RUN: cp %t/out0.npy %t/arg0.npy
// RUN: fusion-run %s --function consume --input-dir %t | FileCheck %s --check-prefix=CONSUME
// RUN: not fusion-run %s --function consume --input-dir %t/nowhere 2>&1 | FileCheck %s --check-prefix=MISSING

// RUN: fusion-run %s --function produce --dim 64 --bench --repeat 3 --warmup 1 | FileCheck %s --check-prefix=BENCH

// BENCH: rank 0: 1 kernels, 0 views, 0 copies; memory peak
// BENCH: bench: median {{[0-9.e-]+}} ms, min {{[0-9.e-]+}} ms over 3 runs (1 warm-up)
// PRODUCE: out 0  bf16 [5, 16]  {{.*}}min=0 {{.*}}nan=0
// CONSUME: out 0  f32 [5, 16]  {{.*}}min=0 {{.*}}nan=0
// MISSING: error: {{.*}}arg0.npy: cannot open

func.func @produce(%x: tensor<?x16xbf16>) -> tensor<?x16xbf16> {
  %y = llm.relu %x : tensor<?x16xbf16>
  return %y : tensor<?x16xbf16>
}
func.func @consume(%x: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %y = llm.relu %x : tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
