// RUN: tfm-opt %s -split-input-file -verify-diagnostics -allow-unregistered-dialect
// The tfm.* attributes the frontend records are verified by the dialect
// wherever they appear (hand-written IR included).

// expected-error @+1 {{'tfm.context_length' must be a positive integer below 2^63, got -1 : i64}}
module attributes {tfm.context_length = -1 : i64} {}

// -----

// Zero positions: the executables read 0 as "no limit" and generated on.
// expected-error @+1 {{'tfm.context_length' must be a positive integer below 2^63, got 0 : i64}}
module attributes {tfm.context_length = 0 : i64} {}

// -----

// expected-error @+1 {{'tfm.weights' must be a non-empty string (a file path)}}
module attributes {tfm.weights = 3 : i64} {}

// -----

// expected-error @+1 {{'tfm.weights' must be a non-empty string (a file path)}}
module attributes {tfm.weights = ""} {}

// -----

// expected-error @+1 {{unknown module attribute 'tfm.dtype' (tfm knows tfm.context_length, tfm.weights, tfm.random_weights, tfm.config; and tfm.entry_types on a function)}}
module attributes {tfm.dtype = "bf16"} {}

// -----

// expected-error @+1 {{'tfm.role' of argument #0 must be one of tokens, positions, logit_rows, logits, past_key, past_value, present_key, present_value, token_types, hidden, sequence_ids; got "token"}}
func.func @f(%a: tensor<?xi64> {tfm.role = "token"}) {
  return
}

// -----

// expected-error @+1 {{'tfm.layer' must be a non-negative integer below 2^31, got "0"}}
func.func @f(%a: tensor<?x8xf32> {tfm.role = "past_key", tfm.layer = "0"}) {
  return
}

// -----

// expected-error @+1 {{'tfm.layer' must be a non-negative integer below 2^31, got 2147483648 : i64}}
func.func @f(%a: tensor<?x8xf32> {tfm.role = "past_key", tfm.layer = 2147483648 : i64}) {
  return
}

// -----

// expected-error @+1 {{'tfm.context_length' must be a positive integer below 2^63, got 999999999999999999999999 : i128}}
module attributes {tfm.context_length = 999999999999999999999999 : i128} {}

// -----

// expected-error @+1 {{'tfm.name' of result #0 must be a string}}
func.func @f(%a: tensor<4xf32>) -> (tensor<4xf32> {tfm.name = 1 : i64}) {
  return %a : tensor<4xf32>
}

// -----

// expected-error @+1 {{unknown attribute 'tfm.rol' on argument #0 (tfm knows tfm.name, tfm.role, tfm.layer)}}
func.func @f(%a: tensor<?xi64> {tfm.rol = "tokens"}) {
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{'tfm.weights' belongs on a module}}
  "test.op"() {tfm.weights = "x"} : () -> ()
  return
}

// -----

// Valid: everything the frontend writes.
module attributes {tfm.context_length = 16 : i64, tfm.weights = "m.safetensors", tfm.config = "config.json"} {
  func.func @f(%a: tensor<?xi64> {tfm.name = "tokens", tfm.role = "tokens"},
               %b: tensor<?x8xf32> {tfm.name = "past_k.0", tfm.role = "past_key", tfm.layer = 0 : i64})
      -> (tensor<?x8xf32> {tfm.name = "present_k.0", tfm.role = "present_key", tfm.layer = 0 : i64}) {
    return %b : tensor<?x8xf32>
  }
}

// -----

// expected-error @+1 {{'tfm.entry_types' must be an array of identity-layout memref types on a function}}
func.func @f() attributes {tfm.entry_types = [tensor<4xf32>]} {
  return
}

// -----

// expected-error @+1 {{'tfm.entry_types' must be an array of identity-layout memref types on a function}}
module attributes {tfm.entry_types = [memref<4xf32>]} {}
