// The walking skeleton: one transformer-style block on fixed shapes, written
// with primitive tfm ops. matmul + bias + GELU (tanh form) + layer norm +
// residual add + softmax go through every stage of the backend:
//   tfmc --emit=exe skeleton.mlir -o skeleton
//   ./skeleton --in x.npy --in w.npy --in b.npy --in gamma.npy --in beta.npy --out y.npy
func.func @main(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>,
                %gamma: tensor<16xf32>, %beta: tensor<16xf32>) -> tensor<4x16xf32> {
  // h = x W + b
  %xw = tfm.matmul %x, %w : tensor<4x8xf32>, tensor<8x16xf32> -> tensor<4x16xf32>
  %h = tfm.add %xw, %b : tensor<4x16xf32>, tensor<16xf32> -> tensor<4x16xf32>

  // g = 0.5 h (1 + tanh(sqrt(2/pi) (h + 0.044715 h^3)))
  %three = tfm.constant dense<3.0> : tensor<f32>
  %c = tfm.constant dense<0.044715> : tensor<f32>
  %k = tfm.constant dense<0.7978845608028654> : tensor<f32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %half = tfm.constant dense<0.5> : tensor<f32>
  %h3 = tfm.pow %h, %three : tensor<4x16xf32>, tensor<f32> -> tensor<4x16xf32>
  %ch3 = tfm.mul %h3, %c : tensor<4x16xf32>, tensor<f32> -> tensor<4x16xf32>
  %inner = tfm.add %h, %ch3 : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>
  %scaled = tfm.mul %inner, %k : tensor<4x16xf32>, tensor<f32> -> tensor<4x16xf32>
  %t = tfm.tanh %scaled : tensor<4x16xf32>
  %onet = tfm.add %t, %one : tensor<4x16xf32>, tensor<f32> -> tensor<4x16xf32>
  %hh = tfm.mul %h, %half : tensor<4x16xf32>, tensor<f32> -> tensor<4x16xf32>
  %g = tfm.mul %hh, %onet : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>

  // n = layer_norm(g) * gamma + beta; r = n + h (residual)
  %n = tfm.layer_norm %g scale %gamma bias %beta eps = 1.0e-05
      : (tensor<4x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %r = tfm.add %n, %h : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>

  // p = softmax(r) over the last axis
  %p = tfm.softmax %r, axis = -1 : tensor<4x16xf32>
  return %p : tensor<4x16xf32>
}
