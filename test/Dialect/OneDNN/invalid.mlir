// RUN: tfm-opt %s -split-input-file -verify-diagnostics
// Every onednn verifier.

func.func @matmul_k(%a: memref<4x8xf32>, %b: memref<7x16xf32>, %c: memref<4x16xf32>) {
  // expected-error @+1 {{contraction dimensions differ: a [4, 8], b [7, 16]}}
  onednn.matmul %a, %b into %c activation = none : memref<4x8xf32>, memref<7x16xf32>, memref<4x16xf32>
  return
}

// -----

func.func @matmul_dst(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %c: memref<4x15xf32>) {
  // expected-error @+1 {{expected dst [..., 4, 16], got [4, 15]}}
  onednn.matmul %a, %b into %c activation = none : memref<4x8xf32>, memref<8x16xf32>, memref<4x15xf32>
  return
}

// -----

func.func @matmul_bias(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %bias: memref<8xf32>, %c: memref<4x16xf32>) {
  // expected-error @+1 {{expected bias of shape [16]}}
  onednn.matmul %a, %b bias %bias into %c activation = none : memref<4x8xf32>, memref<8x16xf32>, memref<8xf32>, memref<4x16xf32>
  return
}

// -----

func.func @matmul_residual(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %r: memref<16xf32>, %c: memref<4x16xf32>) {
  // expected-error @+1 {{expected residual of dst's shape [4, 16]}}
  onednn.matmul %a, %b residual %r into %c activation = none : memref<4x8xf32>, memref<8x16xf32>, memref<16xf32>, memref<4x16xf32>
  return
}

// -----

func.func @matmul_batch(%a: memref<3x4x8xf32>, %b: memref<2x8x16xf32>, %c: memref<3x4x16xf32>) {
  // expected-error @+1 {{batch dimensions of a and b must broadcast to dst's}}
  onednn.matmul %a, %b into %c activation = none : memref<3x4x8xf32>, memref<2x8x16xf32>, memref<3x4x16xf32>
  return
}

// -----

func.func @matmul_dynamic(%a: memref<?x8xf32>, %b: memref<7x16xf32>, %c: memref<?x16xf32>) {
  // expected-error @+1 {{contraction dimensions differ: a [?, 8], b [7, 16]}}
  onednn.matmul %a, %b into %c activation = none : memref<?x8xf32>, memref<7x16xf32>, memref<?x16xf32>
  return
}

// -----

func.func @matmul_int(%a: memref<4x8xi32>, %b: memref<8x16xf32>, %c: memref<4x16xf32>) {
  // expected-error @+1 {{operand #0 must be memref of 32-bit float or 16-bit float or bfloat16 type values}}
  onednn.matmul %a, %b into %c activation = none : memref<4x8xi32>, memref<8x16xf32>, memref<4x16xf32>
  return
}

// -----

func.func @layer_norm_shape(%x: memref<4x16xf32>, %y: memref<4x8xf32>) {
  // expected-error @+1 {{expected src and dst of one shape, rank >= 1}}
  onednn.layer_norm %x into %y eps = 1.0e-5 : memref<4x16xf32>, memref<4x8xf32>
  return
}

// -----

func.func @layer_norm_scale(%x: memref<4x16xf32>, %g: memref<4xf32>) {
  // expected-error @+1 {{expected scale and shift of shape [16]}}
  onednn.layer_norm %x scale %g into %x eps = 1.0e-5 : memref<4x16xf32>, memref<4xf32>, memref<4x16xf32>
  return
}

// -----

func.func @eltwise_shape(%x: memref<4x16xf32>, %y: memref<16x4xf32>) {
  // expected-error @+1 {{src [4, 16] and dst [16, 4] differ in shape}}
  onednn.eltwise tanh %x into %y alpha = 0.0 beta = 0.0 : memref<4x16xf32>, memref<16x4xf32>
  return
}

// -----

func.func @eltwise_kind(%x: memref<4x16xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'kind'}}
  onednn.eltwise swish %x into %x alpha = 0.0 beta = 0.0 : memref<4x16xf32>, memref<4x16xf32>
  return
}

// -----

func.func @binary_broadcast(%x: memref<4x16xf32>, %b: memref<8xf32>, %y: memref<4x16xf32>) {
  // expected-error @+1 {{inputs [4, 16] and [8] must broadcast to dst [4, 16]}}
  onednn.binary add %x, %b into %y : memref<4x16xf32>, memref<8xf32>, memref<4x16xf32>
  return
}

// -----

func.func @softmax_axis(%x: memref<4x16xf32>) {
  // expected-error @+1 {{axis 2 is out of range [0, 2)}}
  onednn.softmax %x into %x axis = 2 : memref<4x16xf32>, memref<4x16xf32>
  return
}

// -----

func.func @softmax_shape(%x: memref<4x16xf32>, %y: memref<4x8xf32>) {
  // expected-error @+1 {{src and dst differ in shape}}
  onednn.softmax %x into %y axis = 1 : memref<4x16xf32>, memref<4x8xf32>
  return
}

// -----

func.func @reorder_shape(%x: memref<4x16xf32>, %y: memref<16x4xf32>) {
  // expected-error @+1 {{src [4, 16] and dst [16, 4] differ in shape}}
  onednn.reorder %x into %y : memref<4x16xf32>, memref<16x4xf32>
  return
}

// -----

func.func @reduction_dst(%x: memref<4x16xf32>, %y: memref<4x2xf32>) {
  // expected-error @+1 {{dst dimension 1 must be 16 or 1, got 2}}
  onednn.reduction sum %x into %y : memref<4x16xf32>, memref<4x2xf32>
  return
}

// -----

func.func @reduction_rank(%x: memref<4x16xf32>, %y: memref<4xf32>) {
  // expected-error @+1 {{src and dst must have one rank}}
  onednn.reduction max %x into %y : memref<4x16xf32>, memref<4xf32>
  return
}

// -----

func.func @weight_dynamic() {
  // expected-error @+1 {{result #0 must be statically shaped memref of any type values}}
  %w = onednn.weight "w" : memref<?x16xf32>
  return
}

// -----

func.func @embedding_float_tokens(%t: memref<4xf32>, %w: memref<64x16xf32>, %x: memref<4x16xf32>) {
  // expected-error @+1 {{operand #0 must be memref of 32-bit signless integer or 64-bit signless integer values}}
  onednn.embedding %t, %w into %x position = none : memref<4xf32>, memref<64x16xf32>, memref<4x16xf32>
  return
}

// -----

func.func @sdpa_int(%q: memref<4x16xi32>, %o: memref<4x16xf32>) {
  // expected-error @+1 {{operand #0 must be memref of 32-bit float or 16-bit float or bfloat16 type values}}
  onednn.sdpa %q, %q, %q into %o heads = 2 scale = 1.0 : memref<4x16xi32>, memref<4x16xi32>, memref<4x16xi32>, memref<4x16xf32>
  return
}

// -----

func.func @quantized_weight_shape() {
  // expected-error @+1 {{expected q [96, 64] and scales [96, 2] for 40 inputs (padded to 64), int8 in groups of 32, got [96, 40] and [96, 2]}}
  %q, %s = onednn.quantized_weight "w" from memref<40x96xf32> transposed bits = 8 group = 32 : memref<96x40xi8>, memref<96x2xf32>
  return
}

// -----

func.func @quantized_weight_int4_group() {
  // expected-error @+1 {{int4 groups are at most 64 weights, not 128}}
  %q, %s = onednn.quantized_weight "w" from memref<128x8xf32> transposed bits = 4 group = 128 : memref<8x64xi8>, memref<8x1xf32>
  return
}

// -----

func.func @quantized_weight_group() {
  // expected-error @+1 {{group must be a positive multiple of 32, not 48}}
  %q, %s = onednn.quantized_weight "w" from memref<96x8xf32> transposed bits = 8 group = 48 : memref<8x96xi8>, memref<8x2xf32>
  return
}

// -----

func.func @quantized_weight_source(%x: memref<4x8xf32>) {
  // expected-error @+1 {{expected a rank-2 f32, f16 or bf16 source weight, got 'memref<2x32x8xf32>'}}
  %q, %s = onednn.quantized_weight "w" from memref<2x32x8xf32> bits = 8 group = 32 : memref<8x32xi8>, memref<8x1xf32>
  return
}

// -----

func.func @quantized_matmul_k(%a: memref<4x40xf32>, %q: memref<8x32xi8>, %s: memref<8x1xf32>, %c: memref<4x8xf32>) {
  // expected-error @+1 {{expected q [8, 64] and scales [8, 2] for 40 inputs (padded to 64)}}
  onednn.quantized_matmul %a, %q, %s into %c activation = none bits = 8 group = 32 : memref<4x40xf32>, memref<8x32xi8>, memref<8x1xf32>, memref<4x8xf32>
  return
}

// -----

func.func @quantized_matmul_dst(%a: memref<4x32xf32>, %q: memref<8x32xi8>, %s: memref<8x1xf32>, %c: memref<4x9xf32>) {
  // expected-error @+1 {{expected dst [4] x [8], got [4, 9]}}
  onednn.quantized_matmul %a, %q, %s into %c activation = none bits = 8 group = 32 : memref<4x32xf32>, memref<8x32xi8>, memref<8x1xf32>, memref<4x9xf32>
  return
}

// -----

func.func @embedding_quantized_without_scales(%t: memref<4xi64>, %q: memref<64x32xi8>, %x: memref<4x32xf32>) {
  // expected-error @+1 {{a quantized (i8) table needs scales, bits and group, and only it}}
  onednn.embedding %t, %q into %x position = none : memref<4xi64>, memref<64x32xi8>, memref<4x32xf32>
  return
}

// -----

func.func @quantized_matmul_rows_dynamic_k(%a: memref<4x?xf32>, %q: memref<8x32xi8>, %s: memref<9x1xf32>, %c: memref<4x8xf32>) {
  // expected-error @+1 {{expected q and scales with 8 rows, got [8, 32] and [9, 1]}}
  onednn.quantized_matmul %a, %q, %s into %c activation = none bits = 8 group = 32 : memref<4x?xf32>, memref<8x32xi8>, memref<9x1xf32>, memref<4x8xf32>
  return
}

// -----

func.func @layer_norm_nan_eps(%x: memref<4x16xf32>, %y: memref<4x16xf32>) {
  // expected-error @+1 {{'onednn.layer_norm' op attribute 'epsilon' failed to satisfy constraint: 64-bit float attribute whose value is finite}}
  onednn.layer_norm %x into %y eps = 0x7FF8000000000000 : memref<4x16xf32>, memref<4x16xf32>
  return
}

// -----

func.func @huge(%a: memref<1099511627776x2xf32>, %c: memref<1099511627776x2xf32>) {
  // expected-error @+1 {{'onednn.eltwise' op operand #0 of type 'memref<1099511627776x2xf32>' has more than 2^40 bytes (1 TiB), the largest tensor tfm supports}}
  onednn.eltwise relu %a into %c alpha = 0.0 beta = 0.0 : memref<1099511627776x2xf32>, memref<1099511627776x2xf32>
  return
}
