//===- ProgramOptions.cppm - GNU syntax Boost.Program_options lacks -*- C++ -*-===//
//
// The `tfm.program_options` module: what every Boost.Program_options command
// line of tfm (tfmc's, the executables') needs before Boost sees it. In GNU
// syntax `--prompt=` gives --prompt the empty string, as `--prompt ""` does;
// Boost refuses it ("the argument for option '--prompt' should follow
// immediately after the equal sign"). splitEmptyValues() rewrites such words
// into the two-word form, which Boost accepts.
//
//===----------------------------------------------------------------------===//

module;
#include <boost/program_options.hpp>
#include <string>
#include <vector>
export module tfm.program_options;

export namespace tfm::program_options {

/// `argv` (argc words, argv[0] included) with every `--NAME=` whose value is
/// empty split into `--NAME` and "", where NAME is a long option of
/// `options` that takes a value (at least one token). Words after `--`, and
/// options `options` does not know (tfmc's MLIR flags), are left as they are,
/// so Boost's own errors about them are unchanged.
inline std::vector<std::string>
splitEmptyValues(int argc, char **argv, const boost::program_options::options_description &options) {
  std::vector<std::string> out;
  bool optionsEnded = false;
  for (int i = 0; i < argc; ++i) {
    std::string word = argv[i];
    if (i > 0 && !optionsEnded && word == "--")
      optionsEnded = true;
    if (i > 0 && !optionsEnded && word.size() > 3 && word.rfind("--", 0) == 0 &&
        word.back() == '=' && word.find('=') == word.size() - 1) {
      std::string name = word.substr(2, word.size() - 3);
      const boost::program_options::option_description *option =
          options.find_nothrow(name, /*approx=*/false);
      if (option && option->semantic()->min_tokens() > 0) {
        out.push_back("--" + name);
        out.emplace_back();
        continue;
      }
    }
    out.push_back(std::move(word));
  }
  return out;
}

/// Pointers to the words of `words`, for a parser that takes argc/argv.
inline std::vector<char *> argvOf(std::vector<std::string> &words) {
  std::vector<char *> out;
  for (std::string &w : words)
    out.push_back(w.data());
  return out;
}

} // namespace tfm::program_options
