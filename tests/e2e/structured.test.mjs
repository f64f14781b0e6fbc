// Structured outputs on the toy model: response_format json_schema (strict) through the official openai SDK
// and the Vercel AI SDK's generateObject / streamObject with zod schemas. Every answer must parse and
// validate against its schema (zod checks it, independently of the server's grammar engine), streamed and
// not, and the reasoning must still be there: only the final channel is constrained.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { generateObject, generateText, streamObject, tool } from 'ai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { z } from 'zod';
import { startServer, toyRequests } from './support/server.mjs';

// Twenty schemas: nested objects, arrays, enums, optional and nullable fields, formats, integer bounds.
// Strings and arrays are bounded so that the toy model's answers end within max_tokens.
const s = (n = 24) => z.string().max(n);
const SCHEMAS = {
  person: z.object({ name: s(), age: z.number().int().min(0).max(150) }),
  weather: z.object({ location: s(), unit: z.enum(['celsius', 'fahrenheit']) }),
  flag: z.object({ ok: z.boolean() }),
  optional: z.object({ title: s(), subtitle: s().optional() }),
  nullable: z.object({ note: s().nullable() }),
  list: z.object({ items: z.array(s(8)).max(3) }),
  numbers: z.object({ values: z.array(z.number().int().min(-9).max(9)).max(4) }),
  nested: z.object({ user: z.object({ id: z.number().int().min(1).max(999), handle: s(12) }) }),
  deep: z.object({ a: z.object({ b: z.object({ c: z.enum(['x', 'y']) }) }) }),
  year: z.object({ year: z.number().int().min(1900).max(2100) }),
  timing: z.object({ when: z.enum(['now', 'later']), why: s().optional() }),
  uuid: z.object({ id: z.string().uuid() }),
  tuple: z.object({ pair: z.tuple([z.boolean(), z.number().int().min(0).max(9)]) }),
  union: z.object({ shape: z.union([z.object({ kind: z.literal('circle'), r: z.number().int().min(0).max(9) }),
    z.object({ kind: z.literal('square'), side: z.number().int().min(0).max(9) })]) }),
  score: z.object({ score: z.number() }),
  tags: z.object({ tags: z.array(z.enum(['red', 'green', 'blue'])).min(1).max(2) }),
  address: z.object({ street: s(), city: s(), zip: s(10).optional() }),
  order: z.object({ id: z.number().int().min(0).max(99), lines: z.array(z.object({ sku: s(6), qty: z.number().int().min(1).max(5) })).max(2) }),
  literal: z.object({ status: z.literal('done') }),
  mixed: z.object({ label: s(), level: z.enum(['low', 'mid', 'high']).optional(), active: z.boolean().nullable() }),
};
const entries = Object.entries(SCHEMAS);
const MAX_TOKENS = 400;

let server;
let client;
let provider;
before(async () => {
  server = await startServer({ date: '2025-06-28' });
  client = new OpenAI({ baseURL: server.baseURL, apiKey: server.apiKey, maxRetries: 0 });
  provider = createOpenAICompatible({ name: 'gptoss', baseURL: server.baseURL, apiKey: server.apiKey,
    supportsStructuredOutputs: true });
});
after(async () => {
  const { code } = await server.stop();
  assert.equal(code, 0, server.output());
});

const request = (name, schema, i) => ({
  model: 'toy-harmony',
  messages: [{ role: 'user', content: `Give me a ${name} as JSON.` }],
  max_tokens: MAX_TOKENS,
  seed: 100 + i,
  response_format: { type: 'json_schema', json_schema: { name, strict: true, schema: z.toJSONSchema(schema) } },
});

describe('openai SDK, response_format json_schema strict', () => {
  test('every answer validates and the reasoning is filled (not streamed)', async () => {
    const replies = await Promise.all(entries.map(([name, schema], i) => client.chat.completions.create(request(name, schema, i))));
    replies.forEach((r, i) => {
      const [name, schema] = entries[i];
      const message = r.choices[0].message;
      assert.equal(r.choices[0].finish_reason, 'stop', `${name}: ${message.content}`);
      const parsed = schema.safeParse(JSON.parse(message.content));
      assert.ok(parsed.success, `${name}: ${message.content} ${parsed.error}`);
      assert.ok(message.reasoning_content?.length > 0, `${name}: no reasoning`);
    });
  });

  test('every answer validates and the reasoning is filled (streamed)', async () => {
    const outs = await Promise.all(entries.map(async ([name, schema], i) => {
      const stream = await client.chat.completions.create({ ...request(name, schema, i), stream: true });
      let content = '';
      let reasoning = '';
      let finish = null;
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        if (!choice) continue;
        content += choice.delta?.content ?? '';
        reasoning += choice.delta?.reasoning_content ?? '';
        finish = choice.finish_reason ?? finish;
      }
      return { content, reasoning, finish };
    }));
    outs.forEach(({ content, reasoning, finish }, i) => {
      const [name, schema] = entries[i];
      assert.equal(finish, 'stop', `${name}: ${content}`);
      const parsed = schema.safeParse(JSON.parse(content));
      assert.ok(parsed.success, `${name}: ${content} ${parsed.error}`);
      assert.ok(reasoning.length > 0, `${name}: no reasoning`);
    });
  });

  test('an unsupported keyword is a 400 that names it', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: 'toy-harmony',
        messages: [{ role: 'user', content: 'hi' }],
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'string', pattern: '^a+$' } } },
      }),
      (e) => e.status === 400 && /'pattern'/.test(e.message) && e.param === 'response_format.json_schema.schema',
    );
  });
});

describe('Vercel AI SDK with zod', () => {
  test('generateObject returns a valid object for every schema', async () => {
    const results = await Promise.all(entries.map(([name, schema], i) => generateObject({
      model: provider.chatModel('toy-harmony'), schema, schemaName: name, prompt: `Give me a ${name}.`,
      maxOutputTokens: MAX_TOKENS, seed: 200 + i, maxRetries: 0,
    })));
    results.forEach((r, i) => assert.ok(entries[i][1].safeParse(r.object).success, `${entries[i][0]}: ${JSON.stringify(r.object)}`));
  });

  test('streamObject ends with a valid object for every schema', async () => {
    const objects = await Promise.all(entries.map(async ([name, schema], i) => {
      const result = streamObject({
        model: provider.chatModel('toy-harmony'), schema, schemaName: name, prompt: `Give me a ${name}.`,
        maxOutputTokens: MAX_TOKENS, seed: 300 + i, maxRetries: 0, onError: () => {},
      });
      for await (const _partial of result.partialObjectStream) { /* drain */ }
      return result.object;
    }));
    objects.forEach((o, i) => assert.ok(entries[i][1].safeParse(o).success, `${entries[i][0]}: ${JSON.stringify(o)}`));
  });
});

// tool_choice required / named through the same engine: the toy reasons first, then the header is held to a
// call of an allowed tool, and strict arguments to the tool's schema. Tools and prompts from the toy's
// fixtures (get_weather / get_time / get_location).
const toolCases = toyRequests().filter((c) => c.expected.tool_call).slice(0, 6);
const toyTools = toolCases[0].request.tools.map((t) => ({ ...t, function: { ...t.function, strict: true } }));
const ARGUMENTS = {
  get_location: z.object({}).strict(),
  get_time: z.object({ city: z.string() }).strict(),
  get_weather: z.object({ location: z.string(), unit: z.enum(['celsius', 'fahrenheit']).optional() }).strict(),
};

describe('tool_choice required / named (openai SDK, strict tools)', () => {
  for (const [label, choiceOf] of [
    ['required', () => 'required'],
    ['named (a tool the prompt does not ask for)', (c) => ({ type: 'function', function: { name: c.expected.tool_call.name === 'get_time' ? 'get_weather' : 'get_time' } })],
  ]) {
    test(`${label}: reasoning first, then a call to an allowed tool with arguments in its schema`, async () => {
      const replies = await Promise.all(toolCases.map((c, i) => client.chat.completions.create({
        model: 'toy-harmony', messages: c.request.messages, tools: toyTools, tool_choice: choiceOf(c),
        max_tokens: 200, seed: 400 + i,
      })));
      replies.forEach((r, i) => {
        const message = r.choices[0].message;
        const detail = JSON.stringify(r.choices[0]);
        assert.equal(r.choices[0].finish_reason, 'tool_calls', detail);
        assert.equal(message.tool_calls?.length, 1, detail);
        const call = message.tool_calls[0].function;
        const choice = choiceOf(toolCases[i]);
        if (typeof choice === 'object') assert.equal(call.name, choice.function.name, detail);
        assert.ok(call.name in ARGUMENTS, detail);
        assert.ok(ARGUMENTS[call.name].safeParse(JSON.parse(call.arguments)).success, detail);
        assert.ok(message.reasoning_content?.length > 0, `no reasoning: ${detail}`);
      });
    });
  }
});

describe('Vercel AI SDK forced toolChoice', () => {
  test('generateText with toolChoice {type: tool} calls that tool with valid input', async () => {
    const tools = {
      get_weather: tool({ description: 'Gets the current weather for a city.', inputSchema: ARGUMENTS.get_weather }),
      get_time: tool({ description: 'Gets the current local time in a city.', inputSchema: ARGUMENTS.get_time }),
    };
    const results = await Promise.all(toolCases.map((c, i) => generateText({
      model: provider.chatModel('toy-harmony'), tools, toolChoice: { type: 'tool', toolName: 'get_weather' },
      prompt: c.request.messages.at(-1).content, maxOutputTokens: 200, seed: 500 + i, maxRetries: 0,
    })));
    results.forEach((r) => {
      assert.equal(r.toolCalls.length, 1, JSON.stringify(r.content));
      assert.equal(r.toolCalls[0].toolName, 'get_weather');
      assert.ok(ARGUMENTS.get_weather.safeParse(r.toolCalls[0].input).success, JSON.stringify(r.toolCalls[0]));
    });
  });
});

describe('Responses API text.format', () => {
  test('json_schema answers (streamed and not) parse and validate; reasoning stays', async () => {
    const picks = entries.slice(0, 4);
    const format = (name, schema) => ({ type: 'json_schema', name, strict: true, schema: z.toJSONSchema(schema) });
    const plain = await Promise.all(picks.map(([name, schema], i) => client.responses.create({
      model: 'toy-harmony', input: `Give me a ${name} as JSON.`, max_output_tokens: MAX_TOKENS, seed: 600 + i,
      text: { format: format(name, schema) },
    })));
    plain.forEach((r, i) => {
      const [name, schema] = picks[i];
      assert.ok(schema.safeParse(JSON.parse(r.output_text)).success, `${name}: ${r.output_text}`);
      assert.ok(r.output.some((item) => item.type === 'reasoning'), `${name}: no reasoning item`);
    });
    const [name, schema] = picks[0];
    const stream = await client.responses.create({
      model: 'toy-harmony', input: `Give me a ${name} as JSON.`, max_output_tokens: MAX_TOKENS, seed: 700,
      text: { format: format(name, schema) }, stream: true,
    });
    let text = '';
    for await (const event of stream) if (event.type === 'response.output_text.delta') text += event.delta;
    assert.ok(schema.safeParse(JSON.parse(text)).success, text);
  });

  test('an unsupported keyword in text.format is a 400 that names it', async () => {
    await assert.rejects(
      client.responses.create({ model: 'toy-harmony', input: 'hi',
        text: { format: { type: 'json_schema', name: 'x', schema: { type: 'string', pattern: '^a+$' } } } }),
      (e) => e.status === 400 && /'pattern'/.test(e.message) && e.param === 'text.format.schema',
    );
  });
});
