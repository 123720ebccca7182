// RUN: tfm-opt %s -split-input-file -onednn-quantize-weights='group-size=32' | FileCheck %s
// RUN: tfm-opt %s -split-input-file -onednn-quantize-weights | FileCheck %s --check-prefix=DEF8
// RUN: tfm-opt %s -split-input-file -onednn-quantize-weights='bits=4' | FileCheck %s --check-prefix=DEF4
// RUN: tfm-opt %s -split-input-file -onednn-quantize-weights='bits=4 group-size=64' | FileCheck %s --check-prefix=INT4
// RUN: tfm-opt %s -split-input-file -onednn-quantize-weights='group-size=0' | FileCheck %s --check-prefix=CHANNEL
// RUN: tfm-opt %s -split-input-file -onednn-quantize-weights='remarks=true' -verify-diagnostics -o /dev/null
// onednn-quantize-weights: matmuls by weights become quantized matmuls, the
// tied embedding table is quantized once for the gather and the lm head.

// A GPT-2 style block: Conv1D weight [K, N] (transposed source), a tied
// table read by the embedding and, transposed, by the lm head.
// CHECK-LABEL: func @gpt2_like
// CHECK: %[[Q:.*]], %[[S:.*]] = onednn.quantized_weight "wte" from memref<64x40xf32> bits = 8 group = 32 : memref<64x64xi8>, memref<64x2xf32>
// CHECK: %[[FQ:.*]], %[[FS:.*]] = onednn.quantized_weight "fc" from memref<40x96xf32> transposed bits = 8 group = 32 : memref<96x64xi8>, memref<96x2xf32>
// CHECK: onednn.embedding %arg0, %[[Q]] scales %[[S]] into %{{.*}} position = none {bits = 8 : i64, group = 32 : i64}
// CHECK: onednn.quantized_matmul %{{.*}}, %[[FQ]], %[[FS]] bias %{{.*}} into %{{.*}} activation = gelu_tanh bits = 8 group = 32
// CHECK: onednn.quantized_matmul %{{.*}}, %[[Q]], %[[S]] into %arg1 activation = none bits = 8 group = 32
// CHECK-NOT: onednn.weight "wte"
// CHECK-NOT: onednn.weight "fc"
// CHECK-NOT: onednn.matmul
// INT4-LABEL: func @gpt2_like
// INT4: onednn.quantized_weight "wte" from memref<64x40xf32> bits = 4 group = 64 : memref<64x32xi8>, memref<64x1xf32>
// INT4: onednn.quantized_weight "fc" from memref<40x96xf32> transposed bits = 4 group = 64 : memref<96x32xi8>, memref<96x1xf32>
// The default groups: 128 weights per scale for int8, 64 for int4.
// DEF8-LABEL: func @gpt2_like
// DEF8: onednn.quantized_weight "wte" from memref<64x40xf32> bits = 8 group = 128 : memref<64x128xi8>, memref<64x1xf32>
// DEF4-LABEL: func @gpt2_like
// DEF4: onednn.quantized_weight "wte" from memref<64x40xf32> bits = 4 group = 64 : memref<64x32xi8>, memref<64x1xf32>
// Per-channel: one group of K rounded up to 32 (40 -> 64).
// CHANNEL-LABEL: func @gpt2_like
// CHANNEL: onednn.quantized_weight "wte" from memref<64x40xf32> bits = 8 group = 64 : memref<64x64xi8>, memref<64x1xf32>
func.func @gpt2_like(%tok: memref<?xi64>, %logits: memref<?x64xf32>) {
  %c0 = arith.constant 0 : index
  %t = memref.dim %tok, %c0 : memref<?xi64>
  %wte = onednn.weight "wte" : memref<64x40xf32>
  %fc = onednn.weight "fc" : memref<40x96xf32>
  %fcb = onednn.weight "fc.bias" : memref<96xf32>
  %x = memref.alloc(%t) : memref<?x40xf32>
  onednn.embedding %tok, %wte into %x position = none : memref<?xi64>, memref<64x40xf32>, memref<?x40xf32>
  %h = memref.alloc(%t) : memref<?x96xf32>
  onednn.matmul %x, %fc bias %fcb into %h activation = gelu_tanh
      : memref<?x40xf32>, memref<40x96xf32>, memref<96xf32>, memref<?x96xf32>
  onednn.matmul %x, %wte transpose_b into %logits activation = none
      : memref<?x40xf32>, memref<64x40xf32>, memref<?x64xf32>
  return
}

// -----

// Left f32 (near misses): a matmul by activations, a weight of rank 3, bf16
// activations, and a weight already quantized the other way round.
// CHECK-LABEL: func @refused
// CHECK-NOT: quantized_matmul
// CHECK: onednn.quantized_weight "w" from memref<32x32xf32> transposed
// CHECK: onednn.quantized_matmul
// CHECK: onednn.matmul %arg0, %arg1 into
// CHECK: onednn.matmul %{{.*}}, %{{.*}} into
// CHECK: onednn.matmul %{{.*}}, %{{.*}} into
// CHECK: onednn.matmul %arg0, %{{.*}} transpose_b into
func.func @refused(%a: memref<4x32xf32>, %b: memref<32x32xf32>, %c: memref<4x32xf32>,
                   %d: memref<2x4x32xf32>, %e: memref<4x32xbf16>) {
  %w = onednn.weight "w" : memref<32x32xf32>
  %w3 = onednn.weight "w3" : memref<2x32x32xf32>
  %x = memref.alloc() : memref<4x32xf32>
  onednn.matmul %a, %w into %x activation = none : memref<4x32xf32>, memref<32x32xf32>, memref<4x32xf32>
  // expected-remark @below {{onednn-quantize-weights: left unquantized: the operand is not a weight (onednn.weight)}}
  onednn.matmul %a, %b into %c activation = none : memref<4x32xf32>, memref<32x32xf32>, memref<4x32xf32>
  // expected-remark @below {{left unquantized: the weight has rank 3, not 2}}
  onednn.matmul %a, %w3 into %d activation = none : memref<4x32xf32>, memref<2x32x32xf32>, memref<2x4x32xf32>
  %wb = onednn.weight "wb" : memref<32x32xbf16>
  %y = memref.alloc() : memref<4x32xbf16>
  // expected-remark @below {{left unquantized: the activations are not f32}}
  onednn.matmul %e, %wb into %y activation = none : memref<4x32xbf16>, memref<32x32xbf16>, memref<4x32xbf16>
  // expected-remark @below {{left unquantized: weight 'w' is quantized in the other orientation}}
  onednn.matmul %a, %w transpose_b into %c activation = none : memref<4x32xf32>, memref<32x32xf32>, memref<4x32xf32>
  return
}

// -----

// Padding: K = 40 is not a multiple of the group; the integers are padded
// to 64 with zero weights (q [N, 64], two scales per column).
// CHECK-LABEL: func @padded
// CHECK: onednn.quantized_weight "p" from memref<40x8xf32> transposed bits = 8 group = 32 : memref<8x64xi8>, memref<8x2xf32>
func.func @padded(%a: memref<3x40xf32>, %c: memref<3x8xf32>) {
  %w = onednn.weight "p" : memref<40x8xf32>
  onednn.matmul %a, %w into %c activation = none : memref<3x40xf32>, memref<40x8xf32>, memref<3x8xf32>
  return
}

// -----

// A model stored in f16: the weight is converted to f32 (a reorder into a
// buffer) before the matmul; the stored f16 tensor is quantized and the
// conversion goes away.
// CHECK-LABEL: func @stored_f16
// CHECK: onednn.quantized_weight "h" from memref<32x8xf16> transposed bits = 8 group = 32 : memref<8x32xi8>, memref<8x1xf32>
// CHECK-NOT: onednn.reorder
// CHECK-NOT: memref.alloc
// CHECK: onednn.quantized_matmul
func.func @stored_f16(%a: memref<3x32xf32>, %c: memref<3x8xf32>) {
  %w = onednn.weight "h" : memref<32x8xf16>
  %b = memref.alloc() : memref<32x8xf32>
  onednn.reorder %w into %b : memref<32x8xf16>, memref<32x8xf32>
  onednn.matmul %a, %b into %c activation = none : memref<3x32xf32>, memref<32x8xf32>, memref<3x8xf32>
  return
}
