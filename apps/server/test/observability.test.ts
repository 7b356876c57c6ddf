import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseErrorBody } from '@wxstream/protocol';
import { parseExposition, valueOf, type Sample } from './support/exposition.ts';
import { startFakeWechatServer } from './support/fake-wechat-server.ts';
import { eventually } from './support/eventually.ts';
import { chatRequest, login, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { TEST_API_KEY, startStack, type TestStack } from './support/test-server.ts';

const METRICS_TOKEN = 'scrape-token-0123456789';

async function scrape(stack: TestStack): Promise<Sample[]> {
  const answer = await send(stack.url, '/metrics', { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
  assert.equal(answer.status, 200, answer.text);
  return parseExposition(answer.text);
}

function waitForLog(stack: TestStack, requestId: string, msg: string): Promise<Record<string, unknown>> {
  return eventually(() => stack.app.logs.find((record) => record.requestId === requestId && record.msg === msg), `a "${msg}" record for ${requestId}`);
}

test('/metrics shows the counters moving, recorded from the real chat paths', async () => {
  const stack = await startStack({ env: { METRICS_TOKEN }, scenario: { reasoning: ['想'], content: ['一', '二'], usage: { promptTokens: 21, completionTokens: 5 } } });
  try {
    assert.equal((await send(stack.url, '/metrics')).status, 401, 'METRICS_TOKEN guards the endpoint');
    const token = await login(stack.url);
    const before = await scrape(stack);
    assert.equal(valueOf(before, 'wxstream_replies_total', { outcome: 'done' }), 0);

    await send(stack.url, '/api/chat', chatRequest(token, { message: 'count me' }));
    stack.emulator.setScenario({ content: ['半'], failAfter: { events: 2, mode: 'destroy' } });
    await send(stack.url, '/api/chat', chatRequest(token, { message: 'fail me' }));
    stack.emulator.setScenario({ httpError: { status: 429, message: 'slow down' } });
    const refused = await send(stack.url, '/api/chat', chatRequest(token, { message: 'refuse me' }));
    assert.equal(parseErrorBody(refused.json())?.code, 'upstream_rate_limited');

    const after = await scrape(stack);
    assert.equal(valueOf(after, 'wxstream_replies_total', { outcome: 'done' }), 1);
    assert.equal(valueOf(after, 'wxstream_replies_total', { outcome: 'error', code: 'upstream_error' }), 1);
    assert.equal(valueOf(after, 'wxstream_replies_total', { outcome: 'error', code: 'upstream_rate_limited' }), 1);
    assert.equal(valueOf(after, 'wxstream_upstream_errors_total', { code: 'upstream_error' }), 1);
    assert.equal(valueOf(after, 'wxstream_upstream_errors_total', { code: 'upstream_rate_limited' }), 1);
    assert.equal(valueOf(after, 'wxstream_replies_in_progress'), 0);
    assert.equal(valueOf(after, 'wxstream_time_to_first_token_seconds_count'), 2, 'both replies that streamed had a first token');
    // The done reply's usage came from the provider; the failed one was estimated (at least its text).
    assert.ok(valueOf(after, 'wxstream_tokens_total', { kind: 'prompt' }) > 21);
    assert.ok(valueOf(after, 'wxstream_tokens_total', { kind: 'completion' }) >= 5 + 1);
  } finally {
    await stack.close();
  }
});

test('logs never contain a token, the API key, the WeChat secret or code, or message and reply text', async () => {
  const fake = await startFakeWechatServer();
  const stack = await startStack({
    env: { WECHAT_APPID: fake.appid, WECHAT_SECRET: fake.secret, WECHAT_API_BASE_URL: fake.baseUrl, TRUST_PROXY: 'loopback' },
    scenario: { reasoning: ['秘密的思考'], content: ['保密的', '回答'] },
  });
  try {
    fake.addLoginCode('login-code-that-must-not-leak', 'openid-private');
    const token = await login(stack.url, 'login-code-that-must-not-leak');
    const secretMessage = '我的银行卡密码是 314159';
    const answer = await send(stack.url, '/api/chat', chatRequest(token, { message: secretMessage }, { 'X-Request-Id': 'private-reply' }));
    assert.equal(parseReplyBody(answer.text).text, '保密的回答');
    const finished = await waitForLog(stack, 'private-reply', 'reply finished');
    assert.equal(finished.status, 'complete');
    assert.equal(finished.userText, undefined);

    const raw = stack.app.rawLogs();
    for (const [what, secret] of [
      ['the session token', token],
      ['the token signature', token.split('.')[1] ?? token],
      ['the API key', TEST_API_KEY],
      ['the WeChat app secret', fake.secret],
      ['the login code', 'login-code-that-must-not-leak'],
      ['an access token', fake.issuedTokens[0] ?? 'no access token was issued'],
      ['the message', secretMessage],
      ['the reply', '保密的回答'],
      ['the reasoning', '秘密的思考'],
    ] as const) {
      assert.ok(!raw.includes(secret), `no ${what} in the logs`);
    }
  } finally {
    await stack.close();
    await fake.close();
  }
});

test('LOG_MESSAGE_TEXT=true puts the texts in the reply record, and says so at start', async () => {
  const stack = await startStack({ env: { LOG_MESSAGE_TEXT: 'true', TRUST_PROXY: 'loopback' }, scenario: { content: ['看得', '见'] } });
  try {
    const token = await login(stack.url);
    await send(stack.url, '/api/chat', chatRequest(token, { message: '调试用的消息' }, { 'X-Request-Id': 'debug-reply' }));
    const finished = await waitForLog(stack, 'debug-reply', 'reply finished');
    assert.equal(finished.userText, '调试用的消息');
    assert.equal(finished.replyText, '看得见');
    assert.ok(stack.app.logs.some((record) => String(record.msg).startsWith('LOG_MESSAGE_TEXT is on')));
  } finally {
    await stack.close();
  }
});
