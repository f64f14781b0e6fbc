// The Responses API (/v1/responses) through the official openai SDK against `gptoss serve` on the toy model:
// output items (reasoning + message, function_call), a function-call round trip through
// function_call_output, previous_response_id continuation (with prefix-cache reuse), the streamed event
// sequence (function-call argument deltas included), usage equal to the chat route's token counts for the
// same conversation, the stored-response routes, and OpenAI-style errors for bad input.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { post, startServer, toyRequests } from './support/server.mjs';

const DATE = '2025-06-28';
const STORE_SIZE = 4;
const cases = toyRequests().filter((c) => c.request.harmony_current_date === DATE);
const byCase = (pred) => cases.find(pred);
const helloCase = byCase((c) => c.expected.content?.startsWith('Hello') && c.request.messages.length === 2);
const toolCase = byCase((c) => c.expected.tool_call?.name === 'get_time');
const roundTripCase = byCase((c) => c.request.messages.some((m) => m.role === 'tool'));

// A chat fixture request in Responses terms: system -> instructions, messages -> items, tools flattened.
function responsesRequestOf(c, extra = {}) {
  const { messages, tools, reasoning_effort: effort } = c.request;
  const input = [];
  let instructions;
  for (const m of messages) {
    if (m.role === 'system') instructions = m.content;
    else if (m.role === 'user') input.push({ role: 'user', content: m.content });
    else if (m.role === 'assistant') {
      if (m.reasoning_content) {
        input.push({ type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: m.reasoning_content }] });
      }
      if (m.content) input.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: m.content }] });
      for (const call of m.tool_calls ?? []) {
        input.push({ type: 'function_call', call_id: call.id, name: call.function.name, arguments: call.function.arguments });
      }
    } else if (m.role === 'tool') input.push({ type: 'function_call_output', call_id: m.tool_call_id, output: m.content });
  }
  const request = { model: 'toy-harmony', input, reasoning: { effort }, temperature: 0, ...extra };
  if (instructions) request.instructions = instructions;
  if (tools) request.tools = tools.map((t) => ({ type: 'function', ...t.function }));
  return request;
}
const chatRequestOf = (c) => {
  const { harmony_current_date: _date, ...request } = c.request;
  return { model: 'toy-harmony', ...request, temperature: 0 };
};

let server;
let client;
before(async () => {
  server = await startServer({ date: DATE, args: ['--responses-store-size', String(STORE_SIZE)] });
  client = new OpenAI({ baseURL: server.baseURL, apiKey: server.apiKey, maxRetries: 0 });
});
after(async () => {
  const { code } = await server.stop();
  assert.equal(code, 0, server.output());
});

const reasoningText = (r) => r.output.filter((i) => i.type === 'reasoning').map((i) => i.content[0].text).join('');

describe('responses', () => {
  test('create: a reasoning item and a message, usage equal to the chat route token counts', async () => {
    const r = await client.responses.create(responsesRequestOf(helloCase));
    assert.match(r.id, /^resp_/);
    assert.equal(r.object, 'response');
    assert.equal(r.status, 'completed');
    assert.equal(r.model, 'toy-harmony');
    assert.deepEqual(r.output.map((i) => i.type), ['reasoning', 'message']);
    const [reasoning, message] = r.output;
    assert.match(reasoning.id, /^rs_/);
    assert.deepEqual(reasoning.summary, []);
    assert.equal(reasoning.content[0].type, 'reasoning_text');
    assert.equal(reasoning.content[0].text, helloCase.expected.reasoning);
    assert.match(message.id, /^msg_/);
    assert.equal(message.role, 'assistant');
    assert.equal(message.status, 'completed');
    assert.equal(message.content[0].type, 'output_text');
    assert.equal(message.content[0].text, helloCase.expected.content);
    assert.equal(r.output_text, helloCase.expected.content);

    const chat = await client.chat.completions.create(chatRequestOf(helloCase));
    assert.equal(chat.choices[0].message.content, helloCase.expected.content);
    assert.equal(r.usage.input_tokens, chat.usage.prompt_tokens);
    assert.equal(r.usage.output_tokens, chat.usage.completion_tokens);
    assert.equal(r.usage.output_tokens_details.reasoning_tokens, chat.usage.completion_tokens_details.reasoning_tokens);
    assert.ok(r.usage.output_tokens_details.reasoning_tokens > 0);
    assert.equal(r.usage.total_tokens, r.usage.input_tokens + r.usage.output_tokens);
    assert.equal(typeof r.usage.input_tokens_details.cached_tokens, 'number');

    const stored = await client.responses.retrieve(r.id);
    assert.equal(stored.status, 'completed');
    assert.deepEqual(stored.output, r.output);
  });

  test('function call, then a round trip through function_call_output', async () => {
    const r = await client.responses.create(responsesRequestOf(toolCase));
    assert.equal(r.status, 'completed');
    const call = r.output.find((i) => i.type === 'function_call');
    assert.ok(call, JSON.stringify(r.output));
    assert.match(call.id, /^fc_/);
    assert.match(call.call_id, /^call_/);
    assert.equal(call.name, toolCase.expected.tool_call.name);
    assert.equal(call.arguments, toolCase.expected.tool_call.arguments);
    assert.equal(reasoningText(r), toolCase.expected.reasoning);

    // The fixture's round trip, as Responses items: the model answers from the tool result.
    const round = await client.responses.create(responsesRequestOf(roundTripCase));
    assert.equal(round.status, 'completed');
    assert.equal(round.output_text, roundTripCase.expected.content);
    const chat = await client.chat.completions.create(chatRequestOf(roundTripCase));
    assert.equal(round.usage.input_tokens, chat.usage.prompt_tokens);
    assert.equal(round.usage.output_tokens, chat.usage.completion_tokens);
  });

  test('previous_response_id continues the conversation (reasoning kept for the tool loop, prefix cached)', async () => {
    const request = responsesRequestOf(toolCase);
    const first = await client.responses.create(request);
    const call = first.output.find((i) => i.type === 'function_call');
    const output = { type: 'function_call_output', call_id: call.call_id, output: '{"time": "09:41"}' };
    const { input: _input, ...rest } = request;
    const continued = await client.responses.create({ ...rest, previous_response_id: first.id, input: [output] });
    assert.equal(continued.status, 'completed');
    assert.equal(continued.previous_response_id, first.id);
    assert.ok(continued.output_text.length > 0);
    // The KV pages of the first prompt are reused.
    assert.ok(continued.usage.input_tokens_details.cached_tokens >= first.usage.input_tokens / 2,
      JSON.stringify(continued.usage));
    // The same conversation sent whole renders the same prompt (the first turn's reasoning included) and,
    // greedy, gives the same answer.
    const whole = await client.responses.create({ ...rest, input: [...request.input, ...first.output, output] });
    assert.equal(whole.usage.input_tokens, continued.usage.input_tokens);
    assert.equal(whole.output_text, continued.output_text);
  });

  test('stream: the full event sequence, sequence numbers, argument deltas, final response', async () => {
    const stream = client.responses.stream(responsesRequestOf(toolCase));
    const events = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'response.created');
    assert.equal(types[1], 'response.in_progress');
    assert.equal(types.at(-1), 'response.completed');
    assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
    for (const t of ['response.output_item.added', 'response.content_part.added', 'response.reasoning_text.delta',
      'response.reasoning_text.done', 'response.content_part.done', 'response.output_item.done',
      'response.function_call_arguments.done']) {
      assert.ok(types.includes(t), `missing ${t}`);
    }
    const argDeltas = events.filter((e) => e.type === 'response.function_call_arguments.delta');
    assert.ok(argDeltas.length > 1, 'arguments are streamed as they are generated');
    assert.equal(argDeltas.map((e) => e.delta).join(''), toolCase.expected.tool_call.arguments);
    const call = final.output.find((i) => i.type === 'function_call');
    assert.equal(call.arguments, toolCase.expected.tool_call.arguments);
    assert.equal(final.status, 'completed');
    assert.ok(final.usage.output_tokens > 0);
    // The stream's final response is the stored one (less what the SDK adds: parsed_arguments).
    const stored = await client.responses.retrieve(final.id);
    const { parsed_arguments: _parsed, ...finalCall } = call;
    assert.deepEqual(stored.output, final.output.map((i) => (i === call ? finalCall : i)));
  });

  test('stream: output text deltas add up to the message', async () => {
    const stream = client.responses.stream(responsesRequestOf(helloCase));
    let text = '';
    stream.on('response.output_text.delta', (e) => { text += e.delta; });
    const final = await stream.finalResponse();
    assert.equal(text, helloCase.expected.content);
    assert.equal(final.output_text, helloCase.expected.content);
  });

  test('max_output_tokens: status incomplete with the reason', async () => {
    const r = await client.responses.create(responsesRequestOf(helloCase, { max_output_tokens: 5 }));
    assert.equal(r.status, 'incomplete');
    assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(r.usage.output_tokens, 5);
    assert.equal(r.output.at(-1).status, 'incomplete');
  });

  test('the store: delete, LRU eviction, store false', async () => {
    const kept = await client.responses.create(responsesRequestOf(helloCase, { max_output_tokens: 1 }));
    const deleted = await client.responses.delete(kept.id);
    assert.equal(deleted?.deleted ?? true, true);
    await assert.rejects(client.responses.retrieve(kept.id), (e) => e.status === 404);

    const unstored = await client.responses.create(responsesRequestOf(helloCase, { max_output_tokens: 1, store: false }));
    await assert.rejects(client.responses.retrieve(unstored.id), (e) => e.status === 404);

    const oldest = await client.responses.create(responsesRequestOf(helloCase, { max_output_tokens: 1 }));
    for (let i = 0; i < STORE_SIZE; i++) {
      await client.responses.create(responsesRequestOf(helloCase, { max_output_tokens: 1 }));
    }
    await assert.rejects(client.responses.retrieve(oldest.id), (e) => e.status === 404);
    await assert.rejects(
      client.responses.create({ model: 'toy-harmony', previous_response_id: oldest.id, input: 'Hi' }),
      (e) => e.status === 404 && e.error?.param === 'previous_response_id');
    await assert.rejects(client.responses.cancel(oldest.id), (e) => e.status === 404);
  });

  test('bad input: OpenAI-style 400/404 errors, and the server keeps serving', async () => {
    const bad = [
      [{ model: 'toy-harmony', input: [{ type: 'item_reference', id: 'x' }] }, 400, 'input[0].type'],
      [{ model: 'toy-harmony', input: [{ role: 'user', content: 'Hi' }, { type: 'function_call_output', call_id: 'nope', output: 'x' }] }, 400, 'input[1].call_id'],
      [{ model: 'toy-harmony', input: 'Hi', tools: [{ type: 'web_search_preview' }] }, 400, 'tools[0].type'],
      [{ model: 'toy-harmony', input: 'Hi', reasoning: { effort: 'extreme' } }, 400, 'reasoning.effort'],
      [{ model: 'toy-harmony', input: 'Hi', text: { format: { type: 'xml' } } }, 400, 'text.format.type'],
      [{ model: 'toy-harmony', input: 42 }, 400, 'input'],
      [{ model: 'toy-harmony', input: 'Hi', previous_response_id: 'resp_missing' }, 404, 'previous_response_id'],
    ];
    for (const [body, status, param] of bad) {
      const res = await post(server, '/v1/responses', body);
      assert.equal(res.status, status, JSON.stringify(body));
      const { error } = await res.json();
      assert.equal(error.param, param, JSON.stringify(error));
      assert.equal(typeof error.message, 'string');
      assert.equal(error.type, 'invalid_request_error');
    }
    const ok = await client.responses.create(responsesRequestOf(helloCase, { max_output_tokens: 1 }));
    assert.equal(ok.status, 'incomplete');
  });
});

// Scripted model output (tests/e2e/scripts.json) through the real engine and the Responses route: preambles
// as their own messages, and cancelling a stream while it generates.
describe('responses, scripted output', () => {
  let scripted;
  let scriptedClient;
  before(async () => {
    scripted = await startServer({ scripted: true });
    scriptedClient = new OpenAI({ baseURL: scripted.baseURL, apiKey: scripted.apiKey, maxRetries: 0 });
  });
  after(async () => {
    const { code } = await scripted.stop();
    assert.equal(code, 0, scripted.output());
  });
  const tools = [{ type: 'function', name: 'get_weather', parameters: { type: 'object' } }];

  test('each commentary preamble is its own message item before the call', async () => {
    const r = await scriptedClient.responses.create({ model: 'toy-harmony', input: '[[script:preamble_then_call]]', tools });
    assert.deepEqual(r.output.map((i) => [i.type, i.phase]),
      [['reasoning', undefined], ['message', 'commentary'], ['message', 'commentary'], ['function_call', undefined]]);
    assert.deepEqual(r.output.slice(1, 3).map((i) => i.content[0].text), ['Let me check.', 'One moment.']);
    assert.equal(r.output[3].arguments, '{"location": "Paris"}');
  });

  test('a call cut off by max_output_tokens is an incomplete item', async () => {
    const r = await scriptedClient.responses.create({
      model: 'toy-harmony', input: '[[script:unterminated_call]]', tools, max_output_tokens: 64,
    });
    assert.equal(r.status, 'incomplete');
    assert.equal(r.output.at(-1).type, 'function_call');
    assert.equal(r.output.at(-1).status, 'incomplete');
  });

  test('cancel aborts a stream that is still generating', async () => {
    const stream = scriptedClient.responses.stream({
      model: 'toy-harmony', input: '[[script:endless]] [[delay_ms:40]]', max_output_tokens: 2000,
    });
    let id;
    let cancelled;
    const types = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.created') id = event.response.id;
      if (event.type === 'response.output_text.delta' && !cancelled) cancelled = await scriptedClient.responses.cancel(id);
    }
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(types.at(-1), 'response.incomplete');
    const final = await stream.finalResponse();
    assert.equal(final.status, 'cancelled');
    assert.ok(final.usage.output_tokens < 2000);
    assert.equal((await scriptedClient.responses.retrieve(id)).status, 'cancelled');
    await assert.rejects(scriptedClient.responses.cancel(id), (e) => e.status === 400);
  });
});
