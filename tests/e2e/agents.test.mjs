// A tool-calling agent loop with @openai/agents against the toy model, in chat-completions mode and with the
// default (Responses) model provider: the agent asks, the model calls get_weather, the SDK runs the tool
// and sends the result back, the model answers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { Agent, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled, tool } from '@openai/agents';
import { OpenAIChatCompletionsModel } from '@openai/agents-openai';
import { startServer, toyRequests } from './support/server.mjs';

setTracingDisabled(true);

// The fixture's own get_weather definition, so the toy sees the tool it was trained on.
const weatherSpec = toyRequests()
  .flatMap((c) => c.request.tools ?? [])
  .find((t) => t.function.name === 'get_weather').function;

let server;
before(async () => {
  server = await startServer({ date: '2025-06-28' });
});
after(async () => {
  assert.equal((await server.stop()).code, 0);
});

test('agent loop: tool call, tool result, final answer', async () => {
  const calls = [];
  const getWeather = tool({
    name: weatherSpec.name,
    description: weatherSpec.description,
    parameters: weatherSpec.parameters,
    strict: false,
    execute: async (input) => {
      const args = typeof input === 'string' ? JSON.parse(input) : input;
      calls.push(args);
      return '{"temperature": 21, "unit": "celsius"}';  // spaced as in the toy's training data
    },
  });
  const client = new OpenAI({ baseURL: server.baseURL, apiKey: server.apiKey, maxRetries: 0 });
  const agent = new Agent({
    name: 'weather',
    instructions: 'Be helpful and concise.',
    model: new OpenAIChatCompletionsModel(client, 'toy-harmony'),
    modelSettings: { temperature: 0 },
    tools: [getWeather],
  });
  const result = await run(agent, 'What is the weather in Paris?', { maxTurns: 4 });
  assert.equal(calls.length, 1);
  assert.equal(calls[0].location, 'Paris');
  assert.match(result.finalOutput, /21/);
  assert.match(result.finalOutput, /Paris/);
});

test('agent loop, streamed', async () => {
  let executed = 0;
  const getWeather = tool({
    name: weatherSpec.name,
    description: weatherSpec.description,
    parameters: weatherSpec.parameters,
    strict: false,
    execute: async () => {
      executed++;
      return '{"temperature": 7, "unit": "celsius"}';
    },
  });
  const client = new OpenAI({ baseURL: server.baseURL, apiKey: server.apiKey, maxRetries: 0 });
  const agent = new Agent({
    name: 'weather',
    instructions: 'Be helpful and concise.',
    model: new OpenAIChatCompletionsModel(client, 'toy-harmony'),
    modelSettings: { temperature: 0 },
    tools: [getWeather],
  });
  const stream = await run(agent, 'What is the weather in Berlin?', { stream: true, maxTurns: 4 });
  for await (const _event of stream) {
    // consume
  }
  await stream.completed;
  assert.equal(executed, 1);
  assert.match(stream.finalOutput, /7/);
});

// The same loop with the SDK's default model provider, which talks to /v1/responses: the function call, its
// output and the reasoning item go back to the server as Responses items.
describe('default (Responses) model provider', () => {
  const weatherTool = (onCall, reply) =>
    tool({
      name: weatherSpec.name,
      description: weatherSpec.description,
      parameters: weatherSpec.parameters,
      strict: false,
      execute: async (input) => {
        onCall(typeof input === 'string' ? JSON.parse(input) : input);
        return reply;
      },
    });
  const agentWith = (getWeather) =>
    new Agent({
      name: 'weather',
      instructions: 'Be helpful and concise.',
      model: 'toy-harmony',
      modelSettings: { temperature: 0 },
      tools: [getWeather],
    });
  before(() => {
    setDefaultOpenAIClient(new OpenAI({ baseURL: server.baseURL, apiKey: server.apiKey, maxRetries: 0 }));
    setOpenAIAPI('responses');
  });

  test('agent loop: tool call, tool result, final answer', async () => {
    const calls = [];
    const agent = agentWith(weatherTool((args) => calls.push(args), '{"temperature": 21, "unit": "celsius"}'));
    const result = await run(agent, 'What is the weather in Paris?', { maxTurns: 4 });
    assert.equal(calls.length, 1);
    assert.equal(calls[0].location, 'Paris');
    assert.match(result.finalOutput, /21/);
    assert.match(result.finalOutput, /Paris/);
    assert.ok(result.rawResponses.every((r) => r.usage.outputTokens > 0));
  });

  test('agent loop, streamed', async () => {
    let executed = 0;
    const agent = agentWith(weatherTool(() => executed++, '{"temperature": 7, "unit": "celsius"}'));
    const stream = await run(agent, 'What is the weather in Berlin?', { stream: true, maxTurns: 4 });
    const types = new Set();
    for await (const event of stream) {
      if (event.type === 'raw_model_stream_event') types.add(event.data.event?.type ?? event.data.type);
    }
    await stream.completed;
    assert.equal(executed, 1);
    assert.match(stream.finalOutput, /7/);
    assert.ok(types.has('response.function_call_arguments.delta'), [...types].join(' '));
  });
});
