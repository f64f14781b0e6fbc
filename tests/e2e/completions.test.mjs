// /v1/completions (raw prompts, no harmony), /v1/models, /tokenize: golden greedy ids from transformers,
// streaming, logprobs, stop strings, seeds.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { post, startServer, toyGolden } from './support/server.mjs';

let server;
let client;
before(async () => {
  server = await startServer({ date: 'none' });
  client = new OpenAI({ baseURL: server.baseURL, apiKey: server.apiKey, maxRetries: 0 });
});
after(async () => {
  assert.equal((await server.stop()).code, 0);
});

const golden = toyGolden();
const promptIds = (c) => (typeof c.prompt_ids === 'string' ? JSON.parse(c.prompt_ids) : c.prompt_ids);

describe('completions', () => {
  test('greedy output equals transformers on every golden prompt', async () => {
    // All at once: the engine batches them, and batching must not change a greedy result.
    const results = await Promise.all(
      golden.map((c) =>
        client.completions.create({
          model: 'toy-harmony',
          prompt: promptIds(c),
          max_tokens: c.greedy_ids.length + 8,
          temperature: 0,
          return_token_ids: true,
        }),
      ),
    );
    golden.forEach((c, i) => {
      const choice = results[i].choices[0];
      assert.deepEqual(choice.token_ids, c.greedy_ids, `case ${i}: ${c.greedy_text}`);
      assert.deepEqual(choice.prompt_token_ids, promptIds(c));
      assert.equal(choice.finish_reason, 'stop');
      assert.equal(choice.stop_reason, c.greedy_ids.at(-1));
    });
  });

  test('text prompt: response shape and special tokens in text are recognised', async () => {
    const c = golden[0];
    const r = await client.completions.create({ model: 'toy-harmony', prompt: c.prompt_text, max_tokens: 64, temperature: 0, return_token_ids: true });
    assert.match(r.id, /^cmpl-/);
    assert.equal(r.object, 'text_completion');
    assert.equal(r.model, 'toy-harmony');
    assert.deepEqual(r.choices[0].prompt_token_ids, promptIds(c));
    assert.deepEqual(r.choices[0].token_ids, c.greedy_ids);
    // Text skips special tokens.
    assert.ok(!r.choices[0].text.includes('<|'));
    assert.equal(r.usage.prompt_tokens, promptIds(c).length);
    assert.equal(r.usage.completion_tokens, c.greedy_ids.length);
  });

  test('streaming text equals the non-streamed text', async () => {
    const c = golden[1];
    const req = { model: 'toy-harmony', prompt: promptIds(c), max_tokens: 64, temperature: 0 };
    const full = await client.completions.create(req);
    let text = '';
    let finish = null;
    let usage = null;
    let chunks = 0;
    for await (const chunk of await client.completions.create({ ...req, stream: true, stream_options: { include_usage: true } })) {
      chunks++;
      if (chunk.usage) usage = chunk.usage;
      for (const ch of chunk.choices) {
        text += ch.text;
        finish = ch.finish_reason ?? finish;
      }
    }
    assert.equal(text, full.choices[0].text);
    assert.equal(finish, 'stop');
    assert.equal(usage.completion_tokens, full.usage.completion_tokens);
    assert.ok(chunks > 5);
  });

  test('stop strings cut the text and report the matched string', async () => {
    const c = golden.find((g) => g.greedy_text.includes('Hello,'));
    const r = await client.completions.create({ model: 'toy-harmony', prompt: promptIds(c), max_tokens: 64, temperature: 0, stop: ['Hello,'] });
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.equal(r.choices[0].stop_reason, 'Hello,');
    assert.ok(!r.choices[0].text.includes('Hello,'));
  });

  test('ignore_eos and legacy logprobs', async () => {
    const r = await client.completions.create({
      model: 'toy-harmony', prompt: promptIds(golden[2]), max_tokens: 40, temperature: 0, ignore_eos: true, logprobs: 3, return_token_ids: true,
    });
    const ch = r.choices[0];
    assert.equal(ch.finish_reason, 'length');
    assert.equal(ch.token_ids.length, 40);
    assert.equal(ch.logprobs.tokens.length, 40);
    assert.equal(ch.logprobs.token_logprobs.length, 40);
    assert.equal(Object.keys(ch.logprobs.top_logprobs[0]).length, 3);
    assert.equal(ch.logprobs.text_offset[0], 0);
  });

  test('a seed reproduces sampled tokens; another seed gives other tokens', async () => {
    const req = { model: 'toy-harmony', prompt: promptIds(golden[3]), max_tokens: 30, temperature: 2, ignore_eos: true, return_token_ids: true };
    const a = await client.completions.create({ ...req, seed: 77 });
    const b = await client.completions.create({ ...req, seed: 77 });
    const c = await client.completions.create({ ...req, seed: 78 });
    assert.deepEqual(a.choices[0].token_ids, b.choices[0].token_ids);
    assert.notDeepEqual(a.choices[0].token_ids, c.choices[0].token_ids);
  });

  test('batch of prompts times n', async () => {
    const r = await client.completions.create({ model: 'toy-harmony', prompt: [promptIds(golden[0]), promptIds(golden[1])], n: 2, max_tokens: 4, temperature: 0, return_token_ids: true });
    assert.equal(r.choices.length, 4);
    assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2, 3]);
    assert.deepEqual(r.choices[1].token_ids, golden[0].greedy_ids.slice(0, 4));
    assert.deepEqual(r.choices[2].token_ids, golden[1].greedy_ids.slice(0, 4));
  });
});

describe('models and tokenizer routes', () => {
  test('/v1/models lists the served model', async () => {
    const list = await client.models.list();
    assert.equal(list.data.length, 1);
    assert.equal(list.data[0].id, 'toy-harmony');
    assert.equal(list.data[0].object, 'model');
    assert.equal(list.data[0].owned_by, 'gptoss');
    const one = await client.models.retrieve('toy-harmony');
    assert.equal(one.id, 'toy-harmony');
    await assert.rejects(client.models.retrieve('gpt-4o'), (e) => e.status === 404 && e.code === 'model_not_found');
  });

  test('/tokenize and /detokenize round trip', async () => {
    const t = await (await post(server, '/tokenize', { prompt: 'Hello world<|end|>', return_token_strs: true })).json();
    assert.equal(t.tokens.length, t.count);
    assert.equal(t.token_strs.at(-1), '<|end|>');
    const d = await (await post(server, '/detokenize', { tokens: t.tokens })).json();
    assert.equal(d.prompt, 'Hello world<|end|>');
  });

  test('/health and /metrics', async () => {
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of ['time_to_first_token_seconds_bucket', 'inter_token_latency_seconds_bucket', 'e2e_request_latency_seconds_count',
      'num_requests_running', 'num_requests_waiting', 'kv_cache_usage_perc', 'prompt_tokens_total', 'generation_tokens_total',
      'prefix_cache_hits_total', 'prefix_cache_queries_total', 'num_preemptions_total', 'request_success_total']) {
      assert.ok(metrics.includes(`gptoss:${name}`), name);
    }
    assert.match(metrics, /gptoss:generation_tokens_total\{model_name="toy-harmony"\} [1-9]/);
  });
});
