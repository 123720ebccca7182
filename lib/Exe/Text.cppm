//===- Text.cppm - The tokenizer an executable embeds ------------*- C++ -*-===//
//
// The `tfm.exe.text` module: the text side of a language-model executable,
// one interface over the two tokenizers tfmc embeds (tfm_settings.tokenizer):
//  * GPT-2's vocab.json + merges.txt (tfm.tokenizer), sections
//    tfm_vocab_encoder / tfm_vocab_merges;
//  * a Hugging Face tokenizer.json, as tfm.tokenizer.hf's image (section
//    tfm_tokenizer): the ids the model is fed are transformers'
//    tokenizer(text)["input_ids"] (BOS and other special tokens of its
//    post-processor included); generated text leaves special tokens out and
//    streams as tokenizers' DecodeStream does (each new id's text is the
//    difference of two decodes of a short window, held back while it ends
//    inside a UTF-8 character), so that decoders that are not per-token
//    (Metaspace, Strip, WordPiece) print exactly what a whole decode would.
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Runtime/tfm_runtime.h"
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>
export module tfm.exe.text;
import tfm.tokenizer;
import tfm.tokenizer.hf;

// What tfmc embeds (absent: null).
extern "C" {
__attribute__((weak)) extern const char tfm_vocab_encoder_begin[];
__attribute__((weak)) extern const char tfm_vocab_encoder_end[];
__attribute__((weak)) extern const char tfm_vocab_merges_begin[];
__attribute__((weak)) extern const char tfm_vocab_merges_end[];
__attribute__((weak)) extern const char tfm_tokenizer_begin[];
__attribute__((weak)) extern const char tfm_tokenizer_end[];
}

export namespace tfm::exe {

class Text {
public:
  virtual ~Text() = default;
  /// The ids the model is fed for UTF-8 `text` (with the special tokens the
  /// tokenizer adds); throws std::runtime_error naming a byte offset.
  virtual std::vector<int64_t> encode(std::string_view text, bool allowSpecial) const = 0;
  /// The id generation stops at (the tokenizer's end of text), or -1.
  virtual int64_t eos() const = 0;
  /// The id an empty prompt starts from (BOS, else the end of text), or -1.
  virtual int64_t start() const = 0;
  /// Ids below size() are the tokenizer's; others decode to no text.
  virtual size_t size() const = 0;

  /// Turns ids into the bytes of their text as they come.
  class Stream {
  public:
    virtual ~Stream() = default;
    /// The bytes of text `id` adds (possibly none yet, or part of a UTF-8
    /// character: the caller's Utf8Stream keeps its output well formed).
    virtual std::string push(int64_t id) = 0;
  };
  virtual std::unique_ptr<Stream> stream() const = 0;

  //===--- encoders ----------------------------------------------------===//

  /// An encoder's input, as transformers' tokenizer(text, pair,
  /// truncation=True, max_length=maxLength) gives it: ids and token type ids
  /// with the post-processor's special tokens ([CLS] A [SEP] B [SEP]),
  /// truncated longest-first to maxLength (0: not truncated). Throws
  /// std::runtime_error where the tokenizer has no pairs or token types.
  virtual tokenizer::Encoding encodeInput(std::string_view text, const std::string_view *pair,
                                          bool allowSpecial, size_t maxLength) const {
    if (pair)
      throw std::runtime_error("GPT-2's tokenizer files have no sentence pairs (the model "
                               "directory needs a tokenizer.json)");
    tokenizer::Encoding e{encode(text, allowSpecial), {}};
    if (maxLength > 0 && e.ids.size() > maxLength)
      e.ids.resize(maxLength);
    e.typeIds.assign(e.ids.size(), 0);
    return e;
  }
  /// The text of `ids` (special tokens left out when `skipSpecial`).
  virtual std::string decode(const std::vector<int64_t> &ids, bool skipSpecial) const = 0;
  /// The mask token's id (tokenizer_config.json's mask_token), or -1.
  virtual int64_t mask() const { return -1; }
};

/// The tokenizer tfmc embedded (`kind`: tfm_settings.tokenizer), or null for
/// none. Throws std::runtime_error when the embedded data does not load.
std::unique_ptr<Text> embeddedText(int32_t kind);

} // namespace tfm::exe

namespace tfm::exe {
namespace {

class Gpt2Text : public Text {
public:
  explicit Gpt2Text(std::unique_ptr<tokenizer::Tokenizer> t) : t_(std::move(t)) {}
  std::vector<int64_t> encode(std::string_view text, bool allowSpecial) const override {
    return t_->encode(text, allowSpecial);
  }
  int64_t eos() const override { return t_->endOfText(); }
  int64_t start() const override { return t_->endOfText(); }
  size_t size() const override { return t_->size(); }
  std::string decode(const std::vector<int64_t> &ids, bool) const override {
    std::string text;
    for (int64_t id : ids)
      if (id >= 0 && static_cast<size_t>(id) < t_->size())
        text += t_->decode(id);
    return text;
  }
  std::unique_ptr<Stream> stream() const override {
    struct S : Stream {
      const tokenizer::Tokenizer &t;
      explicit S(const tokenizer::Tokenizer &t) : t(t) {}
      // A model's vocabulary may be larger than its tokenizer's (nanoGPT
      // pads 50257 to 50304): such ids decode to nothing, as HF's decode.
      std::string push(int64_t id) override {
        return id >= 0 && static_cast<size_t>(id) < t.size() ? t.decode(id) : std::string();
      }
    };
    return std::make_unique<S>(*t_);
  }

private:
  std::unique_ptr<tokenizer::Tokenizer> t_;
};

/// Whether `text` ends inside a UTF-8 sequence that more bytes could complete.
bool endsIncomplete(const std::string &text) {
  size_t i = text.size();
  for (size_t back = 0; back < 4 && i > 0; ++back) {
    --i;
    unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80) { // a lead byte (or ASCII)
      tokenizer::Utf8Sequence seq = tokenizer::utf8SequenceAt(text, i);
      return seq.length > 0 && seq.valid == text.size() - i && seq.valid < seq.length;
    }
  }
  return false;
}

class HfText : public Text {
public:
  explicit HfText(std::unique_ptr<tokenizer::HfTokenizer> t) : t_(std::move(t)) {}
  std::vector<int64_t> encode(std::string_view text, bool allowSpecial) const override {
    return t_->encode(text, allowSpecial).ids;
  }
  int64_t eos() const override { return t_->role(tokenizer::Role::Eos).value_or(-1); }
  int64_t start() const override {
    return t_->role(tokenizer::Role::Bos).value_or(eos());
  }
  size_t size() const override { return t_->size(); }
  tokenizer::Encoding encodeInput(std::string_view text, const std::string_view *pair,
                                  bool allowSpecial, size_t maxLength) const override {
    return t_->encode(text, allowSpecial, /*addSpecialTokens=*/true, pair, maxLength);
  }
  std::string decode(const std::vector<int64_t> &ids, bool skipSpecial) const override {
    return t_->decode(ids, skipSpecial);
  }
  int64_t mask() const override { return t_->role(tokenizer::Role::Mask).value_or(-1); }
  std::unique_ptr<Stream> stream() const override {
    // tokenizers' DecodeStream: `ids` is a short window; `prefix` the text
    // of its first `prefixIndex` ids, which was printed already.
    struct S : Stream {
      const tokenizer::HfTokenizer &t;
      std::vector<int64_t> ids;
      std::string prefix;
      size_t prefixIndex = 0;
      explicit S(const tokenizer::HfTokenizer &t) : t(t) {}
      std::string push(int64_t id) override {
        ids.push_back(id);
        std::string text = t.decode(ids, /*skipSpecial=*/true);
        if (text.size() <= prefix.size() || endsIncomplete(text))
          return {};
        size_t common = 0; // the printed prefix (a clean-up may rewrite its end)
        while (common < prefix.size() && text[common] == prefix[common])
          ++common;
        std::string fresh = text.substr(common);
        size_t newPrefixIndex = ids.size() - prefixIndex;
        ids.erase(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(prefixIndex));
        prefix = t.decode(ids, /*skipSpecial=*/true);
        prefixIndex = newPrefixIndex;
        return fresh;
      }
    };
    return std::make_unique<S>(*t_);
  }

private:
  std::unique_ptr<tokenizer::HfTokenizer> t_;
};

} // namespace

std::unique_ptr<Text> embeddedText(int32_t kind) {
  switch (kind) {
  case TFM_TOKENIZER_GPT2_FILES:
    if (!tfm_vocab_encoder_begin || !tfm_vocab_merges_begin)
      throw std::runtime_error("the embedded vocabulary is missing from the executable");
    return std::make_unique<Gpt2Text>(std::make_unique<tokenizer::Tokenizer>(
        std::string_view(tfm_vocab_encoder_begin, tfm_vocab_encoder_end - tfm_vocab_encoder_begin),
        std::string_view(tfm_vocab_merges_begin, tfm_vocab_merges_end - tfm_vocab_merges_begin),
        "the embedded encoder.json", "the embedded vocab.bpe"));
  case TFM_TOKENIZER_HF_IMAGE:
    if (!tfm_tokenizer_begin)
      throw std::runtime_error("the embedded tokenizer is missing from the executable");
    return std::make_unique<HfText>(tokenizer::HfTokenizer::fromImage(
        std::string_view(tfm_tokenizer_begin, tfm_tokenizer_end - tfm_tokenizer_begin),
        "the embedded tokenizer.json"));
  default:
    return nullptr;
  }
}

} // namespace tfm::exe
