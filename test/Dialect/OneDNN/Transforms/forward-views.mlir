// RUN: tfm-opt %s -split-input-file -onednn-forward-views | FileCheck %s
// onednn-forward-views: attention reads q, k and v straight out of the packed
// projection instead of contiguous copies.

// CHECK-LABEL: func @forwarded
// CHECK: %[[Q:.*]] = memref.subview %arg0[0, 0] [4, 16] [1, 1]
// CHECK: %[[K:.*]] = memref.subview %arg0[0, 16] [4, 16] [1, 1]
// CHECK: %[[V:.*]] = memref.subview %arg0[0, 32] [4, 16] [1, 1]
// CHECK-NOT: onednn.reorder
// CHECK: onednn.sdpa %[[Q]], %[[K]], %[[V]] into %arg1 heads = 2
func.func @forwarded(%qkv: memref<4x48xf32>, %out: memref<4x16xf32>) {
  %q = memref.subview %qkv[0, 0] [4, 16] [1, 1] : memref<4x48xf32> to memref<4x16xf32, strided<[48, 1]>>
  %bq = memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
  onednn.reorder %q into %bq : memref<4x16xf32, strided<[48, 1]>>, memref<4x16xf32>
  %k = memref.subview %qkv[0, 16] [4, 16] [1, 1] : memref<4x48xf32> to memref<4x16xf32, strided<[48, 1], offset: 16>>
  %bk = memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
  onednn.reorder %k into %bk : memref<4x16xf32, strided<[48, 1], offset: 16>>, memref<4x16xf32>
  %v = memref.subview %qkv[0, 32] [4, 16] [1, 1] : memref<4x48xf32> to memref<4x16xf32, strided<[48, 1], offset: 32>>
  %bv = memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
  onednn.reorder %v into %bv : memref<4x16xf32, strided<[48, 1], offset: 32>>, memref<4x16xf32>
  onednn.sdpa %bq, %bk, %bv into %out heads = 2 scale = 0.25 causal
      : memref<4x16xf32>, memref<4x16xf32>, memref<4x16xf32>, memref<4x16xf32>
  return
}

// -----

// Kept: the copy is also read by a matmul, the copy converts to bf16, or the
// viewed buffer is written after the copy.
// CHECK-LABEL: func @kept
// CHECK-COUNT-3: onednn.reorder
// CHECK: onednn.sdpa %{{.*}}, %{{.*}}, %{{.*}} into %arg1
func.func @kept(%qkv: memref<4x48xf32>, %out: memref<4x16xf32>, %w: memref<16x16xf32>,
                %mm: memref<4x16xf32>) {
  %q = memref.subview %qkv[0, 0] [4, 16] [1, 1] : memref<4x48xf32> to memref<4x16xf32, strided<[48, 1]>>
  %bq = memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
  onednn.reorder %q into %bq : memref<4x16xf32, strided<[48, 1]>>, memref<4x16xf32>
  onednn.matmul %bq, %w into %mm activation = none : memref<4x16xf32>, memref<16x16xf32>, memref<4x16xf32>
  %k = memref.subview %qkv[0, 16] [4, 16] [1, 1] : memref<4x48xf32> to memref<4x16xf32, strided<[48, 1], offset: 16>>
  %bk = memref.alloc() {alignment = 64 : i64} : memref<4x16xbf16>
  onednn.reorder %k into %bk : memref<4x16xf32, strided<[48, 1], offset: 16>>, memref<4x16xbf16>
  %v = memref.subview %qkv[0, 32] [4, 16] [1, 1] : memref<4x48xf32> to memref<4x16xf32, strided<[48, 1], offset: 32>>
  %bv = memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
  onednn.reorder %v into %bv : memref<4x16xf32, strided<[48, 1], offset: 32>>, memref<4x16xf32>
  %again = memref.subview %qkv[0, 32] [4, 16] [1, 1] : memref<4x48xf32> to memref<4x16xf32, strided<[48, 1], offset: 32>>
  onednn.eltwise tanh %mm into %again alpha = 0.0 beta = 0.0 : memref<4x16xf32>, memref<4x16xf32, strided<[48, 1], offset: 32>>
  onednn.sdpa %bq, %bk, %bv into %out heads = 2 scale = 0.25 causal
      : memref<4x16xf32>, memref<4x16xbf16>, memref<4x16xf32>, memref<4x16xf32>
  return
}
