// RUN: tfm-opt %s -convert-onednn-to-func | FileCheck %s
// The model info says which size of a call each dynamic dimension equals,
// from the buffers' tfm.role (set by the frontend; verified by the tfm
// dialect): tokens [t], past [past, w], present [past + t, w], logits
// [rows, vocab]; and it keeps name, layer, output flag and context length.
// Codes: tfm_buffer_role and tfm_dim_size in include/tfm/Runtime/tfm_runtime.h.

// The buffer types are recorded for tfm-emit-entry.
// CHECK: func.func @tfm_model_main(
// CHECK-SAME: attributes {tfm.entry_types = [memref<?xi64>, memref<?x8xf32>, memref<?x4xf32>, memref<?x8xf32>]}
// CHECK: llvm.mlir.global private constant @tfm_model.buffer0.name("tokens\00")
// CHECK: @tfm_model.buffer0.dims(dense<-1> : tensor<1xi64>)
// NEW_TOKENS = 1
// CHECK: @tfm_model.buffer0.dim_sizes(dense<1> : tensor<1xi32>)
// CHECK: @tfm_model.buffer1.name("past_k.0\00")
// CHECK: @tfm_model.buffer1.dims(dense<[-1, 8]> : tensor<2xi64>)
// PAST = 3, then a static dimension
// CHECK: @tfm_model.buffer1.dim_sizes(dense<[3, 0]> : tensor<2xi32>)
// CHECK: @tfm_model.buffer2.name("logits\00")
// LOGIT_ROWS = 2
// CHECK: @tfm_model.buffer2.dim_sizes(dense<[2, 0]> : tensor<2xi32>)
// CHECK: @tfm_model.buffer3.name("present_k.0\00")
// PAST_AND_NEW = 4
// CHECK: @tfm_model.buffer3.dim_sizes(dense<[4, 0]> : tensor<2xi32>)
// CHECK: llvm.mlir.global private constant @tfm_model.buffers()
// Buffer 1 (an input): role PAST_KEY = 5, layer 0; buffer 2 is an output.
// CHECK: %[[ROLE:.*]] = llvm.mlir.constant(5 : i32) : i32
// CHECK-NEXT: %[[LAYER:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK: llvm.insertvalue %[[ROLE]], %{{.*}}[1, 2]
// CHECK-NEXT: llvm.insertvalue %[[LAYER]], %{{.*}}[1, 3]
// CHECK: %[[OUT:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK: llvm.insertvalue %[[OUT]], %{{.*}}[2, 1]
// CHECK: llvm.mlir.global external constant @tfm_model()
// Context length 64.
// CHECK: llvm.mlir.constant(64 : i64) : i64
module attributes {tfm.context_length = 64 : i64} {
  func.func @main(%tokens: memref<?xi64> {tfm.name = "tokens", tfm.role = "tokens"},
                  %past: memref<?x8xf32> {tfm.name = "past_k.0", tfm.role = "past_key", tfm.layer = 0 : i64},
                  %logits: memref<?x4xf32> {onednn.result, tfm.name = "logits", tfm.role = "logits"},
                  %present: memref<?x8xf32> {onednn.result, tfm.name = "present_k.0", tfm.role = "present_key", tfm.layer = 0 : i64}) {
    return
  }
}
