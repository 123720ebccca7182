#!/usr/bin/env node
// Prints, as a JSON string, the text of ids (comma-separated) decoded by the
// independent reference (@lenml/tokenizers, a port of transformers.js) from
// a tokenizer directory, special tokens skipped as generated text is shown.
// Usage: node decode_ref.js NODE_MODULES TOKENIZER_DIR IDS
const fs = require('fs');
const path = require('path');
const { TokenizerLoader } = require(path.join(path.resolve(process.argv[2]), '@lenml/tokenizers'));
const dir = process.argv[3];
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')),
  tokenizerConfig: JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')),
});
const ids = process.argv[4].split(',').filter((x) => x.length).map(Number);
console.log(JSON.stringify(ids.length ? tokenizer.decode(ids, { skip_special_tokens: true }) : ''));
