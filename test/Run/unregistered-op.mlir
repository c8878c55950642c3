// An op of another dialect cannot run: a clear error at its location, not a
// crash (fusion-fuzz found the translator reading the dialect of an
// unregistered op, which has none).
// RUN: not fusion-translate --llm-to-plan --allow-unregistered-dialect %s 2>&1 | FileCheck %s
// CHECK: unregistered-op.mlir:8:8: error: the runtime cannot run 'test.op'; a plan holds only llm ops

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = "test.op"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
