import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, test } from 'node:test';
import { parseErrorBody } from '@wxstream/protocol';
import type { Env } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import type { OpenAICompatibleEmulator, ScenarioSource } from '../src/offline-model/openai-compatible-emulator.ts';
import { startServer, type RunningServer } from '../src/start-server.ts';
import { systemClock } from '../src/clock.ts';
import { createConfiguredUpstream } from '../src/upstream/create-upstream.ts';
import type { RetryTimers } from '../src/upstream/retrying-upstream.ts';
import { loadUpstreamRetryConfig } from '../src/upstream/upstream-retry-config.ts';
import { startOf, waitForStoredReply } from './support/api-client.ts';
import { beginSend, chatRequest, login, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { parseExposition, valueOf } from './support/exposition.ts';
import { TEST_API_KEY, startEmulator, testConfig, type LogRecord } from './support/test-server.ts';

/** Waits that are recorded and return at once, and a fixed "random" half-way draw. */
function instantTimers(): Partial<RetryTimers> & { readonly waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    sleep: async (ms, signal) => {
      signal.throwIfAborted();
      waits.push(ms);
    },
    random: () => 0.5,
  };
}

interface RetryServer {
  readonly url: string;
  readonly server: RunningServer;
  logs(): LogRecord[];
  rawLogs(): string;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function emulator(scenario: ScenarioSource, requireApiKey?: string): Promise<OpenAICompatibleEmulator> {
  const started = await startEmulator({ scenario, ...(requireApiKey === undefined ? {} : { requireApiKey }) });
  cleanups.push(() => started.close());
  return started;
}

/** The real server with retries on (fast base delay) and the given waits, in front of `upstream`. */
async function retryServer(options: { baseURL: string; env?: Env; timers: Partial<RetryTimers> }): Promise<RetryServer> {
  const config = testConfig({
    OPENAI_BASE_URL: options.baseURL,
    OPENAI_API_KEY: TEST_API_KEY,
    OPENAI_MODEL: 'emulated-model',
    UPSTREAM_MAX_RETRIES: '2',
    UPSTREAM_RETRY_BASE_DELAY_MS: '100',
    UPSTREAM_IDLE_TIMEOUT_MS: '2000',
    UPSTREAM_RETRY_BUDGET_MS: '1500',
    ...options.env,
  });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  const server = await startServer({ config, logger: createLogger({ level: config.logLevel, destination: sink }), retryTimers: options.timers });
  cleanups.push(() => server.shutdown());
  return {
    url: server.url,
    server,
    rawLogs: () => lines.join(''),
    logs: () =>
      lines
        .join('')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as LogRecord),
  };
}

const refusal = (status: number, headers?: Record<string, string>) => ({
  httpError: { status, message: `emulated ${status} for ${TEST_API_KEY}`, ...(headers === undefined ? {} : { headers }) },
});

const answer = { content: ['你好', '，', 'world'] };

/** The retry and fallback counters as the server's own /metrics exposes them. */
async function retryMetrics(url: string): Promise<{ rate_limited: number; unavailable: number; connection: number; fallbacks: number }> {
  const scraped = await send(url, '/metrics');
  assert.equal(scraped.status, 200);
  const samples = parseExposition(scraped.text);
  const retries = (reason: string) => valueOf(samples, 'wxstream_upstream_retries_total', { reason });
  return {
    rate_limited: retries('rate_limited'),
    unavailable: retries('unavailable'),
    connection: retries('connection'),
    fallbacks: valueOf(samples, 'wxstream_upstream_fallbacks_total'),
  };
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

describe('upstream retries through the real server', () => {
  test('two 429s with Retry-After are waited out as asked and the third attempt answers', async () => {
    const upstream = await emulator((request) =>
      request.index === 0 ? refusal(429, { 'Retry-After': '1' }) : request.index === 1 ? refusal(429, { 'retry-after-ms': '250' }) : answer,
    );
    const timers = instantTimers();
    const app = await retryServer({ baseURL: upstream.baseURL, timers });
    const token = await login(app.url);

    const reply = await send(app.url, '/api/chat', chatRequest(token, { message: 'hi' }));

    assert.equal(reply.status, 200);
    const parsed = parseReplyBody(reply.text);
    assert.equal(parsed.text, '你好，world');
    assert.equal(parsed.events.at(-1)?.type, 'done');
    assert.equal(upstream.requests.length, 3);
    assert.deepEqual(timers.waits, [1000, 250]);
    const retries = app.logs().filter((record) => record.msg === 'the model refused before the stream: retrying');
    assert.deepEqual(
      retries.map((record) => [record.code, record.status, record.attempt, record.delayMs]),
      [
        ['upstream_rate_limited', 429, 1, 1000],
        ['upstream_rate_limited', 429, 2, 250],
      ],
    );
    assert.equal(app.rawLogs().includes(TEST_API_KEY), false, 'the key the provider echoed is never logged');
    assert.deepEqual(await retryMetrics(app.url), { rate_limited: 2, unavailable: 0, connection: 0, fallbacks: 0 });
  });

  test('a 500 is retried after a jittered backoff', async () => {
    const upstream = await emulator((request) => (request.index === 0 ? refusal(500) : answer));
    const timers = instantTimers();
    const app = await retryServer({ baseURL: upstream.baseURL, timers });
    const token = await login(app.url);

    const reply = await send(app.url, '/api/chat', chatRequest(token, { message: 'hi' }));

    assert.equal(reply.status, 200);
    assert.equal(parseReplyBody(reply.text).text, '你好，world');
    assert.equal(upstream.requests.length, 2);
    // random() = 0.5 of the first ceiling, UPSTREAM_RETRY_BASE_DELAY_MS = 100.
    assert.deepEqual(timers.waits, [50]);
    assert.deepEqual(await retryMetrics(app.url), { rate_limited: 0, unavailable: 1, connection: 0, fallbacks: 0 });
  });

  test('a provider refusing connections is retried, then answered 502 upstream_unavailable as JSON', async () => {
    const port = await closedPort();
    const timers = instantTimers();
    const app = await retryServer({ baseURL: `http://127.0.0.1:${port}/v1`, timers });
    const token = await login(app.url);

    const reply = await send(app.url, '/api/chat', chatRequest(token, { message: 'hi' }));

    assert.equal(reply.status, 502);
    assert.equal(parseErrorBody(reply.json())?.code, 'upstream_unavailable');
    assert.deepEqual(timers.waits, [50, 100], 'two retries, the second ceiling doubled');
    const gaveUp = app.logs().find((record) => record.msg === 'the model refused every attempt');
    assert.equal(gaveUp?.attempts, 3);
    assert.deepEqual(await retryMetrics(app.url), { rate_limited: 0, unavailable: 0, connection: 2, fallbacks: 0 });
  });

  test('a 401 is final at once: no retry, no fallback', async () => {
    const upstream = await emulator(answer, 'sk-another-key-than-the-configured-one');
    const timers = instantTimers();
    const app = await retryServer({ baseURL: upstream.baseURL, timers, env: { OPENAI_FALLBACK_MODEL: 'backup-model' } });
    const token = await login(app.url);

    const reply = await send(app.url, '/api/chat', chatRequest(token, { message: 'hi' }));

    assert.equal(reply.status, 502);
    assert.equal(parseErrorBody(reply.json())?.code, 'upstream_auth_failed');
    assert.equal(upstream.requests.length, 1);
    assert.deepEqual(timers.waits, []);
    assert.deepEqual(await retryMetrics(app.url), { rate_limited: 0, unavailable: 0, connection: 0, fallbacks: 0 });
  });

  test('a failure after the first byte is not retried: one error event, the partial reply stored', async () => {
    const upstream = await emulator({ content: ['partial ', 'text', ' lost'], failAfter: { events: 3, mode: 'destroy' } });
    const timers = instantTimers();
    const app = await retryServer({ baseURL: upstream.baseURL, timers });
    const token = await login(app.url);

    const reply = await send(app.url, '/api/chat', chatRequest(token, { message: 'hi' }));

    assert.equal(reply.status, 200);
    const parsed = parseReplyBody(reply.text);
    assert.equal(parsed.text, 'partial text');
    assert.deepEqual(
      parsed.events.filter((event) => event.type === 'error' || event.type === 'done').map((event) => event.type),
      ['error'],
    );
    assert.equal(upstream.requests.length, 1);
    assert.deepEqual(timers.waits, []);
    const stored = await waitForStoredReply(app.url, token, startOf(reply.text).conversationId);
    assert.deepEqual({ status: stored.status, text: stored.text }, { status: 'error', text: 'partial text' });
  });

  test('the fallback model answers once the primary has refused every attempt', async () => {
    const upstream = await emulator((request) => (request.model === 'backup-model' ? answer : refusal(503)));
    const timers = instantTimers();
    const app = await retryServer({ baseURL: upstream.baseURL, timers, env: { OPENAI_FALLBACK_MODEL: 'backup-model' } });
    const token = await login(app.url);

    const reply = await send(app.url, '/api/chat', chatRequest(token, { message: 'hi' }));

    assert.equal(reply.status, 200);
    assert.equal(parseReplyBody(reply.text).text, '你好，world');
    assert.equal(startOf(reply.text).model, 'backup-model', 'start names the model that answered');
    assert.deepEqual(
      upstream.requests.map((request) => request.model),
      ['emulated-model', 'emulated-model', 'emulated-model', 'backup-model'],
    );
    assert.deepEqual(timers.waits, [50, 100], 'the fallback is tried at once, without a wait of its own');
    assert.deepEqual(await retryMetrics(app.url), { rate_limited: 0, unavailable: 2, connection: 0, fallbacks: 1 });
  });

  test('a Retry-After beyond the cap gives the primary up at once for a fallback provider with its own key', async () => {
    const primary = await emulator(refusal(429, { 'Retry-After': '60' }));
    const backup = await emulator(answer, 'sk-fallback-provider-key-0123456789');
    const timers = instantTimers();
    const app = await retryServer({
      baseURL: primary.baseURL,
      timers,
      env: {
        OPENAI_FALLBACK_BASE_URL: backup.baseURL,
        OPENAI_FALLBACK_API_KEY: 'sk-fallback-provider-key-0123456789',
        UPSTREAM_RETRY_MAX_DELAY_MS: '8000',
      },
    });
    const token = await login(app.url);

    const reply = await send(app.url, '/api/chat', chatRequest(token, { message: 'hi' }));

    assert.equal(reply.status, 200);
    assert.equal(parseReplyBody(reply.text).text, '你好，world');
    assert.equal(primary.requests.length, 1);
    assert.equal(backup.requests.length, 1);
    assert.equal(backup.requests[0]?.model, 'emulated-model', 'the fallback provider gets the primary model name unless one is set');
    assert.deepEqual(timers.waits, []);
    const notRetried = app.logs().find((record) => record.msg === 'not retrying the model');
    assert.deepEqual([notRetried?.reason, notRetried?.retryAfterMs], ['retry_after_too_long', 60_000]);
    assert.equal(app.rawLogs().includes('sk-fallback-provider-key'), false);
    assert.deepEqual(await retryMetrics(app.url), { rate_limited: 0, unavailable: 0, connection: 0, fallbacks: 1 }, 'a retry not sent is not counted');
  });

  test('a client that leaves during the backoff stops the retries', async () => {
    const upstream = await emulator(refusal(503));
    let sleeping!: () => void;
    const asleep = new Promise<void>((resolve) => (sleeping = resolve));
    let wakeUp!: (outcome: string) => void;
    const woken = new Promise<string>((resolve) => (wakeUp = resolve));
    const app = await retryServer({
      baseURL: upstream.baseURL,
      timers: {
        random: () => 0.5,
        async sleep(ms, signal) {
          sleeping();
          try {
            await sleep(10_000, undefined, { signal });
            wakeUp('slept');
          } catch (error) {
            wakeUp('aborted');
            throw error;
          }
        },
      },
    });
    const token = await login(app.url);

    const pending = beginSend(app.url, '/api/chat', chatRequest(token, { message: 'hi' }));
    await asleep;
    pending.destroy();

    assert.equal(await woken, 'aborted');
    await sleep(50);
    assert.equal(upstream.requests.length, 1);
    assert.deepEqual(await retryMetrics(app.url), { rate_limited: 0, unavailable: 0, connection: 0, fallbacks: 0 }, 'the retry the client left during was never sent');
  });
});

test('the stream of a fallback names the model that answered', async () => {
  const upstream = await emulator((request) => (request.model === 'backup-model' ? answer : refusal(502)));
  const timers = instantTimers();
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }) });
  const model = createConfiguredUpstream({
    primary: { apiKey: TEST_API_KEY, baseURL: upstream.baseURL, model: 'emulated-model', headersTimeoutMs: 2000 },
    retry: loadUpstreamRetryConfig({ UPSTREAM_MAX_RETRIES: '1', OPENAI_FALLBACK_MODEL: 'backup-model' }),
    clock: systemClock,
    logger,
    timers,
  });

  const stream = await model.open({ messages: [{ role: 'user', content: 'hi' }], signal: new AbortController().signal });
  let text = '';
  for await (const chunk of stream) text += chunk.choices?.[0]?.delta?.content ?? '';

  assert.equal(model.model, 'emulated-model');
  assert.equal(stream.model, 'backup-model');
  assert.equal(text, '你好，world');
  assert.equal(upstream.requests.length, 3);
});
