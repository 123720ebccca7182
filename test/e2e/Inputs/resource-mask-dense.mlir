// resource-mask.mlir with its blob written out as a dense value.
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %m = tfm.constant dense<[true, true, false, true, true, true, false, true]> : tensor<8xi1>
  %z = tfm.constant dense<0.000000e+00> : tensor<f32>
  %r = tfm.select %m, %x, %z : tensor<8xi1>, tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}
