// RUN: tfm-opt %s | tfm-opt | FileCheck %s
// RUN: tfm-opt %s --mlir-print-op-generic | tfm-opt | FileCheck %s
// Round trip of every tfm op through its custom assembly format.

// CHECK-LABEL: func @weights_and_constants
func.func @weights_and_constants() -> (tensor<8x16xf32>, tensor<f32>, tensor<2xi64>) {
  // CHECK: tfm.param "h.0.attn.c_attn.weight" : tensor<8x16xf32>
  %w = tfm.param "h.0.attn.c_attn.weight" : tensor<8x16xf32>
  // CHECK: tfm.constant dense<5.000000e-01> : tensor<f32>
  %c = tfm.constant dense<0.5> : tensor<f32>
  // CHECK: tfm.constant dense<[1, 2]> : tensor<2xi64>
  %i = tfm.constant dense<[1, 2]> : tensor<2xi64>
  return %w, %c, %i : tensor<8x16xf32>, tensor<f32>, tensor<2xi64>
}

// CHECK-LABEL: func @elementwise
func.func @elementwise(%x: tensor<4x16xf32>, %b: tensor<16xf32>, %s: tensor<f32>) -> tensor<4x16xf32> {
  // CHECK: tfm.add %{{.*}}, %{{.*}} : tensor<4x16xf32>, tensor<16xf32> -> tensor<4x16xf32>
  %0 = tfm.add %x, %b : tensor<4x16xf32>, tensor<16xf32> -> tensor<4x16xf32>
  // CHECK: tfm.sub %{{.*}}, %{{.*}} : tensor<16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>
  %1 = tfm.sub %b, %0 : tensor<16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>
  // CHECK: tfm.mul
  %2 = tfm.mul %1, %s : tensor<4x16xf32>, tensor<f32> -> tensor<4x16xf32>
  // CHECK: tfm.div
  %3 = tfm.div %2, %s : tensor<4x16xf32>, tensor<f32> -> tensor<4x16xf32>
  // CHECK: tfm.pow
  %4 = tfm.pow %3, %s : tensor<4x16xf32>, tensor<f32> -> tensor<4x16xf32>
  // CHECK: tfm.rsqrt %{{.*}} : tensor<4x16xf32>
  %5 = tfm.rsqrt %4 : tensor<4x16xf32>
  // CHECK: tfm.sqrt
  %6 = tfm.sqrt %5 : tensor<4x16xf32>
  // CHECK: tfm.tanh
  %7 = tfm.tanh %6 : tensor<4x16xf32>
  // CHECK: tfm.exp
  %8 = tfm.exp %7 : tensor<4x16xf32>
  // CHECK: tfm.erf
  %9 = tfm.erf %8 : tensor<4x16xf32>
  // CHECK: tfm.relu
  %10 = tfm.relu %9 : tensor<4x16xf32>
  // CHECK: tfm.sin
  %11 = tfm.sin %10 : tensor<4x16xf32>
  // CHECK: tfm.cos
  %12 = tfm.cos %11 : tensor<4x16xf32>
  // CHECK: tfm.cast %{{.*}} : tensor<4x16xf32> -> tensor<4x16xbf16>
  %13 = tfm.cast %12 : tensor<4x16xf32> -> tensor<4x16xbf16>
  // CHECK: tfm.cast %{{.*}} : tensor<4x16xbf16> -> tensor<4x16xf32>
  %14 = tfm.cast %13 : tensor<4x16xbf16> -> tensor<4x16xf32>
  return %14 : tensor<4x16xf32>
}

// CHECK-LABEL: func @masks
func.func @masks(%scores: tensor<2x4x4xf32>, %ninf: tensor<f32>, %pos: tensor<i64>) -> (tensor<2x4x4xf32>, tensor<1x8xi1>) {
  // CHECK: tfm.causal_mask %{{.*}} : tensor<2x4x4xf32> -> tensor<4x4xi1>
  %m = tfm.causal_mask %scores : tensor<2x4x4xf32> -> tensor<4x4xi1>
  %d = tfm.reshape %scores : tensor<2x4x4xf32> -> tensor<4x8xf32>
  %d1 = tfm.slice %d, offsets = [0, 0] : tensor<4x8xf32> -> tensor<1x8xf32>
  // CHECK: tfm.causal_mask %{{.*}} offset %{{.*}} : tensor<1x8xf32> -> tensor<1x8xi1>
  %m2 = tfm.causal_mask %d1 offset %pos : tensor<1x8xf32> -> tensor<1x8xi1>
  // CHECK: tfm.select %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x4xi1>, tensor<2x4x4xf32>, tensor<f32> -> tensor<2x4x4xf32>
  %s = tfm.select %m, %scores, %ninf : tensor<4x4xi1>, tensor<2x4x4xf32>, tensor<f32> -> tensor<2x4x4xf32>
  return %s, %m2 : tensor<2x4x4xf32>, tensor<1x8xi1>
}

// CHECK-LABEL: func @reductions
func.func @reductions(%x: tensor<4x16xf32>) -> (tensor<4x1xf32>, tensor<1x16xf32>, tensor<4x1xf32>, tensor<4x16xf32>) {
  // CHECK: tfm.reduce_mean %{{.*}}, axis = -1 : tensor<4x16xf32> -> tensor<4x1xf32>
  %0 = tfm.reduce_mean %x, axis = -1 : tensor<4x16xf32> -> tensor<4x1xf32>
  // CHECK: tfm.reduce_max %{{.*}}, axis = 0 : tensor<4x16xf32> -> tensor<1x16xf32>
  %1 = tfm.reduce_max %x, axis = 0 : tensor<4x16xf32> -> tensor<1x16xf32>
  // CHECK: tfm.reduce_sum
  %2 = tfm.reduce_sum %x, axis = 1 : tensor<4x16xf32> -> tensor<4x1xf32>
  // CHECK: tfm.softmax %{{.*}}, axis = -1 : tensor<4x16xf32>
  %3 = tfm.softmax %x, axis = -1 : tensor<4x16xf32>
  return %0, %1, %2, %3 : tensor<4x1xf32>, tensor<1x16xf32>, tensor<4x1xf32>, tensor<4x16xf32>
}

// CHECK-LABEL: func @shapes
func.func @shapes(%x: tensor<4x48xf32>, %a: tensor<2x4x8xf32>, %b: tensor<8x5xf32>,
                  %t: tensor<100x16xf32>, %ids: tensor<4xi64>) -> (tensor<2x4x5xf32>, tensor<4x2x8xf32>) {
  // CHECK: tfm.matmul %{{.*}}, %{{.*}} : tensor<2x4x8xf32>, tensor<8x5xf32> -> tensor<2x4x5xf32>
  %0 = tfm.matmul %a, %b : tensor<2x4x8xf32>, tensor<8x5xf32> -> tensor<2x4x5xf32>
  // CHECK: tfm.transpose %{{.*}}, permutation = [1, 0, 2] : tensor<2x4x8xf32> -> tensor<4x2x8xf32>
  %1 = tfm.transpose %a, permutation = [1, 0, 2] : tensor<2x4x8xf32> -> tensor<4x2x8xf32>
  // CHECK: tfm.reshape %{{.*}} : tensor<4x48xf32> -> tensor<4x3x16xf32>
  %2 = tfm.reshape %x : tensor<4x48xf32> -> tensor<4x3x16xf32>
  // CHECK: tfm.slice %{{.*}}, offsets = [0, 16] : tensor<4x48xf32> -> tensor<4x16xf32>
  %3 = tfm.slice %x, offsets = [0, 16] : tensor<4x48xf32> -> tensor<4x16xf32>
  // CHECK: tfm.split %{{.*}}, axis = 1 : tensor<4x48xf32> -> tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
  %q, %k, %v = tfm.split %x, axis = 1 : tensor<4x48xf32> -> tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
  // CHECK: tfm.concat(%{{.*}}, %{{.*}}) axis = 0 : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<8x16xf32>
  %4 = tfm.concat(%q, %k) axis = 0 : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<8x16xf32>
  // CHECK: tfm.gather %{{.*}}[%{{.*}}] : tensor<100x16xf32>, tensor<4xi64> -> tensor<4x16xf32>
  %5 = tfm.gather %t[%ids] : tensor<100x16xf32>, tensor<4xi64> -> tensor<4x16xf32>
  return %0, %1 : tensor<2x4x5xf32>, tensor<4x2x8xf32>
}

// Dynamic sequence lengths are accepted everywhere.
// CHECK-LABEL: func @dynamic
func.func @dynamic(%x: tensor<?x16xf32>, %w: tensor<16x48xf32>) -> tensor<?x?xi1> {
  // CHECK: tfm.matmul %{{.*}}, %{{.*}} : tensor<?x16xf32>, tensor<16x48xf32> -> tensor<?x48xf32>
  %0 = tfm.matmul %x, %w : tensor<?x16xf32>, tensor<16x48xf32> -> tensor<?x48xf32>
  %q, %k, %v = tfm.split %0, axis = 1 : tensor<?x48xf32> -> tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>
  %h = tfm.reshape %q : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %t = tfm.transpose %h, permutation = [1, 0, 2] : tensor<?x2x8xf32> -> tensor<2x?x8xf32>
  %kt = tfm.transpose %h, permutation = [1, 2, 0] : tensor<?x2x8xf32> -> tensor<2x8x?xf32>
  %s = tfm.matmul %t, %kt : tensor<2x?x8xf32>, tensor<2x8x?xf32> -> tensor<2x?x?xf32>
  // CHECK: tfm.causal_mask %{{.*}} : tensor<2x?x?xf32> -> tensor<?x?xi1>
  %m = tfm.causal_mask %s : tensor<2x?x?xf32> -> tensor<?x?xi1>
  return %m : tensor<?x?xi1>
}

// Packed sequences: a block-diagonal mask from per-row ids, and attention
// restricted to it.
// CHECK-LABEL: func @packed
func.func @packed(%s: tensor<2x?x?xf32>, %ids: tensor<?xi64>, %q: tensor<?x16xf32>) -> (tensor<?x?xi1>, tensor<?x16xf32>) {
  // CHECK: tfm.sequence_mask %{{.*}}, %{{.*}} : tensor<2x?x?xf32>, tensor<?xi64> -> tensor<?x?xi1>
  %m = tfm.sequence_mask %s, %ids : tensor<2x?x?xf32>, tensor<?xi64> -> tensor<?x?xi1>
  // CHECK: tfm.attention %{{.*}}, %{{.*}}, %{{.*}} heads = 2 scale = 2.500000e-01 sequences %{{.*}} :
  %o = tfm.attention %q, %q, %q heads = 2 scale = 0.25 sequences %ids
      : (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi64>) -> tensor<?x16xf32>
  return %m, %o : tensor<?x?xi1>, tensor<?x16xf32>
}

// CHECK-LABEL: func @fused
func.func @fused(%ids: tensor<4xi64>, %wte: tensor<100x16xf32>, %wpe: tensor<32x16xf32>,
                 %start: tensor<4xi64>, %g: tensor<16xf32>, %b: tensor<16xf32>,
                 %w: tensor<16x64xf32>, %bias: tensor<64xf32>, %r: tensor<4x64xf32>,
                 %past: tensor<3x16xf32>) -> tensor<4x100xf32> {
  // CHECK: tfm.embedding %{{.*}}, %{{.*}}, %{{.*}} position = learned : (tensor<4xi64>, tensor<100x16xf32>, tensor<32x16xf32>) -> tensor<4x16xf32>
  %x = tfm.embedding %ids, %wte, %wpe position = learned : (tensor<4xi64>, tensor<100x16xf32>, tensor<32x16xf32>) -> tensor<4x16xf32>
  // CHECK: tfm.embedding %{{.*}}, %{{.*}} position = sinusoidal positions %{{.*}} : (tensor<4xi64>, tensor<100x16xf32>, tensor<4xi64>) -> tensor<4x16xf32>
  %xs = tfm.embedding %ids, %wte position = sinusoidal positions %start : (tensor<4xi64>, tensor<100x16xf32>, tensor<4xi64>) -> tensor<4x16xf32>
  // CHECK: tfm.layer_norm %{{.*}} scale %{{.*}} bias %{{.*}} eps = 1.000000e-05 : (tensor<4x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %n = tfm.layer_norm %x scale %g bias %b eps = 1.0e-5 : (tensor<4x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  // CHECK: tfm.layer_norm %{{.*}} residual %{{.*}} eps = 1.000000e-05 : (tensor<4x16xf32>, tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>)
  %n2, %sum = tfm.layer_norm %n residual %xs eps = 1.0e-5 : (tensor<4x16xf32>, tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>)
  // CHECK: tfm.linear %{{.*}}, %{{.*}} bias %{{.*}} activation = gelu_tanh residual %{{.*}} : (tensor<4x16xf32>, tensor<16x64xf32>, tensor<64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  %h = tfm.linear %n2, %w bias %bias activation = gelu_tanh residual %r : (tensor<4x16xf32>, tensor<16x64xf32>, tensor<64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  // CHECK: tfm.attention %{{.*}}, %{{.*}}, %{{.*}} heads = 2 scale = 3.535530e-01 causal : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %o = tfm.attention %n2, %n2, %n2 heads = 2 scale = 0.353553 causal : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  // CHECK: %[[INV:.*]] = tfm.constant dense<[1.000000e+00, 1.000000e-01, 0.00999999977, 1.000000e-03]> : tensor<4xf32>
  %inv = tfm.constant dense<[1.0, 0.1, 0.01, 0.001]> : tensor<4xf32>
  // CHECK: tfm.attention %{{.*}}, %{{.*}}, %{{.*}} past(%{{.*}}, %{{.*}}) heads = 2 scale = 3.535530e-01 causal rope %[[INV]]
  // CHECK-SAME: -> (tensor<4x16xf32>, tensor<7x16xf32>, tensor<7x16xf32>)
  %o2, %pk, %pv = tfm.attention %o, %o, %o past(%past, %past) heads = 2 scale = 0.353553 causal rope %inv : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<3x16xf32>, tensor<3x16xf32>, tensor<4xf32>) -> (tensor<4x16xf32>, tensor<7x16xf32>, tensor<7x16xf32>)
  // Grouped-query attention (4 query heads on 1 key/value head) with a
  // sliding window, and RMS normalization.
  // CHECK: tfm.attention %{{.*}}, %[[K4:.*]], %[[K4]] heads = 4 kv_heads = 1 scale = 5.000000e-01 causal window = 3 : (tensor<4x16xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x16xf32>
  %k4 = tfm.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %k4b = tfm.concat(%k4, %k4, %k4, %k4) axis = 0 : tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32> -> tensor<4x4xf32>
  %ga = tfm.attention %o2, %k4b, %k4b heads = 4 kv_heads = 1 scale = 0.5 causal window = 3 : (tensor<4x16xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x16xf32>
  // CHECK: tfm.layer_norm %{{.*}} scale %{{.*}} eps = {{.*}} rms : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %rn = tfm.layer_norm %ga scale %g eps = 1.0e-6 rms : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  // CHECK: tfm.causal_mask %{{.*}} window = 2 : tensor<4x4xf32> -> tensor<4x4xi1>
  %cm = tfm.causal_mask %k4b window = 2 : tensor<4x4xf32> -> tensor<4x4xi1>
  // CHECK: tfm.linear %{{.*}}, %{{.*}} weight_transposed activation = none : (tensor<4x16xf32>, tensor<100x16xf32>) -> tensor<4x100xf32>
  %logits = tfm.linear %o2, %wte weight_transposed activation = none : (tensor<4x16xf32>, tensor<100x16xf32>) -> tensor<4x100xf32>
  return %logits : tensor<4x100xf32>
}

// Inferred result types: a written result may be more static (or more dynamic)
// than the inferred one where the shapes agree.
// CHECK-LABEL: func @inferred_types_refined
func.func @inferred_types_refined(%x: tensor<?x16xf32>, %b: tensor<16xf32>, %w: tensor<16x8xf32>) -> (tensor<4x16xf32>, tensor<?x?xf32>, tensor<4x1xf32>) {
  // CHECK: tfm.add %{{.*}}, %{{.*}} : tensor<?x16xf32>, tensor<16xf32> -> tensor<4x16xf32>
  %0 = tfm.add %x, %b : tensor<?x16xf32>, tensor<16xf32> -> tensor<4x16xf32>
  // CHECK: tfm.matmul %{{.*}}, %{{.*}} : tensor<?x16xf32>, tensor<16x8xf32> -> tensor<?x?xf32>
  %1 = tfm.matmul %x, %w : tensor<?x16xf32>, tensor<16x8xf32> -> tensor<?x?xf32>
  // CHECK: tfm.reduce_mean %{{.*}}, axis = -1 : tensor<4x16xf32> -> tensor<4x1xf32>
  %2 = tfm.reduce_mean %0, axis = -1 : tensor<4x16xf32> -> tensor<4x1xf32>
  return %0, %1, %2 : tensor<4x16xf32>, tensor<?x?xf32>, tensor<4x1xf32>
}
