/**
 * What opening and reading one streamed chat completion costs the CALLER's CPU, three ways, against
 * the emulator (its own process, one content delta, no pacing): the `openai` SDK exactly as
 * `openai-upstream.ts` calls it, a bare `fetch` of the same request reading the body, and
 * `node:http`. One request at a time, connections kept alive, after a warm-up; the second pass is
 * reported. It answers how much of a reply's start is the SDK and how much is `fetch` under it —
 * neither is ours to make cheaper short of replacing the transport. No assertions: figures only.
 */
import { request } from 'node:http';
import { OpenAI } from 'openai';
import { spawnChild, stopChild } from './bench-children.ts';

const WARM_UP = 300;
const MEASURED = 1500;

const emulator = await spawnChild('./emulator-process.ts', ['1', '0']);
const baseURL = String(emulator.ready.baseURL);
const url = `${baseURL}/chat/completions`;
const body = {
  model: 'bench-model',
  messages: [{ role: 'user' as const, content: 'bench' }],
  stream: true as const,
  stream_options: { include_usage: true },
};
const json = JSON.stringify(body);
const headers = { 'Content-Type': 'application/json', Authorization: 'Bearer sk-benchmark' };
const client = new OpenAI({ apiKey: 'sk-benchmark', baseURL, maxRetries: 0, timeout: 60_000 });

const ways: ReadonlyArray<readonly [string, () => Promise<void>]> = [
  [
    'openai SDK: create + iterate',
    async () => {
      const chunks = await client.chat.completions.create(body, { signal: new AbortController().signal });
      for await (const _ of chunks);
    },
  ],
  [
    'fetch + read the body',
    async () => {
      const answer = await fetch(url, { method: 'POST', headers, body: json, signal: new AbortController().signal });
      if (answer.body !== null) for await (const _ of answer.body);
    },
  ],
  [
    'node:http request + read',
    () =>
      new Promise<void>((resolve, reject) => {
        const req = request(url, { method: 'POST', headers }, (res) => {
          res.on('data', () => {});
          res.on('end', resolve);
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(json);
      }),
  ],
];

for (const pass of [1, 2]) {
  for (const [name, run] of ways) {
    for (let index = 0; index < WARM_UP; index += 1) await run();
    const before = process.cpuUsage();
    for (let index = 0; index < MEASURED; index += 1) await run();
    const used = process.cpuUsage(before);
    if (pass === 2) console.log(`${name.padEnd(30)} ${((used.user + used.system) / MEASURED).toFixed(0).padStart(4)} µs CPU per request`);
  }
}
await stopChild(emulator);
