import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { parseErrorBody } from '@wxstream/protocol';
import { PATIENCE_MS } from './support/eventually.ts';
import { chatRequest, login, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { TEST_API_KEY, startStack, startTestServer, type TestStack } from './support/test-server.ts';

describe('upstream failures', () => {
  let stack: TestStack;
  let token: string;

  before(async () => {
    stack = await startStack({ env: { UPSTREAM_IDLE_TIMEOUT_MS: '300' } });
    token = await login(stack.url);
  });
  after(() => stack.close());

  const chat = async (scenario: Parameters<TestStack['emulator']['setScenario']>[0]) => {
    stack.emulator.setScenario(scenario);
    return send(stack.url, '/api/chat', chatRequest(token, { message: 'hello' }));
  };

  test('a connection cut mid-stream ends the reply with one retryable upstream_error after the partial text', async () => {
    const answer = await chat({ content: ['partial ', 'answer', ' never', ' finished'], failAfter: { events: 3, mode: 'destroy' } });
    assert.equal(answer.status, 200);
    const reply = parseReplyBody(answer.text);
    assert.equal(reply.text, 'partial answer');
    const last = reply.events.at(-1);
    assert.equal(last?.type, 'error');
    assert.equal(last.type === 'error' && last.data.code, 'upstream_error');
    assert.equal(last.type === 'error' && last.data.retryable, true);
    assert.equal(reply.events.filter((event) => event.type === 'error' || event.type === 'done').length, 1);
  });

  test('an error event from the provider mid-stream becomes one upstream_error event with the key redacted', async () => {
    const answer = await chat({
      content: ['some', ' text', ' more'],
      failAfter: { events: 2, mode: 'error-event', message: `overloaded while serving key ${TEST_API_KEY}` },
    });
    const reply = parseReplyBody(answer.text);
    assert.equal(reply.text, 'some');
    const errors = reply.events.filter((event) => event.type === 'error');
    assert.equal(errors.length, 1);
    const error = errors[0];
    assert.equal(error?.type === 'error' && error.data.code, 'upstream_error');
    assert.match(error?.type === 'error' ? error.data.message : '', /overloaded/);
    assert.ok(!answer.text.includes(TEST_API_KEY), 'the API key never reaches the client');
    assert.equal(reply.events.at(-1), error);
  });

  test('a stalled stream ends with upstream_timeout after the idle timeout and the upstream call is aborted', async () => {
    const before = stack.emulator.requests.length;
    const answer = await chat({ content: ['started', ' then', ' silence'], stallAfter: 2 });
    const reply = parseReplyBody(answer.text);
    assert.equal(reply.text, 'started');
    const last = reply.events.at(-1);
    assert.deepEqual(last?.type === 'error' ? { code: last.data.code, retryable: last.data.retryable } : undefined, {
      code: 'upstream_timeout',
      retryable: true,
    });
    const aborted = await stack.emulator.waitForAbort(before, PATIENCE_MS);
    assert.equal(aborted.aborted, true);
  });

  test('a provider that never sends headers is answered 504 upstream_timeout before the stream', async () => {
    const answer = await chat({ content: ['late'], headersDelayMs: 2000 });
    assert.equal(answer.status, 504);
    assert.deepEqual(parseErrorBody(answer.json()), { code: 'upstream_timeout', message: 'The model sent nothing for 300 ms', retryable: true });
  });

  test('a stream that stops after the finish reason without closing still ends with done', async () => {
    // role chunk, one delta, the finish chunk: then silence.
    const answer = await chat({ content: ['complete'], sendDone: false, usage: null, stallAfter: 3 });
    const reply = parseReplyBody(answer.text);
    assert.equal(reply.text, 'complete');
    assert.deepEqual(reply.events.at(-1)?.data, { finishReason: 'stop' });
  });

  test('a stream that closes without a finish reason is reported as upstream_error, not as a complete answer', async () => {
    const answer = await chat({ content: ['trunc'], finishReason: null, usage: null, sendDone: false });
    const last = parseReplyBody(answer.text).events.at(-1);
    assert.equal(last?.type === 'error' && last.data.code, 'upstream_error');
  });

  const refusals = [
    { status: 429, code: 'upstream_rate_limited', httpStatus: 503, retryable: true },
    { status: 500, code: 'upstream_unavailable', httpStatus: 502, retryable: true },
    { status: 503, code: 'upstream_unavailable', httpStatus: 502, retryable: true },
    { status: 401, code: 'upstream_auth_failed', httpStatus: 502, retryable: false },
    { status: 403, code: 'upstream_auth_failed', httpStatus: 502, retryable: false },
    { status: 400, code: 'upstream_bad_request', httpStatus: 502, retryable: false },
  ] as const;
  for (const refusal of refusals) {
    test(`a provider ${refusal.status} before the first byte is answered ${refusal.httpStatus} ${refusal.code} as JSON`, async () => {
      const answer = await chat({ httpError: { status: refusal.status, message: `emulated ${refusal.status}` } });
      assert.equal(answer.status, refusal.httpStatus);
      assert.match(String(answer.headers['content-type']), /^application\/json/);
      const error = parseErrorBody(answer.json());
      assert.equal(error?.code, refusal.code);
      assert.equal(error?.retryable, refusal.retryable);
      assert.match(error?.message ?? '', new RegExp(`emulated ${refusal.status}`));
    });
  }
});

test('a wrong API key is upstream_auth_failed and the key the provider echoes back is redacted', async () => {
  const stack = await startStack({ emulator: { requireApiKey: 'sk-the-right-key-000000000000' } });
  try {
    const token = await login(stack.url);
    const answer = await send(stack.url, '/api/chat', chatRequest(token, { message: 'hi' }));
    assert.equal(answer.status, 502);
    const error = parseErrorBody(answer.json());
    assert.equal(error?.code, 'upstream_auth_failed');
    assert.equal(error?.retryable, false);
    assert.match(error?.message ?? '', /Incorrect API key/);
    assert.ok(!answer.text.includes(TEST_API_KEY), answer.text);
    assert.ok(!stack.app.rawLogs().includes(TEST_API_KEY), 'the key never reaches the logs either');
  } finally {
    await stack.close();
  }
});

test('a provider that refuses connections is upstream_unavailable (502, retryable)', async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
  const app = await startTestServer({
    upstream: 'offline',
    env: { OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`, OPENAI_API_KEY: TEST_API_KEY },
  });
  try {
    const token = await login(app.url);
    const answer = await send(app.url, '/api/chat', chatRequest(token, { message: 'hi' }));
    assert.equal(answer.status, 502);
    assert.deepEqual(
      { code: parseErrorBody(answer.json())?.code, retryable: parseErrorBody(answer.json())?.retryable },
      { code: 'upstream_unavailable', retryable: true },
    );
  } finally {
    await app.close();
  }
});
