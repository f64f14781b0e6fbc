// Chat completions through the official openai SDK against `gptoss serve` on the toy-harmony model (CPU):
// response shapes, streaming, reasoning fields, tool calls, a tool-result round trip, n, logprobs, stop
// strings, seeds, and the system message's date line.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { post, startServer, toyRequests } from './support/server.mjs';

const DATE = '2025-06-28';
const cases = toyRequests().filter((c) => c.request.harmony_current_date === DATE);
const byCase = (pred) => cases.find(pred);
// The request of a fixture case as the SDK takes it (without the fixture's date field), greedy.
const requestOf = (c, extra = {}) => {
  const { harmony_current_date: _date, ...request } = c.request;
  return { model: 'toy-harmony', ...request, temperature: 0, ...extra };
};

const helloCase = byCase((c) => c.expected.content?.startsWith('Hello') && c.request.messages.length === 2);
const toolCase = byCase((c) => c.expected.tool_call?.name === 'get_time');
const roundTripCase = byCase((c) => c.request.messages.some((m) => m.role === 'tool'));

let server;
let client;
before(async () => {
  server = await startServer({ date: DATE });
  client = new OpenAI({ baseURL: server.baseURL, apiKey: server.apiKey, maxRetries: 0 });
});
after(async () => {
  const { code } = await server.stop();
  assert.equal(code, 0, server.output());
});

// Joins a chat stream: content, reasoning, tool calls by index, finish reasons, usage, and the raw chunks.
async function collectStream(stream) {
  const out = { chunks: [], content: '', reasoning: '', reasoningContent: '', toolCalls: [], finish: null, usage: null };
  for await (const chunk of stream) {
    out.chunks.push(chunk);
    if (chunk.usage) out.usage = chunk.usage;
    for (const choice of chunk.choices) {
      const d = choice.delta ?? {};
      out.content += d.content ?? '';
      out.reasoning += d.reasoning ?? '';
      out.reasoningContent += d.reasoning_content ?? '';
      for (const call of d.tool_calls ?? []) {
        const t = (out.toolCalls[call.index] ??= { id: null, name: '', arguments: '' });
        if (call.id) t.id = call.id;
        if (call.function?.name) t.name += call.function.name;
        t.arguments += call.function?.arguments ?? '';
      }
      if (choice.finish_reason) out.finish = choice.finish_reason;
    }
  }
  return out;
}

describe('chat completions', () => {
  test('non-streaming: OpenAI shape, content and reasoning', async () => {
    const r = await client.chat.completions.create(requestOf(helloCase));
    assert.match(r.id, /^chatcmpl-/);
    assert.equal(r.object, 'chat.completion');
    assert.equal(typeof r.created, 'number');
    assert.equal(r.model, 'toy-harmony');
    assert.match(r.system_fingerprint, /^fp_/);
    assert.equal(r.choices.length, 1);
    const [choice] = r.choices;
    assert.equal(choice.index, 0);
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(choice.message.role, 'assistant');
    assert.equal(choice.message.content, helloCase.expected.content);
    assert.equal(choice.message.reasoning, helloCase.expected.reasoning);
    assert.equal(choice.message.reasoning_content, helloCase.expected.reasoning);
    assert.ok(!choice.message.tool_calls?.length);
    assert.equal(choice.logprobs, null);
    const u = r.usage;
    assert.ok(u.prompt_tokens > 20);
    assert.ok(u.completion_tokens > 5);
    assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
    assert.ok(u.completion_tokens_details.reasoning_tokens > 0);
    assert.ok(u.completion_tokens_details.reasoning_tokens < u.completion_tokens);
    assert.equal(typeof u.prompt_tokens_details.cached_tokens, 'number');
  });

  test('streaming: role first, deltas, finish chunk, usage chunk, [DONE]', async () => {
    const stream = await client.chat.completions.create({
      ...requestOf(helloCase),
      stream: true,
      stream_options: { include_usage: true },
    });
    const s = await collectStream(stream);
    assert.equal(s.chunks[0].choices[0].delta.role, 'assistant');
    assert.equal(s.content, helloCase.expected.content);
    assert.equal(s.reasoning, helloCase.expected.reasoning);
    assert.equal(s.reasoningContent, helloCase.expected.reasoning);
    assert.equal(s.finish, 'stop');
    const ids = new Set(s.chunks.map((c) => c.id));
    assert.equal(ids.size, 1);
    for (const c of s.chunks) assert.equal(c.object, 'chat.completion.chunk');
    const last = s.chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.ok(s.usage.completion_tokens > 5);
    assert.ok(s.usage.completion_tokens_details.reasoning_tokens > 0);
    // Per-token flushing: many content/reasoning chunks, not one.
    assert.ok(s.chunks.length > 8, `only ${s.chunks.length} chunks`);
  });

  test('include_reasoning: false drops the reasoning fields', async () => {
    const r = await client.chat.completions.create(requestOf(helloCase, { include_reasoning: false }));
    assert.equal(r.choices[0].message.content, helloCase.expected.content);
    assert.ok(!r.choices[0].message.reasoning);
    assert.ok(!r.choices[0].message.reasoning_content);
  });

  test('tool call, non-streaming (tool_choice auto)', async () => {
    const r = await client.chat.completions.create(requestOf(toolCase, { tool_choice: 'auto' }));
    const [choice] = r.choices;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.tool_calls.length, 1);
    const call = choice.message.tool_calls[0];
    assert.match(call.id, /^call_/);
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, toolCase.expected.tool_call.name);
    assert.equal(call.function.arguments, toolCase.expected.tool_call.arguments);
    assert.equal(choice.message.reasoning, toolCase.expected.reasoning);
  });

  test('tool call, streamed', async () => {
    const s = await collectStream(await client.chat.completions.create({ ...requestOf(toolCase), stream: true }));
    assert.equal(s.finish, 'tool_calls');
    assert.equal(s.toolCalls.length, 1);
    assert.match(s.toolCalls[0].id, /^call_/);
    assert.equal(s.toolCalls[0].name, toolCase.expected.tool_call.name);
    assert.equal(s.toolCalls[0].arguments, toolCase.expected.tool_call.arguments);
    assert.equal(s.content, '');
  });

  test('tool_choice none: the tools are not offered and no call comes back', async () => {
    const r = await client.chat.completions.create(requestOf(toolCase, { tool_choice: 'none', max_tokens: 60 }));
    assert.ok(!r.choices[0].message.tool_calls?.length, JSON.stringify(r.choices[0]));
    assert.notEqual(r.choices[0].finish_reason, 'tool_calls');
    const rendered = await (await post(server, '/tokenize', { ...requestOf(toolCase, { tool_choice: 'none' }), return_token_strs: true })).json();
    assert.ok(!rendered.token_strs.join('').includes('namespace functions'));
  });

  test('tool_choice named, and required with one tool, force a call', async () => {
    // The prompt asks for another tool; the constraint lets the model reason, then holds its call header to
    // the forced one. (A prompt the toy would answer in words keeps it reasoning until max_tokens: it never
    // learned to call without a reason. tests/e2e/structured.test.mjs checks the arguments.)
    const tools = toolCase.request.tools;
    const forced = tools.find((t) => t.function.name !== toolCase.expected.tool_call.name).function;
    for (const [toolList, tool_choice] of [[tools, { type: 'function', function: { name: forced.name } }], [[{ type: 'function', function: forced }], 'required']]) {
      const r = await client.chat.completions.create(requestOf(toolCase, { tools: toolList, tool_choice, max_tokens: 160 }));
      const calls = r.choices[0].message.tool_calls;
      assert.equal(calls?.length, 1, JSON.stringify(r.choices[0]));
      assert.equal(calls[0].function.name, forced.name);
      assert.equal(r.choices[0].finish_reason, 'tool_calls');
      assert.equal(r.choices[0].message.content, null);
    }
  });

  test('tool-result round trip: the answer uses the tool output', async () => {
    const r = await client.chat.completions.create(requestOf(roundTripCase));
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.equal(r.choices[0].message.content, roundTripCase.expected.content);

    // The same loop driven from a real first turn: call -> tool result -> answer.
    const first = await client.chat.completions.create(requestOf(toolCase));
    const call = first.choices[0].message.tool_calls[0];
    const second = await client.chat.completions.create(
      requestOf(toolCase, {
        messages: [
          ...toolCase.request.messages,
          first.choices[0].message,
          { role: 'tool', tool_call_id: call.id, content: '{"time": "10:30"}' },
        ],
      }),
    );
    assert.equal(second.choices[0].finish_reason, 'stop');
    assert.match(second.choices[0].message.content, /10:30/);
  });

  test('n=2 returns two choices and counts both in usage', async () => {
    const r = await client.chat.completions.create(requestOf(helloCase, { n: 2, temperature: 1, seed: 5 }));
    assert.equal(r.choices.length, 2);
    assert.deepEqual(r.choices.map((c) => c.index), [0, 1]);
    for (const c of r.choices) assert.ok(['stop', 'length'].includes(c.finish_reason));
    assert.ok(r.usage.completion_tokens >= 2);

    const s = await collectStream(await client.chat.completions.create({ ...requestOf(helloCase, { n: 2 }), stream: true }));
    const indexes = new Set(s.chunks.flatMap((c) => c.choices.map((ch) => ch.index)));
    assert.deepEqual([...indexes].sort(), [0, 1]);
    const finishes = s.chunks.flatMap((c) => c.choices.filter((ch) => ch.finish_reason));
    assert.equal(finishes.length, 2);
  });

  test('logprobs with top_logprobs', async () => {
    const r = await client.chat.completions.create(requestOf(helloCase, { logprobs: true, top_logprobs: 2 }));
    const content = r.choices[0].logprobs.content;
    assert.ok(content.length > 0);
    for (const entry of content) {
      assert.equal(typeof entry.token, 'string');
      assert.ok(entry.logprob <= 0);
      assert.deepEqual(entry.bytes, [...Buffer.from(entry.token, 'utf8')]);
      assert.equal(entry.top_logprobs.length, 2);
      assert.ok(entry.top_logprobs[0].logprob >= entry.top_logprobs[1].logprob);
    }
    // Greedy: the sampled token is the most likely one.
    assert.equal(content[0].token, content[0].top_logprobs[0].token);
    assert.equal(content.map((e) => e.token).join(''), r.choices[0].message.content);
  });

  test('stop strings end the content before the match', async () => {
    const r = await client.chat.completions.create(requestOf(helloCase, { stop: [','] }));
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.equal(r.choices[0].message.content, helloCase.expected.content.split(',')[0]);
    const s = await collectStream(await client.chat.completions.create({ ...requestOf(helloCase, { stop: ',' }), stream: true }));
    assert.equal(s.content, helloCase.expected.content.split(',')[0]);
  });

  test('max_tokens cuts with finish_reason length', async () => {
    const r = await client.chat.completions.create(requestOf(helloCase, { max_completion_tokens: 3 }));
    assert.equal(r.choices[0].finish_reason, 'length');
    assert.equal(r.usage.completion_tokens, 3);
  });

  test('seed makes sampling reproducible', async () => {
    const req = requestOf(helloCase, { temperature: 1.5, top_p: 1, seed: 1234, max_tokens: 24 });
    const a = await client.chat.completions.create(req);
    const b = await client.chat.completions.create(req);
    assert.deepEqual(a.choices[0].message, b.choices[0].message);
    assert.equal(a.usage.completion_tokens, b.usage.completion_tokens);
  });

  test('the system message carries the fixed date, and the X-Request-Id is echoed', async () => {
    const res = await post(server, '/tokenize', { messages: [{ role: 'user', content: 'hi' }], return_token_strs: true }, { headers: { 'X-Request-Id': 'my-request-7' } });
    assert.equal(res.headers.get('x-request-id'), 'my-request-7');
    const body = await res.json();
    assert.ok(body.token_strs.join('').includes(`Current date: ${DATE}`));
    assert.equal(body.count, body.tokens.length);
    assert.equal(typeof body.max_model_len, 'number');
    const detok = await (await post(server, '/detokenize', { tokens: body.tokens })).json();
    assert.ok(detok.prompt.startsWith('<|start|>system<|message|>'));
    const { response } = await client.chat.completions.create(requestOf(helloCase, { max_tokens: 2 })).withResponse();
    assert.match(response.headers.get('x-request-id'), /^req-[0-9a-f]{32}$/);
  });
});
