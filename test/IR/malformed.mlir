// Malformed input: a diagnostic at the right location and a nonzero exit,
// never a crash. Each split is checked with -verify-diagnostics, and the
// RUN lines without it prove the exit code.
// RUN: fusion-opt %s -split-input-file -verify-diagnostics
// RUN: not fusion-opt %s -split-input-file 2>&1 | FileCheck %s --check-prefix=EXIT
// RUN: echo 'func.func @f(%%x: tensor<8xf32>) { %%a = llm.relu %%x : tensor<8xf32>' | not fusion-opt 2>&1 | FileCheck %s --check-prefix=TRUNC
// TRUNC: <stdin>:1:67: error: expected operation name in quotes
// EXIT: malformed.mlir:[[# @LINE + 5]]:8: error: custom op 'llm.logsumexp' is unknown

func.func @unknown_op(%x: tensor<8xf32>) -> tensor<8xf32> {
  // The custom form of an op the dialect does not have.
  // expected-error @+1 {{custom op 'llm.logsumexp' is unknown}}
  %y = llm.logsumexp %x : tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

func.func @unknown_generic_op(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{unregistered operation 'llm.logsumexp' found in dialect ('llm') that does not allow unknown operations}}
  %y = "llm.logsumexp"(%x) : (tensor<8xf32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

func.func @wrong_arity(%x: tensor<8x64xf32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{expected 2 operands, but found 1}}
  %y = "llm.rms_norm"(%x) {epsilon = 1.0e-06 : f32} : (tensor<8x64xf32>) -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

func.func @wrong_result_count(%x: tensor<8x64xf32>) {
  // expected-error @+1 {{'llm.quant_fp8' op expected 2 results}}
  %q = "llm.quant_fp8"(%x) {group_size = 64 : i64} : (tensor<8x64xf32>) -> tensor<8x64xf8E4M3FN>
  return
}

// -----

func.func @custom_form_missing_type(%x: tensor<8x64xf32>, %w: tensor<64xf32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{expected ':'}}
  %y = llm.rms_norm %x, %w {epsilon = 1.0e-06 : f32}
  return %y : tensor<8x64xf32>
}

// -----

func.func @operand_type_mismatch(%x: tensor<8x64xf32>, %w: tensor<64xf32>) -> tensor<8x64xf32> {
  // expected-note @-1 {{prior use here}}
  // expected-error @+1 {{use of value '%x' expects different type than prior uses: 'tensor<8x64xbf16>' vs 'tensor<8x64xf32>'}}
  %y = llm.rms_norm %x, %w {epsilon = 1.0e-06 : f32} : (tensor<8x64xbf16>, tensor<64xf32>) -> tensor<8x64xbf16>
  return %y : tensor<8x64xf32>
}

// -----

func.func @bad_attribute_syntax(%x: tensor<8x64xf32>) {
  // expected-error @+1 {{expected integer literal}}
  %a, %b = "llm.split"(%x) {dim = 1 : i64, sizes = array<i64: 32, >} : (tensor<8x64xf32>) -> (tensor<8x32xf32>, tensor<8x32xf32>)
  return
}
