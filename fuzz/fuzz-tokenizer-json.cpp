//===- fuzz-tokenizer-json.cpp - Fuzz tokenizer.json loading and encoding -===//
//
// Input: a tokenizer.json text, optionally followed by a NUL byte and a text
// to tokenize. Loading either succeeds or fails with an error naming the
// file; a loaded tokenizer encodes any well-formed UTF-8 text (and refuses
// ill-formed text with an error), decodes the ids, and its image (what tfmc
// embeds) loads back and encodes the text to the same ids.
//
//===----------------------------------------------------------------------===//
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

import tfm.tokenizer.hf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view input(reinterpret_cast<const char *>(data), size);
  size_t nul = input.find('\0');
  std::string_view json = input.substr(0, nul);
  std::string_view text = nul == std::string_view::npos ? std::string_view("Hello, world! 123")
                                                        : input.substr(nul + 1);
  std::unique_ptr<tfm::tokenizer::HfTokenizer> t;
  try {
    t = std::make_unique<tfm::tokenizer::HfTokenizer>(json, "", "tokenizer.json");
  } catch (const std::runtime_error &e) {
    if (std::string(e.what()).rfind("tokenizer.json:", 0) != 0)
      std::abort(); // an error must name the file
    return 0;
  }
  std::unique_ptr<tfm::tokenizer::HfTokenizer> image =
      tfm::tokenizer::HfTokenizer::fromImage(t->image(), "image");
  for (bool allowSpecial : {false, true}) {
    std::vector<int64_t> ids;
    try {
      ids = t->encode(text, allowSpecial).ids;
    } catch (const std::runtime_error &) {
      continue; // ill-formed UTF-8 (the message names the byte offset)
    }
    (void)t->decode(ids, /*skipSpecial=*/false);
    (void)t->decode(ids, /*skipSpecial=*/true);
    if (image->encode(text, allowSpecial).ids != ids)
      std::abort(); // the image must tokenize as the file does
  }
  return 0;
}
