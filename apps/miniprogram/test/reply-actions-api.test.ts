/**
 * The reply actions API, the paged conversation read and the share reader, with the real auth session,
 * over the fake `wx.request` and the in-memory server (support/fake-backend.ts).
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { createConversationsApi, messagesPagePath } from '../miniprogram/lib/conversations-api.ts';
import { createReplyActionsApi, currentVersionPath, feedbackPath, sharePath, sharesPath } from '../miniprogram/lib/reply-actions-api.ts';
import { fetchSharedConversation, readSharedConversation } from '../miniprogram/lib/shared-conversation.ts';
import { WxstreamError } from '../miniprogram/vendor/wxstream-client.js';
import { storedMessage } from './support/fake-backend.ts';
import { apiDeps, TEST_SERVER } from './support/api-deps.ts';

const SERVER = TEST_SERVER;

function setup() {
  const { wx, deps } = apiDeps();
  return { wx, backend: wx.backend, actions: createReplyActionsApi(deps), conversations: createConversationsApi(deps) };
}

test('paths escape ids and follow the contract', () => {
  assert.equal(feedbackPath('a/b'), '/api/messages/a%2Fb/feedback');
  assert.equal(currentVersionPath('c 1', 'm?2'), '/api/conversations/c%201/messages/m%3F2/current');
  assert.equal(sharesPath('c-1'), '/api/conversations/c-1/shares');
  assert.equal(sharePath('x'), '/api/shares/x');
  assert.equal(messagesPagePath('c-1'), '/api/conversations/c-1?limit=30');
  assert.equal(messagesPagePath('c-1', { before: 'a+b', limit: 2 }), '/api/conversations/c-1?limit=2&before=a%2Bb');
});

test('pages of a conversation come newest first, each in reading order, until the cursor is null', async () => {
  const { backend, conversations } = setup();
  backend.addLongConversation('c-1', 70);
  const newest = await conversations.messages('c-1');
  assert.deepEqual([newest.messages[0]?.id, newest.messages.at(-1)?.id], ['q-41', 'a-70']);
  assert.ok(newest.nextCursor);
  const middle = await conversations.messages('c-1', { before: newest.nextCursor });
  assert.deepEqual([middle.messages[0]?.id, middle.messages.at(-1)?.id], ['q-11', 'a-40']);
  const oldest = await conversations.messages('c-1', { before: middle.nextCursor });
  assert.equal(oldest.messages.length, 10);
  assert.equal(oldest.nextCursor, null);
});

test('feedback and versions come back with the messages; a version switch answers the turn', async () => {
  const { backend, actions, conversations } = setup();
  backend.addConversation({ id: 'c-1', title: 't', messages: [storedMessage({ id: 'q-1', role: 'user', text: '问' }), storedMessage({ id: 'a-1', role: 'assistant', text: '答一' })] });
  backend.addVersion('c-1', storedMessage({ id: 'q-1', role: 'user', text: '问' }), storedMessage({ id: 'a-2', role: 'assistant', text: '答二' }));
  await actions.rate('a-2', 'down', '不对');
  const page = await conversations.messages('c-1');
  const reply = page.messages[1];
  assert.deepEqual(reply?.feedback, { rating: 'down', comment: '不对', updatedAt: '2025-01-01T00:00:00.000Z' });
  assert.deepEqual(reply?.versions?.items.map((v) => v.messageId), ['a-1', 'a-2']);
  assert.equal(reply?.versions?.current, 1);

  const turn = await actions.setCurrentVersion('c-1', 'a-1');
  assert.deepEqual(turn.messages.map((m) => m.text), ['问', '答一']);
  assert.equal(turn.messages[1]?.versions?.current, 0);
});

test("another user's message is not found, and the error keeps the server's code", async () => {
  const { backend, actions } = setup();
  backend.addConversation({ id: 'c-9', title: 't', owner: 'someone-else', messages: [storedMessage({ id: 'a-9', role: 'assistant', text: 'x' })] });
  await assert.rejects(actions.rate('a-9', 'up'), (error: unknown) => error instanceof WxstreamError && error.code === 'not_found');
  await assert.rejects(actions.share('c-9'), (error: unknown) => error instanceof WxstreamError && error.code === 'not_found');
});

test('a share is made by its owner, read by anyone without a token, and gone once revoked', async () => {
  const { wx, backend, actions } = setup();
  backend.addConversation({ id: 'c-1', title: '标题', messages: [storedMessage({ id: 'q-1', role: 'user', text: '问' })] });
  const { shareId } = await actions.share('c-1');
  const read = () => fetchSharedConversation({ serverUrl: SERVER, request: wx.request }, shareId);
  const snapshot = await read();
  assert.equal(snapshot.title, '标题');
  assert.deepEqual(snapshot.messages.map((m) => [m.role, m.text]), [['user', '问']]);
  const unauthenticated = wx.jsonRequests.filter((r) => r.url.endsWith(sharePath(shareId)) && r.method === 'GET');
  assert.equal(unauthenticated[0]?.header?.Authorization, undefined);
  await actions.revokeShare(shareId);
  await assert.rejects(read(), (error: unknown) => error instanceof WxstreamError && error.code === 'not_found');
});

test('a share answer of another shape is bad_response, not a half-drawn page', () => {
  assert.equal(readSharedConversation({ title: 't', messages: [{ role: 'system', text: 'x' }] }), undefined);
  assert.equal(readSharedConversation({ messages: [] }), undefined);
  assert.deepEqual(readSharedConversation({ title: 't', createdAt: 'c', messages: [{ role: 'user', text: 'x', createdAt: 'd', userId: 'u' }] }), {
    title: 't',
    createdAt: 'c',
    messages: [{ role: 'user', text: 'x', createdAt: 'd' }],
  });
});
