//===- tfm-tokenize.cpp - Tokenize with a Hugging Face tokenizer.json -*- C++ -*-===//
//
// A thin tool over the tfm.tokenizer.hf module: loads a tokenizer.json (and
// tokenizer_config.json beside it) exactly as tfm's executables will, and
// prints ids, decoded text or the pipeline. Used by the tokenizer tests
// against independent reference ids, and by people checking what a model
// directory's tokenizer does.
//
//===----------------------------------------------------------------------===//

#include <boost/program_options.hpp>
#include <cerrno>
#include <chrono>
#include <memory>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

import tfm.program_options;
import tfm.tokenizer.hf;

namespace po = boost::program_options;

static int fail(const std::string &message, int code = 1) {
  std::cerr << "tfm-tokenize: error: " << message << "\n";
  return code;
}

static bool readFile(const std::string &path, std::string &out, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open file: " + std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

/// JSON of `ids` ([1, 2, 3]).
static std::string idsJson(const std::vector<int64_t> &ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i)
    out += (i ? ", " : "") + std::to_string(ids[i]);
  return out + "]";
}

/// `bytes` as a JSON string, ill-formed UTF-8 replaced by U+FFFD.
static std::string textJson(const std::string &bytes) {
  return nlohmann::json(bytes).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int main(int argc, char **argv) {
  po::options_description visible(
      "usage: tfm-tokenize TOKENIZER [options]\n\n"
      "Tokenizes with a Hugging Face tokenizer.json as tfm's executables do.\n"
      "TOKENIZER is a model directory (its tokenizer.json, and tokenizer_config.json\n"
      "when present) or a tokenizer.json file.\n\noptions");
  visible.add_options()
      ("help,h", "print this help and exit")
      ("text", po::value<std::string>(), "print the ids of TEXT as a JSON array")
      ("texts", po::value<std::string>(), "FILE: one JSON string a line; print the ids of "
       "each as a JSON array, a line each")
      ("decode", po::value<std::string>(), "IDS (comma-separated): print their text")
      ("with-decoded", "with --text/--texts: print {\"ids\": [...], \"decoded\": TEXT} "
       "(decode of the ids) instead")
      ("allow-special", "special-token strings in the text are special tokens (else plain text)")
      ("no-special-tokens", "add no special tokens (BOS, [CLS], ...) of the post-processor")
      ("skip-special", "--decode/--with-decoded: leave special tokens out of the text")
      ("describe", "print the tokenizer's pipeline")
      ("via-image", "tokenize with the image tfmc embeds in executables (made from the file and "
       "loaded back), and print its size and load time on stderr");
  po::options_description hidden;
  hidden.add_options()("tokenizer", po::value<std::string>(), "");
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description positional;
  positional.add("tokenizer", 1);
  po::variables_map vm;
  try {
    std::vector<std::string> words = tfm::program_options::splitEmptyValues(argc, argv, all);
    std::vector<char *> args = tfm::program_options::argvOf(words);
    auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(static_cast<int>(args.size()), args.data())
                  .options(all)
                  .positional(positional)
                  .style(style)
                  .run(),
              vm);
    po::notify(vm);
  } catch (const po::error &e) {
    return fail(std::string(e.what()) + " (see --help)", 2);
  }
  if (vm.count("help")) {
    std::cout << visible << "\n";
    return std::cout.flush() ? 0 : fail("standard output: " + std::string(std::strerror(errno)));
  }
  if (!vm.count("tokenizer"))
    return fail("give a model directory or a tokenizer.json (see --help)", 2);
  std::string path = vm["tokenizer"].as<std::string>(), configPath;
  std::string dir = path;
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    size_t slash = path.rfind('/');
    dir = slash == std::string::npos ? "." : path.substr(0, slash);
  } else {
    path = dir + "/tokenizer.json";
  }
  configPath = dir + "/tokenizer_config.json";
  std::string json, config, error;
  if (!readFile(path, json, error))
    return fail(error);
  if (std::ifstream(configPath).good() && !readFile(configPath, config, error))
    return fail(error);
  const bool allowSpecial = vm.count("allow-special"), addSpecial = !vm.count("no-special-tokens"),
             skipSpecial = vm.count("skip-special"), withDecoded = vm.count("with-decoded");
  try {
    auto loaded = std::make_unique<tfm::tokenizer::HfTokenizer>(json, config, path, configPath);
    if (vm.count("via-image")) {
      std::string image = loaded->image();
      auto start = std::chrono::steady_clock::now();
      loaded = tfm::tokenizer::HfTokenizer::fromImage(image, path + " (image)");
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::cerr << "tfm-tokenize: image of " << image.size() << " bytes loaded in "
                << static_cast<long long>(seconds * 1000 + 0.5) << " ms\n";
    }
    const tfm::tokenizer::HfTokenizer &tokenizer = *loaded;
    if (vm.count("describe"))
      std::cout << tokenizer.describe();
    auto show = [&](const std::string &text) {
      std::vector<int64_t> ids = tokenizer.encode(text, allowSpecial, addSpecial).ids;
      if (withDecoded)
        std::cout << "{\"ids\": " << idsJson(ids)
                  << ", \"decoded\": " << textJson(tokenizer.decode(ids, skipSpecial)) << "}\n";
      else
        std::cout << idsJson(ids) << "\n";
    };
    if (vm.count("text"))
      show(vm["text"].as<std::string>());
    if (vm.count("texts")) {
      std::string file = vm["texts"].as<std::string>(), all;
      if (!readFile(file, all, error))
        return fail(error);
      std::istringstream lines(all);
      std::string line;
      for (size_t n = 1; std::getline(lines, line); ++n) {
        nlohmann::json value;
        try {
          value = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception &) {
          return fail(file + ":" + std::to_string(n) + ": not a JSON string");
        }
        if (!value.is_string())
          return fail(file + ":" + std::to_string(n) + ": not a JSON string");
        try {
          show(value.get<std::string>());
        } catch (const std::runtime_error &e) {
          return fail(file + ":" + std::to_string(n) + ": " + e.what());
        }
      }
    }
    if (vm.count("decode")) {
      std::vector<int64_t> ids;
      std::stringstream ss(vm["decode"].as<std::string>());
      std::string item;
      while (std::getline(ss, item, ',')) {
        try {
          size_t used = 0;
          ids.push_back(std::stoll(item, &used));
          if (used != item.size())
            throw std::invalid_argument(item);
        } catch (const std::exception &) {
          return fail("--decode: '" + item + "' is not an id", 2);
        }
      }
      std::cout << textJson(tokenizer.decode(ids, skipSpecial)) << "\n";
    }
  } catch (const std::runtime_error &e) {
    return fail(e.what());
  }
  std::cout.flush();
  return std::cout ? 0 : fail("standard output: " + std::string(std::strerror(errno)));
}
