// The reference side of the tokenizer benchmark: npm tiktoken@1.0.22 (the WASM build of OpenAI's Rust
// tiktoken, which made the peer vectors) with the o200k_harmony special tokens, on the same corpus.
// Usage: node bench/tiktoken_bench.mjs CORPUS_FILE [REPEATS]. Prints one JSON object.
import fs from 'node:fs';
import {createRequire} from 'node:module';
import {performance} from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const [corpusFile, repeatsArg] = process.argv.slice(2);
const repeats = Number(repeatsArg ?? 3);

const t0 = performance.now();
const {Tiktoken} = require('tiktoken/lite');  // instantiates the WASM module
const wasmInitMs = performance.now() - t0;

const specials = {
  '<|startoftext|>': 199998, '<|endoftext|>': 199999, '<|return|>': 200002, '<|constrain|>': 200003,
  '<|channel|>': 200005, '<|start|>': 200006, '<|end|>': 200007, '<|message|>': 200008, '<|call|>': 200012,
};
for (const id of [200000, 200001, 200004, 200009, 200010, 200011]) specials[`<|reserved_${id}|>`] = id;
for (let id = 200013; id <= 201087; ++id) specials[`<|reserved_${id}|>`] = id;

// Load = read + parse the encoder file (ranks + pattern) + build the encoder; best of 3.
const encoderPath = require.resolve('tiktoken/encoders/o200k_base.json');
let loadMs = Infinity;
let enc = null;
for (let i = 0; i < 3; ++i) {
  const start = performance.now();
  const o200k = JSON.parse(fs.readFileSync(encoderPath, 'utf8'));
  const e = new Tiktoken(o200k.bpe_ranks, specials, o200k.pat_str);
  loadMs = Math.min(loadMs, performance.now() - start);
  if (enc) enc.free();
  enc = e;
}

const corpus = fs.readFileSync(corpusFile, 'utf8');
const corpusBytes = Buffer.byteLength(corpus, 'utf8');
const seconds = [];
const cpuSeconds = [];  // process CPU time (user + system): robust against other load on the machine
let ids = null;
for (let i = 0; i < repeats; ++i) {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  ids = enc.encode_ordinary(corpus);
  const cpu = process.cpuUsage(cpuStart);
  cpuSeconds.push((cpu.user + cpu.system) / 1e6);
  seconds.push((performance.now() - start) / 1000);
}
// FNV-1a over the ids' little-endian int32 bytes: compared with the C++ side.
let hash = 0x811c9dc5;
for (const id of ids) {
  for (let shift = 0; shift < 32; shift += 8) hash = Math.imul(hash ^ ((id >>> shift) & 0xff), 0x01000193) >>> 0;
}
seconds.sort((a, b) => a - b);
cpuSeconds.sort((a, b) => a - b);
console.log(JSON.stringify({
  implementation: 'tiktoken@1.0.22 (wasm)',
  corpus_bytes: corpusBytes,
  num_ids: ids.length,
  ids_fnv1a: hash.toString(16).padStart(8, '0'),
  wasm_init_ms: +wasmInitMs.toFixed(1),
  load_ms: +loadMs.toFixed(1),
  encode_mb_per_s_best: +(corpusBytes / 1e6 / seconds[0]).toFixed(2),
  encode_mb_per_cpu_s_best: +(corpusBytes / 1e6 / cpuSeconds[0]).toFixed(2),
  encode_mb_per_s_median: +(corpusBytes / 1e6 / seconds[Math.floor(seconds.length / 2)]).toFixed(2),
}));
enc.free();
