// A boolean dense_resource (one byte per i1) selecting columns
// (resource-constants.test); resource-mask-dense.mlir writes it out.
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %m = tfm.constant dense_resource<mask> : tensor<8xi1>
  %z = tfm.constant dense<0.000000e+00> : tensor<f32>
  %r = tfm.select %m, %x, %z : tensor<8xi1>, tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

{-#
  dialect_resources: {
    builtin: {
      mask: "0x010000000101000101010001"
    }
  }
#-}
