import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { beginSend, chatRequest, login, openStream } from './support/http-client.ts';
import { startStack, type TestStack } from './support/test-server.ts';

describe('a client that goes away', () => {
  let stack: TestStack;
  let token: string;

  before(async () => {
    stack = await startStack();
    token = await login(stack.url);
  });
  after(() => stack.close());

  const waitForLog = async (predicate: (record: Record<string, unknown>) => boolean) => {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const record = stack.app.logs.find(predicate);
      if (record !== undefined) return record;
      await sleep(10);
    }
    throw new Error('log record never appeared');
  };

  test('mid-reply: the upstream request is aborted within a second of the client disconnecting', async () => {
    stack.emulator.setScenario({ content: Array.from({ length: 100 }, (_, index) => `chunk${index} `), chunkDelayMs: 50 });
    const index = stack.emulator.requests.length;
    const stream = await openStream(stack.url, '/api/chat', chatRequest(token, { message: 'long answer please' }, { 'X-Request-Id': 'abort-mid-reply' }));
    await stream.waitForText('chunk1 ');
    const disconnectedAt = performance.now();
    stream.destroy();
    const request = await stack.emulator.waitForAbort(index, 1000);
    assert.ok(request.abortedAt !== undefined && request.abortedAt - disconnectedAt < 1000);
    const record = await waitForLog((entry) => entry.requestId === 'abort-mid-reply' && entry.msg === 'reply finished');
    assert.equal(record.outcome, 'client_closed');
  });

  test('before the provider answered: the pending upstream request is aborted too', async () => {
    stack.emulator.setScenario({ content: ['never seen'], headersDelayMs: 3000 });
    const index = stack.emulator.requests.length;
    const pending = beginSend(stack.url, '/api/chat', chatRequest(token, { message: 'slow provider' }));
    await stack.emulator.waitForRequests(index + 1, 2000);
    const disconnectedAt = performance.now();
    pending.destroy();
    const request = await stack.emulator.waitForAbort(index, 1000);
    assert.ok(request.abortedAt !== undefined && request.abortedAt - disconnectedAt < 1000);
  });
});
