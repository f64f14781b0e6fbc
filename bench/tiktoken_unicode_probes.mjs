// Writes probe texts covering every Unicode scalar value in several contexts (one JSON string per line) and
// tiktoken@1.0.22's ids for each (one JSON array per line), for bench/tokenizer_unicode_diff.sh.
// Usage: node bench/tiktoken_unicode_probes.mjs TEXTS_OUT IDS_OUT
import fs from 'node:fs';
import {createRequire} from 'node:module';

const require = createRequire(import.meta.url);
const [textsOut, idsOut] = process.argv.slice(2);
const {Tiktoken} = require('tiktoken/lite');
const o200k = require('tiktoken/encoders/o200k_base.json');
const enc = new Tiktoken(o200k.bpe_ranks, {}, o200k.pat_str);

// Contexts in which a character's class (letter case, mark, number, space, other) changes the pieces.
const probes = (c) => [c, 'a' + c, c + 'a', 'A' + c + 'a', 'x' + c + 'X', '1' + c + '2', ' ' + c, c + ' ', "'" + c + 's',
  c + c, '.' + c];
const texts = fs.openSync(textsOut, 'w');
const ids = fs.openSync(idsOut, 'w');
let batch = [];
const flush = () => {
  const text = batch.join('\n');
  fs.writeSync(texts, JSON.stringify(text) + '\n');
  fs.writeSync(ids, '[' + enc.encode_ordinary(text).join(',') + ']\n');
  batch = [];
};
for (let cp = 0; cp <= 0x10ffff; ++cp) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  batch.push(probes(String.fromCodePoint(cp)).join('\u0001'));
  if (batch.length === 256) flush();
}
flush();
enc.free();
