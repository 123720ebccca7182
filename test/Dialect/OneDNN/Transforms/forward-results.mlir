// RUN: tfm-opt %s -split-input-file -onednn-forward-results | FileCheck %s
// onednn-forward-results: results are computed in their result arguments.

// CHECK-LABEL: func @forwarded
// CHECK-SAME: (%[[X:.*]]: memref<?x16xf32>, %[[OUT:.*]]: memref<?x16xf32> {onednn.result})
// CHECK-NOT: memref.alloc
// CHECK: onednn.eltwise tanh %[[X]] into %[[OUT]]
// CHECK-NOT: onednn.reorder
// CHECK: return
func.func @forwarded(%x: memref<?x16xf32>, %out: memref<?x16xf32> {onednn.result}) {
  %c0 = arith.constant 0 : index
  %d = memref.dim %x, %c0 : memref<?x16xf32>
  %a = memref.alloc(%d) {alignment = 64 : i64} : memref<?x16xf32>
  onednn.eltwise tanh %x into %a alpha = 0.0 beta = 0.0 : memref<?x16xf32>, memref<?x16xf32>
  onednn.reorder %a into %out : memref<?x16xf32>, memref<?x16xf32>
  return
}

// -----

// Not forwarded: the buffer is copied out twice, or has another type.
// CHECK-LABEL: func @kept
// CHECK: %[[A:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
// CHECK: onednn.reorder %[[A]] into %arg1
// CHECK: onednn.reorder %[[A]] into %arg2
// CHECK: %[[B:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
// CHECK: onednn.reorder %[[B]] into %arg3
func.func @kept(%x: memref<4x16xf32>, %o1: memref<4x16xf32> {onednn.result},
                %o2: memref<4x16xf32> {onednn.result}, %o3: memref<4x16xbf16> {onednn.result}) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
  onednn.eltwise exp %x into %a alpha = 0.0 beta = 0.0 : memref<4x16xf32>, memref<4x16xf32>
  onednn.reorder %a into %o1 : memref<4x16xf32>, memref<4x16xf32>
  onednn.reorder %a into %o2 : memref<4x16xf32>, memref<4x16xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
  onednn.eltwise exp %x into %b alpha = 0.0 beta = 0.0 : memref<4x16xf32>, memref<4x16xf32>
  onednn.reorder %b into %o3 : memref<4x16xf32>, memref<4x16xbf16>
  return
}
