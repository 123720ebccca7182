#!/usr/bin/env node
// Prints the ids the independent reference (@lenml/tokenizers, a port of
// transformers.js) gives for a text, as the executables' --tokenize prints
// them ("[1, 2, 3]"): tokenizer(text)["input_ids"], special tokens added.
// Usage: node encode_ref.js NODE_MODULES TOKENIZER_DIR TEXT
const fs = require('fs');
const path = require('path');
const { TokenizerLoader } = require(path.join(path.resolve(process.argv[2]), '@lenml/tokenizers'));
const dir = process.argv[3];
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')),
  tokenizerConfig: JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')),
});
console.log('[' + tokenizer.encode(process.argv[4]).join(', ') + ']');
