// The Batch API (/v1/files, /v1/batches) with the official openai SDK on the toy model: upload, create, poll
// to completed, read the output; its answers equal the same requests sent one by one (greedy); cancel; and a
// server killed mid-batch (kill -9) finishes the batch after a restart without a duplicated or lost line.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { startServer } from './support/server.mjs';

const batchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptoss-e2e-batches-'));
// Two sequences at a time: slow enough on the toy model to cancel or kill a batch mid-way.
const serverArgs = ['--batch-dir', batchDir, '--max-num-seqs', '2'];
const servers = [];
async function start() {
  const server = await startServer({ date: 'none', args: serverArgs });
  servers.push(server);
  return { server, client: new OpenAI({ baseURL: server.baseURL, apiKey: server.apiKey, maxRetries: 0 }) };
}
after(async () => {
  for (const s of servers) await s.stop('SIGKILL');
  fs.rmSync(batchDir, { recursive: true, force: true });
});

const jsonl = (lines) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
const parseLines = (text) => text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));

async function upload(client, lines) {
  return client.files.create({ file: await toFile(Buffer.from(jsonl(lines)), 'requests.jsonl'), purpose: 'batch' });
}

async function pollUntil(client, id, done, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (done(batch)) return batch;
    if (Date.now() > deadline) throw new Error(`batch ${id} stuck: ${JSON.stringify(batch)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const terminal = (b) => ['completed', 'failed', 'cancelled', 'expired'].includes(b.status);

// Long enough (ignore_eos) that a batch of them takes seconds on the toy model.
const slowLines = (n) =>
  Array.from({ length: n }, (_, i) => ({
    custom_id: `slow-${i}`,
    method: 'POST',
    url: '/v1/completions',
    body: { model: 'toy-harmony', prompt: `Line ${i}`, max_tokens: 40, temperature: 0, ignore_eos: true },
  }));

describe('batches', () => {
  test('files.create + batches.create + poll + files.content equal the requests sent one by one', async () => {
    const { server, client } = await start();
    const bodies = ['Hello', 'What is the capital of France?', 'Count to three.', 'Hello'].map((content, i) => ({
      model: 'toy-harmony',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content },
      ],
      max_tokens: 16 + i,
      temperature: 0,
    }));
    const lines = bodies.map((body, i) => ({ custom_id: `chat-${i}`, method: 'POST', url: '/v1/chat/completions', body }));
    lines.push('{"custom_id": "broken"');  // not JSON: an error line, the rest runs
    lines.push({ custom_id: 'bad', method: 'POST', url: '/v1/chat/completions', body: { messages: 'x' } });
    const file = await upload(client, lines);
    assert.equal(file.object, 'file');
    assert.equal(file.purpose, 'batch');
    assert.deepEqual((await client.files.retrieve(file.id)).id, file.id);

    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { job: 'e2e' },
    });
    assert.equal(created.object, 'batch');
    assert.ok(['validating', 'in_progress', 'completed'].includes(created.status));
    const batch = await pollUntil(client, created.id, terminal);
    assert.equal(batch.status, 'completed');
    assert.deepEqual(batch.request_counts, { total: 6, completed: 4, failed: 2 });
    assert.deepEqual(batch.metadata, { job: 'e2e' });
    assert.ok(batch.in_progress_at && batch.finalizing_at && batch.completed_at);

    const output = parseLines(await (await client.files.content(batch.output_file_id)).text());
    const errors = parseLines(await (await client.files.content(batch.error_file_id)).text());
    assert.equal(output.length, 4);
    assert.equal(errors.length, 2);
    assert.equal(errors.find((l) => l.custom_id === null).error.code, 'invalid_json');
    assert.equal(errors.find((l) => l.custom_id === 'bad').response.status_code, 400);

    const single = await Promise.all(bodies.map((body) => client.chat.completions.create(body)));
    for (const [i, reply] of single.entries()) {
      const line = output.find((l) => l.custom_id === `chat-${i}`);
      assert.equal(line.response.status_code, 200);
      assert.match(line.id, /^batch_req_/);
      const body = line.response.body;
      assert.equal(body.object, 'chat.completion');
      assert.deepEqual(body.choices[0].message, reply.choices[0].message, `chat-${i}`);
      assert.equal(body.choices[0].finish_reason, reply.choices[0].finish_reason);
      assert.equal(body.usage.completion_tokens, reply.usage.completion_tokens);
    }

    const list = await client.batches.list({ limit: 10 });
    assert.ok(list.data.some((b) => b.id === batch.id));
    assert.equal((await client.files.delete(file.id)).deleted, true);
    await assert.rejects(client.files.retrieve(file.id), (e) => e.status === 404);
    await assert.rejects(client.batches.retrieve('batch_nope'), (e) => e.status === 404);
    await assert.rejects(
      client.batches.create({ input_file_id: 'file-nope', endpoint: '/v1/chat/completions', completion_window: '24h' }),
      (e) => e.status === 404,
    );
    await server.stop();
  });

  test('cancel stops a running batch; its output holds each finished line once', async () => {
    const { server, client } = await start();
    const file = await upload(client, slowLines(30));
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' });
    await pollUntil(client, created.id, (b) => b.status === 'in_progress' && b.request_counts.completed >= 1);
    const cancelling = await client.batches.cancel(created.id);
    assert.ok(['cancelling', 'cancelled'].includes(cancelling.status));
    const batch = await pollUntil(client, created.id, terminal);
    assert.equal(batch.status, 'cancelled');
    assert.ok(batch.cancelled_at);
    const output = parseLines(await (await client.files.content(batch.output_file_id)).text());
    assert.ok(output.length >= 1 && output.length < 30, `${output.length} lines`);
    assert.equal(new Set(output.map((l) => l.custom_id)).size, output.length);
    assert.equal(batch.request_counts.completed, output.length);
    await assert.rejects(client.batches.cancel(created.id), (e) => e.status === 409);
    await server.stop();
  });

  test('a server killed mid-batch finishes it after a restart, no line duplicated or lost', async () => {
    let { server, client } = await start();
    const file = await upload(client, slowLines(16));
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' });
    const midway = await pollUntil(client, created.id, (b) => b.request_counts.completed >= 3);
    assert.equal(midway.status, 'in_progress');
    assert.ok(midway.request_counts.completed < 16);
    await server.stop('SIGKILL');

    ({ server, client } = await start());
    const batch = await pollUntil(client, created.id, terminal);
    assert.equal(batch.status, 'completed');
    assert.deepEqual(batch.request_counts, { total: 16, completed: 16, failed: 0 });
    const output = parseLines(await (await client.files.content(batch.output_file_id)).text());
    assert.deepEqual(output.map((l) => l.custom_id).sort(), slowLines(16).map((l) => l.custom_id).sort());
    for (const line of output) assert.equal(line.response.body.usage.completion_tokens, 40);
    await server.stop();
  });
});
