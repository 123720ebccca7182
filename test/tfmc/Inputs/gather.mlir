func.func @main(%t: tensor<10x4x2xf32>, %i: tensor<3xi64>) -> tensor<3x4x2xf32> {
  %0 = tfm.gather %t[%i] : tensor<10x4x2xf32>, tensor<3xi64> -> tensor<3x4x2xf32>
  return %0 : tensor<3x4x2xf32>
}
