// RUN: tfm-opt %s -convert-tfm-to-onednn -split-input-file -verify-diagnostics | FileCheck %s
// Each tfm op lowers to the onednn primitive (or view + reorder) it should.

// Results become trailing `onednn.result` arguments written by a reorder.
// CHECK-LABEL: func @signature
// CHECK-SAME: (%[[A:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<8x16xf32>, %[[OUT:.*]]: memref<4x16xf32> {onednn.result})
// CHECK: %[[C:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
// CHECK: onednn.matmul %[[A]], %[[B]] into %[[C]] activation = none
// CHECK: onednn.reorder %[[C]] into %[[OUT]]
// CHECK-NEXT: return
func.func @signature(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %0 = tfm.matmul %a, %b : tensor<4x8xf32>, tensor<8x16xf32> -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func @linear
// CHECK: onednn.matmul %arg0, %arg1 bias %arg2 residual %arg3 into %{{.*}} activation = gelu_erf
// CHECK: onednn.matmul %arg0, %arg4 transpose_b into %{{.*}} activation = none
func.func @linear(%x: tensor<4x16xf32>, %w: tensor<16x64xf32>, %b: tensor<64xf32>, %r: tensor<4x64xf32>,
                  %e: tensor<10x16xf32>) -> (tensor<4x64xf32>, tensor<4x10xf32>) {
  %0 = tfm.linear %x, %w bias %b activation = gelu_erf residual %r : (tensor<4x16xf32>, tensor<16x64xf32>, tensor<64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  %1 = tfm.linear %x, %e weight_transposed activation = none : (tensor<4x16xf32>, tensor<10x16xf32>) -> tensor<4x10xf32>
  return %0, %1 : tensor<4x64xf32>, tensor<4x10xf32>
}

// -----

// Scalar constants turn binary ops into eltwise linear / pow.
// CHECK-LABEL: func @scalar_binary
// CHECK: onednn.eltwise linear %arg0 into %[[A:.*]] alpha = 1.000000e+00 beta = 2.000000e+00
// CHECK: onednn.eltwise linear %[[A]] into %[[B:.*]] alpha = 1.000000e+00 beta = -2.000000e+00
// CHECK: onednn.eltwise linear %[[B]] into %[[C:.*]] alpha = -1.000000e+00 beta = 2.000000e+00
// CHECK: onednn.eltwise linear %[[C]] into %[[D:.*]] alpha = 2.000000e+00 beta = 0.000000e+00
// CHECK: onednn.eltwise linear %[[D]] into %[[E:.*]] alpha = 5.000000e-01 beta = 0.000000e+00
// CHECK: onednn.eltwise pow %[[E]] into %{{.*}} alpha = 1.000000e+00 beta = 2.000000e+00
func.func @scalar_binary(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = tfm.constant dense<2.0> : tensor<f32>
  %0 = tfm.add %x, %c : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %1 = tfm.sub %0, %c : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %2 = tfm.sub %c, %1 : tensor<f32>, tensor<4xf32> -> tensor<4xf32>
  %3 = tfm.mul %c, %2 : tensor<f32>, tensor<4xf32> -> tensor<4xf32>
  %4 = tfm.div %3, %c : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %5 = tfm.pow %4, %c : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  return %5 : tensor<4xf32>
}

// -----

// Tensor operands (and a scalar that is not constant) stay binary ops.
// CHECK-LABEL: func @tensor_binary
// CHECK: onednn.binary add %arg0, %arg1 into
// CHECK: onednn.binary sub
// CHECK: onednn.binary mul
// CHECK: onednn.binary div %{{.*}}, %arg2 into
func.func @tensor_binary(%x: tensor<4x16xf32>, %b: tensor<16xf32>, %s: tensor<f32>) -> tensor<4x16xf32> {
  %0 = tfm.add %x, %b : tensor<4x16xf32>, tensor<16xf32> -> tensor<4x16xf32>
  %1 = tfm.sub %0, %x : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>
  %2 = tfm.mul %1, %0 : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>
  %3 = tfm.div %2, %s : tensor<4x16xf32>, tensor<f32> -> tensor<4x16xf32>
  return %3 : tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func @unary
// CHECK: onednn.eltwise pow %arg0 into %[[R:.*]] alpha = 1.000000e+00 beta = -5.000000e-01
// CHECK: onednn.eltwise sqrt %[[R]]
// CHECK: onednn.eltwise tanh
// CHECK: onednn.eltwise exp
// CHECK: onednn.eltwise erf
// CHECK: onednn.eltwise relu
func.func @unary(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tfm.rsqrt %x : tensor<4xf32>
  %1 = tfm.sqrt %0 : tensor<4xf32>
  %2 = tfm.tanh %1 : tensor<4xf32>
  %3 = tfm.exp %2 : tensor<4xf32>
  %4 = tfm.erf %3 : tensor<4xf32>
  %5 = tfm.relu %4 : tensor<4xf32>
  return %5 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func @norms
// CHECK: onednn.reduction mean %arg0 into %{{.*}} : memref<4x16xf32>, memref<4x1xf32>
// CHECK: onednn.reduction max %arg0 into %{{.*}} : memref<4x16xf32>, memref<1x16xf32>
// CHECK: onednn.reduction sum
// CHECK: onednn.softmax %arg0 into %{{.*}} axis = 1
// CHECK: onednn.binary add %arg0, %arg1 into %[[SUM:.*]] :
// CHECK: onednn.layer_norm %[[SUM]] scale %arg2 shift %arg2 into %{{.*}} eps = 1.000000e-05
func.func @norms(%x: tensor<4x16xf32>, %r: tensor<4x16xf32>, %g: tensor<16xf32>)
    -> (tensor<4x1xf32>, tensor<1x16xf32>, tensor<4x1xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) {
  %0 = tfm.reduce_mean %x, axis = -1 : tensor<4x16xf32> -> tensor<4x1xf32>
  %1 = tfm.reduce_max %x, axis = 0 : tensor<4x16xf32> -> tensor<1x16xf32>
  %2 = tfm.reduce_sum %x, axis = 1 : tensor<4x16xf32> -> tensor<4x1xf32>
  %3 = tfm.softmax %x, axis = -1 : tensor<4x16xf32>
  %4, %5 = tfm.layer_norm %x residual %r scale %g bias %g eps = 1.0e-5
      : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<16xf32>, tensor<16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>)
  return %0, %1, %2, %3, %4, %5 : tensor<4x1xf32>, tensor<1x16xf32>, tensor<4x1xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Data movement: views copied by reorders; reshape is a free reinterpret_cast.
// CHECK-LABEL: func @data_movement
// CHECK: %[[T:.*]] = memref.transpose %arg0 (d0, d1, d2) -> (d1, d0, d2)
// CHECK: onednn.reorder %[[T]] into %{{.*}} : memref<4x2x8xf32, strided<[8, 32, 1]>>, memref<4x2x8xf32>
// CHECK: memref.reinterpret_cast %arg1 to offset: [0], sizes: [4, 3, 16], strides: [48, 16, 1] : memref<4x48xf32> to memref<4x3x16xf32>
// CHECK: %[[S:.*]] = memref.subview %arg1[0, 16] [4, 16] [1, 1]
// CHECK: onednn.reorder %[[S]] into
// CHECK-COUNT-3: memref.subview %arg1
// CHECK: %[[CAT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<8x16xf32>
// CHECK: %[[V0:.*]] = memref.subview %[[CAT]][0, 0] [4, 16] [1, 1]
// CHECK: onednn.reorder %{{.*}} into %[[V0]]
// CHECK: %[[V1:.*]] = memref.subview %[[CAT]][4, 0] [4, 16] [1, 1]
// CHECK: onednn.reorder %{{.*}} into %[[V1]]
func.func @data_movement(%a: tensor<2x4x8xf32>, %x: tensor<4x48xf32>)
    -> (tensor<4x2x8xf32>, tensor<4x3x16xf32>, tensor<4x16xf32>, tensor<8x16xf32>) {
  %0 = tfm.transpose %a, permutation = [1, 0, 2] : tensor<2x4x8xf32> -> tensor<4x2x8xf32>
  %1 = tfm.reshape %x : tensor<4x48xf32> -> tensor<4x3x16xf32>
  %2 = tfm.slice %x, offsets = [0, 16] : tensor<4x48xf32> -> tensor<4x16xf32>
  %q, %k, %v = tfm.split %x, axis = 1 : tensor<4x48xf32> -> tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
  %3 = tfm.concat(%q, %v) axis = 0 : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<8x16xf32>
  return %0, %1, %2, %3 : tensor<4x2x8xf32>, tensor<4x3x16xf32>, tensor<4x16xf32>, tensor<8x16xf32>
}

// -----

// Non-splat constants become private memref.globals.
// CHECK: memref.global "private" constant @__tfm_constant_0 : memref<2xf32> = dense<[1.000000e+00, 2.000000e+00]> {alignment = 64 : i64}
// CHECK-LABEL: func @constant
// CHECK: %[[G:.*]] = memref.get_global @__tfm_constant_0 : memref<2xf32>
// CHECK: onednn.binary mul %arg0, %[[G]]
func.func @constant(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %c = tfm.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %0 = tfm.mul %x, %c : tensor<4x2xf32>, tensor<2xf32> -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

// A gather of rows becomes the runtime's row gather (an embedding without a
// positional term), its size taken from the indices.
// CHECK-LABEL: func @gather_rows
// CHECK: %[[D:.*]] = memref.dim %arg1, %c0
// CHECK: %[[B:.*]] = memref.alloc(%[[D]]) {alignment = 64 : i64} : memref<?x4xf32>
// CHECK: onednn.embedding %arg1, %arg0 into %[[B]] position = none
func.func @gather_rows(%t: tensor<?x4xf32>, %i: tensor<?xi64>) -> tensor<?x4xf32> {
  %0 = tfm.gather %t[%i] : tensor<?x4xf32>, tensor<?xi64> -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// Ops without a backend lowering yet are reported where they are.
func.func @no_lowering(%t: tensor<10x4x2xf32>, %i: tensor<3xi64>) -> tensor<3x4x2xf32> {
  // expected-error @+1 {{failed to legalize operation 'tfm.gather' that was explicitly marked illegal}}
  %0 = tfm.gather %t[%i] : tensor<10x4x2xf32>, tensor<3xi64> -> tensor<3x4x2xf32>
  return %0 : tensor<3x4x2xf32>
}

// -----

// Dynamic sizes: buffers are allocated with the sizes of the operands they
// follow; a dynamic reshape is not lowered yet and says so.
// CHECK-LABEL: func @dynamic
// CHECK: %[[D:.*]] = memref.dim %arg0, %c0
// CHECK: %[[B:.*]] = memref.alloc(%[[D]]) {alignment = 64 : i64} : memref<?x4xf32>
// CHECK: onednn.eltwise tanh %arg0 into %[[B]]
func.func @dynamic(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = tfm.tanh %x : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// A dynamic reshape: the leading size is the input's element count over the
// static result dims (here ?x4 -> ?x2x2: the same count of rows).
// CHECK-LABEL: func @dynamic_reshape
// CHECK: %[[N:.*]] = memref.dim %arg0, %c0
// CHECK: memref.reinterpret_cast %arg0 to offset: [0], sizes: [%[[N]], 2, 2], strides: [4, 2, 1]
func.func @dynamic_reshape(%x: tensor<?x4xf32>) -> tensor<?x2x2xf32> {
  %0 = tfm.reshape %x : tensor<?x4xf32> -> tensor<?x2x2xf32>
  return %0 : tensor<?x2x2xf32>
}

// -----

// A dynamic reshape whose dynamic size is not the leading one is refused.
func.func @dynamic_reshape_inner(%x: tensor<?x4xf32>) -> tensor<2x?xf32> {
  // expected-error @+1 {{failed to legalize operation 'tfm.reshape'}}
  %0 = tfm.reshape %x : tensor<?x4xf32> -> tensor<2x?xf32>
  return %0 : tensor<2x?xf32>
}

// -----

// A dynamic concatenation (the KV cache): the sizes add up along the axis and
// each input lands at the running offset.
// CHECK-LABEL: func @dynamic_concat
// CHECK: %[[P:.*]] = memref.dim %arg0, %c0
// CHECK: %[[K:.*]] = memref.dim %arg1, %c0
// CHECK: %[[S:.*]] = arith.addi %[[P]], %[[K]]
// CHECK: %[[B:.*]] = memref.alloc(%[[S]]) {alignment = 64 : i64} : memref<?x8xf32>
// CHECK: %[[V0:.*]] = memref.subview %[[B]][0, 0] [%{{.*}}, 8] [1, 1]
// CHECK: onednn.reorder %arg0 into %[[V0]]
// CHECK: %[[V1:.*]] = memref.subview %[[B]][%{{.*}}, 0] [%{{.*}}, 8] [1, 1]
// CHECK: onednn.reorder %arg1 into %[[V1]]
func.func @dynamic_concat(%p: tensor<?x8xf32>, %k: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = tfm.concat(%p, %k) axis = 0 : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// The unfused causal mask (select of causal_mask) becomes onednn.causal_fill;
// positions cast from i64 and their sin/cos run on the runtime's loops.
// CHECK-LABEL: func @unfused_attention_pieces
// CHECK-NOT: tfm.causal_mask
// CHECK: onednn.causal_fill %arg0 into %{{.*}} fill = -3.4028234663852886E+38 window = 3 : memref<2x4x4xf32>, memref<2x4x4xf32>
// CHECK: onednn.reorder %arg1 into %[[P:.*]] : memref<4xi64>, memref<4xf32>
// CHECK: onednn.eltwise sin %[[P]]
// CHECK: onednn.eltwise cos %[[P]]
func.func @unfused_attention_pieces(%s: tensor<2x4x4xf32>, %pos: tensor<4xi64>)
    -> (tensor<2x4x4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %m = tfm.causal_mask %s window = 3 : tensor<2x4x4xf32> -> tensor<4x4xi1>
  %ninf = tfm.constant dense<-3.40282347E+38> : tensor<f32>
  %0 = tfm.select %m, %s, %ninf : tensor<4x4xi1>, tensor<2x4x4xf32>, tensor<f32> -> tensor<2x4x4xf32>
  %p = tfm.cast %pos : tensor<4xi64> -> tensor<4xf32>
  %1 = tfm.sin %p : tensor<4xf32>
  %2 = tfm.cos %p : tensor<4xf32>
  return %0, %1, %2 : tensor<2x4x4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// A causal mask used other than by a select is not lowered (and says so).
func.func @mask_alone(%s: tensor<4x4xf32>) -> tensor<4x4xi1> {
  // expected-error @+1 {{failed to legalize operation 'tfm.causal_mask'}}
  %m = tfm.causal_mask %s : tensor<4x4xf32> -> tensor<4x4xi1>
  return %m : tensor<4x4xi1>
}

// -----

func.func @pow_tensor(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{failed to legalize operation 'tfm.pow'}}
  %0 = tfm.pow %x, %y : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// The unfused packed-sequence mask (select of sequence_mask) becomes
// onednn.sequence_fill; the fused form passes the ids to onednn.sdpa.
// CHECK-LABEL: func @packed_sequences
// CHECK-NOT: tfm.sequence_mask
// CHECK: onednn.sequence_fill %arg0, %arg1 into %{{.*}} fill = -3.4028234663852886E+38 : memref<2x?x?xf32>, memref<?xi64>, memref<2x?x?xf32>
// CHECK: onednn.sdpa %arg2, %arg2, %arg2 sequences %arg1 into %{{.*}} heads = 2 scale = 2.500000e-01
func.func @packed_sequences(%s: tensor<2x?x?xf32>, %ids: tensor<?xi64>, %q: tensor<?x16xf32>)
    -> (tensor<2x?x?xf32>, tensor<?x16xf32>) {
  %m = tfm.sequence_mask %s, %ids : tensor<2x?x?xf32>, tensor<?xi64> -> tensor<?x?xi1>
  %ninf = tfm.constant dense<-3.40282347E+38> : tensor<f32>
  %0 = tfm.select %m, %s, %ninf : tensor<?x?xi1>, tensor<2x?x?xf32>, tensor<f32> -> tensor<2x?x?xf32>
  %o = tfm.attention %q, %q, %q heads = 2 scale = 0.25 sequences %ids
      : (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi64>) -> tensor<?x16xf32>
  return %0, %o : tensor<2x?x?xf32>, tensor<?x16xf32>
}
