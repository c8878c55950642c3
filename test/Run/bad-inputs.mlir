// Hostile inputs to fusion-run get an error that names the file or option
// and a nonzero exit, never a crash, a hang or a wrong result (issue 11).
//
// .npy files: a negative dim, a shape that overflows 64 bits, an i64 index
// that does not fit the i32 argument, and a file shorter than its header says.
// RUN: rm -rf %t && mkdir -p %t/neg %t/big %t/narrow %t/short
// RUN: %python %S/Inputs/make_npy.py %t/neg/arg0.npy '<f4' '(-2, 4)' 1 2 3 4
// RUN: not fusion-run %s --function norm --input-dir %t/neg 2>&1 | FileCheck %s --check-prefix=NEG
// NEG: fusion-run: error: {{.*}}arg0.npy: bad dim '-2' in the header's shape
// RUN: %python %S/Inputs/make_npy.py %t/big/arg0.npy '<f4' '(4611686018427387904, 4)' 1
// RUN: not fusion-run %s --function norm --input-dir %t/big 2>&1 | FileCheck %s --check-prefix=BIG
// BIG: fusion-run: error: {{.*}}arg0.npy: shape [4611686018427387904, 4] has more elements than fit in 64 bits
// RUN: %python %S/Inputs/make_npy.py %t/big/arg0.npy '<f4' '(1152921504606846977, 4)' 1
// RUN: not fusion-run %s --function norm --input-dir %t/big 2>&1 | FileCheck %s --check-prefix=BIG2
// BIG2: fusion-run: error: {{.*}}arg0.npy: truncated data (4611686018427387908 elements of <f4 expected, the file holds 4 bytes of data)
// RUN: %python %S/Inputs/make_npy.py %t/narrow/arg0.npy '<f4' '(2, 8)' 1 2 3 4 5 6 7 8 1 2 3 4 5 6 7 8
// RUN: %python %S/Inputs/make_npy.py %t/narrow/arg1.npy '<i8' '(2, 2)' 0 1 1099511627776 2
// RUN: not fusion-run %s --function pick --input-dir %t/narrow 2>&1 | FileCheck %s --check-prefix=NARROW
// NARROW: fusion-run: error: {{.*}}arg1.npy: element 2 is 1099511627776, which does not fit the argument's i32
// RUN: %python %S/Inputs/make_npy.py %t/short/arg0.npy '<f4' '(1000000, 8)' 1 2 3
// RUN: not fusion-run %s --function norm --input-dir %t/short 2>&1 | FileCheck %s --check-prefix=SHORT
// SHORT: fusion-run: error: {{.*}}arg0.npy: truncated data (8000000 elements of <f4 expected, the file holds 12 bytes of data)
//
// Sizes: dynamic dims bound past 64 bits, or past the memory limit, fail
// before anything is allocated.
// RUN: not fusion-run %s --function norm --dim 1152921504606846977 2>&1 | FileCheck %s --check-prefix=DIM
// DIM: fusion-run: error: input 0 (f32 [?, 8] with dynamic dims = 1152921504606846977): shape [1152921504606846977, 8] has more elements than fit in 64 bits
// RUN: not fusion-run %s --function norm --dim 4611686018427387904 2>&1 | FileCheck %s --check-prefix=DIM2
// DIM2: error: input 0 {{.*}} has more elements than fit in 64 bits
// RUN: not fusion-run %s --function norm --dim 100000 --max-memory 65536 2>&1 | FileCheck %s --check-prefix=LIMIT
// LIMIT: error: input 0 {{.*}}: 800000 elements of f32 take 3200000 bytes, more than the 65536-byte limit
// RUN: not fusion-run %s --function huge_arg 2>&1 | FileCheck %s --check-prefix=ARG
// ARG: error: input 0 (f8E4M3FN [4611686018427387904] with dynamic dims = 4): 4611686018427387904 elements of f8E4M3FN take 4611686018427387904 bytes, more than the
// RUN: not fusion-run %s --function huge_splat 2>&1 | FileCheck %s --check-prefix=SPLAT
// SPLAT: error: {{.*}}constant buffer {{[0-9]+}}: 1152921504606846976 elements of bf16 take 2305843009213693952 bytes, more than the
//
// Options out of range are errors, not wrapped values.
// RUN: not fusion-run %s --function norm --repeat 4294967297 --bench 2>&1 | FileCheck %s --check-prefix=REPEAT
// REPEAT: fusion-run: error: option --repeat must be in [1, 1000000], got 4294967297
// RUN: not fusion-run %s --function norm --seed -1 2>&1 | FileCheck %s --check-prefix=SEED
// SEED: fusion-run: error: option --seed must be in [0,
// RUN: not fusion-run %s --function norm --compare %s --rtol nan 2>&1 | FileCheck %s --check-prefix=RTOL
// RTOL: fusion-run: error: option --rtol must be finite and >= 0, got nan
// RUN: not fusion-run %s --function norm --check close 2>&1 | FileCheck %s --check-prefix=CHECKMODE
// CHECKMODE: fusion-run: error: option --check expects accuracy, exact or tolerance, got 'close'
//
// Writes to a full disk fail.
// RUN: not fusion-run %s --function norm --emit-plan /dev/full 2>&1 | FileCheck %s --check-prefix=FULL
// FULL: fusion-run: error: /dev/full: write failed (disk full?)
// RUN: not fusion-run %s --function norm --output-dir /dev/full 2>&1 | FileCheck %s --check-prefix=FULLDIR
// FULLDIR: fusion-run: error: /dev/full/out0.npy: cannot write
//
// Random indices into a dynamic gathered dim stay below --dim.
// RUN: fusion-run %s --function pick_dynamic --dim 3 | FileCheck %s --check-prefix=DYN
// DYN: out 0  f32 [3, 2]

func.func @norm(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %w = llm.constant dense<1.0> : tensor<8xf32>
  %y = llm.rms_norm %x, %w {epsilon = 1.0e-06 : f32} : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

func.func @pick(%x: tensor<2x8xf32>, %i: tensor<2x2xi32>) -> tensor<2x2xf32> {
  %y = llm.gather %x, %i : (tensor<2x8xf32>, tensor<2x2xi32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

func.func @pick_dynamic(%x: tensor<?x?xf32>, %i: tensor<?x2xi32>) -> tensor<?x2xf32> {
  %y = llm.gather %x, %i : (tensor<?x?xf32>, tensor<?x2xi32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

func.func @huge_splat(%x: tensor<4xbf16>) -> tensor<1152921504606846976xbf16> {
  %c = llm.constant dense<1.0> : tensor<1152921504606846976xbf16>
  %y = llm.relu %c : tensor<1152921504606846976xbf16>
  return %y : tensor<1152921504606846976xbf16>
}

func.func @huge_arg(%x: tensor<4611686018427387904xf8E4M3FN>) -> tensor<4611686018427387904xf8E4M3FN> {
  return %x : tensor<4611686018427387904xf8E4M3FN>
}
