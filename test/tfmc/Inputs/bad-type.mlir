func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tfm.tanh %x : tensor<5xf32>
  return %0 : tensor<4xf32>
}
