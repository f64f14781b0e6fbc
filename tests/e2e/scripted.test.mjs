// Malformed model output and forced tool calls, through the real engine, harmony parser and SSE path:
// gptoss_scripted_server replays token sequences (tests/e2e/scripts.json) chosen by a marker in the prompt.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { post, readSse, startServer } from './support/server.mjs';

let server;
let client;
before(async () => {
  server = await startServer({ scripted: true });  // no --harmony-current-date: today's date
  client = new OpenAI({ baseURL: server.baseURL, apiKey: server.apiKey, maxRetries: 0 });
});
after(async () => {
  assert.equal((await server.stop()).code, 0);
});

const tools = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather.', parameters: { type: 'object', properties: { location: { type: 'string' } } } } },
  { type: 'function', function: { name: 'get_time', description: 'Time.', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
];
const ask = (script, extra = {}) => ({
  model: 'toy-harmony',
  messages: [{ role: 'user', content: `[[script:${script}]] go` }],
  max_tokens: 60,
  ...extra,
});

// Both paths: the non-streamed message and the joined stream.
async function both(request) {
  const full = await client.chat.completions.create(request);
  const res = await post(server, '/v1/chat/completions', { ...request, stream: true });
  assert.equal(res.status, 200);
  const events = await readSse(res);
  assert.equal(events.at(-1), '[DONE]');
  const s = { content: '', reasoning: '', toolCalls: [], finish: null };
  for (const e of events.slice(0, -1)) {
    assert.ok(!e.error, JSON.stringify(e));
    for (const ch of e.choices) {
      s.content += ch.delta.content ?? '';
      s.reasoning += ch.delta.reasoning ?? '';
      for (const t of ch.delta.tool_calls ?? []) {
        const call = (s.toolCalls[t.index] ??= { id: null, name: '', arguments: '' });
        call.id ??= t.id ?? null;
        call.name += t.function?.name ?? '';
        call.arguments += t.function?.arguments ?? '';
      }
      s.finish = ch.finish_reason ?? s.finish;
    }
  }
  return { full, message: full.choices[0].message, finish: full.choices[0].finish_reason, stream: s };
}

describe('scripted model output', () => {
  test('well-formed reasoning + answer', async () => {
    const r = await both(ask('reasoned'));
    assert.equal(r.message.content, 'Done.');
    assert.equal(r.message.reasoning, 'Thinking about it.');
    assert.equal(r.stream.content, 'Done.');
    assert.equal(r.stream.reasoning, 'Thinking about it.');
    assert.equal(r.finish, 'stop');
  });

  test('multi-byte characters split across tokens stream intact', async () => {
    const r = await both(ask('unicode'));
    assert.equal(r.message.content, 'héllo 日本 🎉 ok');
    assert.equal(r.stream.content, 'héllo 日本 🎉 ok');
    assert.equal(r.stream.reasoning, 'Grüße.');
  });

  test('preambles before a tool call: content, then the call', async () => {
    const r = await both(ask('preamble_then_call', { tools }));
    assert.equal(r.finish, 'tool_calls');
    assert.equal(r.stream.finish, 'tool_calls');
    assert.equal(r.message.tool_calls.length, 1);
    assert.equal(r.message.tool_calls[0].function.name, 'get_weather');
    assert.equal(r.message.tool_calls[0].function.arguments, '{"location": "Paris"}');
    assert.deepEqual(r.stream.toolCalls.map((t) => [t.name, t.arguments]), [['get_weather', '{"location": "Paris"}']]);
    assert.match(r.stream.toolCalls[0].id, /^call_/);
    assert.match(r.message.content, /Let me check\./);
    assert.match(r.message.content, /One moment\./);
    assert.equal(r.message.reasoning, 'Need the weather.');
  });

  test('tool_choice named: the model reasons, then calls the named tool', async () => {
    const r = await both(ask('forced_named', { tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } }));
    assert.equal(r.finish, 'tool_calls');
    assert.equal(r.message.tool_calls[0].function.name, 'get_weather');
    assert.equal(r.message.tool_calls[0].function.arguments, '{"location": "Oslo"}');
    assert.deepEqual(r.stream.toolCalls.map((t) => [t.name, t.arguments]), [['get_weather', '{"location": "Oslo"}']]);
  });

  test('tool_choice required with several tools: the model picks the function', async () => {
    const r = await both(ask('forced_required', { tools, tool_choice: 'required' }));
    assert.equal(r.finish, 'tool_calls');
    assert.equal(r.message.tool_calls[0].function.name, 'get_time');
    assert.equal(r.message.tool_calls[0].function.arguments, '{"city": "Oslo"}');
    assert.deepEqual(r.stream.toolCalls.map((t) => [t.name, t.arguments]), [['get_time', '{"city": "Oslo"}']]);
  });

  test('tool_choice none: no tools in the prompt', async () => {
    const rendered = await (await post(server, '/tokenize', { ...ask('default', { tools, tool_choice: 'none' }), return_token_strs: true })).json();
    assert.ok(!rendered.token_strs.join('').includes('get_weather'));
    const withTools = await (await post(server, '/tokenize', { ...ask('default', { tools }), return_token_strs: true })).json();
    assert.ok(withTools.token_strs.join('').includes('get_weather'));
  });

  for (const script of ['no_header', 'raw_text', 'bad_call_header', 'unterminated_call', 'stray_tokens', 'flattened_channels',
    'call_in_analysis', 'builtin_recipient', 'nested_start']) {
    test(`malformed output (${script}): 200, a complete stream, no control tokens in the text`, async () => {
      const r = await both(ask(script, { tools, max_tokens: 40 }));
      assert.ok(['stop', 'length', 'tool_calls'].includes(r.finish), r.finish);
      assert.equal(r.stream.finish, r.finish);
      for (const text of [r.message.content ?? '', r.message.reasoning ?? '', r.stream.content, r.stream.reasoning]) {
        assert.ok(!text.includes('<|'), text);
      }
      assert.equal(r.stream.content, r.message.content ?? '');
      assert.equal(r.stream.reasoning, r.message.reasoning ?? '');
      assert.deepEqual(r.stream.toolCalls.map((t) => [t.name, t.arguments]),
        (r.message.tool_calls ?? []).map((t) => [t.function.name, t.function.arguments]));
    });
  }

  test('output cut by max_tokens mid-answer: finish_reason length', async () => {
    const r = await both(ask('long_answer', { max_tokens: 8 }));
    assert.equal(r.finish, 'length');
    assert.equal(r.stream.finish, 'length');
    assert.ok(r.message.content.startsWith('one two'));
  });

  test('the system message dates today (UTC) when --harmony-current-date is not given', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const t = await (await post(server, '/tokenize', { messages: [{ role: 'user', content: 'hi' }], return_token_strs: true })).json();
    assert.ok(t.token_strs.join('').includes(`Current date: ${today}`));
  });
});
