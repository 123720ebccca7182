// RUN: tfm-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(tfm-fuse-positional-encoding{remarks=true}))' -verify-diagnostics | FileCheck %s
// RUN: tfmc --emit=tfm -O0 %S/../../../Golden/models/rope | tfm-opt --pass-pipeline='builtin.module(canonicalize,cse,func.func(tfm-fuse-attention,tfm-fuse-positional-encoding))' | FileCheck %s --check-prefix=ROPE
// tfm-fuse-positional-encoding: embeddings (learned, sinusoidal, none) and
// RoPE folded into tfm.attention.

// CHECK-LABEL: func @learned
// CHECK-NEXT: %[[E:.*]] = tfm.embedding %arg0, %arg2, %arg3 position = learned positions %arg1
// CHECK-NEXT: return %[[E]]
func.func @learned(%tok: tensor<?xi64>, %pos: tensor<?xi64>, %wte: tensor<64x16xf32>, %wpe: tensor<32x16xf32>) -> tensor<?x16xf32> {
  %t = tfm.gather %wte[%tok] : tensor<64x16xf32>, tensor<?xi64> -> tensor<?x16xf32>
  %p = tfm.gather %wpe[%pos] : tensor<32x16xf32>, tensor<?xi64> -> tensor<?x16xf32>
  // expected-remark @+1 {{fused tfm.embedding with position = learned}}
  %x = tfm.add %t, %p : tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x16xf32>
  return %x : tensor<?x16xf32>
}

// -----

// CHECK-LABEL: func @lone_gather
// CHECK-NEXT: %[[E:.*]] = tfm.embedding %arg0, %arg1 position = none :
func.func @lone_gather(%tok: tensor<5xi64>, %wte: tensor<64x16xf32>) -> tensor<5x16xf32> {
  // expected-remark @+1 {{fused tfm.embedding with position = none}}
  %t = tfm.gather %wte[%tok] : tensor<64x16xf32>, tensor<5xi64> -> tensor<5x16xf32>
  return %t : tensor<5x16xf32>
}

// -----

// The sinusoidal table computed from the positions (d = 8).
// CHECK-LABEL: func @sinusoidal
// CHECK-NEXT: %[[E:.*]] = tfm.embedding %arg0, %arg2 position = sinusoidal positions %arg1
// CHECK-NEXT: return %[[E]]
func.func @sinusoidal(%tok: tensor<?xi64>, %pos: tensor<?xi64>, %wte: tensor<64x8xf32>) -> tensor<?x8xf32> {
  %t = tfm.gather %wte[%tok] : tensor<64x8xf32>, tensor<?xi64> -> tensor<?x8xf32>
  %pf = tfm.cast %pos : tensor<?xi64> -> tensor<?xf32>
  %p1 = tfm.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %f = tfm.constant dense<[1.0, 0.1, 0.01, 0.001]> : tensor<4xf32>
  %a = tfm.mul %p1, %f : tensor<?x1xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %s = tfm.sin %a : tensor<?x4xf32>
  %c = tfm.cos %a : tensor<?x4xf32>
  %s3 = tfm.reshape %s : tensor<?x4xf32> -> tensor<?x4x1xf32>
  %c3 = tfm.reshape %c : tensor<?x4xf32> -> tensor<?x4x1xf32>
  %sc = tfm.concat(%s3, %c3) axis = 2 : tensor<?x4x1xf32>, tensor<?x4x1xf32> -> tensor<?x4x2xf32>
  %pe = tfm.reshape %sc : tensor<?x4x2xf32> -> tensor<?x8xf32>
  // expected-remark @+1 {{fused tfm.embedding with position = sinusoidal}}
  %x = tfm.add %t, %pe : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return %x : tensor<?x8xf32>
}

// -----

// Near miss: frequencies of base 1000, not 10000: the table stays, only the
// token gather becomes an embedding.
// CHECK-LABEL: func @wrong_frequencies
// CHECK: %[[E:.*]] = tfm.embedding %arg0, %arg2 position = none
// CHECK: tfm.sin
// CHECK: tfm.add %[[E]]
func.func @wrong_frequencies(%tok: tensor<?xi64>, %pos: tensor<?xi64>, %wte: tensor<64x8xf32>) -> tensor<?x8xf32> {
  // expected-remark @+1 {{fused tfm.embedding with position = none}}
  %t = tfm.gather %wte[%tok] : tensor<64x8xf32>, tensor<?xi64> -> tensor<?x8xf32>
  %pf = tfm.cast %pos : tensor<?xi64> -> tensor<?xf32>
  %p1 = tfm.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %f = tfm.constant dense<[1.0, 0.177827941, 0.0316227766, 0.00562341325]> : tensor<4xf32>
  %a = tfm.mul %p1, %f : tensor<?x1xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %s = tfm.sin %a : tensor<?x4xf32>
  %c = tfm.cos %a : tensor<?x4xf32>
  %s3 = tfm.reshape %s : tensor<?x4xf32> -> tensor<?x4x1xf32>
  %c3 = tfm.reshape %c : tensor<?x4xf32> -> tensor<?x4x1xf32>
  %sc = tfm.concat(%s3, %c3) axis = 2 : tensor<?x4x1xf32>, tensor<?x4x1xf32> -> tensor<?x4x2xf32>
  %pe = tfm.reshape %sc : tensor<?x4x2xf32> -> tensor<?x8xf32>
  // expected-remark @+1 {{not fused: the add is not a token embedding plus a positional term}}
  %x = tfm.add %t, %pe : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return %x : tensor<?x8xf32>
}

// RoPE (rotary_dim 4 of head_dim 8, theta 500) folds into both attentions:
// the inverse frequencies 500^(-2i/4) = [1, 0.0447] are their table.
// ROPE: %[[INV:.*]] = tfm.constant dense<[1.000000e+00, 0.0447213612]> : tensor<2xf32>
// ROPE-COUNT-2: tfm.attention %{{.*}}, %{{.*}}, %{{.*}} past(%{{.*}}, %{{.*}}) heads = 2 scale = {{.*}} causal rope %[[INV]] positions %arg1
// ROPE-NOT: tfm.sin
// ROPE-NOT: tfm.cos
