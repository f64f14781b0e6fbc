// Error statuses and OpenAI error objects; 10,000 malformed bodies each get a 4xx and the server keeps
// serving.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { post, startServer } from './support/server.mjs';

const LIMIT = 256 * 1024;
let server;
let client;
before(async () => {
  server = await startServer({ date: 'none', args: ['--max-request-bytes', String(LIMIT)] });
  client = new OpenAI({ baseURL: server.baseURL, apiKey: server.apiKey, maxRetries: 0 });
});
after(async () => {
  assert.equal((await server.stop()).code, 0);
});

const chat = (extra = {}) => ({ model: 'toy-harmony', messages: [{ role: 'user', content: 'Say hello to Ava.' }], max_tokens: 4, ...extra });

// An OpenAI error object: exactly message, type, param, code.
function assertErrorObject(body, { type = 'invalid_request_error', param, code } = {}) {
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 10);
  assert.equal(body.error.type, type);
  if (param !== undefined) assert.equal(body.error.param, param);
  if (code !== undefined) assert.equal(body.error.code, code);
}

async function expectStatus(responsePromise, status, expected) {
  const res = await responsePromise;
  assert.equal(res.status, status);
  assert.ok(res.headers.get('x-request-id'));
  assert.match(res.headers.get('content-type'), /application\/json/);
  assertErrorObject(await res.json(), expected);
}

describe('errors', () => {
  test('bad or missing API key: 401 through the SDK and raw', async () => {
    const bad = new OpenAI({ baseURL: server.baseURL, apiKey: 'wrong', maxRetries: 0 });
    await assert.rejects(bad.chat.completions.create(chat()), (e) => {
      assert.ok(e instanceof OpenAI.AuthenticationError);
      assert.equal(e.status, 401);
      assert.equal(e.code, 'invalid_api_key');
      assert.equal(e.type, 'invalid_request_error');
      return true;
    });
    await expectStatus(fetch(`${server.baseURL}/chat/completions`, { method: 'POST', body: '{}' }), 401, { code: 'missing_api_key' });
    await expectStatus(fetch(`${server.baseURL}/models`, { headers: { Authorization: 'Basic abc' } }), 401, {});
    // Health and metrics stay open for probes and scrapers.
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    assert.equal((await fetch(`${server.url}/metrics`)).status, 200);
  });

  test('malformed JSON: 400', async () => {
    await expectStatus(post(server, '/v1/chat/completions', '{"model": "toy-harmony", "messages": ['), 400, { code: 'invalid_json', param: null });
    await expectStatus(post(server, '/v1/chat/completions', '[1, 2]'), 400, { code: 'invalid_json' });
    await expectStatus(post(server, '/v1/completions', ''), 400, { code: 'invalid_json' });
    await expectStatus(post(server, '/v1/completions', `{"prompt": ${'['.repeat(5000)}`), 400, { code: 'invalid_json' });
    await expectStatus(post(server, '/v1/completions', '{"prompt": "x", "temperature": 1e999}'), 400, { code: 'invalid_json' });
    await expectStatus(post(server, '/v1/completions', '1e999'), 400, { code: 'invalid_json' });
  });

  test('wrong types: 400 naming the parameter (SDK and raw)', async () => {
    await assert.rejects(client.chat.completions.create(chat({ temperature: 'hot' })), (e) => {
      assert.ok(e instanceof OpenAI.BadRequestError);
      assert.equal(e.status, 400);
      assert.equal(e.param, 'temperature');
      assert.equal(e.code, 'invalid_type');
      return true;
    });
    const cases = [
      [{ max_tokens: '5' }, 'max_tokens'],
      [{ n: 1.5 }, 'n'],
      [{ stream: 'yes' }, 'stream'],
      [{ stop: [1] }, 'stop[0]'],
      [{ messages: 'hi' }, 'messages'],
      [{ messages: [{ role: 'user', content: 7 }] }, 'messages[0].content'],
      [{ tools: {} }, 'tools'],
      [{ logit_bias: { abc: 1 } }, 'logit_bias'],
      [{ stream_options: { include_usage: 'true' } }, 'stream_options.include_usage'],
      [{ temperature: 5 }, 'temperature'],
      [{ top_logprobs: 3 }, 'top_logprobs'],
      [{ messages: [{ role: 'wizard', content: 'x' }] }, undefined],
    ];
    for (const [extra, param] of cases) {
      const res = await post(server, '/v1/chat/completions', chat(extra));
      assert.equal(res.status, 400, JSON.stringify(extra));
      const body = await res.json();
      assertErrorObject(body, param === undefined ? {} : { param });
    }
    await expectStatus(post(server, '/v1/completions', { prompt: [1, 'a'] }), 400, { param: 'prompt[1]' });
    await expectStatus(post(server, '/v1/completions', { prompt: [999999999] }), 400, { param: 'prompt' });
  });

  test('prompt longer than the context: 400 naming both numbers', async () => {
    const models = await (await fetch(`${server.baseURL}/models`, { headers: { Authorization: `Bearer ${server.apiKey}` } })).json();
    const maxLen = models.data[0].max_model_len;  // 8192 (--max-model-len in support/server.mjs)
    const long = await post(server, '/v1/completions', { prompt: Array(maxLen + 100).fill(1000), max_tokens: 1 });
    assert.equal(long.status, 400);
    let body = await long.json();
    assertErrorObject(body, { param: 'prompt', code: 'context_length_exceeded' });
    assert.ok(body.error.message.includes(String(maxLen)) && body.error.message.includes(String(maxLen + 100)), body.error.message);

    const tooMuch = await post(server, '/v1/completions', { prompt: [1000], max_tokens: maxLen + 5 });
    assert.equal(tooMuch.status, 400);
    body = await tooMuch.json();
    assertErrorObject(body, { param: 'max_tokens', code: 'context_length_exceeded' });
    assert.ok(body.error.message.includes(String(maxLen)) && body.error.message.includes(String(maxLen + 5)), body.error.message);

    const chat = await post(server, '/v1/chat/completions', { messages: [{ role: 'user', content: 'word '.repeat(maxLen) }] });
    assert.equal(chat.status, 400);
    assertErrorObject(await chat.json(), { param: 'messages', code: 'context_length_exceeded' });
  });

  test('huge body: 413', async () => {
    const huge = JSON.stringify(chat({ messages: [{ role: 'user', content: 'x'.repeat(LIMIT * 4) }] }));
    await expectStatus(post(server, '/v1/chat/completions', huge), 413, { code: 'request_too_large' });
    await assert.rejects(client.chat.completions.create(chat({ messages: [{ role: 'user', content: 'x'.repeat(LIMIT * 2) }] })), (e) => e.status === 413);
    // The server still serves afterwards.
    assert.equal((await client.chat.completions.create(chat())).object, 'chat.completion');
  });

  test('unknown model: 404 model_not_found', async () => {
    await assert.rejects(client.chat.completions.create(chat({ model: 'gpt-4o' })), (e) => {
      assert.ok(e instanceof OpenAI.NotFoundError);
      assert.equal(e.code, 'model_not_found');
      assert.equal(e.param, 'model');
      return true;
    });
    await expectStatus(post(server, '/v1/completions', { model: 'nope', prompt: 'x' }), 404, { code: 'model_not_found' });
  });

  test('unknown route 404, wrong method 405', async () => {
    await expectStatus(post(server, '/v1/embeddings', {}), 404, { code: 'unknown_url' });
    await expectStatus(fetch(`${server.baseURL}/chat/completions`, { headers: { Authorization: `Bearer ${server.apiKey}` } }), 405, { code: 'method_not_allowed' });
    await expectStatus(fetch(`${server.url}/health`, { method: 'DELETE' }), 405, { code: 'method_not_allowed' });
  });

  test('10,000 random malformed bodies: each a 4xx, and the server keeps serving', async () => {
    let seed = 12345;
    const rand = (n) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pick = (a) => a[rand(a.length)];
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
    // A valid body per route, and for each route fields with values that are always wrong.
    const generic = {
      temperature: ['hot', -1, 3, true, [], {}, 1e300], top_p: [0, 2, 'x'], n: [0, 1.5, 'x', 999], stop: [1, [1], [''], {}],
      max_tokens: [0, -5, 'x', 1.5], logit_bias: ['x', { a: 1 }, { 1: 500 }], stream: ['yes', 1],
      stream_options: ['x', { include_usage: 'y' }], seed: ['x', 1.5], model: [5, 'no-such-model'],
    };
    const routes = [
      { path: '/v1/chat/completions', valid: chat({ stop: ['x'], tools }), bad: { ...generic,
        tools: [{}, 'x', [1], [{ type: 'x' }]], tool_choice: ['sometimes', 5, { function: {} }], logprobs: ['x', 1],
        top_logprobs: [99, 'x'], response_format: ['x', { type: 'bogus' }], reasoning_effort: ['max', 5],
        messages: ['x', [], [1], [{ role: 5 }], [{ content: 'x' }], [{ role: 'wizard', content: 'x' }]] } },
      { path: '/v1/completions', valid: { model: 'toy-harmony', prompt: 'hi', max_tokens: 2 }, bad: { ...generic,
        prompt: [5, [], [-1], ['a', 5], [[]], {}, ''], logprobs: [true, 99, 'x'], echo: ['x'], suffix: ['x'] } },
      { path: '/v1/responses', valid: { model: 'toy-harmony', input: 'hi', max_output_tokens: 2 }, bad: {
        temperature: generic.temperature, top_p: generic.top_p, stream: generic.stream, model: generic.model,
        input: [5, [], [1], {}, [{ type: 'bogus' }], [{ role: 5 }], [{ type: 'function_call_output', call_id: 'x', output: 'y' }]],
        tools: ['x', [{}], [{ type: 'web_search' }], [{ type: 'function', name: 'a b' }]],
        tool_choice: ['sometimes', 5, { type: 'function', name: 'nope' }], reasoning: ['x', { effort: 'max' }],
        text: ['x', { format: { type: 'bogus' } }], max_output_tokens: [0, 'x', 1.5], include: ['x', ['bogus']],
        truncation: ['x', 5], previous_response_id: [5, 'resp_nope'], metadata: ['x', { k: 1 }] } },
      { path: '/tokenize', valid: { prompt: 'hi' }, bad: { prompt: [5, [], {}], model: [5, 'nope'], return_token_strs: ['x'] } },
      { path: '/detokenize', valid: { tokens: [1, 2] }, bad: { tokens: ['x', [-1], [1.5], {}, [1, 'a']], model: [5, 'nope'] } },
    ];
    const pieces = ['{', '}', '[', ']', '"', ':', ',', 'null', 'true', '-1', '1e999', '"messages"', '"role"', '"tools"', '\\', '\u0000', '\u00ff', '😀', '"n"', '99999999999999999999'];
    const isValidJson = (bytes) => {
      const text = bytes.toString('utf8');
      if (!Buffer.from(text, 'utf8').equals(bytes)) return false;  // invalid UTF-8: rejected by the server
      try {
        JSON.parse(text);
        return true;
      } catch {
        return false;
      }
    };
    const body = (route, i) => {
      const valid = JSON.stringify(route.valid);
      switch (i % 4) {
        case 0: { // byte-level mutation of a valid body that leaves it unparsable
          for (;;) {
            const b = Buffer.from(valid);
            for (let k = 0; k < 1 + rand(8); k++) b[rand(b.length)] = rand(256);
            if (!isValidJson(b)) return b;
          }
        }
        case 1: return valid.slice(0, rand(valid.length - 1));  // truncated
        case 2: { // random JSON-ish tokens
          let s = '';
          for (let k = 0; k < 1 + rand(30); k++) s += pick(pieces);
          return s;
        }
        default: { // well-formed JSON with one or two wrong fields
          const o = structuredClone(route.valid);
          const keys = Object.keys(route.bad);
          for (let k = 0; k < 1 + rand(2); k++) {
            const key = pick(keys);
            o[key] = pick(route.bad[key]);
          }
          return JSON.stringify(o);
        }
      }
    };
    const statuses = new Map();
    let next = 0;
    const worker = async () => {
      while (next < 10000) {
        const i = next++;
        const route = routes[i % routes.length];
        const b = body(route, Math.floor(i / routes.length));
        const res = await post(server, route.path, b);
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status < 400 || res.status >= 500) {
          assert.fail(`body #${i} to ${route.path} got ${res.status}: ${String(b).slice(0, 300)} -> ${text.slice(0, 300)}`);
        }
        assertErrorObject(JSON.parse(text));
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    assert.equal(total, 10000);
    assert.equal((await client.chat.completions.create(chat())).object, 'chat.completion');
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });
});
