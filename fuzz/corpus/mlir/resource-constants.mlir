// A model whose constants are dense_resource blobs, as torch-mlir, IREE and
// ONNX importers write them (resource-constants.test): (x + bias) * scale.
// resource-constants-dense.mlir is the same model with the values written
// out as dense<...>.
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %b = tfm.constant dense_resource<bias> : tensor<8xf32>
  %s = tfm.constant dense_resource<scale> : tensor<8xf32>
  %y = tfm.add %x, %b : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %r = tfm.mul %y, %s : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

{-#
  dialect_resources: {
    builtin: {
      bias: "0x040000000000003F0000A0BF0000004000006040000040BF0000803F0000003E000080C0",
      scale: "0x10000000000000400000003F000080BF0000C03F00004040000080BE0000803F0000403F"
    }
  }
#-}
