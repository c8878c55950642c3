// Invalid plans and invocations: one clear error each, exit code 1.
//
// RUN: fusion-run %S/Inputs/valid.json --dim 3 | FileCheck %s --check-prefix=VALID
// RUN: not fusion-run %S/Inputs/bad-version.json 2>&1 | FileCheck %s --check-prefix=VERSION
// RUN: not fusion-run %S/Inputs/unknown-kernel.json 2>&1 | FileCheck %s --check-prefix=KERNEL
// RUN: not fusion-run %S/Inputs/bad-shape.json 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not fusion-run %S/Inputs/bad-dtype.json 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not fusion-run %S/Inputs/dangling.json 2>&1 | FileCheck %s --check-prefix=DANGLING
// RUN: not fusion-run %S/Inputs/truncated.json 2>&1 | FileCheck %s --check-prefix=TRUNCATED
// RUN: not fusion-run %S/Inputs/not-json.json 2>&1 | FileCheck %s --check-prefix=NOTJSON
// RUN: not fusion-run %S/Inputs/missing.json 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not fusion-run %S/Inputs/valid.json --world-size 2 2>&1 | FileCheck %s --check-prefix=WORLD
// RUN: not fusion-run %S/Inputs/valid.json --frobnicate 2>&1 | FileCheck %s --check-prefix=OPTION
// RUN: not fusion-run %S/Inputs/valid.json --dim many 2>&1 | FileCheck %s --check-prefix=NUMBER
// RUN: not fusion-run %s 2>&1 | FileCheck %s --check-prefix=MLIR
// RUN: not fusion-run %S/Inputs/valid.json --device tpu 2>&1 | FileCheck %s --check-prefix=DEVICE
// RUN: not fusion-run %S/Inputs/valid.json --compare %S/Inputs/valid.json --compare-device tpu 2>&1 | FileCheck %s --check-prefix=DEVICE

// VALID: function 'f': world size 1, dim 3
// VALID: out 0  bf16 [3, 8]
// VERSION: fusion-run: error: {{.*}}bad-version.json: unsupported plan version 7 (this runtime reads version 1)
// KERNEL: fusion-run: error: {{.*}}unknown-kernel.json: functions[0].steps[0] (m.mlir:3:5): unknown kernel 'layer_norm'
// SHAPE: error: {{.*}}steps[0] (m.mlir:3:5) 'rms_norm': w must have shape [8] (x's last dim), got [16]
// DTYPE: error: {{.*}}'rms_norm': result 0 is declared f16 [?, 8] but the op gives bf16 [?, 8]
// DANGLING: error: {{.*}}steps[0] (m.mlir:3:5) 'rms_norm': buffer id 3 does not exist (the function has 3 buffers)
// TRUNCATED: error: {{.*}}truncated.json: not a valid JSON plan: {{.*}}parse error
// NOTJSON: error: {{.*}}not-json.json: not a valid JSON plan: {{.*}}syntax error
// MISSING: error: {{.*}}missing.json: cannot open the plan
// WORLD: error: '{{.*}}valid.json' is a program for world size 1 (llm.world_size), not 2
// OPTION: error: unknown option '--frobnicate'
// NUMBER: error: option --dim expects an integer, got 'many'
// DEVICE: fusion-run: error: unknown device 'tpu' (cpu or cuda)
// MLIR: plan-errors.mlir:[[@LINE+2]]:8: error: the runtime cannot run 'func.call'
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = func.call @g(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
func.func private @g(tensor<4xf32>) -> tensor<4xf32>
