// Every tfm op the backend lowers, compiled, run and compared with the
// reference evaluator. Data movement (transpose, reshape, slice, split,
// concat), batched matmul with broadcast, reductions, every unary op, binary
// ops with broadcasting on either side, scalar constants, tensor constants,
// and the fused linear / layer_norm ops with every epilogue.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: tfmc %s -o %t/model
// RUN: tfm-ref %s --make-inputs=%t/in --seed=3
// RUN: %t/model --in %t/in0.npy --in %t/in1.npy --in %t/in2.npy --in %t/in3.npy --out %t/o0.npy --out %t/o1.npy --out %t/o2.npy --out %t/o3.npy --out %t/o4.npy
// RUN: tfm-ref %s --in %t/in0.npy --in %t/in1.npy --in %t/in2.npy --in %t/in3.npy --compare %t/o0.npy --compare %t/o1.npy --compare %t/o2.npy --compare %t/o3.npy --compare %t/o4.npy --rtol=1e-5 --atol=1e-6 | FileCheck %s
// CHECK: result #0: {{.*}} 0 outside
// CHECK: result #1: {{.*}} 0 outside
// CHECK: result #2: {{.*}} 0 outside
// CHECK: result #3: {{.*}} 0 outside
// CHECK: result #4: {{.*}} 0 outside
// RUN: tfmc -O0 %s -o %t/model0
// RUN: %t/model0 --in %t/in0.npy --in %t/in1.npy --in %t/in2.npy --in %t/in3.npy --out %t/p0.npy --out %t/p1.npy --out %t/p2.npy --out %t/p3.npy --out %t/p4.npy
// RUN: tfm-ref %s --in %t/in0.npy --in %t/in1.npy --in %t/in2.npy --in %t/in3.npy --compare %t/p0.npy --compare %t/p1.npy --compare %t/p2.npy --compare %t/p3.npy --compare %t/p4.npy --rtol=1e-5 --atol=1e-6

func.func @main(%x: tensor<4x48xf32>, %w: tensor<16x24xf32>, %b: tensor<24xf32>, %a: tensor<2x4x8xf32>)
    -> (tensor<4x24xf32>, tensor<8x4xf32>, tensor<4x1xf32>, tensor<2x4x4xf32>, tensor<2x3x4xf32>) {
  // Head split in the attention style: split the packed projection, then
  // reshape + transpose into heads.
  %q, %k, %v = tfm.split %x, axis = 1 : tensor<4x48xf32> -> tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
  %qh = tfm.reshape %q : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %qt = tfm.transpose %qh, permutation = [1, 0, 2] : tensor<4x2x8xf32> -> tensor<2x4x8xf32>
  %kh = tfm.reshape %k : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %kt = tfm.transpose %kh, permutation = [1, 2, 0] : tensor<4x2x8xf32> -> tensor<2x8x4xf32>
  %s = tfm.matmul %qt, %kt : tensor<2x4x8xf32>, tensor<2x8x4xf32> -> tensor<2x4x4xf32>
  %scale = tfm.constant dense<0.35355339> : tensor<f32>
  %ss = tfm.mul %s, %scale : tensor<2x4x4xf32>, tensor<f32> -> tensor<2x4x4xf32>
  %m = tfm.reduce_max %ss, axis = -1 : tensor<2x4x4xf32> -> tensor<2x4x1xf32>
  %sm = tfm.sub %ss, %m : tensor<2x4x4xf32>, tensor<2x4x1xf32> -> tensor<2x4x4xf32>
  %e = tfm.exp %sm : tensor<2x4x4xf32>
  %den = tfm.reduce_sum %e, axis = 2 : tensor<2x4x4xf32> -> tensor<2x4x1xf32>
  %p = tfm.div %e, %den : tensor<2x4x4xf32>, tensor<2x4x1xf32> -> tensor<2x4x4xf32>

  // Batched matmul with a shared rank-2 right-hand side, a broadcast on the
  // left of a non-commutative op, and every unary op.
  %wv = tfm.slice %w, offsets = [8, 4] : tensor<16x24xf32> -> tensor<8x3xf32>
  %av = tfm.matmul %a, %wv : tensor<2x4x8xf32>, tensor<8x3xf32> -> tensor<2x4x3xf32>
  %avt = tfm.transpose %av, permutation = [0, 2, 1] : tensor<2x4x3xf32> -> tensor<2x3x4xf32>
  %row = tfm.constant dense<[0.5, -1.0, 2.0, 0.25]> : tensor<4xf32>
  %d = tfm.sub %row, %avt : tensor<4xf32>, tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  %r = tfm.relu %d : tensor<2x3x4xf32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %r1 = tfm.add %r, %one : tensor<2x3x4xf32>, tensor<f32> -> tensor<2x3x4xf32>
  %sq = tfm.sqrt %r1 : tensor<2x3x4xf32>
  %rs = tfm.rsqrt %r1 : tensor<2x3x4xf32>
  %prod = tfm.mul %sq, %rs : tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  %er = tfm.erf %d : tensor<2x3x4xf32>
  %th = tfm.tanh %er : tensor<2x3x4xf32>
  %half = tfm.constant dense<0.5> : tensor<f32>
  %pw = tfm.pow %r1, %half : tensor<2x3x4xf32>, tensor<f32> -> tensor<2x3x4xf32>
  %t1 = tfm.add %prod, %th : tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  %t2 = tfm.add %t1, %pw : tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x3x4xf32>

  // Fused ops: a linear with every epilogue and a residual layer norm.
  %h = tfm.linear %v, %w bias %b activation = gelu_tanh : (tensor<4x16xf32>, tensor<16x24xf32>, tensor<24xf32>) -> tensor<4x24xf32>
  %h2 = tfm.linear %q, %w bias %b activation = gelu_erf residual %h : (tensor<4x16xf32>, tensor<16x24xf32>, tensor<24xf32>, tensor<4x24xf32>) -> tensor<4x24xf32>
  %g = tfm.slice %b, offsets = [0] : tensor<24xf32> -> tensor<24xf32>
  %n, %sum = tfm.layer_norm %h2 residual %h scale %g bias %b eps = 1.0e-5
      : (tensor<4x24xf32>, tensor<4x24xf32>, tensor<24xf32>, tensor<24xf32>) -> (tensor<4x24xf32>, tensor<4x24xf32>)
  %h3 = tfm.linear %n, %w weight_transposed activation = relu residual %q : (tensor<4x24xf32>, tensor<16x24xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %mean = tfm.reduce_mean %h3, axis = 1 : tensor<4x16xf32> -> tensor<4x1xf32>
  %sumn = tfm.add %n, %sum : tensor<4x24xf32>, tensor<4x24xf32> -> tensor<4x24xf32>

  // Concatenation along the inner axis, then a transpose back.
  %cat = tfm.concat(%q, %k) axis = 1 : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x32xf32>
  %cs = tfm.slice %cat, offsets = [0, 12] : tensor<4x32xf32> -> tensor<4x8xf32>
  %ct = tfm.transpose %cs, permutation = [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
  %soft = tfm.softmax %ct, axis = 0 : tensor<8x4xf32>
  return %sumn, %soft, %mean, %p, %t2 : tensor<4x24xf32>, tensor<8x4xf32>, tensor<4x1xf32>, tensor<2x4x4xf32>, tensor<2x3x4xf32>
}
