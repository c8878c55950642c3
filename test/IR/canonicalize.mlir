// RUN: fusion-opt %s -split-input-file -canonicalize | FileCheck %s

// The identities are folders (cast, reshape, reshape of reshape) and a
// canonicalization (all_reduce at world size 1): -canonicalize knows them.
// CHECK-LABEL: func.func @identities
// CHECK-SAME: (%[[X:.+]]: tensor<?x128xbf16>)
// CHECK-NEXT: %[[R:.+]] = llm.reshape %[[X]] : tensor<?x128xbf16> to tensor<?x4096xbf16>
// CHECK-NEXT: return %[[R]], %[[X]], %[[X]]
func.func @identities(%x: tensor<?x128xbf16>) -> (tensor<?x4096xbf16>, tensor<?x128xbf16>, tensor<?x128xbf16>) {
  %a = llm.reshape %x : tensor<?x128xbf16> to tensor<?x32x128xbf16>
  %b = llm.reshape %a : tensor<?x32x128xbf16> to tensor<?x4096xbf16>
  %c = llm.reshape %x : tensor<?x128xbf16> to tensor<?x128xbf16>
  %d = llm.cast %c : tensor<?x128xbf16> to tensor<?x128xbf16>
  %e = llm.all_reduce %x : tensor<?x128xbf16>
  return %b, %d, %e : tensor<?x4096xbf16>, tensor<?x128xbf16>, tensor<?x128xbf16>
}

// -----

// At world size 2 the all-reduce is real and stays.
// CHECK-LABEL: func.func @all_reduce_world_size_2
// CHECK: llm.all_reduce
module attributes {llm.world_size = 2 : i64} {
func.func @all_reduce_world_size_2(%x: tensor<?x128xbf16>) -> tensor<?x128xbf16> {
  %e = llm.all_reduce %x : tensor<?x128xbf16>
  return %e : tensor<?x128xbf16>
}
}

// -----

// add and mul are Commutative: a constant operand moves to the right.
// CHECK-LABEL: func.func @constants_to_the_right
// CHECK: %[[C:.+]] = llm.constant dense<1.000000e+00> : tensor<bf16>
// CHECK: llm.add %{{.*}}, %[[C]]
// CHECK: llm.mul %{{.*}}, %[[C]]
func.func @constants_to_the_right(%w: tensor<64xbf16>) -> (tensor<64xbf16>, tensor<64xbf16>) {
  %one = llm.constant dense<1.0> : tensor<bf16>
  %a = llm.add %one, %w : (tensor<bf16>, tensor<64xbf16>) -> tensor<64xbf16>
  %m = llm.mul %one, %w : (tensor<bf16>, tensor<64xbf16>) -> tensor<64xbf16>
  return %a, %m : tensor<64xbf16>, tensor<64xbf16>
}

// -----

// A cast that changes the type is no identity.
// CHECK-LABEL: func.func @real_cast
// CHECK: llm.cast
func.func @real_cast(%x: tensor<4xbf16>) -> tensor<4xf32> {
  %c = llm.cast %x : tensor<4xbf16> to tensor<4xf32>
  return %c : tensor<4xf32>
}
