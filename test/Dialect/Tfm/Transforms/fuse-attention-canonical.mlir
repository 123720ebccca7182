// RUN: tfm-opt %s --tfm-optimize | FileCheck %s
// The fusion patterns match canonical IR; tfm-optimize canonicalizes first, so
// attention written with K transposed in two steps (PyTorch's
// k.transpose(1, 2).transpose(-1, -2)) still fuses: the transpose folder
// composes [1, 0, 2] and [0, 2, 1] into the [1, 2, 0] the matcher takes.

// CHECK-LABEL: func @two_step_k_transpose
// CHECK-NEXT: %[[O:.*]] = tfm.attention %arg0, %arg1, %arg2 heads = 2 scale = 1.250000e-01 :
// CHECK-NEXT: return %[[O]]
func.func @two_step_k_transpose(%q: tensor<4x16xf32>, %k: tensor<4x16xf32>, %v: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %q3 = tfm.reshape %q : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %qh = tfm.transpose %q3, permutation = [1, 0, 2] : tensor<4x2x8xf32> -> tensor<2x4x8xf32>
  %k3 = tfm.reshape %k : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %kh0 = tfm.transpose %k3, permutation = [1, 0, 2] : tensor<4x2x8xf32> -> tensor<2x4x8xf32>
  %kh = tfm.transpose %kh0, permutation = [0, 2, 1] : tensor<2x4x8xf32> -> tensor<2x8x4xf32>
  %v3 = tfm.reshape %v : tensor<4x16xf32> -> tensor<4x2x8xf32>
  %vh = tfm.transpose %v3, permutation = [1, 0, 2] : tensor<4x2x8xf32> -> tensor<2x4x8xf32>
  %s = tfm.matmul %qh, %kh : tensor<2x4x8xf32>, tensor<2x8x4xf32> -> tensor<2x4x4xf32>
  %c = tfm.constant dense<0.125> : tensor<f32>
  %ss = tfm.mul %c, %s : tensor<f32>, tensor<2x4x4xf32> -> tensor<2x4x4xf32>
  %p = tfm.softmax %ss, axis = 2 : tensor<2x4x4xf32>
  %o = tfm.matmul %p, %vh : tensor<2x4x4xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  %ot = tfm.transpose %o, permutation = [1, 0, 2] : tensor<2x4x8xf32> -> tensor<4x2x8xf32>
  %out = tfm.reshape %ot : tensor<4x2x8xf32> -> tensor<4x16xf32>
  return %out : tensor<4x16xf32>
}
