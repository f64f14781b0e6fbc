// Concurrency and connection life: 64 concurrent streams, a client that disconnects mid-stream (its KV
// pages must be freed), and graceful shutdown with a request in flight.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import { metric, post, readSse, scrapeMetrics, startServer, toyGolden } from './support/server.mjs';

const golden = toyGolden();
const promptIds = (c) => (typeof c.prompt_ids === 'string' ? JSON.parse(c.prompt_ids) : c.prompt_ids);

async function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// A request that may land on a keep-alive connection the server closes while draining: it fails and is
// sent again (at most three retries).
async function retried(send) {
  for (let attempt = 0; ; ++attempt) {
    try {
      return await send();
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

describe('streams', () => {
  test('64 concurrent streams, then a client that disconnects mid-stream', async () => {
    const server = await startServer({ date: '2025-06-28' });
    try {
      const client = new OpenAI({ baseURL: server.baseURL, apiKey: server.apiKey, maxRetries: 0 });
      // 64 at once: even ones through the SDK (chat), odd ones raw (completions on golden prompts).
      const streams = Array.from({ length: 64 }, async (_, i) => {
        let chunks = 0;
        let finish = null;
        if (i % 2 === 0) {
          const stream = await client.chat.completions.create({
            model: 'toy-harmony',
            messages: [{ role: 'user', content: 'Say hello to Ava.' }],
            temperature: 0,
            max_tokens: 12 + (i % 5),
            stream: true,
          });
          for await (const chunk of stream) {
            chunks++;
            for (const ch of chunk.choices) finish = ch.finish_reason ?? finish;
          }
          return { chunks, finish };
        }
        const res = await post(server, '/v1/completions', { prompt: promptIds(golden[i % golden.length]), max_tokens: 10, temperature: 0, stream: true });
        const events = await readSse(res);
        assert.equal(events.at(-1), '[DONE]');
        for (const e of events.slice(0, -1)) for (const ch of e.choices) finish = ch.finish_reason ?? finish;
        return { chunks: events.length, finish };
      });
      const results = await Promise.all(streams);
      for (const r of results) {
        assert.ok(r.chunks >= 3);
        assert.ok(['stop', 'length'].includes(r.finish));
      }
      const after64 = await scrapeMetrics(server);
      assert.equal(metric(after64, 'gptoss:num_requests_running'), 0);

      // Disconnect: a long generation, abandoned after a few chunks.
      const abortsBefore = metric(after64, 'gptoss:request_success_total', { finished_reason: 'abort' });
      const controller = new AbortController();
      const res = await post(server, '/v1/completions', { prompt: promptIds(golden[0]), max_tokens: 5000, ignore_eos: true, temperature: 0, stream: true }, { signal: controller.signal });
      let seen = 0;
      await assert.rejects(readSse(res, {
        onEvent: async () => {
          if (++seen === 3) {
            const busy = await scrapeMetrics(server);
            assert.equal(metric(busy, 'gptoss:num_requests_running'), 1);
            assert.ok(metric(busy, 'gptoss:kv_cache_blocks_used', { pool: 'full' }) > 0);
            controller.abort();
          }
        },
      }));
      const freed = await waitFor(async () => {
        const m = await scrapeMetrics(server);
        const idle = metric(m, 'gptoss:num_requests_running') === 0 && metric(m, 'gptoss:num_requests_waiting') === 0;
        return idle ? m : null;
      }, 10_000, 'the aborted request to leave the engine');
      assert.equal(metric(freed, 'gptoss:kv_cache_blocks_used', { pool: 'window' }), 0);
      // Blocks that stay cached for prefix reuse are not "used" by any request.
      assert.equal(metric(freed, 'gptoss:kv_cache_usage_perc'), 0);
      assert.equal(metric(freed, 'gptoss:request_success_total', { finished_reason: 'abort' }), abortsBefore + 1);
      assert.ok(metric(freed, 'gptoss:generation_tokens_total') < 64 * 40 + 2000, 'the abandoned request kept generating');
      assert.match(server.output(), /client_gone=true/);
    } finally {
      assert.equal((await server.stop()).code, 0, server.output());
    }
  });

  test('SIGTERM drains: the in-flight stream completes, new requests are refused, exit 0', async () => {
    // Scripted runner at 20 ms per step: the stream outlasts the checks below on any backend (a real model
    // on a GPU finishes 150 tokens before /health can be asked).
    const server = await startServer({ scripted: true, args: ['--drain-timeout', '60'] });
    const res = await post(server, '/v1/chat/completions', {
      model: 'toy-harmony', messages: [{ role: 'user', content: '[[script:endless]] [[delay_ms:20]]' }], max_tokens: 100, stream: true,
    });
    let signalled = false;
    const events = await readSse(res, {
      onEvent: async (event, all) => {
        if (!signalled && all.length === 2) {
          signalled = true;
          server.child.kill('SIGTERM');
          await waitFor(async () => (await retried(() => fetch(`${server.url}/health`))).status === 503, 5000, '/health 503');
          const refused = await retried(() => post(server, '/v1/completions', { prompt: [1, 2, 3], max_tokens: 2 }));
          assert.equal(refused.status, 503);
          assert.equal((await refused.json()).error.code, 'shutting_down');
        }
      },
    });
    assert.ok(signalled);
    assert.equal(events.at(-1), '[DONE]');
    const choices = events.filter((e) => e !== '[DONE]').flatMap((e) => e.choices);
    assert.equal(choices.find((c) => c.finish_reason).finish_reason, 'length');
    const text = choices.map((c) => c.delta?.content ?? '').join('');
    assert.ok(text.length > 50, text);
    const { code, signal } = await server.exited;
    assert.equal(signal, null);
    assert.equal(code, 0, server.output());
    assert.match(server.output(), /draining/);
  });

  test('a full queue answers 503; the drain timeout aborts what is still running, exit 0', async () => {
    // Scripted runner: one sequence at a time, one waiting at most, 40 ms per step.
    const server = await startServer({ scripted: true, args: ['--max-num-seqs', '1', '--max-num-batched-tokens', '1024', '--max-queued-requests', '1', '--drain-timeout', '1'] });
    const slow = (tokens) => ({ model: 'toy-harmony', messages: [{ role: 'user', content: '[[script:endless]] [[delay_ms:40]]' }], max_tokens: tokens, stream: true });
    const running = await post(server, '/v1/chat/completions', slow(2000));
    assert.equal(running.status, 200);
    const events = [];
    const reading = readSse(running, { onEvent: (e) => events.push(e) });
    await waitFor(() => events.length >= 2, 10_000, 'the first stream to start');
    const waiting = await post(server, '/v1/chat/completions', slow(2000));
    assert.equal(waiting.status, 200);
    const waitingEvents = readSse(waiting);
    await waitFor(async () => metric(await scrapeMetrics(server), 'gptoss:num_requests_waiting') === 1, 5000, 'one waiting request');
    const refused = await post(server, '/v1/chat/completions', { ...slow(5), stream: false });
    assert.equal(refused.status, 503);
    assert.equal((await refused.json()).error.code, 'server_overloaded');

    const t0 = Date.now();
    server.child.kill('SIGTERM');
    await reading;
    const finishes = events.filter((e) => e !== '[DONE]').flatMap((e) => e.choices).filter((c) => c.finish_reason);
    assert.deepEqual(finishes.map((c) => c.finish_reason), ['abort']);
    assert.equal(events.at(-1), '[DONE]');
    assert.equal((await waitingEvents).at(-1), '[DONE]');
    const { code } = await server.exited;
    assert.equal(code, 0, server.output());
    assert.ok(Date.now() - t0 < 15_000, 'drain took too long');
    assert.match(server.output(), /drain timeout/);
  });
});
