// gptoss bench serve against the real server on the toy model: a concurrency sweep over the random dataset
// with ignore_eos (exact output lengths), and a ShareGPT file against a server it starts itself.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gptossBin, readJson, startServer, toyDir } from './support/server.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptoss-bench-serve-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function benchServe(args) {
  const r = spawnSync(gptossBin, ['bench', 'serve', ...args], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `bench serve failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

function assertOrdered(d, name) {
  for (const key of ['mean', 'p50', 'p90', 'p99']) assert.ok(Number.isFinite(d[key]) && d[key] >= 0, `${name}.${key}`);
  assert.ok(d.p50 <= d.p90 && d.p90 <= d.p99, `${name}: p50 ${d.p50} <= p90 ${d.p90} <= p99 ${d.p99}`);
}

describe('bench serve', () => {
  let server;
  before(async () => {
    server = await startServer({ date: 'none' });
  });
  after(async () => {
    assert.equal((await server.stop()).code, 0);
  });

  test('random dataset, concurrency sweep, exact output lengths', () => {
    const result = path.join(tmp, 'random.json');
    const plots = path.join(tmp, 'plots');
    const r = benchServe([
      '--base-url', server.url, '--api-key', server.apiKey, '--dataset', 'random', '--input-len', '32',
      '--output-len', '8', '--num-prompts', '8', '--max-concurrency', '1,4', '--ignore-eos',
      '--result-json', result, '--plot-dir', plots,
    ]);
    assert.match(r.stdout, /Serving Benchmark Result/);
    const out = readJson(result);
    assert.equal(out.model, 'toy-harmony');
    assert.equal(out.runs.length, 2);
    assert.deepEqual(out.runs.map((run) => run.max_concurrency), [1, 4]);
    for (const run of out.runs) {
      assert.equal(run.completed, 8);
      assert.equal(run.failed, 0);
      assert.equal(run.output_length_mismatches, 0);
      assert.equal(run.total_input_tokens, 8 * 32);
      assert.equal(run.total_output_tokens, 8 * 8);
      assert.equal(run.samples.length, 8);
      for (const s of run.samples) {
        assert.equal(s.success, true);
        assert.equal(s.prompt_tokens, 32);
        assert.equal(s.output_tokens, 8);
        assert.equal(s.itl_s.length, 7);  // one chunk per token
        assert.ok(s.ttft_s > 0 && s.ttft_s <= s.latency_s);
      }
      for (const name of ['ttft_ms', 'tpot_ms', 'itl_ms', 'e2e_ms']) assertOrdered(run[name], name);
      assert.ok(run.output_throughput > 0 && run.total_token_throughput > run.output_throughput);
      assert.ok(run.duration_s > 0 && run.client_cpu_ms_per_request > 0);
    }
    for (const png of ['throughput.png', 'ttft_cdf.png', 'tpot_cdf.png']) {
      assert.ok(fs.statSync(path.join(plots, png)).size > 1000, png);
    }
  });

  test('a failing request is counted with its error text', () => {
    const result = path.join(tmp, 'failing.json');
    const r = spawnSync(gptossBin, [
      'bench', 'serve', '--base-url', server.url, '--api-key', 'wrong-key', '--served-model-name', 'toy-harmony',
      '--input-len', '4', '--output-len', '2', '--num-prompts', '2', '--result-json', result,
    ], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    const run = readJson(result).runs[0];
    assert.equal(run.failed, 2);
    assert.match(run.first_errors[0], /^HTTP 401/);
  });
});

test('sharegpt file against a server it starts and stops', () => {
  const file = path.join(tmp, 'sharegpt.json');
  const turn = (from, value) => ({ from, value });
  fs.writeFileSync(file, JSON.stringify([
    { id: 'a', conversations: [turn('human', 'Tell me a short story about a cat.'), turn('gpt', 'Once upon a time a cat sat.')] },
    { id: 'b', conversations: [turn('human', 'What is the capital of France?'), turn('gpt', 'The capital of France is Paris.')] },
    { id: 'c', conversations: [turn('human', 'one turn only')] },
  ]));
  const result = path.join(tmp, 'sharegpt-result.json');
  benchServe([
    '--model', toyDir, '--backend', 'cpu', '--dataset', 'sharegpt', '--dataset-path', file, '--num-prompts', '2',
    '--endpoint', 'chat', '--result-json', result, '--server-log', path.join(tmp, 'serve.log'),
    '--', '--kv-cache-memory', '128MiB', '--max-model-len', '4096',
  ]);
  const run = readJson(result).runs[0];
  assert.equal(run.completed, 2);
  assert.equal(run.max_concurrency, 0);
  for (const s of run.samples) assert.ok(s.prompt_tokens > 10 && s.output_tokens >= 1);  // chat adds the harmony template
  assert.match(fs.readFileSync(path.join(tmp, 'serve.log'), 'utf8'), /server listening/);
});
