// A function argument whose type has more than 2^63 bytes cannot be lowered:
// function signatures are not llm ops, so the translator checks them.
// RUN: not fusion-translate --llm-to-plan %s 2>&1 | FileCheck %s
// CHECK: too-large.mlir:6:1: error: the runtime cannot hold a value of type 'tensor<2305843009213693952xi32>': it is larger than 2^63 bytes

func.func @pass_through(%x: tensor<2305843009213693952xi32>) -> tensor<2305843009213693952xi32> {
  return %x : tensor<2305843009213693952xi32>
}
