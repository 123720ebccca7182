//===- Main.cpp - main() of every executable tfmc links ----------*- C++ -*-===//
//
// Reads the compiled model's signature and runs one of three modes:
//  * encoder (the model has a `hidden` output, as BERT descriptions do):
//    tfm.exe.encode;
//  * language model (the model has a `tokens` input, as GPT-2 descriptions
//    do): tfm.exe.generate;
//  * tensors: inputs from .npy files, outputs to .npy files (tfm.exe.tensors).
// The modules of lib/Exe talk to the runtime only through its C ABI
// (include/tfm/Runtime/tfm_runtime.h).
//
//===----------------------------------------------------------------------===//

#include "tfm/Runtime/tfm_runtime.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <climits>
#include <cstdlib>
#include <unistd.h>

import tfm.exe.console;
import tfm.exe.encode;
import tfm.exe.generate;
import tfm.exe.options;
import tfm.exe.signature;
import tfm.exe.tensors;
import tfm.output_file;

namespace {

/// Runs this executable again, once, with glibc's malloc on transparent huge
/// pages (the glibc.malloc.hugetlb tunable, which glibc reads only at start):
/// oneDNN's buffers and the runtime's vectors then fault in 2 MiB at a time.
/// Measured on GPT-2 124M (2 cores): load 2.3 -> 0.9 s, bf16 prefill-512
/// ~2000-2380 -> ~2450-2550 tokens/s, f32 decode ~+6%. TFM_HUGEPAGES=0 opts
/// out; where the exec fails the program just goes on.
void preferHugePages(char **argv) {
  const char *optOut = std::getenv("TFM_HUGEPAGES");
  if (optOut && std::string(optOut) == "0")
    return;
  const char *tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables && std::strstr(tunables, "glibc.malloc.hugetlb"))
    return; // already set (by us or by the user)
  // Started through the dynamic loader (`ld-linux-x86-64.so.2 ./model`),
  // /proc/self/exe is the loader, which would read argv differently.
  char self[4096];
  ssize_t len = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0)
    return;
  self[len] = '\0';
  if (std::strstr(self, "/ld-linux") || std::strstr(self, "/ld.so"))
    return;
  std::string value = tunables && *tunables ? std::string(tunables) + ":glibc.malloc.hugetlb=1"
                                            : std::string("glibc.malloc.hugetlb=1");
  ::setenv("GLIBC_TUNABLES", value.c_str(), 1);
  ::execv("/proc/self/exe", argv);
}

/// Runs one mode (returning its exit code) and turns what it throws into an
/// error message and exit code 1; stdout is flushed and checked either way.
template <typename Mode>
int runGuarded(Mode mode) {
  try {
    return tfm::exe::finishStdout(mode());
  } catch (const std::bad_alloc &) {
    return tfm::exe::finishStdout(tfm::exe::fail("out of memory"));
  } catch (const std::exception &e) {
    return tfm::exe::finishStdout(tfm::exe::fail(e.what()));
  }
}

} // namespace

int main(int argc, char **argv) {
  preferHugePages(argv);
  // The executable is never an output of its own run (--dump-logits onto it
  // would replace the program while it runs); its weights file is
  // protected when the runtime opens it.
  if (char self[PATH_MAX]; ::realpath("/proc/self/exe", self))
    tfm::output::protectInput(self);
  tfm::exe::Signature sig;
  try {
    sig = tfm::exe::readSignature(tfm_model, &tfm_executable_settings ? &tfm_executable_settings
                                                                       : nullptr);
  } catch (const std::exception &e) {
    return tfm::exe::fail(e.what());
  }
  if (sig.find(TFM_ROLE_HIDDEN) >= 0) {
    if (std::string problem = tfm::exe::checkEncoder(sig); !problem.empty())
      return tfm::exe::fail(problem);
    tfm::exe::EncodeOptions options;
    // Token and type ids beyond the model's tables are the runtime's error.
    if (std::optional<int> code = tfm::exe::parseEncodeOptions(
            argc, argv, sig, INT64_MAX, INT64_MAX, sig.find(TFM_ROLE_LOGITS) >= 0, options))
      return tfm::exe::finishStdout(*code);
    return runGuarded([&] { return tfm::exe::encode(options, sig); });
  }
  if (sig.find(TFM_ROLE_TOKENS) >= 0) {
    if (std::string problem = tfm::exe::checkLanguageModel(sig); !problem.empty())
      return tfm::exe::fail(problem);
    int logits = sig.find(TFM_ROLE_LOGITS);
    int64_t vocab = logits >= 0 && !sig.slots[logits].shape.empty() ? sig.slots[logits].shape.back() : 0;
    tfm::exe::GenerateOptions options;
    if (std::optional<int> code = tfm::exe::parseGenerateOptions(argc, argv, sig, vocab, options))
      return tfm::exe::finishStdout(*code);
    return runGuarded([&] { return tfm::exe::generate(options, sig); });
  }
  tfm::exe::TensorOptions options;
  if (std::optional<int> code = tfm::exe::parseTensorOptions(argc, argv, sig, options))
    return tfm::exe::finishStdout(*code);
  return runGuarded([&] { return tfm::exe::runTensors(options, sig); });
}
