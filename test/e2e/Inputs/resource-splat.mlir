// A scalar dense_resource (as importers write every constant): the
// lowering reads it as the splat it is and scales with one eltwise linear
// (resource-constants.test).
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %h = tfm.constant dense_resource<half> : tensor<f32>
  %r = tfm.mul %x, %h : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

{-#
  dialect_resources: {
    builtin: {
      half: "0x040000000000003F"
    }
  }
#-}
