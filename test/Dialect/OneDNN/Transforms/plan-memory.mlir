// RUN: tfm-opt %s -onednn-plan-memory | FileCheck %s
// Buffers whose live ranges do not overlap share arena bytes; buffers that
// are live together never do.

// CHECK-LABEL: func @chain
// CHECK-SAME: attributes {onednn.arena_bytes = 512 : i64}
// CHECK: %[[ARENA:.*]] = memref.alloc() {alignment = 64 : i64} : memref<512xi8>
// CHECK: memref.view %[[ARENA]][%c0][] : memref<512xi8> to memref<4x16xf32>
// CHECK: memref.view %[[ARENA]][%c256][] : memref<512xi8> to memref<4x16xf32>
// b0 is dead once b1 is written, so b2 reuses its bytes:
// CHECK: memref.view %[[ARENA]][%c0{{.*}}][] : memref<512xi8> to memref<4x16xf32>
// CHECK: memref.dealloc %[[ARENA]] : memref<512xi8>
// CHECK-NEXT: return
func.func @chain(%x: memref<4x16xf32>, %out: memref<4x16xf32>) {
  %b0 = memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
  onednn.eltwise tanh %x into %b0 alpha = 0.0 beta = 0.0 : memref<4x16xf32>, memref<4x16xf32>
  %b1 = memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
  onednn.eltwise exp %b0 into %b1 alpha = 0.0 beta = 0.0 : memref<4x16xf32>, memref<4x16xf32>
  %b2 = memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
  onednn.eltwise relu %b1 into %b2 alpha = 0.0 beta = 0.0 : memref<4x16xf32>, memref<4x16xf32>
  onednn.reorder %b2 into %out : memref<4x16xf32>, memref<4x16xf32>
  return
}

// A buffer read through a view stays live until the view's last use.
// CHECK-LABEL: func @views
// CHECK-SAME: onednn.arena_bytes = 512
// CHECK: memref.view %{{.*}}[%c0][] : memref<512xi8> to memref<4x16xf32>
// CHECK: memref.view %{{.*}}[%c256][] : memref<512xi8> to memref<4x16xf32>
// CHECK-NOT: memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
func.func @views(%x: memref<4x16xf32>, %out: memref<4x16xf32>) {
  %b0 = memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
  onednn.eltwise tanh %x into %b0 alpha = 0.0 beta = 0.0 : memref<4x16xf32>, memref<4x16xf32>
  %v = memref.reinterpret_cast %b0 to offset: [0], sizes: [4, 16], strides: [16, 1] : memref<4x16xf32> to memref<4x16xf32>
  %b1 = memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
  onednn.eltwise exp %x into %b1 alpha = 0.0 beta = 0.0 : memref<4x16xf32>, memref<4x16xf32>
  onednn.binary add %v, %b1 into %out : memref<4x16xf32>, memref<4x16xf32>, memref<4x16xf32>
  return
}

// memref.transpose is no ViewLikeOpInterface, but its result aliases the
// buffer: b0 stays live until the transposed read (a tied lm head cast from
// F16 at -O0 was overwritten by the copy that read it).
// CHECK-LABEL: func @transposed_view
// CHECK-SAME: onednn.arena_bytes = 512
// CHECK: memref.view %{{.*}}[%c0][] : memref<512xi8> to memref<4x16xf32>
// CHECK: memref.view %{{.*}}[%c256][] : memref<512xi8> to memref<16x4xf32>
func.func @transposed_view(%x: memref<4x16xf32>, %out: memref<16x4xf32>) {
  %b0 = memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
  onednn.eltwise tanh %x into %b0 alpha = 0.0 beta = 0.0 : memref<4x16xf32>, memref<4x16xf32>
  %t = memref.transpose %b0 (d0, d1) -> (d1, d0) : memref<4x16xf32> to memref<16x4xf32, strided<[1, 16]>>
  %b1 = memref.alloc() {alignment = 64 : i64} : memref<16x4xf32>
  onednn.reorder %t into %b1 : memref<16x4xf32, strided<[1, 16]>>, memref<16x4xf32>
  onednn.reorder %b1 into %out : memref<16x4xf32>, memref<16x4xf32>
  return
}

// Buffers sized by one dynamic value n share an arena of (bytes per unit) * n,
// at offsets that are multiples of n: the packing holds for every n.
// CHECK-LABEL: func @dynamic
// CHECK-SAME: attributes {onednn.arena_bytes_per_unit = 128 : i64}
// CHECK: %[[N:.*]] = memref.dim %arg0, %c0
// CHECK: %[[BYTES:.*]] = arith.muli %[[N]], %c128
// CHECK: %[[ARENA:.*]] = memref.alloc(%[[BYTES]]) {alignment = 64 : i64} : memref<?xi8>
// CHECK: %[[O0:.*]] = arith.muli %[[N]], %c0
// CHECK: memref.view %[[ARENA]][%[[O0]]][%[[N]]] : memref<?xi8> to memref<?x16xf32>
// CHECK: %[[O1:.*]] = arith.muli %[[N]], %c64
// CHECK: memref.view %[[ARENA]][%[[O1]]][%[[N]]] : memref<?xi8> to memref<?x16xf32>
// The third buffer reuses the first one's bytes (dead by then):
// CHECK: memref.view %[[ARENA]][%{{.*}}][%[[N]]] : memref<?xi8> to memref<?x16xf32>
// CHECK: memref.dealloc %[[ARENA]] : memref<?xi8>
// CHECK-NEXT: return
func.func @dynamic(%x: memref<?x16xf32>, %out: memref<?x16xf32>) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x16xf32>
  %b0 = memref.alloc(%n) {alignment = 64 : i64} : memref<?x16xf32>
  onednn.eltwise tanh %x into %b0 alpha = 0.0 beta = 0.0 : memref<?x16xf32>, memref<?x16xf32>
  %b1 = memref.alloc(%n) {alignment = 64 : i64} : memref<?x16xf32>
  onednn.eltwise exp %b0 into %b1 alpha = 0.0 beta = 0.0 : memref<?x16xf32>, memref<?x16xf32>
  %b2 = memref.alloc(%n) {alignment = 64 : i64} : memref<?x16xf32>
  onednn.eltwise relu %b1 into %b2 alpha = 0.0 beta = 0.0 : memref<?x16xf32>, memref<?x16xf32>
  onednn.reorder %b2 into %out : memref<?x16xf32>, memref<?x16xf32>
  return
}
