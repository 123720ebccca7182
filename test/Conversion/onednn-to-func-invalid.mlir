// RUN: tfm-opt %s -split-input-file -verify-diagnostics -allow-unregistered-dialect -convert-onednn-to-func
// Inputs convert-onednn-to-func refuses, with what and where.

// A buffer of rank 9: a tfm_buffer record holds at most 8 dimensions.
func.func @main(%a: memref<1x1x1x1x1x1x1x1x2xf32>, %out: memref<1x1x1x1x1x1x1x1x2xf32> {onednn.result}) {
  // expected-error @+1 {{'onednn.eltwise' op has a buffer of rank 9; the runtime takes at most 8 dimensions (TFM_MAX_RANK)}}
  onednn.eltwise tanh %a into %out alpha = 0.0 beta = 0.0 : memref<1x1x1x1x1x1x1x1x2xf32>, memref<1x1x1x1x1x1x1x1x2xf32>
  return
}

// -----

// A symbol of the module that has a runtime function's name.
// expected-error @+1 {{the symbol 'tfm_rt_eltwise': names beginning with 'tfm_rt_' are reserved for the runtime's C interface}}
func.func private @tfm_rt_eltwise(i32)
func.func @main(%a: memref<4xf32>, %out: memref<4xf32> {onednn.result}) {
  onednn.eltwise tanh %a into %out alpha = 0.0 beta = 0.0 : memref<4xf32>, memref<4xf32>
  return
}

// -----

// expected-error @+1 {{no entry function: expected a function named 'main' or exactly one public function}}
module {
  func.func @f(%a: memref<4xf32>) { return }
  func.func @g(%a: memref<4xf32>) { return }
}

// -----

// expected-error @+1 {{the symbol 'tfm_model_main' is reserved for the entry function}}
module {
  func.func private @tfm_model_main()
  func.func @main(%a: memref<4xf32>) { return }
}

// -----

func.func @main(%out: memref<1x1x1x1x2xf32> {onednn.result}) {
  // expected-error @+1 {{'onednn.weight' op the runtime returns weights of at most 4 dimensions with the identity layout, not 'memref<1x1x1x1x2xf32>'}}
  %w = onednn.weight "w" : memref<1x1x1x1x2xf32>
  onednn.reorder %w into %out : memref<1x1x1x1x2xf32>, memref<1x1x1x1x2xf32>
  return
}

// -----

// An entry buffer of an element type the executables do not know.
// expected-error @+1 {{entry argument of element type 'f64', which the executables do not know (tfm_dtype)}}
func.func @main(%a: memref<4xf64>) {
  return
}

// -----

// onednn ops outside a function.
// expected-error @+1 {{'onednn.weight' op must be inside a func.func (the runtime is called from functions)}}
%w = onednn.weight "w" : memref<4xf32>
func.func @main(%a: memref<4xf32>) {
  return
}

// -----

// Ops of other dialects, even unregistered ones, are left alone.
func.func @main(%b: memref<1x1x1x1x1x1x1x1x2xf32>, %c: memref<1x1x1x1x1x1x1x1x2xf32> {onednn.result}) {
  "foo.bar"() : () -> ()
  // expected-error @+1 {{'onednn.eltwise' op has a buffer of rank 9; the runtime takes at most 8 dimensions (TFM_MAX_RANK)}}
  onednn.eltwise tanh %b into %c alpha = 0.0 beta = 0.0 : memref<1x1x1x1x1x1x1x1x2xf32>, memref<1x1x1x1x1x1x1x1x2xf32>
  return
}
