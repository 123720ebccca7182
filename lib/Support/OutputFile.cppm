//===- OutputFile.cppm - Write an output file the way users expect -*- C++ -*-===//
//
// The `tfm.output_file` module: how every file tfm writes (tfmc's outputs,
// .npy files of the executables and tfm-ref) reaches its path.
//  * A new path, or an existing regular file: the bytes go to a temporary
//    file in the same directory, which is renamed over the path only when
//    everything was written (a failure leaves the old file, or none). Its
//    name is unique (concurrent writers of one path each finish whole; the
//    last rename wins) and fits NAME_MAX whatever the path's length.
//  * A symbolic link: the same, at the file it points to (the link stays).
//  * Anything else that exists (a FIFO, a character device such as
//    /dev/null, /dev/full or /dev/stdout, a socket): written in place, never
//    replaced, as numpy.save and shell redirection do; write errors (a full
//    device) are reported.
//  * Never: an empty path, a symbolic link that cannot be resolved for any
//    reason but a missing target (a loop: ELOOP), or a file this process
//    reads (protectInput: tfmc's model files, an executable's weights and
//    itself), which would be destroyed while it is still needed.
// Standard library and POSIX only: the runtime links it.
//
//===----------------------------------------------------------------------===//

module;
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <sys/stat.h>
#include <unistd.h>
export module tfm.output_file;

namespace tfm::output::detail {
/// Writes all of `bytes` to `fd` (retrying short writes and EINTR); false
/// with `err` set on failure.
inline bool writeAll(int fd, std::string_view bytes, int &err) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      err = errno;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

/// The files protectInput() registered: device, inode and the path given.
struct Input {
  dev_t device;
  ino_t inode;
  std::string path;
};
struct Inputs {
  std::mutex mutex;
  std::vector<Input> list;
};
inline Inputs &inputs() {
  static Inputs registered;
  return registered;
}

/// The directory a file `path` is created in ("." for a bare name).
inline std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

/// The longest file name the directory `dir` takes (NAME_MAX, 255 on Linux's
/// file systems, when pathconf cannot tell).
inline size_t nameMax(const std::string &dir) {
  long n = ::pathconf(dir.c_str(), _PC_NAME_MAX);
  return n > 0 ? static_cast<size_t>(n) : NAME_MAX;
}

/// The path of the registered input that `st` is, or nullopt.
inline std::optional<std::string> findInput(const struct stat &st) {
  std::lock_guard<std::mutex> lock(inputs().mutex);
  for (const Input &in : inputs().list)
    if (in.device == st.st_dev && in.inode == st.st_ino)
      return in.path;
  return std::nullopt;
}
} // namespace tfm::output::detail

export namespace tfm::output {

/// Where and how `path` is written: `inPlace` for an existing non-regular
/// file (written through, never replaced); otherwise `target` is the path a
/// temporary file is renamed over (`path` itself, or what a symbolic link
/// points to).
struct Destination {
  bool inPlace = false;
  std::string target;
  /// Non-empty when `path` must not be written: why ("PATH: cannot write
  /// file: ...").
  std::string error;
};

/// Marks the regular file at `path` as read by this process: destination()
/// refuses it (and every other name of the same file) as an output. Every
/// reader of model files calls it; a path that is not a regular file is
/// ignored.
inline void protectInput(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || detail::findInput(st))
    return;
  std::lock_guard<std::mutex> lock(detail::inputs().mutex);
  detail::inputs().list.push_back({st.st_dev, st.st_ino, path});
}

inline Destination destination(const std::string &path) {
  auto refuse = [&](const std::string &why) {
    return Destination{false, path, path + ": cannot write file: " + why};
  };
  if (path.empty())
    return refuse("the path is empty");
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0)
    return {false, path, {}}; // new
  struct stat target;
  if (::stat(path.c_str(), &target) == 0) {
    if (std::optional<std::string> in = detail::findInput(target))
      return refuse("it is '" + *in + "', an input of this run (choose another output)");
    if (S_ISDIR(target.st_mode)) // or a link to one: refused before any work, not after
      return refuse(std::strerror(EISDIR));
  } else if (S_ISLNK(st.st_mode) && errno != ENOENT) {
    return refuse(std::strerror(errno)); // a loop, a component not a directory, ...
  }
  if (S_ISREG(st.st_mode))
    return {false, path, {}};
  if (S_ISLNK(st.st_mode)) {
    if (::stat(path.c_str(), &target) == 0 && !S_ISREG(target.st_mode))
      return {true, path, {}}; // a link to a device or pipe (/dev/stdout)
    char resolved[PATH_MAX];
    if (::stat(path.c_str(), &target) == 0 && ::realpath(path.c_str(), resolved))
      return {false, resolved, {}};
    // A dangling link: create the file it names.
    char link[PATH_MAX];
    ssize_t n = ::readlink(path.c_str(), link, sizeof(link) - 1);
    if (n <= 0)
      return {false, path, {}};
    link[n] = '\0';
    std::string to(link);
    if (to.front() != '/') {
      size_t slash = path.rfind('/');
      to = (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) + to;
    }
    return {false, to, {}};
  }
  return {true, path, {}};
}

/// Creates a new, unique temporary file beside `target` (in its directory, so
/// that a rename moves it into place), as mkstemp does: mode 0600, opened for
/// writing. Its name is ".STEM.tfm-XXXXXX", where STEM is `target`'s file
/// name cut (at a UTF-8 character boundary) so that the whole name, plus
/// `reserve` bytes that another tool may append to it (lld writes its output
/// through "NAME.tmpXXXXXXX"), fits the directory's NAME_MAX: an output name of
/// 255 bytes still gets a temporary name. Concurrent writers of one output
/// each get their own file. Returns the descriptor and sets `path`, or -1
/// with errno set.
inline int createBeside(const std::string &target, std::string &path, size_t reserve = 0) {
  std::string dir = detail::directoryOf(target);
  size_t slash = target.rfind('/');
  std::string base = slash == std::string::npos ? target : target.substr(slash + 1);
  const std::string suffix = ".tfm-XXXXXX";
  size_t limit = detail::nameMax(dir);
  size_t room = limit > reserve + suffix.size() + 1 ? limit - reserve - suffix.size() - 1 : 0;
  if (base.size() > room) {
    size_t cut = room;
    while (cut > 0 && (static_cast<unsigned char>(base[cut]) & 0xC0) == 0x80)
      --cut; // not inside a UTF-8 sequence
    base.resize(cut);
  }
  path = (slash == std::string::npos ? std::string() : target.substr(0, slash + 1)) + "." + base +
         suffix;
  return ::mkstemp(path.data());
}

/// Why the directory LLVM's createTemporaryFile writes to cannot take files,
/// or "": the first of TMPDIR, TMP, TEMP and TEMPDIR that is set, as
/// llvm::sys::path::system_temp_directory reads them, else /tmp. The error
/// names the variable and its value (a TMPDIR that does not exist otherwise
/// surfaced as a bare "No such file or directory").
inline std::string temporaryDirectoryProblem() {
  std::string variable, dir = "/tmp";
  for (const char *name : {"TMPDIR", "TMP", "TEMP", "TEMPDIR"})
    if (const char *value = std::getenv(name)) {
      variable = name;
      dir = value;
      break;
    }
  if (dir.empty()) // LLVM then creates temporary files in the working directory
    return {};
  std::string what = variable.empty() ? "the temporary directory '/tmp'"
                                      : "the temporary directory " + variable + "='" + dir + "'";
  std::string fix = variable.empty() ? "set TMPDIR to a writable directory"
                                     : "set " + variable + " to a writable directory or unset it";
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0)
    return what + " cannot be used: " + std::strerror(errno) + " (" + fix + ")";
  if (!S_ISDIR(st.st_mode))
    return what + " is not a directory (" + fix + ")";
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return what + " cannot take files: " + std::strerror(errno) + " (" + fix + ")";
  return {};
}

/// Why `path` cannot be written, or "" when it looks writable: destination()'s
/// refusals, and a missing or read-only directory for a file to create.
/// Callers check an output this way before the work that produces it, so that
/// a bad path fails at once, before anything is computed or printed; write()
/// can still fail later (a full disk).
inline std::string checkWritable(const std::string &path) {
  Destination d = destination(path);
  if (!d.error.empty() || d.inPlace)
    return d.error; // a device or pipe is opened when written
  std::string dir = detail::directoryOf(d.target);
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return path + ": cannot write file: " + std::strerror(errno);
  return {};
}

/// The file `path` would be written to, as one name (its directory resolved
/// by realpath), to tell two outputs of a run apart: two paths with the same
/// name would leave only the last result. "" for a device or pipe (written in
/// place: /dev/null twice is fine) or an unresolvable directory.
inline std::string canonicalTarget(const std::string &path) {
  Destination d = destination(path);
  if (d.inPlace || !d.error.empty())
    return {};
  std::string dir = detail::directoryOf(d.target);
  char resolved[PATH_MAX];
  if (!::realpath(dir.c_str(), resolved))
    return {};
  size_t slash = d.target.rfind('/');
  return std::string(resolved) + "/" + d.target.substr(slash == std::string::npos ? 0 : slash + 1);
}

/// Why the outputs of one run cannot be written, or "": checkWritable() of
/// each, and two of them naming one file (only the last result would
/// remain). Callers check before the work that produces the outputs.
inline std::string checkOutputs(const std::vector<std::string> &paths) {
  for (size_t i = 0; i < paths.size(); ++i) {
    if (std::string error = checkWritable(paths[i]); !error.empty())
      return error;
    std::string target = canonicalTarget(paths[i]);
    for (size_t j = 0; j < i && !target.empty(); ++j)
      if (canonicalTarget(paths[j]) == target)
        return "'" + paths[j] + "' and '" + paths[i] +
               "' are the same file (one result would replace the other)";
  }
  return {};
}

/// Writes `bytes` to `path` as the module comment says. False with `error`
/// ("PATH: cannot write file: REASON") on failure.
inline bool write(const std::string &path, std::string_view bytes, std::string &error) {
  auto failed = [&](int err) {
    error = path + ": cannot write file: " + std::strerror(err);
    return false;
  };
  Destination d = destination(path);
  if (!d.error.empty()) {
    error = d.error;
    return false;
  }
  int err = 0;
  if (d.inPlace) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      return failed(errno);
    bool ok = detail::writeAll(fd, bytes, err);
    if (::close(fd) != 0 && ok) {
      ok = false;
      err = errno;
    }
    return ok || failed(err);
  }
  std::string tmp;
  int fd = createBeside(d.target, tmp);
  if (fd < 0)
    return failed(errno);
  bool ok = detail::writeAll(fd, bytes, err);
  // mkstemp makes the file 0600; give it what a plain creat() would.
  mode_t mask = ::umask(0);
  ::umask(mask);
  if (ok && ::fchmod(fd, 0666 & ~mask) != 0) {
    ok = false;
    err = errno;
  }
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && ::rename(tmp.c_str(), d.target.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return failed(err);
  }
  return true;
}

/// Moves the finished file `from` (a temporary file tfm made, e.g. a linked
/// executable) to `path` as write() would put bytes there: renamed over a
/// new or regular path (or a symbolic link's target), copied into an
/// existing device or pipe. `from` is gone afterwards either way.
inline bool moveInto(const std::string &from, const std::string &path, std::string &error) {
  Destination d = destination(path);
  if (!d.error.empty()) {
    error = d.error;
    ::unlink(from.c_str());
    return false;
  }
  if (!d.inPlace) {
    if (::rename(from.c_str(), d.target.c_str()) == 0)
      return true;
    error = path + ": cannot write file: " + std::strerror(errno);
    ::unlink(from.c_str());
    return false;
  }
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  std::string bytes;
  if (in >= 0) {
    char buffer[1 << 16];
    ssize_t n;
    while ((n = ::read(in, buffer, sizeof(buffer))) > 0)
      bytes.append(buffer, static_cast<size_t>(n));
    ::close(in);
  }
  ::unlink(from.c_str());
  if (in < 0) {
    error = from + ": cannot read file: " + std::strerror(errno);
    return false;
  }
  return write(path, bytes, error);
}

} // namespace tfm::output
