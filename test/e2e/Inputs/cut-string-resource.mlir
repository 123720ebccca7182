// A model whp>


{-#
  dialect_resources: {
    builtin: {
      mask: "0x01ce blob00008