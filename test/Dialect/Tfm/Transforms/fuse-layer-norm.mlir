// RUN: tfm-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(tfm-fuse-layer-norm{remarks=true}))' -verify-diagnostics | FileCheck %s
// tfm-fuse-layer-norm: the forms it fuses, and near misses it must leave alone.

// The GPT-2 form: centre, mean of squares, + eps, rsqrt, scale, shift.
// CHECK-LABEL: func @gpt2_form
// CHECK-SAME: (%[[X:.*]]: tensor<?x16xf32>, %[[G:.*]]: tensor<16xf32>, %[[B:.*]]: tensor<16xf32>)
// CHECK-NEXT: %[[Y:.*]] = tfm.layer_norm %[[X]] scale %[[G]] bias %[[B]] eps = 9.9999997473787516E-6
// CHECK-NEXT: return %[[Y]]
func.func @gpt2_form(%x: tensor<?x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<?x16xf32> {
  %mu = tfm.reduce_mean %x, axis = -1 : tensor<?x16xf32> -> tensor<?x1xf32>
  %c = tfm.sub %x, %mu : tensor<?x16xf32>, tensor<?x1xf32> -> tensor<?x16xf32>
  %sq = tfm.mul %c, %c : tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x16xf32>
  %var = tfm.reduce_mean %sq, axis = -1 : tensor<?x16xf32> -> tensor<?x1xf32>
  %eps = tfm.constant dense<1.0e-5> : tensor<f32>
  %ve = tfm.add %var, %eps : tensor<?x1xf32>, tensor<f32> -> tensor<?x1xf32>
  %r = tfm.rsqrt %ve : tensor<?x1xf32>
  %n = tfm.mul %c, %r : tensor<?x16xf32>, tensor<?x1xf32> -> tensor<?x16xf32>
  %s = tfm.mul %n, %g : tensor<?x16xf32>, tensor<16xf32> -> tensor<?x16xf32>
  // expected-remark @+1 {{fused into tfm.layer_norm with scale with bias}}
  %y = tfm.add %s, %b : tensor<?x16xf32>, tensor<16xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// x / sqrt(var + eps), no scale or shift.
// CHECK-LABEL: func @div_sqrt
// CHECK-NEXT: %[[Y:.*]] = tfm.layer_norm %arg0 eps = 0.0010000000474974513
// CHECK-NEXT: return %[[Y]]
func.func @div_sqrt(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %mu = tfm.reduce_mean %x, axis = 1 : tensor<4x8xf32> -> tensor<4x1xf32>
  %c = tfm.sub %x, %mu : tensor<4x8xf32>, tensor<4x1xf32> -> tensor<4x8xf32>
  %two = tfm.constant dense<2.0> : tensor<f32>
  %sq = tfm.pow %c, %two : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %var = tfm.reduce_mean %sq, axis = 1 : tensor<4x8xf32> -> tensor<4x1xf32>
  %eps = tfm.constant dense<1.0e-3> : tensor<f32>
  %ve = tfm.add %eps, %var : tensor<f32>, tensor<4x1xf32> -> tensor<4x1xf32>
  %s = tfm.sqrt %ve : tensor<4x1xf32>
  // expected-remark @+1 {{fused into tfm.layer_norm}}
  %y = tfm.div %c, %s : tensor<4x8xf32>, tensor<4x1xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Variance as mean(x^2) - mean(x)^2; rsqrt on the left; shift only.
// CHECK-LABEL: func @moments_form
// CHECK-NEXT: %[[Y:.*]] = tfm.layer_norm %arg0 bias %arg1 eps = 9.9999997473787516E-6
// CHECK-NEXT: return %[[Y]]
func.func @moments_form(%x: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %mu = tfm.reduce_mean %x, axis = -1 : tensor<4x8xf32> -> tensor<4x1xf32>
  %x2 = tfm.mul %x, %x : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %ex2 = tfm.reduce_mean %x2, axis = -1 : tensor<4x8xf32> -> tensor<4x1xf32>
  %mu2 = tfm.mul %mu, %mu : tensor<4x1xf32>, tensor<4x1xf32> -> tensor<4x1xf32>
  %var = tfm.sub %ex2, %mu2 : tensor<4x1xf32>, tensor<4x1xf32> -> tensor<4x1xf32>
  %eps = tfm.constant dense<1.0e-5> : tensor<f32>
  %ve = tfm.add %var, %eps : tensor<4x1xf32>, tensor<f32> -> tensor<4x1xf32>
  %r = tfm.rsqrt %ve : tensor<4x1xf32>
  %c = tfm.sub %x, %mu : tensor<4x8xf32>, tensor<4x1xf32> -> tensor<4x8xf32>
  %n = tfm.mul %r, %c : tensor<4x1xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  // expected-remark @+1 {{fused into tfm.layer_norm with bias}}
  %y = tfm.add %b, %n : tensor<8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Near miss: statistics over axis 0 (a batch norm, not a layer norm).
// CHECK-LABEL: func @wrong_axis
// CHECK-NOT: tfm.layer_norm
// CHECK: tfm.rsqrt
func.func @wrong_axis(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %mu = tfm.reduce_mean %x, axis = 0 : tensor<4x8xf32> -> tensor<1x8xf32>
  %c = tfm.sub %x, %mu : tensor<4x8xf32>, tensor<1x8xf32> -> tensor<4x8xf32>
  %sq = tfm.mul %c, %c : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %var = tfm.reduce_mean %sq, axis = 0 : tensor<4x8xf32> -> tensor<1x8xf32>
  %eps = tfm.constant dense<1.0e-5> : tensor<f32>
  %ve = tfm.add %var, %eps : tensor<1x8xf32>, tensor<f32> -> tensor<1x8xf32>
  // expected-remark @+1 {{not fused: the mean is over axis 0, not the last axis}}
  %r = tfm.rsqrt %ve : tensor<1x8xf32>
  %y = tfm.mul %c, %r : tensor<4x8xf32>, tensor<1x8xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Near miss: the epsilon is an input, not a constant.
// CHECK-LABEL: func @variable_eps
// CHECK-NOT: tfm.layer_norm
func.func @variable_eps(%x: tensor<4x8xf32>, %eps: tensor<f32>) -> tensor<4x8xf32> {
  %mu = tfm.reduce_mean %x, axis = -1 : tensor<4x8xf32> -> tensor<4x1xf32>
  %c = tfm.sub %x, %mu : tensor<4x8xf32>, tensor<4x1xf32> -> tensor<4x8xf32>
  %sq = tfm.mul %c, %c : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %var = tfm.reduce_mean %sq, axis = -1 : tensor<4x8xf32> -> tensor<4x1xf32>
  %ve = tfm.add %var, %eps : tensor<4x1xf32>, tensor<f32> -> tensor<4x1xf32>
  // expected-remark @+1 {{not fused: the rsqrt/sqrt operand is not `variance + constant epsilon`}}
  %r = tfm.rsqrt %ve : tensor<4x1xf32>
  %y = tfm.mul %c, %r : tensor<4x8xf32>, tensor<4x1xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Near miss: the statistics come from x but another tensor is normalized.
// CHECK-LABEL: func @other_tensor
// CHECK-NOT: tfm.layer_norm
func.func @other_tensor(%x: tensor<4x8xf32>, %z: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %mu = tfm.reduce_mean %x, axis = -1 : tensor<4x8xf32> -> tensor<4x1xf32>
  %c = tfm.sub %z, %mu : tensor<4x8xf32>, tensor<4x1xf32> -> tensor<4x8xf32>
  %sq = tfm.mul %c, %c : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %var = tfm.reduce_mean %sq, axis = -1 : tensor<4x8xf32> -> tensor<4x1xf32>
  %eps = tfm.constant dense<1.0e-5> : tensor<f32>
  %ve = tfm.add %var, %eps : tensor<4x1xf32>, tensor<f32> -> tensor<4x1xf32>
  // expected-remark @+1 {{not fused: the mean is taken of another tensor than the one centred}}
  %r = tfm.rsqrt %ve : tensor<4x1xf32>
  %y = tfm.mul %c, %r : tensor<4x8xf32>, tensor<4x1xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Near miss: the variance is of the raw input, not the centred one.
// CHECK-LABEL: func @uncentred_variance
// CHECK-NOT: tfm.layer_norm
func.func @uncentred_variance(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %mu = tfm.reduce_mean %x, axis = -1 : tensor<4x8xf32> -> tensor<4x1xf32>
  %c = tfm.sub %x, %mu : tensor<4x8xf32>, tensor<4x1xf32> -> tensor<4x8xf32>
  %sq = tfm.mul %x, %x : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %var = tfm.reduce_mean %sq, axis = -1 : tensor<4x8xf32> -> tensor<4x1xf32>
  %eps = tfm.constant dense<1.0e-5> : tensor<f32>
  %ve = tfm.add %var, %eps : tensor<4x1xf32>, tensor<f32> -> tensor<4x1xf32>
  // expected-remark @+1 {{not fused: the variance squares another tensor than the centred input}}
  %r = tfm.rsqrt %ve : tensor<4x1xf32>
  %y = tfm.mul %c, %r : tensor<4x8xf32>, tensor<4x1xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// RMS norm as transformers' LlamaRMSNorm writes it: x * rsqrt(mean(x^2) + eps) * weight.
// CHECK-LABEL: func @rms_norm
// CHECK-SAME: (%[[X:.*]]: tensor<?x16xf32>, %[[G:.*]]: tensor<16xf32>)
// CHECK-NEXT: %[[Y:.*]] = tfm.layer_norm %[[X]] scale %[[G]] eps = 9.9999999747524271E-7 rms
// CHECK-NEXT: return %[[Y]]
func.func @rms_norm(%x: tensor<?x16xf32>, %g: tensor<16xf32>) -> tensor<?x16xf32> {
  %sq = tfm.mul %x, %x : tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x16xf32>
  %ms = tfm.reduce_mean %sq, axis = -1 : tensor<?x16xf32> -> tensor<?x1xf32>
  %eps = tfm.constant dense<1.0e-6> : tensor<f32>
  %ve = tfm.add %ms, %eps : tensor<?x1xf32>, tensor<f32> -> tensor<?x1xf32>
  %r = tfm.rsqrt %ve : tensor<?x1xf32>
  %n = tfm.mul %x, %r : tensor<?x16xf32>, tensor<?x1xf32> -> tensor<?x16xf32>
  // expected-remark @+1 {{fused into tfm.layer_norm (rms) with scale}}
  %y = tfm.mul %n, %g : tensor<?x16xf32>, tensor<16xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// Near miss: the mean of squares of one tensor normalizes another.
// CHECK-LABEL: func @rms_of_another
// CHECK-NOT: tfm.layer_norm
func.func @rms_of_another(%x: tensor<4x16xf32>, %z: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %sq = tfm.mul %z, %z : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>
  %ms = tfm.reduce_mean %sq, axis = -1 : tensor<4x16xf32> -> tensor<4x1xf32>
  %eps = tfm.constant dense<1.0e-6> : tensor<f32>
  %ve = tfm.add %ms, %eps : tensor<4x1xf32>, tensor<f32> -> tensor<4x1xf32>
  // expected-remark @+1 {{not fused: the normalized value is neither `x - mean(x)` (layer norm) nor the tensor whose mean square is taken (RMS norm)}}
  %r = tfm.rsqrt %ve : tensor<4x1xf32>
  %n = tfm.mul %x, %r : tensor<4x16xf32>, tensor<4x1xf32> -> tensor<4x16xf32>
  return %n : tensor<4x16xf32>
}

// -----

// Near miss: the mean of squares over the first axis is not a per-row RMS.
// CHECK-LABEL: func @rms_wrong_axis
// CHECK-NOT: tfm.layer_norm
func.func @rms_wrong_axis(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %sq = tfm.mul %x, %x : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>
  %ms = tfm.reduce_mean %sq, axis = 0 : tensor<4x16xf32> -> tensor<1x16xf32>
  %eps = tfm.constant dense<1.0e-6> : tensor<f32>
  %ve = tfm.add %ms, %eps : tensor<1x16xf32>, tensor<f32> -> tensor<1x16xf32>
  // expected-remark @+1 {{not fused: the normalized value is neither `x - mean(x)` (layer norm) nor the tensor whose mean square is taken (RMS norm)}}
  %r = tfm.rsqrt %ve : tensor<1x16xf32>
  %n = tfm.mul %x, %r : tensor<4x16xf32>, tensor<1x16xf32> -> tensor<4x16xf32>
  return %n : tensor<4x16xf32>
}
