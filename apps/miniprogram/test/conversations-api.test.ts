/**
 * The conversations API client with the real auth session, over the fake `wx.request` and the
 * in-memory server that answers as the HTTP contract says (support/fake-backend.ts).
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { errorBody } from '@wxstream/protocol';
import { STORAGE_KEY } from '../miniprogram/lib/auth-session.ts';
import { conversationPath, createConversationsApi, listPath, RENAME_METHOD } from '../miniprogram/lib/conversations-api.ts';
import { WxstreamError } from '../miniprogram/vendor/wxstream-client.js';
import { storedMessage } from './support/fake-backend.ts';
import { apiDeps, TEST_SERVER } from './support/api-deps.ts';

const SERVER = TEST_SERVER;

function setup() {
  const { wx, deps } = apiDeps();
  const api = createConversationsApi(deps);
  return { wx, api, backend: wx.backend };
}

async function rejection(promise: Promise<unknown>): Promise<WxstreamError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof WxstreamError, `expected a WxstreamError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the promise to reject');
}

test('a list request carries the bearer token and the limit, and pages on with the cursor', async () => {
  const { wx, api, backend } = setup();
  backend.addConversations(5);
  const first = await api.list({ limit: 3 });
  assert.deepEqual(
    first.items.map((item) => item.id),
    ['c-1', 'c-2', 'c-3'],
  );
  assert.equal(typeof first.nextCursor, 'string');
  assert.equal(backend.requests[0]?.authorization, 'Bearer token-1');
  assert.equal(backend.requests[0]?.query.get('limit'), '3');
  assert.equal(wx.jsonRequests[0]?.method, 'GET');

  const second = await api.list({ limit: 3, cursor: first.nextCursor });
  assert.deepEqual(
    second.items.map((item) => item.id),
    ['c-4', 'c-5'],
  );
  assert.equal(second.nextCursor, null);
  assert.equal(wx.loginCalls, 1, 'one login serves every call');
});

test('the list path escapes the opaque cursor and uses the default page size', () => {
  assert.equal(listPath(), '/api/conversations?limit=20');
  assert.equal(listPath({ cursor: 'a+b/c=', limit: 5 }), '/api/conversations?limit=5&cursor=a%2Bb%2Fc%3D');
  assert.equal(conversationPath('x/y z'), '/api/conversations/x%2Fy%20z');
});

test('a conversation comes back with its messages in order', async () => {
  const { api, backend } = setup();
  backend.addConversation({
    id: 'c-7',
    title: '天气',
    messages: [
      storedMessage({ id: 'm1', role: 'user', text: '今天穿什么' }),
      storedMessage({ id: 'm2', role: 'assistant', text: '穿外套。', reasoning: '先看温度', finishReason: 'stop' }),
    ],
  });
  const detail = await api.get('c-7');
  assert.equal(detail.conversation.title, '天气');
  assert.deepEqual(
    detail.messages.map((message) => [message.role, message.text, message.reasoning]),
    [
      ['user', '今天穿什么', undefined],
      ['assistant', '穿外套。', '先看温度'],
    ],
  );
});

test("another user's conversation is not_found, with its status", async () => {
  const { api, backend } = setup();
  backend.addConversation({ id: 'theirs', title: '别人的', owner: 'user-2' });
  const error = await rejection(api.get('theirs'));
  assert.equal(error.code, 'not_found');
  assert.equal(error.status, 404);
});

test('rename goes out as PUT with the title, because WeChat has no PATCH', async () => {
  const { wx, api, backend } = setup();
  backend.addConversation({ id: 'c-1', title: '旧标题' });
  const renamed = await api.rename('c-1', '新标题');
  assert.equal(RENAME_METHOD, 'PUT');
  assert.equal(wx.jsonRequests[0]?.method, 'PUT');
  assert.deepEqual(backend.requests[0]?.body, { title: '新标题' });
  assert.equal(renamed.title, '新标题');
  assert.equal(backend.summary('c-1')?.title, '新标题');
});

test('the fake wx refuses PATCH the way WeChat does, so no page can depend on it', async () => {
  const { wx } = setup();
  const failure = await new Promise<string>((resolve) => {
    wx.request({ url: `${SERVER}/api/conversations/c-1`, method: 'PATCH', fail: (error) => resolve(error.errMsg) });
  });
  assert.match(failure, /^request:fail/);
  assert.equal(wx.jsonRequests.length, 0, 'nothing reached the server');
});

test('delete resolves on 204 and the conversation is gone', async () => {
  const { api, backend } = setup();
  backend.addConversation({ id: 'c-1', title: '要删的' });
  await api.remove('c-1');
  assert.equal(backend.summary('c-1'), undefined);
  assert.equal((await rejection(api.remove('c-1'))).code, 'not_found');
});

test('an expired token is dropped, a new one fetched and the request sent once more', async () => {
  const { wx, api, backend } = setup();
  backend.addConversations(2);
  backend.expiredToken('stale');
  wx.storage.set(STORAGE_KEY, { token: 'stale', expiresAt: Date.now() + 3_600_000 });
  const page = await api.list();
  assert.equal(page.items.length, 2);
  assert.equal(wx.loginCalls, 1);
  assert.deepEqual(
    backend.requests.map((request) => request.authorization),
    ['Bearer stale', 'Bearer token-1'],
  );
});

test('a token refused again after the re-login is reported, not retried forever', async () => {
  const { wx, api, backend } = setup();
  backend.answerNext('GET', '/api/conversations', { statusCode: 401, data: errorBody('invalid_token', 'bad signature') });
  backend.answerNext('GET', '/api/conversations', { statusCode: 401, data: errorBody('invalid_token', 'bad signature') });
  const error = await rejection(api.list());
  assert.equal(error.code, 'invalid_token');
  assert.equal(backend.requests.length, 2);
  assert.equal(wx.loginCalls, 2);
});

test('other errors are not answered with a re-login', async () => {
  const { wx, api, backend } = setup();
  backend.answerNext('GET', '/api/conversations', { statusCode: 429, data: errorBody('rate_limited', 'slow down') });
  const error = await rejection(api.list());
  assert.equal(error.code, 'rate_limited');
  assert.equal(error.retryable, true);
  assert.equal(wx.loginCalls, 1);
  assert.equal(backend.requests.length, 1);
});

test('a failed login rejects with its own code and sends nothing', async () => {
  const { wx, api, backend } = setup();
  wx.loginAnswers.push({ statusCode: 503, data: errorBody('wechat_unavailable', 'jscode2session timed out') });
  const error = await rejection(api.list());
  assert.equal(error.code, 'wechat_unavailable');
  assert.equal(backend.requests.length, 0);
});

test('no answer at all is network_error', async () => {
  const { api, backend } = setup();
  backend.answerNext('GET', '/api/conversations', { network: 'request:fail timeout' });
  const error = await rejection(api.list());
  assert.equal(error.code, 'network_error');
  assert.match(error.message, /GET \/api\/conversations\?limit=20 failed: request:fail timeout/);
});

test('a proxy error page is http_error with its status, retryable for 5xx', async () => {
  const { api, backend } = setup();
  backend.answerNext('GET', '/api/conversations/c-1', { statusCode: 502, data: '<html><body>502 Bad Gateway</body></html>' });
  const error = await rejection(api.get('c-1'));
  assert.equal(error.code, 'http_error');
  assert.equal(error.status, 502);
  assert.equal(error.retryable, true);
  assert.match(error.message, /502 Bad Gateway/);
});

test('a 2xx answer of the wrong shape is bad_response', async () => {
  const { api, backend } = setup();
  backend.answerNext('GET', '/api/conversations', { statusCode: 200, data: { conversations: [] } });
  assert.equal((await rejection(api.list())).code, 'bad_response');
  backend.answerNext('GET', '/api/conversations/c-1', { statusCode: 200, data: '<html>captive portal</html>' });
  assert.equal((await rejection(api.get('c-1'))).code, 'bad_response');
});
