// RUN: tfm-opt %s -expand-strided-metadata -lower-affine -convert-onednn-to-llvm -reconcile-unrealized-casts -canonicalize | FileCheck %s
// onednn ops become calls of the runtime's C ABI; the entry gets a wrapper
// and the typed model info (tfm_model: tfm_model_info in tfm_runtime.h).

// CHECK-DAG: llvm.func @tfm_rt_matmul(!llvm.ptr, i64, i32, !llvm.ptr, i64, i32, !llvm.ptr, i64, i32, !llvm.ptr, i64, i32, !llvm.ptr, i64, i32, i32, i32)
// CHECK-DAG: llvm.func @tfm_rt_eltwise(!llvm.ptr, i64, i32, !llvm.ptr, i64, i32, i32, f64, f64)
// CHECK-DAG: llvm.func @tfm_rt_layer_norm(
// CHECK-DAG: llvm.func @tfm_rt_softmax(
// CHECK-DAG: llvm.func @tfm_rt_binary(
// CHECK-DAG: llvm.func @tfm_rt_reorder(
// CHECK-DAG: llvm.func @tfm_rt_reduction(

// The model takes each buffer as its descriptor's fields (ptr, ptr, offset, sizes, strides).
// CHECK-LABEL: llvm.func @tfm_model_main
// CHECK-SAME: (%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: !llvm.ptr,
// bias absent: (null, 0, 0); gelu_tanh = 1, no transpose = 0
// CHECK-DAG: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK-DAG: %[[GELU:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-DAG: %[[ZERO32:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK: llvm.call @tfm_rt_matmul(%{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %[[NULL]], %{{[0-9]+}}, %{{[0-9]+}}, %[[NULL]], %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %[[GELU]], %[[ZERO32]]) : (!llvm.ptr, i64, i32, !llvm.ptr, i64, i32, !llvm.ptr, i64, i32, !llvm.ptr, i64, i32, !llvm.ptr, i64, i32, i32, i32) -> ()
// CHECK: llvm.call @tfm_rt_eltwise
// CHECK: llvm.call @tfm_rt_binary
// CHECK: llvm.call @tfm_rt_layer_norm
// CHECK: llvm.call @tfm_rt_reduction
// CHECK: llvm.call @tfm_rt_softmax
// CHECK: llvm.call @tfm_rt_reorder
// CHECK: llvm.return

// CHECK-LABEL: llvm.func @tfm_entry(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK-COUNT-4: llvm.load
// CHECK: llvm.call @tfm_model_main
// One tfm_buffer_info per argument: static sizes, no role (tensor mode).
// CHECK: llvm.mlir.global private constant @tfm_model.buffer0.dims(dense<[4, 8]> : tensor<2xi64>)
// CHECK: llvm.mlir.global private constant @tfm_model.buffer3.dims(dense<[4, 16]> : tensor<2xi64>)
// CHECK: llvm.mlir.global private constant @tfm_model.buffers()
// CHECK-SAME: !llvm.array<4 x struct<(ptr, i32, i32, i32, i32, i32, ptr, ptr)>>
// CHECK: llvm.mlir.global external constant @tfm_model()
// CHECK-SAME: !llvm.struct<(i32, i32, ptr, i64)>
// CHECK-NOT: tfm_signature
func.func @main(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %g: memref<16xf32>,
                %out: memref<4x16xf32> {onednn.result}) {
  %c = memref.alloc() {alignment = 64 : i64} : memref<4x16xf32>
  onednn.matmul %a, %b into %c activation = gelu_tanh : memref<4x8xf32>, memref<8x16xf32>, memref<4x16xf32>
  onednn.eltwise tanh %c into %c alpha = 0.0 beta = 0.0 : memref<4x16xf32>, memref<4x16xf32>
  onednn.binary add %c, %g into %c : memref<4x16xf32>, memref<16xf32>, memref<4x16xf32>
  onednn.layer_norm %c scale %g into %c eps = 1.0e-5 : memref<4x16xf32>, memref<16xf32>, memref<4x16xf32>
  %m = memref.alloc() {alignment = 64 : i64} : memref<4x1xf32>
  onednn.reduction max %c into %m : memref<4x16xf32>, memref<4x1xf32>
  onednn.softmax %c into %c axis = 1 : memref<4x16xf32>, memref<4x16xf32>
  %t = memref.subview %c[0, 0] [4, 16] [1, 1] : memref<4x16xf32> to memref<4x16xf32, strided<[16, 1]>>
  onednn.reorder %t into %out : memref<4x16xf32, strided<[16, 1]>>, memref<4x16xf32>
  memref.dealloc %c : memref<4x16xf32>
  memref.dealloc %m : memref<4x1xf32>
  return
}
