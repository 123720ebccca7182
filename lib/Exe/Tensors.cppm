//===- Tensors.cppm - Tensor mode: .npy in, .npy out ------------*- C++ -*-===//
//
// The `tfm.exe.tensors` module: tensor mode of a tfm executable (a model
// without a `tokens` input): inputs read from .npy files, one pass, outputs
// written as .npy files (only after the pass succeeded), in the order of the
// entry function's arguments and results. Fixed shapes only.
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Runtime/tfm_runtime.h"
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>
export module tfm.exe.tensors;
import tfm.exe.console;
import tfm.exe.options;
import tfm.exe.signature;
import tfm.support;
import tfm.output_file;

export namespace tfm::exe {
/// Runs tensor mode with options `o`; returns the exit status.
int runTensors(const TensorOptions &o, const Signature &sig);
} // namespace tfm::exe

namespace tfm::exe {

int runTensors(const TensorOptions &o, const Signature &sig) {
  const std::vector<Slot> &slots = sig.slots;
  const std::vector<std::string> &ins = o.inputs, &outs = o.outputs;
  if (!sig.isStatic())
    return fail("this model has dynamic shapes; tensor mode needs fixed shapes");
  size_t numIn = 0, numOut = 0;
  for (const Slot &s : slots)
    (s.output ? numOut : numIn)++;
  if (ins.size() != numIn || outs.size() != numOut) {
    std::fprintf(stderr, "error: the model takes %zu inputs and %zu outputs, got %zu --in and %zu --out\n",
                 numIn, numOut, ins.size(), outs.size());
    return 2;
  }
  if (!sig.weights.empty() && tfm_rt_set_weights(sig.weights.c_str()) != 0)
    return fail(tfm_rt_last_error());
  if (std::string error = tfm::output::checkOutputs(outs); !error.empty())
    return fail("--out: " + error); // before the model runs

  std::vector<tfm::npy::Array> arrays(slots.size());
  std::vector<void *> buffers(slots.size());
  size_t nextIn = 0;
  for (size_t i = 0; i < slots.size(); ++i) {
    const Slot &slot = slots[i];
    std::string dtype = npyDtype(slot.type);
    if (dtype.empty())
      return fail("element type " + slot.type + " has no .npy equivalent");
    tfm::npy::Array &a = arrays[i];
    if (slot.output) {
      a.dtype = dtype;
      a.shape = slot.shape;
      a.data.assign(a.numElements() * tfm::npy::itemSize(dtype), 0);
    } else {
      const std::string &path = ins[nextIn++];
      std::string error;
      if (!tfm::npy::read(path, a, error))
        return fail(error);
      if (a.dtype != dtype || a.shape != slot.shape)
        return fail(path + ": expected " + slot.type + " " + shapeString(slot.shape) +
                    " (dtype " + dtype + "), got dtype " + a.dtype + " shape " +
                    shapeString(a.shape));
    }
    buffers[i] = a.data.data();
  }
  std::vector<int64_t> dims(1, 0);
  if (!run(buffers, dims))
    return 1;
  if (o.verbose)
    tfm_rt_print_implementations(stderr);
  size_t nextOut = 0;
  for (size_t i = 0; i < slots.size(); ++i) {
    if (!slots[i].output)
      continue;
    std::string error;
    if (!tfm::npy::write(outs[nextOut++], arrays[i], error))
      return fail(error);
  }
  return 0;
}

} // namespace tfm::exe
