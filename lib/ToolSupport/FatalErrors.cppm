//===- FatalErrors.cppm - LLVM's fatal errors as a tool's error line -*- C++ -*-===//
//
// The `tfm.fatal_errors` module. Where LLVM and MLIR meet input they cannot
// handle without giving up (report_fatal_error: `--mlir-debug-counter=garbage`,
// some bytecode and resource paths; a failed allocation: report_bad_alloc_error
// and the new-handler InitLLVM installs), they print "LLVM ERROR: ..." and
// abort, and the abort prints LLVM's stack dump and bug-report banner. tfm's
// tools (tfmc, tfm-opt, tfm-ref) install these handlers instead: one line
// "TOOL: error: REASON" on stderr, the files registered for removal on a
// signal removed (tfmc registers its temporary files: no half-written output
// or leftover temporary file), and exit status 1.
//
//===----------------------------------------------------------------------===//

module;
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/Signals.h"
#include <cstring>
#include <string>
#include <unistd.h>
export module tfm.fatal_errors;

namespace tfm::fatal_errors::detail {
inline const char *&toolName() {
  static const char *name = "tfm";
  return name;
}

/// Writes "TOOL: error: REASON[ (what)]\n" with write(2) (no allocation, no
/// stream that could fail again), removes the files LLVM registered for
/// removal, and exits with status 1 without running destructors.
[[noreturn]] inline void die(const char *reason, const char *what) {
  auto put = [](const char *s) {
    size_t n = std::strlen(s);
    while (n > 0) {
      ssize_t w = ::write(2, s, n);
      if (w <= 0)
        break;
      s += w;
      n -= static_cast<size_t>(w);
    }
  };
  put(toolName());
  put(": error: ");
  put(reason && *reason ? reason : "unknown error");
  if (what)
    put(what);
  put("\n");
  llvm::sys::RunInterruptHandlers();
  ::_exit(1);
}
} // namespace tfm::fatal_errors::detail

export namespace tfm::fatal_errors {

/// Installs the handlers for `tool` (a string that outlives the process,
/// e.g. a literal). Call once, first thing in main (after InitLLVM, whose
/// new-handler reports through the bad-alloc handler installed here).
inline void install(const char *tool) {
  detail::toolName() = tool;
  llvm::install_fatal_error_handler([](void *, const char *reason, bool) {
    detail::die(reason, " (LLVM/MLIR gave up on this input)");
  });
  llvm::install_bad_alloc_error_handler([](void *, const char *reason, bool) {
    detail::die(reason, " (out of memory)");
  });
  // A failed `new` reports through the handler above (InitLLVM does the
  // same; tfmc has no InitLLVM). Without it, std::bad_alloc thrown through
  // LLVM's code ends in std::terminate and SIGABRT.
  llvm::install_out_of_memory_new_handler();
}

} // namespace tfm::fatal_errors
