//===- Console.cppm - Output, errors and input files of executables -*- C++ -*-===//
//
// The `tfm.exe.console` module: what every mode of a tfm executable shares:
// errors on stderr (`error: ...`, exit status 1), text on stdout with write
// errors caught (a full disk or a closed pipe is an error, never a silent
// exit 0), a monotonic clock, one model pass through the C ABI, and text
// files read with a size limit and a UTF-8 check.
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Runtime/tfm_runtime.h"
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>
export module tfm.exe.console;
import tfm.tokenizer;
import tfm.output_file;

export namespace tfm::exe {

/// Prints `error: message` to stderr; returns 1.
int fail(const std::string &message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

/// The errno of the first failed write to standard output (0: none yet).
int stdoutErrno = 0;

/// Writes `text` to standard output and flushes it (streamed text shows at
/// once); false once a write has failed (a full disk, a closed pipe).
bool emit(std::string_view text) {
  if (stdoutErrno)
    return false;
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    stdoutErrno = errno ? errno : EIO;
  return stdoutErrno == 0;
}

/// The exit status after everything was printed: `code`, or 1 with an error
/// naming the reason when a write to standard output failed.
int finishStdout(int code) {
  errno = 0;
  if ((std::fflush(stdout) != 0 || std::ferror(stdout)) && !stdoutErrno)
    stdoutErrno = errno ? errno : EIO;
  if (!stdoutErrno)
    return code;
  static bool reported = false; // runLanguageModel and main() both finish
  if (!reported)
    std::fprintf(stderr, "error: standard output: %s\n", std::strerror(stdoutErrno));
  reported = true;
  return code ? code : 1;
}

/// Seconds on a monotonic clock.
double now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

/// Runs the model once; false (after printing the runtime's error) on failure.
bool run(std::vector<void *> &buffers, std::vector<int64_t> &dims) {
  tfm_entry(buffers.data(), dims.data());
  if (const char *error = tfm_rt_last_error()) {
    std::fprintf(stderr, "error: %s\n", error);
    return false;
  }
  return true;
}

/// Reads the text file `path` for `flag`: at most `limit` bytes (a larger
/// file is an error, so /dev/zero cannot exhaust memory), well-formed UTF-8
/// (the error names the byte offset). False after printing an error naming
/// the flag and the file.
bool readTextFile(const char *flag, const std::string &path, size_t limit, std::string &out) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    std::fprintf(stderr, "error: %s: cannot read '%s': %s\n", flag, path.c_str(),
                 std::strerror(errno));
    return false;
  }
  tfm::output::protectInput(path); // no output of this run may replace it
  out.clear();
  char buffer[1 << 16];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof(buffer), f)) > 0) {
    out.append(buffer, got);
    if (out.size() > limit) {
      std::fclose(f);
      std::fprintf(stderr, "error: %s: '%s' is larger than %zu MiB\n", flag, path.c_str(),
                   limit >> 20);
      return false;
    }
  }
  bool readError = std::ferror(f);
  int savedErrno = errno;
  std::fclose(f);
  if (readError) {
    std::fprintf(stderr, "error: %s: cannot read '%s': %s\n", flag, path.c_str(),
                 std::strerror(savedErrno));
    return false;
  }
  if (std::string bad = tfm::tokenizer::invalidUtf8Description(out); !bad.empty()) {
    std::fprintf(stderr, "error: %s: '%s' is not valid UTF-8 (%s)\n", flag, path.c_str(),
                 bad.c_str());
    return false;
  }
  return true;
}

/// The largest text file --prompt-file and --perplexity read.
constexpr size_t kMaxTextFile = size_t(256) << 20;

} // namespace tfm::exe
