//===- Runtime.cppm - The tfm runtime, one import --------------*- C++ -*-===//
//
// The `tfm.runtime` module re-exports the runtime's layers, each a module of
// one concern, for the C ABI (CAbi.cpp) and the unit tests:
//   tfm.runtime.buffer      buffers as generated code passes them
//   tfm.runtime.primitives  oneDNN primitives, their cache, process settings
//   tfm.runtime.weights     embedded, file or random weights (tfm.safetensors)
//   tfm.runtime.layers      embedding and attention (kernels oneDNN lacks)
// The quantized weights and matmul (tfm.runtime_quantized), the kernels
// (tfm.kernels, tfm.qkernels) and the tokenizer (tfm.tokenizer) are modules
// of their own.
//
//===----------------------------------------------------------------------===//

export module tfm.runtime;
export import tfm.runtime.buffer;
export import tfm.runtime.primitives;
export import tfm.runtime.weights;
export import tfm.runtime.layers;
