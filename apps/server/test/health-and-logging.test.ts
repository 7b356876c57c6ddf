import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chooseRequestId } from '../src/http/request-id.ts';
import { eventually } from './support/eventually.ts';
import { chatRequest, login, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { TEST_API_KEY, startStack, type TestStack } from './support/test-server.ts';

describe('health, request ids and logs', () => {
  let stack: TestStack;

  before(async () => {
    // The test client stands in for a trusted proxy (nginx on loopback), whose X-Request-Id is kept.
    stack = await startStack({ env: { TRUST_PROXY: 'loopback' }, scenario: { content: ['私密', '回答'], usage: { promptTokens: 11, completionTokens: 2 } } });
  });
  after(() => stack.close());

  test('GET /healthz answers 200 {"status":"ok"}', async () => {
    const answer = await send(stack.url, '/healthz');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json(), { status: 'ok' });
  });

  test('from a client that is not a trusted proxy, even a sane X-Request-Id is replaced by our own', async () => {
    const direct = await startStack();
    try {
      const answer = await send(direct.url, '/healthz', { headers: { 'X-Request-Id': 'trace-123_abc:1.2' } });
      assert.notEqual(answer.headers['x-request-id'], 'trace-123_abc:1.2');
      assert.match(String(answer.headers['x-request-id']), /^[0-9a-f-]{36}$/);
      assert.ok(!direct.app.logs.some((record) => record.requestId === 'trace-123_abc:1.2'), 'never logged under the forged id');
    } finally {
      await direct.close();
    }
  });

  test('from a trusted proxy, a sane X-Request-Id is echoed, an unsafe one is replaced', async () => {
    const kept = await send(stack.url, '/healthz', { headers: { 'X-Request-Id': 'trace-123_abc:1.2' } });
    assert.equal(kept.headers['x-request-id'], 'trace-123_abc:1.2');
    const replaced = await send(stack.url, '/healthz', { headers: { 'X-Request-Id': 'bad id {"level":60}' } });
    assert.notEqual(replaced.headers['x-request-id'], 'bad id {"level":60}');
    assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  test('request ids are only kept when short and made of safe characters', () => {
    const generate = () => 'generated';
    assert.equal(chooseRequestId('abc-123', generate), 'abc-123');
    assert.equal(chooseRequestId(undefined, generate), 'generated');
    assert.equal(chooseRequestId('', generate), 'generated');
    assert.equal(chooseRequestId('x'.repeat(129), generate), 'generated');
    assert.equal(chooseRequestId('line\nbreak', generate), 'generated');
  });

  test('a reply is logged with its request id, outcome, duration and token usage, but never the token, key or message', async () => {
    const token = await login(stack.url, 'logger-check');
    const secretMessage = '我的银行卡密码是多少';
    const answer = await send(stack.url, '/api/chat', chatRequest(token, { message: secretMessage }, { 'X-Request-Id': 'logged-reply' }));
    assert.equal(parseReplyBody(answer.text).text, '私密回答');
    const finished = await eventually(() => stack.app.logs.find((record) => record.requestId === 'logged-reply' && record.msg === 'reply finished'), 'the reply finished record');
    assert.equal(finished.outcome, 'done');
    assert.equal(finished.finishReason, 'stop');
    assert.equal(finished.promptTokens, 11);
    assert.equal(finished.completionTokens, 2);
    assert.equal(typeof finished.durationMs, 'number');
    const raw = stack.app.rawLogs();
    assert.ok(!raw.includes(token), 'no token in logs');
    assert.ok(!raw.includes(token.split('.')[1] ?? token), 'no token signature in logs');
    assert.ok(!raw.includes(TEST_API_KEY), 'no API key in logs');
    assert.ok(!raw.includes(secretMessage), 'no message text in logs');
    assert.ok(!raw.includes('私密回答'), 'no reply text in logs');
  });
});
