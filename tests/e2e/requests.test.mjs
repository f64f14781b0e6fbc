// The 60 chat requests of ../shared/fixtures/toy-harmony-requests.json, greedy, each on a server started
// with its case's --harmony-current-date: every reasoning, content, tool call and finish_reason exactly as
// transformers' greedy decoding of the same prompt.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import { startServer, toyRequests } from './support/server.mjs';

const cases = toyRequests();
const dates = [...new Set(cases.map((c) => c.request.harmony_current_date))];

describe('toy-harmony chat requests', () => {
  for (const date of dates) {
    test(`cases rendered with date ${date}`, async () => {
      const server = await startServer({ date });
      try {
        const client = new OpenAI({ baseURL: server.baseURL, apiKey: server.apiKey, maxRetries: 0 });
        const mine = cases.filter((c) => c.request.harmony_current_date === date);
        // Half streamed, half not: both paths must give the same answers.
        const results = await Promise.all(mine.map(async (c, i) => {
          const { harmony_current_date: _date, ...request } = c.request;
          const body = { model: 'toy-harmony', ...request, temperature: 0, max_tokens: 200 };
          if (i % 2 === 0) {
            const r = await client.chat.completions.create(body);
            const m = r.choices[0].message;
            return {
              reasoning: m.reasoning ?? null,
              content: m.content ?? null,
              toolCalls: (m.tool_calls ?? []).map((t) => ({ name: t.function.name, arguments: t.function.arguments })),
              finish: r.choices[0].finish_reason,
            };
          }
          const out = { reasoning: '', content: '', toolCalls: [], finish: null };
          for await (const chunk of await client.chat.completions.create({ ...body, stream: true })) {
            for (const ch of chunk.choices) {
              out.reasoning += ch.delta.reasoning ?? '';
              out.content += ch.delta.content ?? '';
              for (const t of ch.delta.tool_calls ?? []) {
                const call = (out.toolCalls[t.index] ??= { name: '', arguments: '' });
                call.name += t.function?.name ?? '';
                call.arguments += t.function?.arguments ?? '';
              }
              out.finish = ch.finish_reason ?? out.finish;
            }
          }
          return { ...out, reasoning: out.reasoning || null, content: out.content || null };
        }));
        mine.forEach((c, i) => {
          const got = results[i];
          const want = c.expected;
          const label = `case ${c.case} (${i % 2 ? 'streamed' : 'not streamed'})`;
          assert.equal(got.reasoning, want.reasoning, label);
          assert.equal(got.content, want.content ?? null, label);
          assert.deepEqual(got.toolCalls, want.tool_call ? [want.tool_call] : [], label);
          assert.equal(got.finish, want.finish_reason, label);
        });
      } finally {
        assert.equal((await server.stop()).code, 0);
      }
    });
  }
});
