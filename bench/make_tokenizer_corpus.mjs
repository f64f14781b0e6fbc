// Writes the tokenizer benchmark corpus: >= 12 MiB of mixed text, the same bytes on every run (seeded PRNG,
// inputs from ../shared only). Usage: node bench/make_tokenizer_corpus.mjs SHARED_DIR OUT_FILE
//
// Mix (by segments drawn): English prose and markdown (paragraphs of ../shared/docs), the multilingual and
// emoji texts of the peer tokenizer vectors, synthetic source code in several languages, JSON / CSV / log
// records, Chinese / Japanese / Korean prose, and runs of CJK characters without spaces (long BPE pieces).
import fs from 'node:fs';
import path from 'node:path';

const [sharedDir, outFile] = process.argv.slice(2);
if (!sharedDir || !outFile) {
  console.error('usage: node make_tokenizer_corpus.mjs SHARED_DIR OUT_FILE');
  process.exit(2);
}
const kTargetBytes = 12 * 1024 * 1024;

// mulberry32: small, seedable, identical on every platform.
let state = 0x6770746f;
function random() {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));

const docsDir = path.join(sharedDir, 'docs');
const paragraphs = fs.readdirSync(docsDir).filter((f) => f.endsWith('.md')).sort()
  .flatMap((f) => fs.readFileSync(path.join(docsDir, f), 'utf8').split(/\n\s*\n/))
  .filter((p) => p.trim().length > 0);
const peerTexts = ['o200k_vectors.jsonl', 'o200k_whitespace_edges.jsonl']
  .flatMap((f) => fs.readFileSync(path.join(sharedDir, 'peer', 'tokenizer', f), 'utf8').split('\n'))
  .filter((l) => l.length > 0).map((l) => JSON.parse(l).text);

const syllables = ['ka', 'lo', 'mi', 'tra', 'ven', 'sor', 'pu', 'di', 'zen', 'qua', 'rel', 'to', 'bix', 'an',
  'el', 'or', 'ste', 'gra', 'nu', 'fi', 'comp', 'act', 'ion', 'ize', 'ment'];
const word = () => Array.from({length: int(1, 4)}, () => pick(syllables)).join('');
const camel = () => word() + word().replace(/^./, (c) => c.toUpperCase());
const snake = () => `${word()}_${word()}`;

const codeTemplates = [
  () => `def ${snake()}(${snake()}, ${word()}=${int(0, 999)}):\n    """Return the ${word()} of ${word()}."""\n` +
        `    if ${word()} > ${int(1, 64)}:\n        return [${int(0, 9)}, ${int(10, 99)}, ${int(100, 9999)}]\n` +
        `    return ${snake()}.get("${word()}", None)\n\n`,
  () => `static int ${snake()}(const struct ${word()} *${word()}, size_t n) {\n    for (size_t i = 0; i < n; ++i) {\n` +
        `        if (${word()}[i].${word()} != 0x${int(0, 65535).toString(16)}) return -${int(1, 40)};\n    }\n` +
        `    return 0;  // ${word()} ${word()}\n}\n\n`,
  () => `template <typename T>\nstd::vector<T> ${camel()}(std::span<const T> ${word()}) {\n` +
        `    std::vector<T> out;\n    out.reserve(${word()}.size() * ${int(2, 8)});\n` +
        `    std::ranges::copy(${word()}, std::back_inserter(out));\n    return out;\n}\n\n`,
  () => `fn ${snake()}(${word()}: &[u8]) -> Result<${camel()}, Error> {\n    let ${word()} = ${word()}.iter().map(|x| x * ${int(2, 9)}).sum::<u64>();\n` +
        `    Ok(${camel()} { ${word()}, ${snake()}: ${int(0, 1 << 20)} })\n}\n\n`,
  () => `export async function ${camel()}(${word()}) {\n  const res = await fetch(\`/api/v${int(1, 3)}/${word()}/\${${word()}}\`);\n` +
        `  if (!res.ok) throw new Error('${word()} failed: ' + res.status);\n  return res.json();\n}\n\n`,
  () => `SELECT ${snake()}, COUNT(*) AS n FROM ${snake()} WHERE ${word()} >= ${int(0, 5000)} GROUP BY ${snake()} ORDER BY n DESC LIMIT ${int(1, 100)};\n`,
  () => `func (s *${camel()}) ${camel()}(ctx context.Context, id int64) (*${camel()}, error) {\n` +
        `\tif id <= 0 {\n\t\treturn nil, fmt.Errorf("${word()}: bad id %d", id)\n\t}\n\treturn s.${word()}[id], nil\n}\n\n`,
];
const dataTemplates = [
  () => JSON.stringify({id: int(1, 1e9), name: camel(), tags: [word(), word()], score: random() * 100,
    active: random() < 0.5, created: `2024-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')}T${int(10, 23)}:${int(10, 59)}:${int(10, 59)}Z`}) + '\n',
  () => `${int(1, 99999)},${word()},${camel()},${(random() * 1000).toFixed(2)},${int(0, 1)}\n`,
  () => `${int(10, 250)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)} - - [12/Mar/2025:${int(10, 23)}:${int(10, 59)}:${int(10, 59)} +0000] ` +
        `"GET /${word()}/${word()}?id=${int(1, 99999)} HTTP/1.1" ${pick([200, 200, 200, 304, 404, 500])} ${int(100, 99999)}\n`,
];
const cjkSentences = [
  '今天的天气很好，我们一起去公园散步吧。', '这个模型在长文本上的表现比预期更稳定。', '请把会议记录发给所有参加的人。',
  '数据库的索引需要定期重建，否则查询会变慢。', '东京の桜は三月の終わりに満開になります。', '明日の午前十時に駅の前で会いましょう。',
  'このプログラムはファイルを読み込んで結果を表示します。', 'カタカナとひらがなと漢字が混ざった文章です。',
  '오늘 회의는 오후 세 시에 시작합니다.', '이 문서는 서버 설정 방법을 설명합니다.', '한국어 문장은 띄어쓰기를 사용합니다.',
];
const cjkRun = () => Array.from({length: int(8, 60)}, () => String.fromCodePoint(int(0x4e00, 0x9fa5))).join('');

const segments = [
  [40, () => pick(paragraphs) + '\n\n'],
  [12, () => pick(peerTexts) + '\n'],
  [20, () => pick(codeTemplates)()],
  [12, () => pick(dataTemplates)()],
  [10, () => Array.from({length: int(2, 6)}, () => pick(cjkSentences)).join('') + '\n'],
  [6, () => cjkRun() + '。\n'],
];
const totalWeight = segments.reduce((s, [w]) => s + w, 0);

const parts = [];
let bytes = 0;
while (bytes < kTargetBytes) {
  let r = random() * totalWeight;
  let make = segments[segments.length - 1][1];
  for (const [w, f] of segments) {
    if ((r -= w) < 0) { make = f; break; }
  }
  const s = make();
  parts.push(s);
  bytes += Buffer.byteLength(s, 'utf8');
}
fs.writeFileSync(outFile, parts.join(''));
console.log(`corpus: ${outFile} (${bytes} bytes)`);
