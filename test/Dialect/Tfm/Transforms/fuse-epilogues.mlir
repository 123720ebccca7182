// RUN: tfm-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(tfm-fuse-epilogues{remarks=true}))' -verify-diagnostics | FileCheck %s
// tfm-fuse-epilogues: matmul + bias + activation + residual => tfm.linear, and
// residual adds into tfm.layer_norm; near misses stay as they are.

// The GPT-2 MLP: bias, tanh GELU, then the projection with a residual.
// CHECK-LABEL: func @mlp
// CHECK-NEXT: %[[H:.*]] = tfm.linear %arg0, %arg1 bias %arg2 activation = gelu_tanh :
// CHECK-NEXT: %[[Y:.*]] = tfm.linear %[[H]], %arg3 bias %arg4 activation = none residual %arg0 :
// CHECK-NEXT: return %[[Y]]
func.func @mlp(%x: tensor<?x8xf32>, %w1: tensor<8x32xf32>, %b1: tensor<32xf32>,
               %w2: tensor<32x8xf32>, %b2: tensor<8xf32>) -> tensor<?x8xf32> {
  // expected-remark @+1 {{fused tfm.linear + bias + activation gelu_tanh}}
  %m = tfm.matmul %x, %w1 : tensor<?x8xf32>, tensor<8x32xf32> -> tensor<?x32xf32>
  %h = tfm.add %m, %b1 : tensor<?x32xf32>, tensor<32xf32> -> tensor<?x32xf32>
  %three = tfm.constant dense<3.0> : tensor<f32>
  %c = tfm.constant dense<0.044715> : tensor<f32>
  %k = tfm.constant dense<0.797884583> : tensor<f32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %half = tfm.constant dense<0.5> : tensor<f32>
  %h3 = tfm.pow %h, %three : tensor<?x32xf32>, tensor<f32> -> tensor<?x32xf32>
  %ch3 = tfm.mul %h3, %c : tensor<?x32xf32>, tensor<f32> -> tensor<?x32xf32>
  %in = tfm.add %h, %ch3 : tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x32xf32>
  %ks = tfm.mul %in, %k : tensor<?x32xf32>, tensor<f32> -> tensor<?x32xf32>
  %t = tfm.tanh %ks : tensor<?x32xf32>
  %t1 = tfm.add %t, %one : tensor<?x32xf32>, tensor<f32> -> tensor<?x32xf32>
  %hh = tfm.mul %h, %half : tensor<?x32xf32>, tensor<f32> -> tensor<?x32xf32>
  %g = tfm.mul %hh, %t1 : tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x32xf32>
  // expected-remark @+1 {{fused tfm.linear + bias + activation none + residual}}
  %p = tfm.matmul %g, %w2 : tensor<?x32xf32>, tensor<32x8xf32> -> tensor<?x8xf32>
  %pb = tfm.add %p, %b2 : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  %y = tfm.add %x, %pb : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// The erf GELU, and relu; the lm head against a transposed tied embedding.
// CHECK-LABEL: func @erf_relu_tied
// CHECK-NEXT: %[[A:.*]] = tfm.linear %arg0, %arg1 activation = gelu_erf :
// CHECK-NEXT: %[[B:.*]] = tfm.linear %[[A]], %arg1 activation = relu :
// CHECK-NEXT: %[[L:.*]] = tfm.linear %[[B]], %arg2 weight_transposed activation = none :
// CHECK-NEXT: return %[[L]]
func.func @erf_relu_tied(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>, %wte: tensor<50x8xf32>) -> tensor<4x50xf32> {
  // expected-remark @+1 {{activation gelu_erf}}
  %h = tfm.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %r2 = tfm.constant dense<0.707106769> : tensor<f32>
  %half = tfm.constant dense<0.5> : tensor<f32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %a = tfm.mul %h, %r2 : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %e = tfm.erf %a : tensor<4x8xf32>
  %e1 = tfm.add %one, %e : tensor<f32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %hh = tfm.mul %half, %h : tensor<f32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %g = tfm.mul %e1, %hh : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  // expected-remark @+1 {{activation relu}}
  %m = tfm.matmul %g, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %r = tfm.relu %m : tensor<4x8xf32>
  %wt = tfm.transpose %wte, permutation = [1, 0] : tensor<50x8xf32> -> tensor<8x50xf32>
  // expected-remark @+1 {{fused tfm.linear + activation none}}
  %l = tfm.matmul %r, %wt : tensor<4x8xf32>, tensor<8x50xf32> -> tensor<4x50xf32>
  return %l : tensor<4x50xf32>
}

// -----

// Near miss: the pre-activation value is also used elsewhere, so the GELU
// stays outside (folding it would compute the matmul twice).
// CHECK-LABEL: func @shared_preactivation
// CHECK-NEXT: %[[H:.*]] = tfm.linear %arg0, %arg1 bias %arg2 activation = none :
// CHECK: tfm.erf
// CHECK: tfm.add %{{.*}}, %[[H]]
func.func @shared_preactivation(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  // expected-remark @+1 {{fused tfm.linear + bias + activation none}}
  %m = tfm.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %h = tfm.add %m, %b : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %r2 = tfm.constant dense<0.707106769> : tensor<f32>
  %half = tfm.constant dense<0.5> : tensor<f32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %a = tfm.mul %h, %r2 : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %e = tfm.erf %a : tensor<4x8xf32>
  %e1 = tfm.add %e, %one : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %hh = tfm.mul %h, %half : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %g = tfm.mul %hh, %e1 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %y = tfm.add %g, %h : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Near miss: a GELU with the wrong cubic coefficient is not a GELU; a
// broadcasting add is neither a bias nor a residual.
// CHECK-LABEL: func @not_gelu_not_bias
// CHECK-NEXT: %[[M:.*]] = tfm.linear %arg0, %arg1 activation = none :
// CHECK-NEXT: tfm.add %[[M]], %arg2 : tensor<4x8xf32>, tensor<4x1xf32>
func.func @not_gelu_not_bias(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>, %c1: tensor<4x1xf32>) -> tensor<4x8xf32> {
  // expected-remark @+1 {{fused tfm.linear + activation none}}
  %m = tfm.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %h = tfm.add %m, %c1 : tensor<4x8xf32>, tensor<4x1xf32> -> tensor<4x8xf32>
  %three = tfm.constant dense<3.0> : tensor<f32>
  %c = tfm.constant dense<0.05> : tensor<f32>
  %k = tfm.constant dense<0.797884583> : tensor<f32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %half = tfm.constant dense<0.5> : tensor<f32>
  %h3 = tfm.pow %h, %three : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %ch3 = tfm.mul %h3, %c : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %in = tfm.add %h, %ch3 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %ks = tfm.mul %in, %k : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %t = tfm.tanh %ks : tensor<4x8xf32>
  %t1 = tfm.add %t, %one : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %hh = tfm.mul %h, %half : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %g = tfm.mul %hh, %t1 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %g : tensor<4x8xf32>
}

// -----

// Near miss: a matmul between two activations (attention scores) is not a linear layer.
// CHECK-LABEL: func @batched_matmul
// CHECK: tfm.matmul
func.func @batched_matmul(%a: tensor<2x4x8xf32>, %b: tensor<2x8x4xf32>) -> tensor<2x4x4xf32> {
  // expected-remark @+1 {{not fused: the right-hand side is not a rank-2 weight}}
  %s = tfm.matmul %a, %b : tensor<2x4x8xf32>, tensor<2x8x4xf32> -> tensor<2x4x4xf32>
  return %s : tensor<2x4x4xf32>
}

// -----

// A residual add that feeds a layer norm (and is also used later).
// CHECK-LABEL: func @layer_norm_residual
// CHECK-NEXT: %[[Y:.*]], %[[S:.*]] = tfm.layer_norm %arg0 residual %arg1 scale %arg2 eps
// CHECK-NEXT: %[[Z:.*]] = tfm.mul %[[Y]], %[[S]]
func.func @layer_norm_residual(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>, %g: tensor<8xf32>) -> tensor<4x8xf32> {
  %s = tfm.add %a, %b : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  // expected-remark @+1 {{folded the residual add into tfm.layer_norm}}
  %y = tfm.layer_norm %s scale %g eps = 1.0e-5 : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %z = tfm.mul %y, %s : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %z : tensor<4x8xf32>
}

// -----

// The gated MLP of Llama: down(silu(gate(x)) * up(x)) + residual. SiLU as the
// frontend writes it (x / (1 + exp(-x))) becomes the gate's activation and
// the product by up(x) its multiplier; the down projection takes the residual.
// CHECK-LABEL: func @gated_mlp
// CHECK-NEXT: %[[U:.*]] = tfm.linear %arg0, %arg2 weight_transposed activation = none :
// CHECK-NEXT: %[[G:.*]] = tfm.linear %arg0, %arg1 weight_transposed activation = silu multiplier %[[U]] :
// CHECK-NEXT: %[[Y:.*]] = tfm.linear %[[G]], %arg3 weight_transposed activation = none residual %arg0 :
// CHECK-NEXT: return %[[Y]]
func.func @gated_mlp(%x: tensor<?x8xf32>, %wg: tensor<24x8xf32>, %wu: tensor<24x8xf32>,
                     %wd: tensor<8x24xf32>) -> tensor<?x8xf32> {
  %wgt = tfm.transpose %wg, permutation = [1, 0] : tensor<24x8xf32> -> tensor<8x24xf32>
  // expected-remark @+1 {{fused tfm.linear + activation silu * multiplier}}
  %g = tfm.matmul %x, %wgt : tensor<?x8xf32>, tensor<8x24xf32> -> tensor<?x24xf32>
  %wut = tfm.transpose %wu, permutation = [1, 0] : tensor<24x8xf32> -> tensor<8x24xf32>
  // expected-remark @+1 {{fused tfm.linear + activation none}}
  %u = tfm.matmul %x, %wut : tensor<?x8xf32>, tensor<8x24xf32> -> tensor<?x24xf32>
  %minus = tfm.constant dense<-1.0> : tensor<f32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %ng = tfm.mul %g, %minus : tensor<?x24xf32>, tensor<f32> -> tensor<?x24xf32>
  %e = tfm.exp %ng : tensor<?x24xf32>
  %d = tfm.add %e, %one : tensor<?x24xf32>, tensor<f32> -> tensor<?x24xf32>
  %s = tfm.div %g, %d : tensor<?x24xf32>, tensor<?x24xf32> -> tensor<?x24xf32>
  %p = tfm.mul %s, %u : tensor<?x24xf32>, tensor<?x24xf32> -> tensor<?x24xf32>
  %wdt = tfm.transpose %wd, permutation = [1, 0] : tensor<8x24xf32> -> tensor<24x8xf32>
  // expected-remark @+1 {{fused tfm.linear + activation none + residual}}
  %m = tfm.matmul %p, %wdt : tensor<?x24xf32>, tensor<24x8xf32> -> tensor<?x8xf32>
  %y = tfm.add %m, %x : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// SiLU written 0 - x, with a bias first; the product comes before a
// residual, in oneDNN's post-op order.
// CHECK-LABEL: func @silu_sub_bias
// CHECK-NEXT: %[[G:.*]] = tfm.linear %arg0, %arg1 bias %arg2 activation = silu multiplier %arg3 residual %arg4 :
// CHECK-NEXT: return %[[G]]
func.func @silu_sub_bias(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>, %b: tensor<8xf32>,
                         %m: tensor<4x8xf32>, %r: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-remark @+1 {{fused tfm.linear + bias + activation silu * multiplier + residual}}
  %mm = tfm.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %h = tfm.add %mm, %b : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %zero = tfm.constant dense<0.0> : tensor<f32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %nh = tfm.sub %zero, %h : tensor<f32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %e = tfm.exp %nh : tensor<4x8xf32>
  %d = tfm.add %one, %e : tensor<f32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %s = tfm.div %h, %d : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %p = tfm.mul %m, %s : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %y = tfm.add %r, %p : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Near misses: quick GELU (x / (1 + exp(-1.702 x))) is not SiLU; a product
// by a broadcast tensor is no multiplier, nor is a square (x * x).
// CHECK-LABEL: func @not_silu_not_multiplier
// CHECK-NEXT: %[[B:.*]] = tfm.linear %arg0, %arg1 activation = none :
// CHECK-NEXT: %[[A:.*]] = tfm.linear %arg0, %arg1 activation = none :
// CHECK: tfm.mul %[[A]], %{{.*}} : tensor<4x8xf32>, tensor<f32>
// CHECK: tfm.exp
// CHECK: tfm.mul %{{.*}}, %arg2 : tensor<4x8xf32>, tensor<4x1xf32>
// CHECK-NEXT: tfm.mul %[[B]], %[[B]]
func.func @not_silu_not_multiplier(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>, %c: tensor<4x1xf32>)
    -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  // expected-remark @+1 {{fused tfm.linear + activation none}}
  %h = tfm.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %k = tfm.constant dense<-1.702> : tensor<f32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %nh = tfm.mul %h, %k : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %e = tfm.exp %nh : tensor<4x8xf32>
  %d = tfm.add %e, %one : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %q = tfm.div %h, %d : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %p = tfm.mul %q, %c : tensor<4x8xf32>, tensor<4x1xf32> -> tensor<4x8xf32>
  // expected-remark @+1 {{fused tfm.linear + activation none}}
  %h2 = tfm.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %sq = tfm.mul %h2, %h2 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %p, %sq : tensor<4x8xf32>, tensor<4x8xf32>
}
