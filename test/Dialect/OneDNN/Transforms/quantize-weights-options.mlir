// Bad options of onednn-quantize-weights are errors naming the option.
// RUN: not tfm-opt %s -onednn-quantize-weights='bits=3' 2>&1 | FileCheck %s --check-prefix=BITS
// BITS: error: onednn-quantize-weights: bits must be 8 or 4, not 3
// RUN: not tfm-opt %s -onednn-quantize-weights='group-size=48' 2>&1 | FileCheck %s --check-prefix=GROUP
// GROUP: error: onednn-quantize-weights: group-size must be a multiple of 32 (0: per-channel), not 48
// RUN: not tfm-opt %s -onednn-quantize-weights='bits=4 group-size=128' 2>&1 | FileCheck %s --check-prefix=INT4
// INT4: error: onednn-quantize-weights: group-size must be a multiple of 32 between 32 and 64 for int4, not 128
func.func @f(%a: memref<4x32xf32>, %c: memref<4x32xf32>) {
  %w = onednn.weight "w" : memref<32x32xf32>
  onednn.matmul %a, %w into %c activation = none : memref<4x32xf32>, memref<32x32xf32>, memref<4x32xf32>
  return
}
