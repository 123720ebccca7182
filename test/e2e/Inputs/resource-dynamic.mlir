// A dense_resource of a dynamic type: a blob holds a fixed number of
// elements, so the verifier refuses it (resource-constants.test).
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %b = tfm.constant dense_resource<empty> : tensor<?xf32>
  return %x : tensor<4x8xf32>
}

{-#
  dialect_resources: {
    builtin: {
      empty: "0x04000000"
    }
  }
#-}
