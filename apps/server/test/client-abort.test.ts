/**
 * A client that goes away. By default (CONTINUE_ON_DISCONNECT=true) a reply whose client left
 * after the 200 is generated to its end and stored, so the client can resume it or find it in the
 * conversation; only a client that leaves before the 200 (it never learnt the reply's id) or a
 * server with CONTINUE_ON_DISCONNECT=false aborts the model call.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startOf, waitForStoredReply } from './support/api-client.ts';
import { eventually, PATIENCE_MS } from './support/eventually.ts';
import { beginSend, chatRequest, login, openStream } from './support/http-client.ts';
import { startStack, type TestStack } from './support/test-server.ts';

function logWaiter(stack: () => TestStack) {
  return (predicate: (record: Record<string, unknown>) => boolean) => eventually(() => stack().app.logs.find(predicate), 'the log record');
}

describe('a client that goes away (default: the reply continues)', () => {
  let stack: TestStack;
  let token: string;
  const waitForLog = logWaiter(() => stack);

  before(async () => {
    // The test client stands in for a trusted proxy, so the X-Request-Id it sends names the logs.
    stack = await startStack({ env: { TRUST_PROXY: 'loopback' } });
    token = await login(stack.url);
  });
  after(() => stack.close());

  test('mid-reply: the model call runs to its end and the whole reply is stored complete', async () => {
    const content = Array.from({ length: 30 }, (_, index) => `chunk${index} `);
    stack.emulator.setScenario({ content, chunkDelayMs: 10 });
    const index = stack.emulator.requests.length;
    const stream = await openStream(stack.url, '/api/chat', chatRequest(token, { message: 'long answer please' }, { 'X-Request-Id': 'continue-mid-reply' }));
    await stream.waitForText('chunk1 ');
    stream.destroy();
    const { conversationId } = startOf(stream.text());
    const stored = await waitForStoredReply(stack.url, token, conversationId);
    assert.equal(stored.status, 'complete');
    assert.equal(stored.text, content.join(''));
    assert.equal(stack.emulator.requests[index]?.aborted, false);
    const record = await waitForLog((entry) => entry.requestId === 'continue-mid-reply' && entry.msg === 'reply finished');
    assert.equal(record.outcome, 'done');
  });

  test('before the provider answered: the pending upstream request is aborted, since nobody knows the reply to resume', async () => {
    // The provider answers after 3 s: an abort recorded at all was the server's, not the end of the answer.
    stack.emulator.setScenario({ content: ['never seen'], headersDelayMs: 3000 });
    const index = stack.emulator.requests.length;
    const pending = beginSend(stack.url, '/api/chat', chatRequest(token, { message: 'slow provider' }));
    await stack.emulator.waitForRequests(index + 1, PATIENCE_MS);
    pending.destroy();
    const request = await stack.emulator.waitForAbort(index, PATIENCE_MS);
    assert.equal(request.finishedAt, undefined, 'the provider never got to answer');
  });
});

describe('a client that goes away with CONTINUE_ON_DISCONNECT=false', () => {
  let stack: TestStack;
  let token: string;
  const waitForLog = logWaiter(() => stack);

  before(async () => {
    stack = await startStack({ env: { CONTINUE_ON_DISCONNECT: 'false', TRUST_PROXY: 'loopback' } });
    token = await login(stack.url);
  });
  after(() => stack.close());

  test('mid-reply: the upstream request is aborted and the partial reply stored stopped, client_closed', async () => {
    // The model sends three pieces and then holds the stream open for ever: only an abort ends it.
    stack.emulator.setScenario({ content: Array.from({ length: 100 }, (_, index) => `chunk${index} `), stallAfter: 3 });
    const index = stack.emulator.requests.length;
    const stream = await openStream(stack.url, '/api/chat', chatRequest(token, { message: 'long answer please' }, { 'X-Request-Id': 'abort-mid-reply' }));
    await stream.waitForText('chunk1 ');
    stream.destroy();
    await stack.emulator.waitForAbort(index, PATIENCE_MS);
    const record = await waitForLog((entry) => entry.requestId === 'abort-mid-reply' && entry.msg === 'reply finished');
    assert.equal(record.outcome, 'client_closed');
    const stored = await waitForStoredReply(stack.url, token, startOf(stream.text()).conversationId);
    assert.equal(stored.status, 'stopped');
    assert.equal(stored.finishReason, 'client_closed');
    assert.ok(stored.text.startsWith('chunk0 chunk1 '));
    assert.ok(stored.usage !== undefined && stored.usage.completionTokens > 0, 'an aborted reply is charged an estimate');
  });
});
