// RUN: tfm-opt %s -canonicalize -split-input-file | FileCheck %s
// The folders: identities disappear, near-misses (broadcasting, other
// constants) stay.

// CHECK-LABEL: func @add_zero
// CHECK-SAME: (%[[X:.*]]: tensor<4x16xf32>)
// CHECK-NEXT: return %[[X]]
func.func @add_zero(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %z = tfm.constant dense<0.0> : tensor<f32>
  %0 = tfm.add %x, %z : tensor<4x16xf32>, tensor<f32> -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func @zero_add_commuted
// CHECK-NEXT: return %arg0
func.func @zero_add_commuted(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %z = tfm.constant dense<0.0> : tensor<f32>
  %0 = tfm.add %z, %x : tensor<f32>, tensor<4x16xf32> -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func @mul_one_div_one_sub_zero
// CHECK-NEXT: return %arg0
func.func @mul_one_div_one_sub_zero(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %one = tfm.constant dense<1.0> : tensor<f32>
  %z = tfm.constant dense<0.0> : tensor<f32>
  %0 = tfm.mul %x, %one : tensor<4x16xf32>, tensor<f32> -> tensor<4x16xf32>
  %1 = tfm.div %0, %one : tensor<4x16xf32>, tensor<f32> -> tensor<4x16xf32>
  %2 = tfm.sub %1, %z : tensor<4x16xf32>, tensor<f32> -> tensor<4x16xf32>
  return %2 : tensor<4x16xf32>
}

// -----

// A zero that broadcasts the result to a larger shape must stay.
// CHECK-LABEL: func @add_zero_broadcasting
// CHECK: tfm.add
func.func @add_zero_broadcasting(%x: tensor<16xf32>) -> tensor<4x16xf32> {
  %z = tfm.constant dense<0.0> : tensor<4x16xf32>
  %0 = tfm.add %x, %z : tensor<16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// 0 - x is not x.
// CHECK-LABEL: func @zero_sub_stays
// CHECK: tfm.sub
func.func @zero_sub_stays(%x: tensor<4xf32>) -> tensor<4xf32> {
  %z = tfm.constant dense<0.0> : tensor<f32>
  %0 = tfm.sub %z, %x : tensor<f32>, tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func @mul_two_stays
// CHECK: tfm.mul
func.func @mul_two_stays(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = tfm.constant dense<2.0> : tensor<f32>
  %0 = tfm.mul %x, %c : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func @reshape_chain
// CHECK-NEXT: %[[R:.*]] = tfm.reshape %arg0 : tensor<4x16xf32> -> tensor<64xf32>
// CHECK-NEXT: return %[[R]]
func.func @reshape_chain(%x: tensor<4x16xf32>) -> tensor<64xf32> {
  %0 = tfm.reshape %x : tensor<4x16xf32> -> tensor<2x32xf32>
  %1 = tfm.reshape %0 : tensor<2x32xf32> -> tensor<64xf32>
  return %1 : tensor<64xf32>
}

// -----

// CHECK-LABEL: func @identities
// CHECK-NEXT: return %arg0
func.func @identities(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = tfm.reshape %x : tensor<4x16xf32> -> tensor<4x16xf32>
  %1 = tfm.transpose %0, permutation = [0, 1] : tensor<4x16xf32> -> tensor<4x16xf32>
  %2 = tfm.slice %1, offsets = [0, 0] : tensor<4x16xf32> -> tensor<4x16xf32>
  return %2 : tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func @real_transpose_stays
// CHECK: tfm.transpose
func.func @real_transpose_stays(%x: tensor<4x16xf32>) -> tensor<16x4xf32> {
  %0 = tfm.transpose %x, permutation = [1, 0] : tensor<4x16xf32> -> tensor<16x4xf32>
  return %0 : tensor<16x4xf32>
}

// -----

// A transpose of a transpose is one transpose: [1, 0, 2] then [0, 2, 1] is
// [1, 2, 0] (the K of attention, as PyTorch's k.transpose(-1, -2) writes it).
// CHECK-LABEL: func @transpose_chain
// CHECK-NEXT: %[[T:.*]] = tfm.transpose %arg0, permutation = [1, 2, 0] : tensor<4x2x8xf32> -> tensor<2x8x4xf32>
// CHECK-NEXT: return %[[T]]
func.func @transpose_chain(%x: tensor<4x2x8xf32>) -> tensor<2x8x4xf32> {
  %0 = tfm.transpose %x, permutation = [1, 0, 2] : tensor<4x2x8xf32> -> tensor<2x4x8xf32>
  %1 = tfm.transpose %0, permutation = [0, 2, 1] : tensor<2x4x8xf32> -> tensor<2x8x4xf32>
  return %1 : tensor<2x8x4xf32>
}

// -----

// Two transposes that undo each other disappear.
// CHECK-LABEL: func @transpose_round_trip
// CHECK-NEXT: return %arg0
func.func @transpose_round_trip(%x: tensor<4x2x8xf32>) -> tensor<4x2x8xf32> {
  %0 = tfm.transpose %x, permutation = [1, 2, 0] : tensor<4x2x8xf32> -> tensor<2x8x4xf32>
  %1 = tfm.transpose %0, permutation = [2, 0, 1] : tensor<2x8x4xf32> -> tensor<4x2x8xf32>
  return %1 : tensor<4x2x8xf32>
}

// -----

// Not composed where the middle's dynamic size hides a mismatch (3 -> ? -> 5
// would not verify as one transpose): both stay.
// CHECK-LABEL: func @transpose_chain_incompatible
// CHECK: tfm.transpose
// CHECK: tfm.transpose
func.func @transpose_chain_incompatible(%x: tensor<3x4xf32>) -> tensor<5x4xf32> {
  %0 = tfm.transpose %x, permutation = [1, 0] : tensor<3x4xf32> -> tensor<4x?xf32>
  %1 = tfm.transpose %0, permutation = [1, 0] : tensor<4x?xf32> -> tensor<5x4xf32>
  return %1 : tensor<5x4xf32>
}
