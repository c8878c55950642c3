// Constants reach the plan exactly: i64 values never pass through a double,
// and infinities and NaN survive JSON (as strings) and run (issue 11).
// RUN: fusion-translate --llm-to-plan %s -o %t.json
// RUN: FileCheck %s --input-file=%t.json
// RUN: rm -rf %t.out && mkdir %t.out && fusion-run %t.json --function big_int --output-dir %t.out
// RUN: %python -c "import struct; print(struct.unpack('<q', open('%t.out/out0.npy', 'rb').read()[-16:-8])[0])" | FileCheck %s --check-prefix=RUN-INT
// RUN: fusion-run %t.json --function non_finite | FileCheck %s --check-prefix=RUN-INF
// RUN: fusion-run %s --function non_finite --compare %t.json --check exact | FileCheck %s --check-prefix=SAME

// CHECK: "constant": [
// CHECK-NEXT: 9007199254740993
// CHECK: "constant": [
// CHECK-NEXT: "inf",
// CHECK-NEXT: "-inf",
// CHECK-NEXT: "nan",
// CHECK-NEXT: 1.5

// RUN-INT: 9007199254740993
// RUN-INF: out 0  f32 [4]  {{.*}} nan=1 inf=2
// SAME: PASS: all 1 outputs match (exact)

func.func @big_int(%x: tensor<2xi64>) -> tensor<2xi64> {
  %c = llm.constant dense<[9007199254740993, 1]> : tensor<2xi64>
  %y = llm.mul %c, %x : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %z = llm.sub %y, %y : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %r = llm.add %z, %c : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %r : tensor<2xi64>
}

func.func @non_finite(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = llm.constant dense<[0x7F800000, 0xFF800000, 0x7FC00000, 1.5]> : tensor<4xf32>
  %y = llm.mul %c, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
