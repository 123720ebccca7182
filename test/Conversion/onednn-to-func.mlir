// RUN: tfm-opt %s -expand-strided-metadata -lower-affine -convert-onednn-to-func -canonicalize | FileCheck %s
// RUN: tfm-opt %s -expand-strided-metadata -lower-affine -convert-onednn-to-func \
// RUN:   -finalize-memref-to-llvm -convert-arith-to-llvm -convert-cf-to-llvm \
// RUN:   -convert-func-to-llvm -reconcile-unrealized-casts -tfm-emit-entry -canonicalize \
// RUN:   | FileCheck %s --check-prefix=LLVM
// onednn ops become func.calls of declarations of the runtime's C interface
// (tfm_runtime.h); each buffer is a tfm_buffer record, a memref<20xi64>:
// [0] data address, [1] offset, [2] dtype, [3] rank, [4..12) sizes,
// [12..20) strides. MLIR's own passes take the rest to LLVM.

// CHECK-DAG: func.func private @tfm_rt_matmul(memref<20xi64>, memref<20xi64>, memref<20xi64>, memref<20xi64>, memref<20xi64>, memref<20xi64>, i32, i32) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @tfm_rt_eltwise(memref<20xi64>, memref<20xi64>, i32, f64, f64) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @tfm_rt_weight(memref<?xi8>, i64, i64, i64, i64, i64, i32) -> memref<?xi8> attributes {llvm.emit_c_interface}
// The weight's name: a NUL-terminated constant.
// CHECK-DAG: memref.global "private" constant @__tfm_str_w_0 : memref<4xi8> = dense<[119, 46, 48, 0]>
// CHECK-DAG: memref.global "private" constant @__tfm_str_w_0_1 : memref<4xi8> = dense<[119, 95, 48, 0]>

// The entry is renamed, and its buffer types are kept for tfm-emit-entry.
// CHECK-LABEL: func.func @tfm_model_main(
// CHECK-SAME: attributes {tfm.entry_types = [memref<?x8xf32>, memref<?x16xf32>]}
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : index
// CHECK-DAG: %[[C12:.*]] = arith.constant 12 : index
// CHECK-DAG: %[[C13:.*]] = arith.constant 13 : index
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[SIXTEEN:.*]] = arith.constant 16 : i64
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[EIGHT:.*]] = arith.constant 8 : i64
// CHECK-DAG: %[[GELU:.*]] = arith.constant 1 : i32
// CHECK-DAG: %[[NOTRANS:.*]] = arith.constant 0 : i32
// One record per buffer position, in the entry block.
// CHECK-COUNT-5: memref.alloca() : memref<20xi64>
// The weight: its bytes from the runtime, typed by memref.view.
// CHECK: %[[NAME:.*]] = memref.get_global @__tfm_str_w_0 : memref<4xi8>
// CHECK: %[[NAMED:.*]] = memref.cast %[[NAME]] : memref<4xi8> to memref<?xi8>
// CHECK: %[[BYTES:.*]] = call @tfm_rt_weight(%[[NAMED]], %{{.*}}) : (memref<?xi8>, i64, i64, i64, i64, i64, i32) -> memref<?xi8>
// CHECK: memref.view %[[BYTES]][%[[C0]]][] : memref<?xi8> to memref<8x16xf32>
// The first operand, %a: memref<?x8xf32> (f32 = 0, rank 2, a dynamic size).
// CHECK: %[[PTR:.*]] = memref.extract_aligned_pointer_as_index %arg0
// CHECK: %[[BASE:.*]], %[[OFF:.*]], %[[SIZES:.*]]:2, %[[STRIDES:.*]]:2 = memref.extract_strided_metadata %arg0
// CHECK: %[[ADDR:.*]] = arith.index_cast %[[PTR]] : index to i64
// CHECK: memref.store %[[ADDR]], %[[A:.*]][%[[C0]]] : memref<20xi64>
// CHECK: memref.store %[[ZERO]], %[[A]][%[[C2]]]
// CHECK: memref.store %[[TWO]], %[[A]][%[[C3]]]
// CHECK: %[[ROWS:.*]] = arith.index_cast %[[SIZES]]#0 : index to i64
// CHECK: memref.store %[[ROWS]], %[[A]][%[[C4]]]
// CHECK: memref.store %[[EIGHT]], %[[A]][%[[C12]]]
// CHECK: memref.store %[[EIGHT]], %[[A]][%[[C5]]]
// The absent bias, multiplier and residual: data 0.
// CHECK: memref.store %[[ZERO]], %[[BIAS:.*]][%[[C0]]] : memref<20xi64>
// CHECK: memref.store %[[ZERO]], %[[MUL:.*]][%[[C0]]] : memref<20xi64>
// CHECK: memref.store %[[ZERO]], %[[RES:.*]][%[[C0]]] : memref<20xi64>
// CHECK: call @tfm_rt_matmul(%[[A]], %{{.*}}, %[[BIAS]], %[[MUL]], %[[RES]], %{{.*}}, %[[GELU]], %[[NOTRANS]])
// CHECK: call @tfm_rt_eltwise
// The transposed weight: strides 1 and 16, from its type.
// CHECK: %[[T:.*]] = memref.transpose
// CHECK: memref.extract_aligned_pointer_as_index %[[T]]
// CHECK: memref.store %{{.*}}, %[[B:.*]][%[[C0]]]
// CHECK: memref.store %[[ONE]], %[[B]][%[[C12]]]
// CHECK: memref.store %[[SIXTEEN]], %[[B]][%[[C13]]]
// CHECK: call @tfm_rt_matmul(%{{.*}}, %[[B]],
// CHECK-NOT: onednn.

// LLVM-NOT: func.func
// LLVM-NOT: tfm.entry_types
// The declarations are private wrappers of the C interface...
// LLVM-DAG: llvm.func private @tfm_rt_matmul(
// LLVM-DAG: llvm.func @_mlir_ciface_tfm_rt_matmul(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i32, i32)
// LLVM-DAG: llvm.func @_mlir_ciface_tfm_rt_weight(!llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, i32)
// ... and tfm_entry reads both buffers' pointers and the one dynamic size each.
// LLVM-LABEL: llvm.func @tfm_entry(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// LLVM-COUNT-4: llvm.load
// LLVM: llvm.call @tfm_model_main
func.func @main(%a: memref<?x8xf32>, %out: memref<?x16xf32> {onednn.result}) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %a, %c0 : memref<?x8xf32>
  %w = onednn.weight "w.0" : memref<8x16xf32>
  %w2 = onednn.weight "w_0" : memref<16x16xf32>
  %c = memref.alloc(%n) {alignment = 64 : i64} : memref<?x16xf32>
  onednn.matmul %a, %w into %c activation = gelu_tanh : memref<?x8xf32>, memref<8x16xf32>, memref<?x16xf32>
  onednn.eltwise tanh %c into %c alpha = 0.0 beta = 0.0 : memref<?x16xf32>, memref<?x16xf32>
  %t = memref.transpose %w2 (i, j) -> (j, i) : memref<16x16xf32> to memref<16x16xf32, strided<[1, 16]>>
  onednn.matmul %c, %t into %out activation = none : memref<?x16xf32>, memref<16x16xf32, strided<[1, 16]>>, memref<?x16xf32>
  memref.dealloc %c : memref<?x16xf32>
  return
}
