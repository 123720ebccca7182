// RUN: tfm-opt %s -split-input-file -verify-diagnostics
// Every tfm verifier rejects what it must, with a message that says what was expected.

func.func @param_empty_name() -> tensor<4xf32> {
  // expected-error @+1 {{expected a non-empty weight name}}
  %0 = tfm.param "" : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @unknown_op(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{custom op 'tfm.frobnicate' is unknown}}
  %0 = tfm.frobnicate %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @add_no_broadcast(%a: tensor<4x16xf32>, %b: tensor<8xf32>) -> tensor<4x16xf32> {
  // expected-error @+2 {{operand shapes do not broadcast: [4, 16] and [8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tfm.add %a, %b : tensor<4x16xf32>, tensor<8xf32> -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @add_wrong_result(%a: tensor<4x16xf32>, %b: tensor<16xf32>) -> tensor<4x8xf32> {
  // expected-error @+2 {{'tfm.add' op inferred type(s) 'tensor<4x16xf32>' are incompatible with return type(s) of operation 'tensor<4x8xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tfm.add %a, %b : tensor<4x16xf32>, tensor<16xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @mul_mixed_types(%a: tensor<4xf32>, %b: tensor<4xf16>) -> tensor<4xf32> {
  // expected-error @+2 {{expected element type 'f32' for every float operand and result, got 'f16'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tfm.mul %a, %b : tensor<4xf32>, tensor<4xf16> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @tanh_wrong_type(%a: tensor<4xi64>) -> tensor<4xi64> {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values}}
  %0 = tfm.tanh %a : tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

func.func @select_no_broadcast(%m: tensor<4x4xi1>, %a: tensor<4x5xf32>, %b: tensor<f32>) -> tensor<4x5xf32> {
  // expected-error @+2 {{operand shapes do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tfm.select %m, %a, %b : tensor<4x4xi1>, tensor<4x5xf32>, tensor<f32> -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

func.func @sequence_mask_ids(%s: tensor<2x4x4xf32>, %ids: tensor<5xi64>) -> tensor<4x4xi1> {
  // expected-error @+1 {{expected one sequence id per query ([4]), got sequence_ids [5]}}
  %0 = tfm.sequence_mask %s, %ids : tensor<2x4x4xf32>, tensor<5xi64> -> tensor<4x4xi1>
  return %0 : tensor<4x4xi1>
}

// -----

func.func @sequence_mask_keys(%s: tensor<2x4x6xf32>, %ids: tensor<4xi64>) -> tensor<4x6xi1> {
  // expected-error @+1 {{packed sequences have as many keys as queries, got scores [2, 4, 6]}}
  %0 = tfm.sequence_mask %s, %ids : tensor<2x4x6xf32>, tensor<4xi64> -> tensor<4x6xi1>
  return %0 : tensor<4x6xi1>
}

// -----

func.func @attention_sequences_cache(%q: tensor<4x16xf32>, %p: tensor<2x16xf32>, %ids: tensor<4xi64>) -> tensor<4x16xf32> {
  // expected-error @+1 {{packed sequences take no KV cache (past_k, past_v)}}
  %o, %pk, %pv = tfm.attention %q, %q, %q past(%p, %p) heads = 2 scale = 0.25 sequences %ids
      : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<4xi64>) -> (tensor<4x16xf32>, tensor<6x16xf32>, tensor<6x16xf32>)
  return %o : tensor<4x16xf32>
}

// -----

func.func @causal_mask_rank(%s: tensor<4x4xf32>) -> tensor<16xi1> {
  // expected-error @+1 {{expected a rank-2 [queries, keys] mask, got rank 1}}
  %0 = tfm.causal_mask %s : tensor<4x4xf32> -> tensor<16xi1>
  return %0 : tensor<16xi1>
}

// -----

func.func @causal_mask_shape(%s: tensor<2x4x5xf32>) -> tensor<4x4xi1> {
  // expected-error @+1 {{expected a mask of shape [4, 5] (the last two dimensions of the scores), got [4, 4]}}
  %0 = tfm.causal_mask %s : tensor<2x4x5xf32> -> tensor<4x4xi1>
  return %0 : tensor<4x4xi1>
}

// -----

func.func @causal_mask_too_few_keys(%s: tensor<4x2xf32>) -> tensor<4x2xi1> {
  // expected-error @+1 {{without an offset the mask needs at least as many keys as queries, got [4, 2]}}
  %0 = tfm.causal_mask %s : tensor<4x2xf32> -> tensor<4x2xi1>
  return %0 : tensor<4x2xi1>
}

// -----

func.func @cast_shape(%x: tensor<4xf16>) -> tensor<5xf32> {
  // expected-error @+1 {{cannot change the shape: [4] to [5]}}
  %0 = tfm.cast %x : tensor<4xf16> -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

func.func @reduce_axis(%x: tensor<4x16xf32>) -> tensor<4x1xf32> {
  // expected-error @+2 {{axis 2 is out of range for rank 2 (expected -2 <= axis < 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tfm.reduce_mean %x, axis = 2 : tensor<4x16xf32> -> tensor<4x1xf32>
  return %0 : tensor<4x1xf32>
}

// -----

func.func @reduce_result(%x: tensor<4x16xf32>) -> tensor<4xf32> {
  // expected-error @+2 {{'tfm.reduce_sum' op inferred type(s) 'tensor<4x1xf32>' are incompatible with return type(s) of operation 'tensor<4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tfm.reduce_sum %x, axis = -1 : tensor<4x16xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @reduce_type(%x: tensor<4x16xf32>) -> tensor<4x1xf16> {
  // expected-error @+2 {{'tfm.reduce_max' op inferred type(s) 'tensor<4x1xf32>' are incompatible with return type(s) of operation 'tensor<4x1xf16>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tfm.reduce_max %x, axis = 1 : tensor<4x16xf32> -> tensor<4x1xf16>
  return %0 : tensor<4x1xf16>
}

// -----

func.func @softmax_axis(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{axis -3 is out of range for rank 2}}
  %0 = tfm.softmax %x, axis = -3 : tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @matmul_rank(%a: tensor<8xf32>, %b: tensor<8x4xf32>) -> tensor<4xf32> {
  // expected-error @+2 {{expected operands of rank >= 2, got ranks 1 and 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tfm.matmul %a, %b : tensor<8xf32>, tensor<8x4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @matmul_k(%a: tensor<2x8xf32>, %b: tensor<7x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+2 {{contraction dimensions differ: lhs [2, 8] has K = 8, rhs [7, 4] has K = 7}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tfm.matmul %a, %b : tensor<2x8xf32>, tensor<7x4xf32> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @matmul_batch(%a: tensor<3x2x8xf32>, %b: tensor<2x8x4xf32>) -> tensor<3x2x4xf32> {
  // expected-error @+2 {{batch dimensions do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tfm.matmul %a, %b : tensor<3x2x8xf32>, tensor<2x8x4xf32> -> tensor<3x2x4xf32>
  return %0 : tensor<3x2x4xf32>
}

// -----

func.func @matmul_result(%a: tensor<2x8xf32>, %b: tensor<8x4xf32>) -> tensor<2x5xf32> {
  // expected-error @+2 {{'tfm.matmul' op inferred type(s) 'tensor<2x4xf32>' are incompatible with return type(s) of operation 'tensor<2x5xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tfm.matmul %a, %b : tensor<2x8xf32>, tensor<8x4xf32> -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @transpose_size(%a: tensor<2x8xf32>) -> tensor<8x2xf32> {
  // expected-error @+1 {{permutation has 3 entries for an input of rank 2}}
  %0 = tfm.transpose %a, permutation = [1, 0, 2] : tensor<2x8xf32> -> tensor<8x2xf32>
  return %0 : tensor<8x2xf32>
}

// -----

func.func @transpose_not_perm(%a: tensor<2x8xf32>) -> tensor<8x2xf32> {
  // expected-error @+1 {{permutation [1, 1] is not a permutation of [0, 2)}}
  %0 = tfm.transpose %a, permutation = [1, 1] : tensor<2x8xf32> -> tensor<8x2xf32>
  return %0 : tensor<8x2xf32>
}

// -----

func.func @transpose_result(%a: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{expected result shape [8, 2], got [2, 8]}}
  %0 = tfm.transpose %a, permutation = [1, 0] : tensor<2x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @reshape_count(%a: tensor<2x8xf32>) -> tensor<3x5xf32> {
  // expected-error @+1 {{cannot reshape [2, 8] (16 elements) into [3, 5] (15 elements)}}
  %0 = tfm.reshape %a : tensor<2x8xf32> -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

func.func @slice_bounds(%a: tensor<4x48xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{slice [40, 56) exceeds dimension 1 of size 48}}
  %0 = tfm.slice %a, offsets = [0, 40] : tensor<4x48xf32> -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @slice_rank(%a: tensor<4x48xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{expected 2 offsets and a result of rank 2}}
  %0 = tfm.slice %a, offsets = [0] : tensor<4x48xf32> -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @slice_negative(%a: tensor<4x48xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{offset -1 in dimension 0 is negative}}
  %0 = tfm.slice %a, offsets = [-1, 0] : tensor<4x48xf32> -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @split_sizes(%a: tensor<4x48xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{result sizes along axis 1 add up to 32, but the input has 48}}
  %0, %1 = tfm.split %a, axis = 1 : tensor<4x48xf32> -> tensor<4x16xf32>, tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @split_other_dim(%a: tensor<4x48xf32>) -> tensor<4x24xf32> {
  // expected-error @+1 {{result #1 differs from the input in dimension 0 (not the split axis)}}
  %0, %1 = tfm.split %a, axis = 1 : tensor<4x48xf32> -> tensor<4x24xf32>, tensor<3x24xf32>
  return %0 : tensor<4x24xf32>
}

// -----

func.func @concat_sizes(%a: tensor<4x16xf32>) -> tensor<9x16xf32> {
  // expected-error @+1 {{input sizes along axis 0 add up to 8, but the result has 9}}
  %0 = tfm.concat(%a, %a) axis = 0 : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<9x16xf32>
  return %0 : tensor<9x16xf32>
}

// -----

func.func @concat_rank(%a: tensor<4x16xf32>, %b: tensor<16xf32>) -> tensor<5x16xf32> {
  // expected-error @+1 {{input #1 must have the result's rank and element type}}
  %0 = tfm.concat(%a, %b) axis = 0 : tensor<4x16xf32>, tensor<16xf32> -> tensor<5x16xf32>
  return %0 : tensor<5x16xf32>
}

// -----

func.func @gather_result(%t: tensor<100x16xf32>, %i: tensor<4xi64>) -> tensor<4x8xf32> {
  // expected-error @+1 {{expected result shape [4, 16] (indices shape, then table rows), got [4, 8]}}
  %0 = tfm.gather %t[%i] : tensor<100x16xf32>, tensor<4xi64> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @embedding_learned_without_table(%i: tensor<4xi64>, %t: tensor<100x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{position = learned needs a position table}}
  %0 = tfm.embedding %i, %t position = learned : (tensor<4xi64>, tensor<100x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @embedding_table_with_sinusoidal(%i: tensor<4xi64>, %t: tensor<100x16xf32>, %p: tensor<32x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{a position table is only allowed with position = learned}}
  %0 = tfm.embedding %i, %t, %p position = sinusoidal : (tensor<4xi64>, tensor<100x16xf32>, tensor<32x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @embedding_odd_sinusoidal(%i: tensor<4xi64>, %t: tensor<100x15xf32>) -> tensor<4x15xf32> {
  // expected-error @+1 {{sinusoidal positions need an even width, got 15}}
  %0 = tfm.embedding %i, %t position = sinusoidal : (tensor<4xi64>, tensor<100x15xf32>) -> tensor<4x15xf32>
  return %0 : tensor<4x15xf32>
}

// -----

func.func @embedding_positions(%i: tensor<4xi64>, %t: tensor<100x16xf32>, %p: tensor<5xi64>) -> tensor<4x16xf32> {
  // expected-error @+1 {{expected one position per token, got positions [5] for tokens [4]}}
  %0 = tfm.embedding %i, %t position = none positions %p : (tensor<4xi64>, tensor<100x16xf32>, tensor<5xi64>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @embedding_tokens_rank(%i: tensor<1x4xi64>, %t: tensor<100x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{expected rank-1 tokens, got rank 2}}
  %0 = tfm.embedding %i, %t position = none : (tensor<1x4xi64>, tensor<100x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @layer_norm_scale(%x: tensor<4x16xf32>, %g: tensor<8xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{expected scale and bias of shape [16], got [8]}}
  %0 = tfm.layer_norm %x scale %g eps = 1.0e-5 : (tensor<4x16xf32>, tensor<8xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @layer_norm_sum_without_residual(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{the sum result is present exactly when a residual operand is}}
  %0, %1 = tfm.layer_norm %x eps = 1.0e-5 : (tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>)
  return %0 : tensor<4x16xf32>
}

// -----

func.func @layer_norm_negative_eps(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{epsilon must be non-negative}}
  %0 = tfm.layer_norm %x eps = -1.0 : (tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @linear_contraction(%x: tensor<4x16xf32>, %w: tensor<8x64xf32>) -> tensor<4x64xf32> {
  // expected-error @+1 {{input [4, 16] does not contract with weight [8, 64]}}
  %0 = tfm.linear %x, %w activation = none : (tensor<4x16xf32>, tensor<8x64xf32>) -> tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

// -----

func.func @linear_bias(%x: tensor<4x16xf32>, %w: tensor<16x64xf32>, %b: tensor<16xf32>) -> tensor<4x64xf32> {
  // expected-error @+1 {{expected bias of shape [64], got [16]}}
  %0 = tfm.linear %x, %w bias %b activation = relu : (tensor<4x16xf32>, tensor<16x64xf32>, tensor<16xf32>) -> tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

// -----

func.func @linear_unknown_activation(%x: tensor<4x16xf32>, %w: tensor<16x64xf32>) -> tensor<4x64xf32> {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'activation' [none, gelu_tanh, gelu_erf, relu, silu]}}
  %0 = tfm.linear %x, %w activation = swish : (tensor<4x16xf32>, tensor<16x64xf32>) -> tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

// -----

func.func @attention_heads(%q: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{width 16 is not divisible by 3 heads}}
  %0 = tfm.attention %q, %q, %q heads = 3 scale = 1.0 : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @attention_rope_too_wide(%q: tensor<4x16xf32>, %inv: tensor<5xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{expected an inv_freq table of shape [r/2] with 0 < r <= the head dim (8), got [5]}}
  %0 = tfm.attention %q, %q, %q heads = 2 scale = 1.0 rope %inv : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<5xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @attention_rope_f16(%q: tensor<4x16xf32>, %inv: tensor<2xf16>) -> tensor<4x16xf32> {
  // expected-error @+1 {{expected an f32 inv_freq table}}
  %0 = tfm.attention %q, %q, %q heads = 2 scale = 1.0 rope %inv : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<2xf16>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @attention_kv_heads(%q: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{kv_heads must be positive and divide heads (4), got 3}}
  %0 = tfm.attention %q, %q, %q heads = 4 kv_heads = 3 scale = 1.0 : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @attention_kv_width(%q: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{expected k and v of one type, shape [4, 8] (2 kv heads of 4), got k [4, 16] and v [4, 16]}}
  %0 = tfm.attention %q, %q, %q heads = 4 kv_heads = 2 scale = 1.0 : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @attention_window_not_causal(%q: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{a window needs causal attention}}
  %0 = tfm.attention %q, %q, %q heads = 2 scale = 1.0 window = 2 : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @causal_mask_window(%s: tensor<4x4xf32>) -> tensor<4x4xi1> {
  // expected-error @+1 {{window must be positive, got 0}}
  %0 = tfm.causal_mask %s window = 0 : tensor<4x4xf32> -> tensor<4x4xi1>
  return %0 : tensor<4x4xi1>
}

// -----

func.func @attention_present_without_past(%q: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{expected 0 present (key, value) results, got 2}}
  %0, %1, %2 = tfm.attention %q, %q, %q heads = 2 scale = 1.0 : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>)
  return %0 : tensor<4x16xf32>
}

// -----

func.func @attention_present_shape(%q: tensor<4x16xf32>, %p: tensor<3x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{expected present results of shape [7, 16]}}
  %0, %1, %2 = tfm.attention %q, %q, %q past(%p, %p) heads = 2 scale = 1.0 : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<3x16xf32>, tensor<3x16xf32>) -> (tensor<4x16xf32>, tensor<6x16xf32>, tensor<6x16xf32>)
  return %0 : tensor<4x16xf32>
}

// -----

func.func @attention_mixed_qkv(%q: tensor<4x16xf32>, %k: tensor<5x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{expected k and v of one type, shape [4, 16] (2 kv heads of 8), got k [5, 16] and v [4, 16]}}
  %0 = tfm.attention %q, %k, %q heads = 2 scale = 1.0 : (tensor<4x16xf32>, tensor<5x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// A NaN epsilon made every output NaN without an error.
func.func @layer_norm_nan_eps(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'tfm.layer_norm' op attribute 'epsilon' failed to satisfy constraint: 64-bit float attribute whose value is finite}}
  %0 = tfm.layer_norm %x eps = 0x7FF8000000000000 : (tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @attention_inf_scale(%q: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'tfm.attention' op attribute 'scale' failed to satisfy constraint: 64-bit float attribute whose value is finite}}
  %0 = tfm.attention %q, %q, %q heads = 2 scale = 0x7FF0000000000000 : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// Sizes are checked before any verifier multiplies dimensions.
func.func @huge(%x: tensor<4294967296x4294967296xf32>) -> tensor<4294967296x4294967296xf32> {
  // expected-error @+1 {{'tfm.relu' op operand #0 of type 'tensor<4294967296x4294967296xf32>' has more than 2^40 bytes (1 TiB), the largest tensor tfm supports}}
  %0 = tfm.relu %x : tensor<4294967296x4294967296xf32>
  return %0 : tensor<4294967296x4294967296xf32>
}
