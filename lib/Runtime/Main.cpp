//===- Main.cpp - Command-line driver of tfm executables ----------*- C++ -*-===//
//
// main() of every executable tfmc links: reads the model's inputs from .npy
// files, runs the compiled model (tfm_entry), and writes its outputs as .npy.
// The buffers' types and shapes come from the `tfm_signature` string that the
// compiler embeds.
//
//===----------------------------------------------------------------------===//

#include "tfm/Runtime/tfm_runtime.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

import tfm.support;
import tfm.runtime;

namespace {

/// One buffer of the entry function, parsed from tfm_signature.
struct Slot {
  bool output;
  std::string type; // MLIR element type: f32, f16, bf16, i32, i64
  std::vector<int64_t> shape;
};

std::vector<Slot> parseSignature(const char *text) {
  std::vector<Slot> slots;
  std::string s(text);
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find(';', pos);
    std::string item = s.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? s.size() : end + 1;
    Slot slot;
    size_t sp1 = item.find(' '), sp2 = item.find(' ', sp1 + 1);
    slot.output = item.substr(0, sp1) == "out";
    slot.type = item.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string dims = item.substr(sp2 + 1);
    if (dims != "scalar") {
      size_t p = 0;
      while (p < dims.size()) {
        size_t x = dims.find('x', p);
        slot.shape.push_back(std::stoll(dims.substr(p, x == std::string::npos ? std::string::npos : x - p)));
        p = x == std::string::npos ? dims.size() : x + 1;
      }
    }
    slots.push_back(slot);
  }
  return slots;
}

/// The .npy dtype that holds an MLIR element type.
std::string npyDtype(const std::string &type) {
  if (type == "f32") return "f4";
  if (type == "i32") return "i4";
  if (type == "i64") return "i8";
  if (type == "f16") return "f2";
  return "";
}

std::string describe(const std::vector<Slot> &slots, bool outputs) {
  std::string s;
  int i = 0;
  for (const Slot &slot : slots) {
    if (slot.output != outputs)
      continue;
    s += "  #" + std::to_string(i++) + ": " + slot.type + " " +
         tfm::npy::shapeString(slot.shape) + "\n";
  }
  return s;
}

int usage(const char *argv0, const std::vector<Slot> &slots, FILE *to, int code) {
  std::fprintf(to,
               "usage: %s --in INPUT.npy ... --out OUTPUT.npy ... [--verbose]\n\n"
               "Runs the model compiled by tfmc on inputs read from .npy files and writes\n"
               "its outputs as .npy files, in the order of the entry function's arguments\n"
               "and results.\n\n"
               "options:\n"
               "  --in FILE     next input (.npy, C order, little endian)\n"
               "  --out FILE    where the next output goes (written only on success)\n"
               "  --verbose     print the oneDNN implementation chosen for each primitive\n"
               "  --help        this text\n\n"
               "inputs:\n%soutputs:\n%s",
               argv0, describe(slots, false).c_str(), describe(slots, true).c_str());
  return code;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<Slot> slots = parseSignature(tfm_signature);
  std::vector<std::string> ins, outs;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h")
      return usage(argv[0], slots, stdout, 0);
    if (arg == "--verbose") {
      verbose = true;
    } else if (arg == "--in" || arg == "--out") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: %s needs a file name\n", arg.c_str());
        return 2;
      }
      (arg == "--in" ? ins : outs).push_back(argv[++i]);
    } else {
      std::fprintf(stderr, "error: unknown argument '%s' (see --help)\n", arg.c_str());
      return 2;
    }
  }
  size_t numIn = 0, numOut = 0;
  for (const Slot &s : slots)
    (s.output ? numOut : numIn)++;
  if (ins.size() != numIn || outs.size() != numOut) {
    std::fprintf(stderr, "error: the model takes %zu inputs and %zu outputs, got %zu --in and %zu --out\n",
                 numIn, numOut, ins.size(), outs.size());
    return 2;
  }

  std::vector<tfm::npy::Array> arrays(slots.size());
  std::vector<void *> buffers(slots.size());
  size_t nextIn = 0;
  for (size_t i = 0; i < slots.size(); ++i) {
    const Slot &slot = slots[i];
    std::string dtype = npyDtype(slot.type);
    if (dtype.empty()) {
      std::fprintf(stderr, "error: element type %s has no .npy equivalent\n", slot.type.c_str());
      return 1;
    }
    tfm::npy::Array &a = arrays[i];
    if (slot.output) {
      a.dtype = dtype;
      a.shape = slot.shape;
      a.data.assign(a.numElements() * tfm::npy::itemSize(dtype), 0);
    } else {
      const std::string &path = ins[nextIn++];
      std::string error;
      if (!tfm::npy::read(path, a, error)) {
        std::fprintf(stderr, "error: %s\n", error.c_str());
        return 1;
      }
      if (a.dtype != dtype || a.shape != slot.shape) {
        std::fprintf(stderr, "error: %s: expected %s %s (dtype %s), got dtype %s shape %s\n",
                     path.c_str(), slot.type.c_str(), tfm::npy::shapeString(slot.shape).c_str(),
                     dtype.c_str(), a.dtype.c_str(), tfm::npy::shapeString(a.shape).c_str());
        return 1;
      }
    }
    buffers[i] = a.data.data();
  }

  tfm_entry(buffers.data());
  if (const char *error = tfm_rt_last_error()) {
    std::fprintf(stderr, "error: %s\n", error);
    return 1;
  }
  if (verbose)
    for (const std::string &impl : tfm::runtime::Runtime::get().implementations())
      std::fprintf(stderr, "%s\n", impl.c_str());

  size_t nextOut = 0;
  for (size_t i = 0; i < slots.size(); ++i) {
    if (!slots[i].output)
      continue;
    std::string error;
    if (!tfm::npy::write(outs[nextOut++], arrays[i], error)) {
      std::fprintf(stderr, "error: %s\n", error.c_str());
      return 1;
    }
  }
  return 0;
}
