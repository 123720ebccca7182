#!/usr/bin/env node
// Writes the GPT-2 tokenizer test vectors (test/Tokenizer/vectors.tsv):
//   <ids, comma-separated> TAB <source> TAB <UTF-8 text in hex>
// Expected ids come from independent implementations only:
//  * public test vectors published with other tokenizers (source named), and
//  * the JavaScript GPT-3-Encoder (npm gpt-3-encoder@1.1.4, Encoder.js
//    encode(); a port of OpenAI's encoder.py), run here under node.
// Usage: node test/Tokenizer/make_vectors.js .deps/node_modules/gpt-3-encoder > test/Tokenizer/vectors.tsv
const path = require('path');
const { encode } = require(path.resolve(process.argv[2], 'Encoder.js'));

const published = [
  // latitudegames/GPT-3-Encoder, Encoder.test.js
  ['', [], 'GPT-3-Encoder Encoder.test.js: empty string'],
  [' ', [220], 'GPT-3-Encoder Encoder.test.js: space'],
  ['\t', [197], 'GPT-3-Encoder Encoder.test.js: tab'],
  ['This is some text', [1212, 318, 617, 2420], 'GPT-3-Encoder Encoder.test.js: simple text'],
  ['indivisible', [521, 452, 12843], 'GPT-3-Encoder Encoder.test.js: multi-token word'],
  ['hello 👋 world 🌍', [31373, 50169, 233, 995, 12520, 234, 235], 'GPT-3-Encoder Encoder.test.js: emojis'],
  // openai/tiktoken, tests/test_encoding.py (gpt2 encoding)
  ['hello world', [31373, 995], 'tiktoken tests/test_encoding.py: test_simple'],
];

const texts = [
  // contractions
  "I'm", "you're", "they've", "we'll", "she'd", "it's", "don't", "can't", "won't",
  "It's a dog's life, isn't it?", "I'D LIKE THAT", "'s", "''", "rock 'n' roll",
  // digits
  '0', '7', '42', '1234567890', '3.14159', '-273.15', '1,000,000', 'Room 101', 'v2.0.1', '2026-11-22',
  'call 555-0100', '१२३', '٣٤٥',
  // whitespace runs
  '  ', '   ', '\n', '\n\n', '\r\n', 'a  b', 'a   b', 'a\n\nb', 'a \n b', '   leading', 'trailing   ',
  'tab\there', '\t\t', 'x\u00a0y', 'mixed \t \n spaces', '    indented code',
  // accented Latin
  'café', 'naïve', 'résumé', 'Ångström', 'façade', 'São Paulo', 'Zürich', 'Łódź', 'Dvořák',
  'crème brûlée', 'ñandú', 'Ærøskøbing', 'İstanbul', 'ß', 'Straße',
  // CJK and other scripts
  '你好', '你好，世界', '中文分词测试', '日本語のテキスト', 'カタカナ', 'ひらがな', '한국어', '안녕하세요 세계',
  'Привет, мир', 'Ελληνικά', 'שלום עולם', 'مرحبا بالعالم', 'हिन्दी', 'ภาษาไทย', 'Tiếng Việt',
  // emoji
  '😀', '😀😃😄', '👍🏽', '👨‍👩‍👧‍👦', '🇫🇷', '❤️', 'I ❤ NY', 'fire 🔥 fire', '🤖 robots', '✨sparkles✨',
  // punctuation and symbols
  'Hello, world!', '...', '?!?!', '(parentheses)', '[brackets]', '{braces}', '#hashtag', '@mention',
  'a-b_c', 'e-mail@example.com', 'https://example.com/path?q=1', '$100', '€50', '£20', '¥1000', '50%',
  '© 2026', '™', '→ ← ↑ ↓', '∑ ∫ √', '<|endoftext|>', 'x <|endoftext|> y',
  // code
  'def f(x):\n    return x * 2', 'int main() { return 0; }', 'for i in range(10):', 'a == b && c != d',
  '// comment', '/* block */', '#include <stdio.h>', 'SELECT * FROM t;',
  // sentences
  'The quick brown fox jumps over the lazy dog.', 'GPT-2 is a transformer.',
  'Once upon a time, there was a compiler.', 'To be, or not to be: that is the question.',
  'HELLO WORLD', 'hello world', 'Hello World', 'camelCaseIdentifier', 'snake_case_identifier',
  'supercalifragilisticexpialidocious', 'antidisestablishmentarianism',
];

const rows = [];
for (const [text, ids, source] of published)
  rows.push([ids.join(','), source, Buffer.from(text, 'utf8').toString('hex')]);
for (const text of texts)
  rows.push([encode(text).join(','), 'gpt-3-encoder@1.1.4 encode() under node',
             Buffer.from(text, 'utf8').toString('hex')]);
process.stdout.write(rows.map(r => r.join('\t')).join('\n') + '\n');
