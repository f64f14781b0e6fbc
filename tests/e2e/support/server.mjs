// Starts and stops real server processes for the end-to-end tests, and locates the fixtures.
//
// Paths come from the build tree (GPTOSS_BUILD_DIR, default build/cpu) and ../shared (GPTOSS_SHARED_DIR).
// A server listens on an ephemeral port (--port 0); the port is read from its "server listening" log line
// and the server counts as started once GET /health answers 200.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
export const buildDir = path.resolve(process.env.GPTOSS_BUILD_DIR ?? path.join(repoRoot, 'build/cpu'));
export const sharedDir = path.resolve(process.env.GPTOSS_SHARED_DIR ?? path.join(repoRoot, '../shared'));
export const toyDir = path.join(buildDir, 'fixtures/toy-harmony');
export const gptossBin = path.join(buildDir, 'tools/gptoss');
export const scriptedBin = path.join(buildDir, 'tests/server/gptoss_scripted_server');
export const API_KEY = 'e2e-test-key';

export function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}
export const toyRequests = () => readJson(path.join(sharedDir, 'fixtures/toy-harmony-requests.json')).cases;
export const toyGolden = () => readJson(path.join(toyDir, 'golden.json')).cases;

const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

// Starts `gptoss serve` (or the scripted test server) on the toy model with the CPU backend, or the backend
// GPTOSS_E2E_BACKEND names (bench/device_check.sh runs the chat suites with `cuda` on the GPU machine).
//   date: --harmony-current-date (omit for today's date); apiKey: --api-key (null for none)
export async function startServer({
  scripted = false,
  scriptsFile = path.join(here, '../scripts.json'),
  model = toyDir,
  date,
  apiKey = API_KEY,
  args = [],
  startTimeoutMs = 120_000,
} = {}) {
  const argv = scripted ? ['--scripts', scriptsFile] : ['serve'];
  argv.push('--model', model, '--host', '127.0.0.1', '--port', '0', '--log-level', 'info');
  if (!scripted) argv.push('--backend', process.env.GPTOSS_E2E_BACKEND ?? 'cpu');
  // A small KV budget: the CPU default sizes it from system memory, and zeroing gigabytes slows every start.
  argv.push('--kv-cache-memory', '128MiB', '--max-model-len', '8192');
  if (date !== undefined) argv.push('--harmony-current-date', date);
  if (apiKey) argv.push('--api-key', apiKey);
  argv.push(...args);
  const bin = scripted ? scriptedBin : gptossBin;
  const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  live.add(child);
  let output = '';
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "server listening" line within ${startTimeoutMs} ms:\n${output}`)), startTimeoutMs);
    const onData = (chunk) => {
      output += chunk.toString();
      const m = output.match(/server listening .*port=(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then(({ code, signal }) => reject(new Error(`${bin} exited (${code ?? signal}) before listening:\n${output}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const server = {
    url,
    baseURL: `${url}/v1`,
    port,
    apiKey,
    child,
    exited,
    output: () => output,
    // Sends `signal` and waits for the exit: {code, signal}.
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited while loading:\n${output}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.status === 200) break;
      if (res.status !== 503) throw new Error(`/health answered ${res.status}`);
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;  // fetch failed: not accepting yet
    }
    if (Date.now() > deadline) throw new Error(`server not ready within ${startTimeoutMs} ms:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return server;
}

// Reads a streamed response body and returns its SSE events: parsed JSON objects, and the string '[DONE]'.
export async function readSse(response, { onEvent } = {}) {
  const events = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of block.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        const event = data === '[DONE]' ? data : JSON.parse(data);
        events.push(event);
        if (onEvent && (await onEvent(event, events)) === false) return events;
      }
    }
  }
  return events;
}

// POSTs JSON (or a raw string body) with the test API key.
export function post(server, route, body, { headers = {}, signal } = {}) {
  return fetch(`${server.url}${route}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.apiKey}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
}

// Prometheus text -> {"name{labels}": value}
export async function scrapeMetrics(server) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const samples = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples[line.slice(0, at)] = Number(line.slice(at + 1));
  }
  return samples;
}

// The sample of `name` whose labels include every `labels` pair.
export function metric(samples, name, labels = {}) {
  for (const [key, value] of Object.entries(samples)) {
    if (!key.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) return value;
  }
  return undefined;
}
