// RUN: tfm-opt %s | tfm-opt | FileCheck %s
// RUN: tfm-opt %s --mlir-print-op-generic | tfm-opt | FileCheck %s
// Round trip of every onednn op.

// CHECK-LABEL: func @primitives
func.func @primitives(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %bias: memref<16xf32>,
                      %r: memref<4x16xf32>, %c: memref<4x16xf32>, %m: memref<4x1xf32>,
                      %bt: memref<16x8xbf16>) {
  // CHECK: onednn.matmul %{{.*}}, %{{.*}} bias %{{.*}} residual %{{.*}} into %{{.*}} activation = gelu_tanh : memref<4x8xf32>, memref<8x16xf32>, memref<16xf32>, memref<4x16xf32>, memref<4x16xf32>
  onednn.matmul %a, %b bias %bias residual %r into %c activation = gelu_tanh
      : memref<4x8xf32>, memref<8x16xf32>, memref<16xf32>, memref<4x16xf32>, memref<4x16xf32>
  // CHECK: onednn.matmul %{{.*}}, %{{.*}} transpose_b into %{{.*}} activation = none : memref<4x8xf32>, memref<16x8xbf16>, memref<4x16xf32>
  onednn.matmul %a, %bt transpose_b into %c activation = none : memref<4x8xf32>, memref<16x8xbf16>, memref<4x16xf32>
  // CHECK: onednn.layer_norm %{{.*}} scale %{{.*}} shift %{{.*}} into %{{.*}} eps = 1.000000e-05
  onednn.layer_norm %r scale %bias shift %bias into %c eps = 1.0e-5
      : memref<4x16xf32>, memref<16xf32>, memref<16xf32>, memref<4x16xf32>
  // CHECK: onednn.layer_norm %{{.*}} into %{{.*}} eps = 0.000000e+00 : memref<4x16xf32>, memref<4x16xf32>
  onednn.layer_norm %r into %c eps = 0.0 : memref<4x16xf32>, memref<4x16xf32>
  // CHECK: onednn.layer_norm %{{.*}} scale %{{.*}} into %{{.*}} eps = {{.*}} rms : memref<4x16xf32>, memref<16xf32>, memref<4x16xf32>
  onednn.layer_norm %r scale %bias into %c eps = 1.0e-6 rms : memref<4x16xf32>, memref<16xf32>, memref<4x16xf32>
  // CHECK: onednn.causal_fill %{{.*}} into %{{.*}} fill = -1.000000e+09 window = 2 : memref<4x16xf32>, memref<4x16xf32>
  onednn.causal_fill %r into %c fill = -1.0e9 window = 2 : memref<4x16xf32>, memref<4x16xf32>
  // CHECK: onednn.sequence_fill %{{.*}}, %{{.*}} into %{{.*}} fill = -1.000000e+09 : memref<2x4x4xf32>, memref<4xi64>, memref<2x4x4xf32>
  %sc = memref.alloc() : memref<2x4x4xf32>
  %ids = memref.alloc() : memref<4xi64>
  onednn.sequence_fill %sc, %ids into %sc fill = -1.0e9 : memref<2x4x4xf32>, memref<4xi64>, memref<2x4x4xf32>
  // CHECK: onednn.eltwise pow %{{.*}} into %{{.*}} alpha = 1.000000e+00 beta = -5.000000e-01 : memref<4x16xf32>, memref<4x16xf32>
  onednn.eltwise pow %r into %c alpha = 1.0 beta = -0.5 : memref<4x16xf32>, memref<4x16xf32>
  // CHECK: onednn.eltwise erf
  onednn.eltwise erf %r into %c alpha = 0.0 beta = 0.0 : memref<4x16xf32>, memref<4x16xf32>
  // CHECK: onednn.binary sub %{{.*}}, %{{.*}} into %{{.*}} : memref<4x16xf32>, memref<16xf32>, memref<4x16xf32>
  onednn.binary sub %r, %bias into %c : memref<4x16xf32>, memref<16xf32>, memref<4x16xf32>
  // CHECK: onednn.softmax %{{.*}} into %{{.*}} axis = 1 : memref<4x16xf32>, memref<4x16xf32>
  onednn.softmax %r into %c axis = 1 : memref<4x16xf32>, memref<4x16xf32>
  // CHECK: onednn.reduction mean %{{.*}} into %{{.*}} : memref<4x16xf32>, memref<4x1xf32>
  onednn.reduction mean %r into %m : memref<4x16xf32>, memref<4x1xf32>
  // CHECK: onednn.reorder %{{.*}} into %{{.*}} : memref<4x16xf32, strided<[1, 4]>>, memref<4x16xf32>
  %t = memref.transpose %r (i, j) -> (j, i) : memref<4x16xf32> to memref<16x4xf32, strided<[1, 16]>>
  %v = memref.reinterpret_cast %r to offset: [0], sizes: [4, 16], strides: [1, 4]
      : memref<4x16xf32> to memref<4x16xf32, strided<[1, 4]>>
  onednn.reorder %v into %c : memref<4x16xf32, strided<[1, 4]>>, memref<4x16xf32>
  return
}

// The runtime-provided ops: weights, embedding and SDPA, on dynamic sizes.
// CHECK-LABEL: func @runtime_ops
func.func @runtime_ops(%tok: memref<?xi64>, %pos: memref<?xi64>, %x: memref<?x16xf32>,
                       %pk: memref<?x16xf32>, %pv: memref<?x16xf32>,
                       %nk: memref<?x16xf32>, %nv: memref<?x16xf32>, %o: memref<?x16xf32>,
                       %inv: memref<2xf32>, %k8: memref<?x8xf32>) {
  // CHECK: %[[W:.*]] = onednn.weight "wte.weight" : memref<64x16xf32>
  %w = onednn.weight "wte.weight" : memref<64x16xf32>
  // CHECK: %[[P:.*]] = onednn.weight "wpe.weight" : memref<32x16xbf16>
  %p = onednn.weight "wpe.weight" : memref<32x16xbf16>
  // CHECK: onednn.embedding %{{.*}}, %[[W]] positions %{{.*}} into %{{.*}} position = sinusoidal : memref<?xi64>, memref<64x16xf32>, memref<?xi64>, memref<?x16xf32>
  onednn.embedding %tok, %w positions %pos into %x position = sinusoidal
      : memref<?xi64>, memref<64x16xf32>, memref<?xi64>, memref<?x16xf32>
  // CHECK: onednn.sdpa %{{.*}}, %{{.*}}, %{{.*}} past(%{{.*}}, %{{.*}}) positions %{{.*}} rope %{{.*}} into %{{.*}} present(%{{.*}}, %{{.*}}) heads = 2 scale = 3.535530e-01 causal :
  onednn.sdpa %x, %x, %x past(%pk, %pv) positions %pos rope %inv into %o present(%nk, %nv) heads = 2
      scale = 0.353553 causal
      : memref<?x16xf32>, memref<?x16xf32>, memref<?x16xf32>, memref<?x16xf32>, memref<?x16xf32>,
        memref<?xi64>, memref<2xf32>, memref<?x16xf32>, memref<?x16xf32>, memref<?x16xf32>
  // CHECK: onednn.sdpa %{{.*}}, %{{.*}}, %{{.*}} into %{{.*}} heads = 4 kv_heads = 2 scale = 5.000000e-01 causal window = 3 :
  onednn.sdpa %x, %k8, %k8 into %o heads = 4 kv_heads = 2 scale = 0.5 causal window = 3
      : memref<?x16xf32>, memref<?x8xf32>, memref<?x8xf32>, memref<?x16xf32>
  // CHECK: onednn.sdpa %{{.*}}, %{{.*}}, %{{.*}} into %{{.*}} heads = 2 scale = 1.000000e+00 :
  onednn.sdpa %x, %x, %x into %o heads = 2 scale = 1.0
      : memref<?x16xf32>, memref<?x16xf32>, memref<?x16xf32>, memref<?x16xf32>
  return
}

// CHECK-LABEL: func @quantized
func.func @quantized(%tok: memref<?xi64>, %x: memref<?x40xf32>, %y: memref<?x96xf32>, %b: memref<96xf32>) {
  // CHECK: %[[Q:.*]], %[[S:.*]] = onednn.quantized_weight "fc" from memref<40x96xf32> transposed bits = 4 group = 64 : memref<96x32xi8>, memref<96x1xf32>
  %q, %s = onednn.quantized_weight "fc" from memref<40x96xf32> transposed bits = 4 group = 64 : memref<96x32xi8>, memref<96x1xf32>
  // CHECK: onednn.quantized_matmul %{{.*}}, %[[Q]], %[[S]] bias %{{.*}} into %{{.*}} activation = gelu_erf bits = 4 group = 64 :
  onednn.quantized_matmul %x, %q, %s bias %b into %y activation = gelu_erf bits = 4 group = 64
      : memref<?x40xf32>, memref<96x32xi8>, memref<96x1xf32>, memref<96xf32>, memref<?x96xf32>
  // CHECK: %[[T:.*]], %[[TS:.*]] = onednn.quantized_weight "wte" from memref<64x40xf32> bits = 8 group = 64
  %t, %ts = onednn.quantized_weight "wte" from memref<64x40xf32> bits = 8 group = 64 : memref<64x64xi8>, memref<64x1xf32>
  // CHECK: onednn.embedding %{{.*}}, %[[T]] scales %[[TS]] into %{{.*}} position = none {bits = 8 : i64, group = 64 : i64}
  onednn.embedding %tok, %t scales %ts into %x position = none {bits = 8 : i64, group = 64 : i64}
      : memref<?xi64>, memref<64x64xi8>, memref<64x1xf32>, memref<?x40xf32>
  return
}
