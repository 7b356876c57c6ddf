import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseErrorBody, type ConversationSummary } from '@wxstream/protocol';
import { authed, getConversation, listConversations, startOf } from './support/api-client.ts';
import { chatRequest, login, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { startStack, type TestStack } from './support/test-server.ts';
import { createTestClock } from './support/test-clock.ts';

describe('the conversation API', () => {
  const clock = createTestClock();
  let stack: TestStack;
  let alice: string;
  let bob: string;

  before(async () => {
    stack = await startStack({ clock, scenario: { reasoning: ['想一想'], content: ['好', '的'], usage: { promptTokens: 9, completionTokens: 3 } } });
    alice = await login(stack.url, 'alice');
    bob = await login(stack.url, 'bob');
  });
  after(() => stack.close());

  const chat = async (token: string, body: object) => {
    const answer = await send(stack.url, '/api/chat', chatRequest(token, body));
    assert.equal(answer.status, 200, answer.text);
    return { answer, start: startOf(answer.text), reply: parseReplyBody(answer.text) };
  };

  test('a chat without conversationId starts a conversation titled from the first message, stored with both messages', async () => {
    const { start } = await chat(alice, { message: '  天空为什么\n是蓝色的？请详细解释一下瑞利散射的原理和它与波长的关系  ' });
    const detail = await getConversation(stack.url, alice, start.conversationId);
    assert.equal(detail.conversation.id, start.conversationId);
    assert.equal(detail.conversation.title, '天空为什么 是蓝色的？请详细解释一下瑞利散射的原理和它与波长');
    const [user, reply] = detail.messages;
    assert.equal(detail.messages.length, 2);
    assert.equal(user?.role, 'user');
    assert.equal(user?.text, '  天空为什么\n是蓝色的？请详细解释一下瑞利散射的原理和它与波长的关系  ');
    assert.equal(user?.status, 'complete');
    assert.equal(reply?.id, start.messageId);
    assert.equal(reply?.role, 'assistant');
    assert.equal(reply?.text, '好的');
    assert.equal(reply?.reasoning, '想一想');
    assert.equal(reply?.status, 'complete');
    assert.equal(reply?.finishReason, 'stop');
    assert.deepEqual(reply?.usage, { promptTokens: 9, completionTokens: 3 });
    assert.equal(reply?.model, 'emulated-model');
  });

  test('the list is newest first and pages with an opaque cursor until nextCursor is null', async () => {
    const carol = await login(stack.url, 'carol');
    const ids: string[] = [];
    for (const message of ['第一', '第二', '第三']) {
      ids.push((await chat(carol, { message })).start.conversationId);
      clock.advance(1000);
    }
    const first = await listConversations(stack.url, carol, '?limit=2');
    assert.deepEqual(
      first.items.map((item) => item.title),
      ['第三', '第二'],
    );
    assert.equal(typeof first.nextCursor, 'string');
    const second = await listConversations(stack.url, carol, `?limit=2&cursor=${encodeURIComponent(first.nextCursor ?? '')}`);
    assert.deepEqual(
      second.items.map((item) => item.id),
      [ids[0]],
    );
    assert.equal(second.nextCursor, null);
    const all = await listConversations(stack.url, carol);
    assert.deepEqual(
      all.items.map((item) => item.id),
      [...ids].reverse(),
    );
  });

  test('continuing a conversation moves it to the top of the list', async () => {
    const dave = await login(stack.url, 'dave');
    const older = (await chat(dave, { message: 'older' })).start.conversationId;
    clock.advance(1000);
    await chat(dave, { message: 'newer' });
    clock.advance(1000);
    await chat(dave, { message: 'again', conversationId: older });
    const page = await listConversations(stack.url, dave);
    assert.deepEqual(
      page.items.map((item) => item.title),
      ['older', 'newer'],
    );
    assert.equal((await getConversation(stack.url, dave, older)).messages.length, 4);
  });

  test('a bad limit or a cursor this server did not issue is 400 invalid_request', async () => {
    for (const query of ['?limit=0', '?limit=101', '?limit=ten', '?cursor=not-a-cursor', '?limit=1&limit=2']) {
      const answer = await send(stack.url, `/api/conversations${query}`, authed(alice));
      assert.equal(answer.status, 400, query);
      assert.equal(parseErrorBody(answer.json())?.code, 'invalid_request', query);
    }
  });

  test('PATCH and PUT rename a conversation and answer its summary; a blank or too long title is refused', async () => {
    const { start } = await chat(alice, { message: 'rename me' });
    const patched = await send(stack.url, `/api/conversations/${start.conversationId}`, authed(alice, 'PATCH', { title: '  新的\n标题 ' }));
    assert.equal(patched.status, 200, patched.text);
    const summary = patched.json() as ConversationSummary;
    assert.equal(summary.id, start.conversationId);
    assert.equal(summary.title, '新的 标题');
    const put = await send(stack.url, `/api/conversations/${start.conversationId}`, authed(alice, 'PUT', { title: '用 PUT 改名' }));
    assert.equal(put.status, 200, put.text);
    assert.equal((await getConversation(stack.url, alice, start.conversationId)).conversation.title, '用 PUT 改名');
    for (const body of [{ title: ' \n ' }, { title: 'x'.repeat(101) }, { title: 42 }, {}]) {
      const refused = await send(stack.url, `/api/conversations/${start.conversationId}`, authed(alice, 'PATCH', body));
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.equal(parseErrorBody(refused.json())?.code, 'invalid_request');
    }
  });

  test('DELETE answers 204 and the conversation is gone from every route', async () => {
    const { start } = await chat(alice, { message: 'delete me' });
    const deleted = await send(stack.url, `/api/conversations/${start.conversationId}`, authed(alice, 'DELETE'));
    assert.equal(deleted.status, 204);
    assert.equal(deleted.text, '');
    assert.equal((await send(stack.url, `/api/conversations/${start.conversationId}`, authed(alice))).status, 404);
    assert.ok(!(await listConversations(stack.url, alice, '?limit=100')).items.some((item) => item.id === start.conversationId));
    const continued = await send(stack.url, '/api/chat', chatRequest(alice, { message: 'hi', conversationId: start.conversationId }));
    assert.equal(continued.status, 404);
  });

  test("another user's conversation is 404 not_found by every endpoint, and stays untouched", async () => {
    const { start } = await chat(alice, { message: "alice's secret" });
    const path = `/api/conversations/${start.conversationId}`;
    const upstreamBefore = stack.emulator.requests.length;
    const attempts = [
      await send(stack.url, path, authed(bob)),
      await send(stack.url, path, authed(bob, 'PATCH', { title: 'mine now' })),
      await send(stack.url, path, authed(bob, 'PUT', { title: 'mine now' })),
      await send(stack.url, path, authed(bob, 'DELETE')),
      await send(stack.url, '/api/chat', chatRequest(bob, { message: 'hi', conversationId: start.conversationId })),
    ];
    for (const answer of attempts) {
      assert.equal(answer.status, 404, answer.text);
      assert.equal(parseErrorBody(answer.json())?.code, 'not_found');
    }
    assert.equal(stack.emulator.requests.length, upstreamBefore, 'nothing was sent upstream for the refused chat');
    assert.ok(!(await listConversations(stack.url, bob, '?limit=100')).items.some((item) => item.id === start.conversationId));
    const detail = await getConversation(stack.url, alice, start.conversationId);
    assert.equal(detail.conversation.title, "alice's secret");
    assert.equal(detail.messages.length, 2);
  });

  test('an unknown conversation id, or one that cannot be an id, is 404 for reading and for chat', async () => {
    const upstreamBefore = stack.emulator.requests.length;
    for (const path of ['/api/conversations/no-such-conversation', '/api/conversations/..%2F..%2Fetc']) {
      const answer = await send(stack.url, path, authed(alice));
      assert.equal(answer.status, 404, path);
      assert.equal(parseErrorBody(answer.json())?.code, 'not_found');
    }
    const chatAnswer = await send(stack.url, '/api/chat', chatRequest(alice, { message: 'hi', conversationId: 'no-such-conversation' }));
    assert.equal(chatAnswer.status, 404);
    assert.equal(parseErrorBody(chatAnswer.json())?.code, 'not_found');
    assert.equal(stack.emulator.requests.length, upstreamBefore);
  });

  test('every conversation route needs a valid token: none, expired or forged is 401', async () => {
    const { start } = await chat(alice, { message: 'guarded' });
    const expiring = await login(stack.url, 'erin');
    const [payload = '', signature = ''] = alice.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = `${Buffer.from(JSON.stringify({ ...claims, sub: 'dev:bob' })).toString('base64url')}.${signature}`;
    clock.advance(8 * 24 * 60 * 60 * 1000);
    const routes: Array<[string, string]> = [
      ['GET', '/api/conversations'],
      ['GET', `/api/conversations/${start.conversationId}`],
      ['PATCH', `/api/conversations/${start.conversationId}`],
      ['DELETE', `/api/conversations/${start.conversationId}`],
      ['POST', '/api/chat'],
    ];
    for (const [method, path] of routes) {
      const body = method === 'PATCH' ? { title: 'x' } : method === 'POST' ? { message: 'hi' } : undefined;
      const none = await send(stack.url, path, { method, headers: { 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body }) });
      assert.equal(none.status, 401, `${method} ${path} without a token`);
      assert.equal(parseErrorBody(none.json())?.code, 'unauthorized');
      const expired = await send(stack.url, path, authed(expiring, method, body));
      assert.equal(expired.status, 401, `${method} ${path} with an expired token`);
      assert.equal(parseErrorBody(expired.json())?.code, 'token_expired');
      const fake = await send(stack.url, path, authed(forged, method, body));
      assert.equal(fake.status, 401, `${method} ${path} with a forged token`);
      assert.equal(parseErrorBody(fake.json())?.code, 'invalid_token');
    }
  });
});
