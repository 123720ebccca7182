// Rows 2, 0 and 4 (say) of a 5x4 table: a plain row gather.
func.func @main(%table: tensor<5x4xf32>, %rows: tensor<3xi64>) -> tensor<3x4xf32> {
  %0 = tfm.gather %table[%rows] : tensor<5x4xf32>, tensor<3xi64> -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}
