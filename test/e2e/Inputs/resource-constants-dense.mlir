// resource-constants.mlir with its blobs written out as dense values.
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %b = tfm.constant dense<[5.000000e-01, -1.250000e+00, 2.000000e+00, 3.500000e+00, -7.500000e-01, 1.000000e+00, 1.250000e-01, -4.000000e+00]> : tensor<8xf32>
  %s = tfm.constant dense<[2.000000e+00, 5.000000e-01, -1.000000e+00, 1.500000e+00, 3.000000e+00, -2.500000e-01, 1.000000e+00, 7.500000e-01]> : tensor<8xf32>
  %y = tfm.add %x, %b : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %r = tfm.mul %y, %s : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}
