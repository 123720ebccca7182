// RUN: tfm-opt %s -split-input-file -verify-diagnostics -tfm-emit-entry
// tfm-emit-entry needs what convert-onednn-to-func and the lowering to LLVM leave.

// expected-error @+1 {{no LLVM function 'tfm_model_main' with 'tfm.entry_types': run convert-onednn-to-func and the lowering to LLVM first}}
module {
  func.func @main(%a: memref<4xf32>) { return }
}

// -----

module {
  // expected-error @+1 {{takes 1 arguments, but the 1 buffers of 'tfm.entry_types' are passed as 5 (expected MLIR's default calling convention for memrefs)}}
  llvm.func @tfm_model_main(%a: !llvm.ptr) attributes {tfm.entry_types = [memref<4xf32>]} {
    llvm.return
  }
}
