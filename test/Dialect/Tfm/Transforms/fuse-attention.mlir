// RUN: tfm-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(tfm-fuse-attention{remarks=true}))' -verify-diagnostics | FileCheck %s
// tfm-fuse-attention: packed or separate projections, scales, masks and KV
// caches that fuse; near misses (wrong mask direction, wrong softmax axis,
// scaled V) that must not.

// Packed QKV, KV cache, causal select mask, divide by sqrt(head_dim).
// CHECK-LABEL: func @packed_with_cache
// CHECK-SAME: (%[[QKV:.*]]: tensor<?x48xf32>, %[[PK:.*]]: tensor<?x16xf32>, %[[PV:.*]]: tensor<?x16xf32>)
// CHECK: %[[S:.*]]:3 = tfm.split %[[QKV]]
// CHECK-NEXT: %[[O:.*]], %[[P:.*]]:2 = tfm.attention %[[S]]#0, %[[S]]#1, %[[S]]#2 past(%[[PK]], %[[PV]]) heads = 2 scale = 0.35355339664408242 causal
// CHECK-NEXT: return %[[O]], %[[P]]#0, %[[P]]#1
func.func @packed_with_cache(%qkv: tensor<?x48xf32>, %pk: tensor<?x16xf32>, %pv: tensor<?x16xf32>)
    -> (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>) {
  %q, %k, %v = tfm.split %qkv, axis = 1 : tensor<?x48xf32> -> tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>
  %ka = tfm.concat(%pk, %k) axis = 0 : tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x16xf32>
  %va = tfm.concat(%pv, %v) axis = 0 : tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x16xf32>
  %q3 = tfm.reshape %q : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %qh = tfm.transpose %q3, permutation = [1, 0, 2] : tensor<?x2x8xf32> -> tensor<2x?x8xf32>
  %k3 = tfm.reshape %ka : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kh = tfm.transpose %k3, permutation = [1, 2, 0] : tensor<?x2x8xf32> -> tensor<2x8x?xf32>
  %v3 = tfm.reshape %va : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %vh = tfm.transpose %v3, permutation = [1, 0, 2] : tensor<?x2x8xf32> -> tensor<2x?x8xf32>
  %s = tfm.matmul %qh, %kh : tensor<2x?x8xf32>, tensor<2x8x?xf32> -> tensor<2x?x?xf32>
  %c = tfm.constant dense<2.82842712> : tensor<f32>
  %ss = tfm.div %s, %c : tensor<2x?x?xf32>, tensor<f32> -> tensor<2x?x?xf32>
  %m = tfm.causal_mask %ss : tensor<2x?x?xf32> -> tensor<?x?xi1>
  %ninf = tfm.constant dense<-3.40282347e+38> : tensor<f32>
  %sm = tfm.select %m, %ss, %ninf : tensor<?x?xi1>, tensor<2x?x?xf32>, tensor<f32> -> tensor<2x?x?xf32>
  // expected-remark @+1 {{fused 2 heads of 8, causal, with a KV cache}}
  %p = tfm.softmax %sm, axis = -1 : tensor<2x?x?xf32>
  %o = tfm.matmul %p, %vh : tensor<2x?x?xf32>, tensor<2x?x8xf32> -> tensor<2x?x8xf32>
  %ot = tfm.transpose %o, permutation = [1, 0, 2] : tensor<2x?x8xf32> -> tensor<?x2x8xf32>
  %out = tfm.reshape %ot : tensor<?x2x8xf32> -> tensor<?x16xf32>
  return %out, %ka, %va : tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>
}

// -----

// Three separate projections, multiply by the scale, no mask (bidirectional), no cache.
// CHECK-LABEL: func @separate_bidirectional
// CHECK-NEXT: %[[O:.*]] = tfm.attention %arg0, %arg1, %arg2 heads = 2 scale = 1.250000e-01 :
// CHECK-NEXT: return %[[O]]
func.func @separate_bidirectional(%q: tensor<4x16xf32>, %k: tensor<4x16xf32>, %v: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %q3 = tfm.reshape %q : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %qh = tfm.transpose %q3, permutation = [1, 0, 2] : tensor<4x2x8xf32> -> tensor<2x4x8xf32>
  %k3 = tfm.reshape %k : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %kh = tfm.transpose %k3, permutation = [1, 2, 0] : tensor<4x2x8xf32> -> tensor<2x8x4xf32>
  %v3 = tfm.reshape %v : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %vh = tfm.transpose %v3, permutation = [1, 0, 2] : tensor<4x2x8xf32> -> tensor<2x4x8xf32>
  %s = tfm.matmul %qh, %kh : tensor<2x4x8xf32>, tensor<2x8x4xf32> -> tensor<2x4x4xf32>
  %c = tfm.constant dense<0.125> : tensor<f32>
  %ss = tfm.mul %c, %s : tensor<f32>, tensor<2x4x4xf32> -> tensor<2x4x4xf32>
  // expected-remark @+1 {{fused 2 heads of 8, bidirectional}}
  %p = tfm.softmax %ss, axis = 2 : tensor<2x4x4xf32>
  %o = tfm.matmul %p, %vh : tensor<2x4x4xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  %ot = tfm.transpose %o, permutation = [1, 0, 2] : tensor<2x4x8xf32> -> tensor<4x2x8xf32>
  %out = tfm.reshape %ot : tensor<4x2x8xf32> -> tensor<4x16xf32>
  return %out : tensor<4x16xf32>
}

// -----

// The scale folded into Q before the head split; an additive mask.
// CHECK-LABEL: func @scaled_q_additive_mask
// CHECK: tfm.attention %arg0, %arg1, %arg2 heads = 2 scale = 5.000000e-01 causal
func.func @scaled_q_additive_mask(%q: tensor<4x16xf32>, %k: tensor<4x16xf32>, %v: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %c = tfm.constant dense<0.5> : tensor<f32>
  %qs = tfm.mul %q, %c : tensor<4x16xf32>, tensor<f32> -> tensor<4x16xf32>
  %q3 = tfm.reshape %qs : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %qh = tfm.transpose %q3, permutation = [1, 0, 2] : tensor<4x2x8xf32> -> tensor<2x4x8xf32>
  %k3 = tfm.reshape %k : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %kh = tfm.transpose %k3, permutation = [1, 2, 0] : tensor<4x2x8xf32> -> tensor<2x8x4xf32>
  %v3 = tfm.reshape %v : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %vh = tfm.transpose %v3, permutation = [1, 0, 2] : tensor<4x2x8xf32> -> tensor<2x4x8xf32>
  %s = tfm.matmul %qh, %kh : tensor<2x4x8xf32>, tensor<2x8x4xf32> -> tensor<2x4x4xf32>
  %m = tfm.causal_mask %s : tensor<2x4x4xf32> -> tensor<4x4xi1>
  %zero = tfm.constant dense<0.0> : tensor<f32>
  %ninf = tfm.constant dense<0xFF800000> : tensor<f32>
  %bias = tfm.select %m, %zero, %ninf : tensor<4x4xi1>, tensor<f32>, tensor<f32> -> tensor<4x4xf32>
  %sm = tfm.add %s, %bias : tensor<2x4x4xf32>, tensor<4x4xf32> -> tensor<2x4x4xf32>
  // expected-remark @+1 {{fused 2 heads of 8, causal}}
  %p = tfm.softmax %sm, axis = -1 : tensor<2x4x4xf32>
  %o = tfm.matmul %p, %vh : tensor<2x4x4xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  %ot = tfm.transpose %o, permutation = [1, 0, 2] : tensor<2x4x8xf32> -> tensor<4x2x8xf32>
  %out = tfm.reshape %ot : tensor<4x2x8xf32> -> tensor<4x16xf32>
  return %out : tensor<4x16xf32>
}

// -----

// Near miss: the select keeps the future and masks the past.
// CHECK-LABEL: func @mask_wrong_direction
// CHECK-NOT: tfm.attention
func.func @mask_wrong_direction(%q: tensor<4x16xf32>, %k: tensor<4x16xf32>, %v: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %q3 = tfm.reshape %q : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %qh = tfm.transpose %q3, permutation = [1, 0, 2] : tensor<4x2x8xf32> -> tensor<2x4x8xf32>
  %k3 = tfm.reshape %k : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %kh = tfm.transpose %k3, permutation = [1, 2, 0] : tensor<4x2x8xf32> -> tensor<2x8x4xf32>
  %v3 = tfm.reshape %v : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %vh = tfm.transpose %v3, permutation = [1, 0, 2] : tensor<4x2x8xf32> -> tensor<2x4x8xf32>
  %s = tfm.matmul %qh, %kh : tensor<2x4x8xf32>, tensor<2x8x4xf32> -> tensor<2x4x4xf32>
  %m = tfm.causal_mask %s : tensor<2x4x4xf32> -> tensor<4x4xi1>
  %ninf = tfm.constant dense<-1.0e+30> : tensor<f32>
  %sm = tfm.select %m, %ninf, %s : tensor<4x4xi1>, tensor<f32>, tensor<2x4x4xf32> -> tensor<2x4x4xf32>
  // expected-remark @+1 {{not fused: the mask keeps future positions (select arms are swapped)}}
  %p = tfm.softmax %sm, axis = -1 : tensor<2x4x4xf32>
  %o = tfm.matmul %p, %vh : tensor<2x4x4xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  %ot = tfm.transpose %o, permutation = [1, 0, 2] : tensor<2x4x8xf32> -> tensor<4x2x8xf32>
  %out = tfm.reshape %ot : tensor<4x2x8xf32> -> tensor<4x16xf32>
  return %out : tensor<4x16xf32>
}

// -----

// Near miss: softmax over the query axis.
// CHECK-LABEL: func @softmax_wrong_axis
// CHECK-NOT: tfm.attention
func.func @softmax_wrong_axis(%q: tensor<4x16xf32>, %k: tensor<4x16xf32>, %v: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %q3 = tfm.reshape %q : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %qh = tfm.transpose %q3, permutation = [1, 0, 2] : tensor<4x2x8xf32> -> tensor<2x4x8xf32>
  %k3 = tfm.reshape %k : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %kh = tfm.transpose %k3, permutation = [1, 2, 0] : tensor<4x2x8xf32> -> tensor<2x8x4xf32>
  %v3 = tfm.reshape %v : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %vh = tfm.transpose %v3, permutation = [1, 0, 2] : tensor<4x2x8xf32> -> tensor<2x4x8xf32>
  %s = tfm.matmul %qh, %kh : tensor<2x4x8xf32>, tensor<2x8x4xf32> -> tensor<2x4x4xf32>
  // expected-remark @+1 {{not fused: softmax is over axis 1, not the key axis}}
  %p = tfm.softmax %s, axis = 1 : tensor<2x4x4xf32>
  %o = tfm.matmul %p, %vh : tensor<2x4x4xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  %ot = tfm.transpose %o, permutation = [1, 0, 2] : tensor<2x4x8xf32> -> tensor<4x2x8xf32>
  %out = tfm.reshape %ot : tensor<4x2x8xf32> -> tensor<4x16xf32>
  return %out : tensor<4x16xf32>
}

// -----

// Near miss: the scale is applied to V instead of the scores.
// CHECK-LABEL: func @scaled_v
// CHECK-NOT: tfm.attention
func.func @scaled_v(%q: tensor<4x16xf32>, %k: tensor<4x16xf32>, %v: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %q3 = tfm.reshape %q : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %qh = tfm.transpose %q3, permutation = [1, 0, 2] : tensor<4x2x8xf32> -> tensor<2x4x8xf32>
  %k3 = tfm.reshape %k : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %kh = tfm.transpose %k3, permutation = [1, 2, 0] : tensor<4x2x8xf32> -> tensor<2x8x4xf32>
  %v3 = tfm.reshape %v : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %vh = tfm.transpose %v3, permutation = [1, 0, 2] : tensor<4x2x8xf32> -> tensor<2x4x8xf32>
  %c = tfm.constant dense<0.125> : tensor<f32>
  %vs = tfm.mul %vh, %c : tensor<2x4x8xf32>, tensor<f32> -> tensor<2x4x8xf32>
  %s = tfm.matmul %qh, %kh : tensor<2x4x8xf32>, tensor<2x8x4xf32> -> tensor<2x4x4xf32>
  // expected-remark @+1 {{not fused: a scale is applied to V}}
  %p = tfm.softmax %s, axis = -1 : tensor<2x4x4xf32>
  %o = tfm.matmul %p, %vs : tensor<2x4x4xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  %ot = tfm.transpose %o, permutation = [1, 0, 2] : tensor<2x4x8xf32> -> tensor<4x2x8xf32>
  %out = tfm.reshape %ot : tensor<4x2x8xf32> -> tensor<4x16xf32>
  return %out : tensor<4x16xf32>
}

// -----

// Not attention at all: a plain softmax.
// CHECK-LABEL: func @plain_softmax
// CHECK: tfm.softmax
func.func @plain_softmax(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-remark @+1 {{not fused: the scores are not [heads, queries, keys]}}
  %p = tfm.softmax %x, axis = -1 : tensor<4x16xf32>
  return %p : tensor<4x16xf32>
}

// -----

// A KV cache whose presents nobody uses: the concatenations die with the
// matched subgraph (they are replaced before anything is erased).
// CHECK-LABEL: func @cache_presents_unused
// CHECK: %[[S:.*]]:3 = tfm.split
// CHECK-NEXT: %[[O:.*]], %{{.*}}:2 = tfm.attention %[[S]]#0, %[[S]]#1, %[[S]]#2 past(%arg1, %arg2) heads = 2
// CHECK-NEXT: return %[[O]] :
func.func @cache_presents_unused(%qkv: tensor<?x48xf32>, %pk: tensor<?x16xf32>, %pv: tensor<?x16xf32>)
    -> tensor<?x16xf32> {
  %q, %k, %v = tfm.split %qkv, axis = 1 : tensor<?x48xf32> -> tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>
  %ka = tfm.concat(%pk, %k) axis = 0 : tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x16xf32>
  %va = tfm.concat(%pv, %v) axis = 0 : tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x16xf32>
  %q3 = tfm.reshape %q : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %qh = tfm.transpose %q3, permutation = [1, 0, 2] : tensor<?x2x8xf32> -> tensor<2x?x8xf32>
  %k3 = tfm.reshape %ka : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kh = tfm.transpose %k3, permutation = [1, 2, 0] : tensor<?x2x8xf32> -> tensor<2x8x?xf32>
  %v3 = tfm.reshape %va : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %vh = tfm.transpose %v3, permutation = [1, 0, 2] : tensor<?x2x8xf32> -> tensor<2x?x8xf32>
  %s = tfm.matmul %qh, %kh : tensor<2x?x8xf32>, tensor<2x8x?xf32> -> tensor<2x?x?xf32>
  %c = tfm.constant dense<2.82842712> : tensor<f32>
  %ss = tfm.div %s, %c : tensor<2x?x?xf32>, tensor<f32> -> tensor<2x?x?xf32>
  // expected-remark @+1 {{fused 2 heads of 8, bidirectional, with a KV cache}}
  %p = tfm.softmax %ss, axis = -1 : tensor<2x?x?xf32>
  %o = tfm.matmul %p, %vh : tensor<2x?x?xf32>, tensor<2x?x8xf32> -> tensor<2x?x8xf32>
  %ot = tfm.transpose %o, permutation = [1, 0, 2] : tensor<2x?x8xf32> -> tensor<?x2x8xf32>
  %out = tfm.reshape %ot : tensor<?x2x8xf32> -> tensor<?x16xf32>
  return %out : tensor<?x16xf32>
}

// -----

// Grouped-query attention as transformers' repeat_kv writes it: 4 query heads
// on 2 key/value heads, each repeated twice; a sliding window of 3 on the
// causal mask.
// CHECK-LABEL: func @grouped_query_window
// CHECK-NEXT: %[[O:.*]] = tfm.attention %arg0, %arg1, %arg2 heads = 4 kv_heads = 2 scale = 5.000000e-01 causal window = 3 :
// CHECK-SAME: (tensor<5x16xf32>, tensor<5x8xf32>, tensor<5x8xf32>) -> tensor<5x16xf32>
// CHECK-NEXT: return %[[O]]
func.func @grouped_query_window(%q: tensor<5x16xf32>, %k: tensor<5x8xf32>, %v: tensor<5x8xf32>) -> tensor<5x16xf32> {
  %q3 = tfm.reshape %q : tensor<5x16xf32> -> tensor<5x4x4xf32>
  %qh = tfm.transpose %q3, permutation = [1, 0, 2] : tensor<5x4x4xf32> -> tensor<4x5x4xf32>
  %k1 = tfm.reshape %k : tensor<5x8xf32> -> tensor<5x2x1x4xf32>
  %k2 = tfm.concat(%k1, %k1) axis = 2 : tensor<5x2x1x4xf32>, tensor<5x2x1x4xf32> -> tensor<5x2x2x4xf32>
  %k3 = tfm.reshape %k2 : tensor<5x2x2x4xf32> -> tensor<5x4x4xf32>
  %kh = tfm.transpose %k3, permutation = [1, 2, 0] : tensor<5x4x4xf32> -> tensor<4x4x5xf32>
  %v1 = tfm.reshape %v : tensor<5x8xf32> -> tensor<5x2x1x4xf32>
  %v2 = tfm.concat(%v1, %v1) axis = 2 : tensor<5x2x1x4xf32>, tensor<5x2x1x4xf32> -> tensor<5x2x2x4xf32>
  %v3 = tfm.reshape %v2 : tensor<5x2x2x4xf32> -> tensor<5x4x4xf32>
  %vh = tfm.transpose %v3, permutation = [1, 0, 2] : tensor<5x4x4xf32> -> tensor<4x5x4xf32>
  %s = tfm.matmul %qh, %kh : tensor<4x5x4xf32>, tensor<4x4x5xf32> -> tensor<4x5x5xf32>
  %two = tfm.constant dense<2.0> : tensor<f32>
  %ss = tfm.div %s, %two : tensor<4x5x5xf32>, tensor<f32> -> tensor<4x5x5xf32>
  %m = tfm.causal_mask %ss window = 3 : tensor<4x5x5xf32> -> tensor<5x5xi1>
  %ninf = tfm.constant dense<-3.40282347E+38> : tensor<f32>
  %sm = tfm.select %m, %ss, %ninf : tensor<5x5xi1>, tensor<4x5x5xf32>, tensor<f32> -> tensor<4x5x5xf32>
  // expected-remark @+1 {{fused 4 heads of 4 on 2 key/value heads, causal, window 3}}
  %p = tfm.softmax %sm, axis = -1 : tensor<4x5x5xf32>
  %o = tfm.matmul %p, %vh : tensor<4x5x5xf32>, tensor<4x5x4xf32> -> tensor<4x5x4xf32>
  %ot = tfm.transpose %o, permutation = [1, 0, 2] : tensor<4x5x4xf32> -> tensor<5x4x4xf32>
  %out = tfm.reshape %ot : tensor<5x4x4xf32> -> tensor<5x16xf32>
  return %out : tensor<5x16xf32>
}

// -----

// Near miss: K and V repeat different key/value heads (K grouped in twos, V
// not grouped at all): not one grouped attention.
// CHECK-LABEL: func @grouped_k_only
// CHECK-NOT: tfm.attention
func.func @grouped_k_only(%q: tensor<5x16xf32>, %k: tensor<5x8xf32>, %v: tensor<5x16xf32>) -> tensor<5x16xf32> {
  %q3 = tfm.reshape %q : tensor<5x16xf32> -> tensor<5x4x4xf32>
  %qh = tfm.transpose %q3, permutation = [1, 0, 2] : tensor<5x4x4xf32> -> tensor<4x5x4xf32>
  %k1 = tfm.reshape %k : tensor<5x8xf32> -> tensor<5x2x1x4xf32>
  %k2 = tfm.concat(%k1, %k1) axis = 2 : tensor<5x2x1x4xf32>, tensor<5x2x1x4xf32> -> tensor<5x2x2x4xf32>
  %k3 = tfm.reshape %k2 : tensor<5x2x2x4xf32> -> tensor<5x4x4xf32>
  %kh = tfm.transpose %k3, permutation = [1, 2, 0] : tensor<5x4x4xf32> -> tensor<4x4x5xf32>
  %v3 = tfm.reshape %v : tensor<5x16xf32> -> tensor<5x4x4xf32>
  %vh = tfm.transpose %v3, permutation = [1, 0, 2] : tensor<5x4x4xf32> -> tensor<4x5x4xf32>
  %s = tfm.matmul %qh, %kh : tensor<4x5x4xf32>, tensor<4x4x5xf32> -> tensor<4x5x5xf32>
  // expected-remark @+1 {{not fused: K and V are grouped into different key/value heads}}
  %p = tfm.softmax %s, axis = -1 : tensor<4x5x5xf32>
  %o = tfm.matmul %p, %vh : tensor<4x5x5xf32>, tensor<4x5x4xf32> -> tensor<4x5x4xf32>
  %ot = tfm.transpose %o, permutation = [1, 0, 2] : tensor<4x5x4xf32> -> tensor<5x4x4xf32>
  %out = tfm.reshape %ot : tensor<5x4x4xf32> -> tensor<5x16xf32>
  return %out : tensor<5x16xf32>
}

// -----

// Packed sequences (an encoder's batch in one call): a select with a
// sequence_mask fuses into bidirectional attention with `sequences`.
// CHECK-LABEL: func @packed_sequences
// CHECK-SAME: (%[[Q:.*]]: tensor<?x8xf32>, %[[K:.*]]: tensor<?x8xf32>, %[[V:.*]]: tensor<?x8xf32>, %[[IDS:.*]]: tensor<?xi64>)
// CHECK-NEXT: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] heads = 2 scale = 5.000000e-01 sequences %[[IDS]] :
// CHECK-NEXT: return %[[O]]
func.func @packed_sequences(%q: tensor<?x8xf32>, %k: tensor<?x8xf32>, %v: tensor<?x8xf32>, %ids: tensor<?xi64>) -> tensor<?x8xf32> {
  %q3 = tfm.reshape %q : tensor<?x8xf32> -> tensor<?x2x4xf32>
  %qh = tfm.transpose %q3, permutation = [1, 0, 2] : tensor<?x2x4xf32> -> tensor<2x?x4xf32>
  %k3 = tfm.reshape %k : tensor<?x8xf32> -> tensor<?x2x4xf32>
  %kh = tfm.transpose %k3, permutation = [1, 2, 0] : tensor<?x2x4xf32> -> tensor<2x4x?xf32>
  %v3 = tfm.reshape %v : tensor<?x8xf32> -> tensor<?x2x4xf32>
  %vh = tfm.transpose %v3, permutation = [1, 0, 2] : tensor<?x2x4xf32> -> tensor<2x?x4xf32>
  %s = tfm.matmul %qh, %kh : tensor<2x?x4xf32>, tensor<2x4x?xf32> -> tensor<2x?x?xf32>
  %two = tfm.constant dense<2.0> : tensor<f32>
  %ss = tfm.div %s, %two : tensor<2x?x?xf32>, tensor<f32> -> tensor<2x?x?xf32>
  %m = tfm.sequence_mask %ss, %ids : tensor<2x?x?xf32>, tensor<?xi64> -> tensor<?x?xi1>
  %ninf = tfm.constant dense<-3.40282347E+38> : tensor<f32>
  %sm = tfm.select %m, %ss, %ninf : tensor<?x?xi1>, tensor<2x?x?xf32>, tensor<f32> -> tensor<2x?x?xf32>
  // expected-remark @+1 {{fused 2 heads of 4, bidirectional, packed sequences}}
  %p = tfm.softmax %sm, axis = -1 : tensor<2x?x?xf32>
  %o = tfm.matmul %p, %vh : tensor<2x?x?xf32>, tensor<2x?x4xf32> -> tensor<2x?x4xf32>
  %ot = tfm.transpose %o, permutation = [1, 0, 2] : tensor<2x?x4xf32> -> tensor<?x2x4xf32>
  %out = tfm.reshape %ot : tensor<?x2x4xf32> -> tensor<?x8xf32>
  return %out : tensor<?x8xf32>
}

// -----

// Near miss: the sequence mask's arms are swapped (it would keep the other
// sequences' keys and drop the own ones).
// CHECK-LABEL: func @packed_sequences_swapped
// CHECK-NOT: tfm.attention
func.func @packed_sequences_swapped(%q: tensor<?x8xf32>, %k: tensor<?x8xf32>, %v: tensor<?x8xf32>, %ids: tensor<?xi64>) -> tensor<?x8xf32> {
  %q3 = tfm.reshape %q : tensor<?x8xf32> -> tensor<?x2x4xf32>
  %qh = tfm.transpose %q3, permutation = [1, 0, 2] : tensor<?x2x4xf32> -> tensor<2x?x4xf32>
  %k3 = tfm.reshape %k : tensor<?x8xf32> -> tensor<?x2x4xf32>
  %kh = tfm.transpose %k3, permutation = [1, 2, 0] : tensor<?x2x4xf32> -> tensor<2x4x?xf32>
  %v3 = tfm.reshape %v : tensor<?x8xf32> -> tensor<?x2x4xf32>
  %vh = tfm.transpose %v3, permutation = [1, 0, 2] : tensor<?x2x4xf32> -> tensor<2x?x4xf32>
  %s = tfm.matmul %qh, %kh : tensor<2x?x4xf32>, tensor<2x4x?xf32> -> tensor<2x?x?xf32>
  %m = tfm.sequence_mask %s, %ids : tensor<2x?x?xf32>, tensor<?xi64> -> tensor<?x?xi1>
  %ninf = tfm.constant dense<-3.40282347E+38> : tensor<f32>
  %sm = tfm.select %m, %ninf, %s : tensor<?x?xi1>, tensor<f32>, tensor<2x?x?xf32> -> tensor<2x?x?xf32>
  // expected-remark @+1 {{not fused: the mask keeps other sequences' keys (select arms are swapped)}}
  %p = tfm.softmax %sm, axis = -1 : tensor<2x?x?xf32>
  %o = tfm.matmul %p, %vh : tensor<2x?x?xf32>, tensor<2x?x4xf32> -> tensor<2x?x4xf32>
  %ot = tfm.transpose %o, permutation = [1, 0, 2] : tensor<2x?x4xf32> -> tensor<?x2x4xf32>
  %out = tfm.reshape %ot : tensor<?x2x4xf32> -> tensor<?x8xf32>
  return %out : tensor<?x8xf32>
}
