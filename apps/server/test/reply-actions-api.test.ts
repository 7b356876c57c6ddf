/**
 * The reply-action routes over HTTP, on both stores: feedback, shares and paged history (the chat
 * side — regenerate, edit, versions — is in `chat-versions.test.ts`).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseErrorBody, type ConversationDetail, type ShareCreated, type SharedConversation, type ShareList } from '@wxstream/protocol';
import { authed, getConversation, sendChat, startOf } from './support/api-client.ts';
import { describeOnBothStores } from './support/both-stores.ts';
import { parseExposition, valueOf } from './support/exposition.ts';
import { chatRequest, login, send } from './support/http-client.ts';
import { startStack, type TestStack } from './support/test-server.ts';
import { createTestClock } from './support/test-clock.ts';

describeOnBothStores('reply actions API', (storeEnv) => {
  const clock = createTestClock();
  let stack: TestStack;
  let alice: string;
  let bob: string;

  before(async () => {
    stack = await startStack({ clock, scenario: { content: ['好', '的'] }, env: { ...(await storeEnv()), SHARE_RATE_LIMIT_PER_MINUTE: '0' } });
    alice = await login(stack.url, 'alice');
    bob = await login(stack.url, 'bob');
  });
  after(() => stack.close());

  const chat = async (token: string, body: object) => {
    const answer = await sendChat(stack.url, token, body);
    assert.equal(answer.status, 200, answer.text);
    return startOf(answer.text);
  };

  /** A conversation of `turns` questions, each answered. */
  const conversationOf = async (token: string, turns: number): Promise<string> => {
    let conversationId: string | undefined;
    for (let i = 1; i <= turns; i += 1) {
      conversationId = (await chat(token, { message: `问题 ${i}`, ...(conversationId === undefined ? {} : { conversationId }) })).conversationId;
    }
    assert.ok(conversationId !== undefined);
    return conversationId;
  };

  const feedback = (token: string, messageId: string, body: unknown) =>
    send(stack.url, `/api/messages/${messageId}/feedback`, authed(token, 'PUT', body as object));

  test('feedback is set, replaced and removed with 204s, and comes back with the message', async () => {
    const start = await chat(alice, { message: '评价我' });
    const up = await feedback(alice, start.messageId, { rating: 'up' });
    assert.equal(up.status, 204, up.text);
    assert.equal(up.text, '');
    let reply = (await getConversation(stack.url, alice, start.conversationId)).messages[1];
    assert.equal(reply?.feedback?.rating, 'up');
    assert.equal(reply?.feedback?.comment, undefined);
    assert.match(reply?.feedback?.updatedAt ?? '', /^\d{4}-\d\d-\d\dT/);

    assert.equal((await feedback(alice, start.messageId, { rating: 'down', comment: '  答非所问  ' })).status, 204);
    reply = (await getConversation(stack.url, alice, start.conversationId)).messages[1];
    assert.deepEqual([reply?.feedback?.rating, reply?.feedback?.comment], ['down', '答非所问']);

    assert.equal((await feedback(alice, start.messageId, { rating: null })).status, 204);
    reply = (await getConversation(stack.url, alice, start.conversationId)).messages[1];
    assert.equal(reply?.feedback, undefined);
  });

  test('feedback is counted in /metrics by rating, removals as none', async () => {
    const scrape = async () => parseExposition((await send(stack.url, '/metrics')).text);
    const before = await scrape();
    const start = await chat(alice, { message: '数一数' });
    await feedback(alice, start.messageId, { rating: 'up' });
    await feedback(alice, start.messageId, { rating: 'down' });
    await feedback(alice, start.messageId, { rating: null });
    const after = await scrape();
    for (const rating of ['up', 'down', 'none']) {
      assert.equal(valueOf(after, 'wxstream_feedback_total', { rating }) - valueOf(before, 'wxstream_feedback_total', { rating }), 1, rating);
    }
  });

  test('feedback on a user message, an unknown message or another user’s reply is 404 and changes nothing', async () => {
    const start = await chat(alice, { message: '别人的回复' });
    const detail = await getConversation(stack.url, alice, start.conversationId);
    const question = detail.messages[0]?.id ?? '';
    for (const [token, id] of [
      [alice, question],
      [alice, 'no-such-message'],
      [alice, '..%2F..%2Fetc'],
      [bob, start.messageId],
    ] as const) {
      const answer = await feedback(token, id, { rating: 'down' });
      assert.equal(answer.status, 404, `${id}: ${answer.text}`);
      assert.equal(parseErrorBody(answer.json())?.code, 'not_found');
    }
    assert.equal((await getConversation(stack.url, alice, start.conversationId)).messages[1]?.feedback, undefined);
  });

  test('a bad feedback body is 400 naming the field: rating missing, unknown or mistyped; comment mistyped, too long or without a rating', async () => {
    const start = await chat(alice, { message: '坏请求' });
    const cases: [unknown, RegExp][] = [
      [{}, /rating is required/],
      [{ rating: 'meh' }, /rating must be/],
      [{ rating: 1 }, /rating must be/],
      [{ rating: true }, /rating must be/],
      [{ rating: 'up', comment: 42 }, /comment must be a string/],
      [{ rating: 'up', comment: '长'.repeat(501) }, /comment has 501 characters; the limit is 500/],
      [{ rating: null, comment: '没有评分的评论' }, /comment needs a rating/],
      [['up'], /JSON object/],
    ];
    for (const [body, message] of cases) {
      const answer = await feedback(alice, start.messageId, body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      const error = parseErrorBody(answer.json());
      assert.equal(error?.code, 'invalid_request', JSON.stringify(body));
      assert.match(error?.message ?? '', message, JSON.stringify(body));
    }
    assert.equal((await feedback(alice, start.messageId, { rating: 'up', comment: '长'.repeat(500) })).status, 204, '500 characters fit');
    const notJson = await send(stack.url, `/api/messages/${start.messageId}/feedback`, authed(alice, 'PUT', '{"rating":'));
    assert.equal(parseErrorBody(notJson.json())?.code, 'invalid_json');
  });

  test('a share is created by its owner, read by anyone without a token, and carries no identifiers', async () => {
    const conversationId = await conversationOf(alice, 2);
    const created = await send(stack.url, `/api/conversations/${conversationId}/shares`, authed(alice, 'POST'));
    assert.equal(created.status, 201, created.text);
    const share = created.json() as ShareCreated;
    assert.match(share.shareId, /^[A-Za-z0-9_-]{24}$/);
    assert.equal(Buffer.from(share.shareId, 'base64url').length, 18, '144 random bits');
    assert.deepEqual([share.title, share.messageCount, share.path], ['问题 1', 4, `/api/shares/${share.shareId}`]);

    // A later turn is not part of the snapshot.
    await chat(alice, { message: '之后的问题', conversationId });
    const read = await send(stack.url, share.path);
    assert.equal(read.status, 200, read.text);
    assert.equal(read.headers['cache-control'], 'no-store');
    const shared = read.json() as SharedConversation;
    assert.deepEqual(Object.keys(shared).sort(), ['createdAt', 'messages', 'title']);
    assert.deepEqual(
      shared.messages.map((message) => [message.role, message.text]),
      [
        ['user', '问题 1'],
        ['assistant', '好的'],
        ['user', '问题 2'],
        ['assistant', '好的'],
      ],
    );
    for (const message of shared.messages) assert.deepEqual(Object.keys(message).sort(), ['createdAt', 'role', 'text']);
    const detail = await getConversation(stack.url, alice, conversationId);
    const secrets = [conversationId, 'dev:alice', 'alice', ...detail.messages.map((message) => message.id)];
    for (const secret of secrets) assert.ok(!read.text.includes(secret), `the share must not contain ${secret}`);
  });

  test('the owner lists and revokes a share, after which it is 404; nobody else can list, revoke or create', async () => {
    const conversationId = await conversationOf(alice, 1);
    const path = `/api/conversations/${conversationId}/shares`;
    const first = (await send(stack.url, path, authed(alice, 'POST'))).json() as ShareCreated;
    clock.advance(1000);
    const second = (await send(stack.url, path, authed(alice, 'POST'))).json() as ShareCreated;
    const list = (await send(stack.url, path, authed(alice))).json() as ShareList;
    assert.deepEqual(list.items.map((item) => item.shareId), [second.shareId, first.shareId]);

    for (const answer of [
      await send(stack.url, path, authed(bob, 'POST')),
      await send(stack.url, path, authed(bob)),
      await send(stack.url, `/api/shares/${first.shareId}`, authed(bob, 'DELETE')),
    ]) {
      assert.equal(answer.status, 404, answer.text);
      assert.equal(parseErrorBody(answer.json())?.code, 'not_found');
    }
    assert.equal((await send(stack.url, `/api/shares/${first.shareId}`)).status, 200, 'a stranger’s DELETE left it alone');

    const revoked = await send(stack.url, `/api/shares/${first.shareId}`, authed(alice, 'DELETE'));
    assert.equal(revoked.status, 204);
    const gone = await send(stack.url, `/api/shares/${first.shareId}`);
    assert.equal(gone.status, 404);
    assert.equal(parseErrorBody(gone.json())?.code, 'not_found');
    assert.equal((await send(stack.url, `/api/shares/${second.shareId}`)).status, 200, 'other shares stay');
    assert.equal((await send(stack.url, `/api/shares/${first.shareId}`, authed(alice, 'DELETE'))).status, 404, 'revoking twice is 404');
    const deleteNeedsToken = await send(stack.url, `/api/shares/${second.shareId}`, { method: 'DELETE' });
    assert.equal(deleteNeedsToken.status, 401);
  });

  test('an unknown share id, or one that cannot be one, is 404 without a token', async () => {
    for (const id of ['AAAAAAAAAAAAAAAAAAAAAAAA', 'short', '..%2F..%2Fetc', 'x'.repeat(25)]) {
      const answer = await send(stack.url, `/api/shares/${id}`);
      assert.equal(answer.status, 404, id);
      assert.equal(parseErrorBody(answer.json())?.code, 'not_found');
    }
  });

  test('deleting a conversation revokes its shares', async () => {
    const conversationId = await conversationOf(alice, 1);
    const share = (await send(stack.url, `/api/conversations/${conversationId}/shares`, authed(alice, 'POST'))).json() as ShareCreated;
    assert.equal((await send(stack.url, `/api/conversations/${conversationId}`, authed(alice, 'DELETE'))).status, 204);
    assert.equal((await send(stack.url, share.path)).status, 404);
  });

  test('paged history walks newest first, oldest first within a page, and the unpaged form is unchanged', async () => {
    const conversationId = await conversationOf(alice, 7);
    const page = async (query: string) => {
      const answer = await send(stack.url, `/api/conversations/${conversationId}${query}`, authed(alice));
      assert.equal(answer.status, 200, answer.text);
      return answer.json() as ConversationDetail;
    };
    const texts = (detail: ConversationDetail) => detail.messages.map((message) => message.text);
    const newest = await page('?limit=5');
    assert.deepEqual(texts(newest), ['好的', '问题 6', '好的', '问题 7', '好的']);
    assert.equal(typeof newest.nextCursor, 'string');
    const older = await page(`?limit=5&before=${encodeURIComponent(newest.nextCursor ?? '')}`);
    assert.deepEqual(texts(older), ['问题 3', '好的', '问题 4', '好的', '问题 5']);
    const oldest = await page(`?limit=5&before=${encodeURIComponent(older.nextCursor ?? '')}`);
    assert.deepEqual(texts(oldest), ['问题 1', '好的', '问题 2', '好的']);
    assert.equal(oldest.nextCursor, null);
    assert.equal((await page('?limit=30')).messages.length, 14);
    assert.equal((await page(`?before=${encodeURIComponent(newest.nextCursor ?? '')}`)).messages.length, 9, 'default page size 30');

    const whole = await page('');
    assert.equal(whole.messages.length, 14);
    assert.ok(!('nextCursor' in whole), 'the unpaged form has no nextCursor');
  });

  test('a bad page query is 400 and another user’s conversation is 404, paged or not', async () => {
    const conversationId = await conversationOf(alice, 1);
    for (const query of ['?limit=0', '?limit=101', '?limit=x', '?before=', '?before=nope', '?limit=2&limit=3', '?before=a&before=b']) {
      const answer = await send(stack.url, `/api/conversations/${conversationId}${query}`, authed(alice));
      assert.equal(answer.status, 400, query);
      assert.equal(parseErrorBody(answer.json())?.code, 'invalid_request', query);
    }
    assert.equal((await send(stack.url, `/api/conversations/${conversationId}?limit=5`, authed(bob))).status, 404);
  });
});

describeOnBothStores('share creation limit', (storeEnv) => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ clock: createTestClock(), env: { ...(await storeEnv()), SHARE_RATE_LIMIT_PER_MINUTE: '1', SHARE_RATE_LIMIT_BURST: '2' } });
  });
  after(() => stack.close());

  test('creating shares past the burst is 429 rate_limited with Retry-After', async () => {
    const alice = await login(stack.url, 'alice');
    const conversationId = startOf((await send(stack.url, '/api/chat', chatRequest(alice, { message: '分享' }))).text).conversationId;
    const path = `/api/conversations/${conversationId}/shares`;
    assert.equal((await send(stack.url, path, authed(alice, 'POST'))).status, 201);
    assert.equal((await send(stack.url, path, authed(alice, 'POST'))).status, 201);
    const refused = await send(stack.url, path, authed(alice, 'POST'));
    assert.equal(refused.status, 429);
    assert.equal(parseErrorBody(refused.json())?.code, 'rate_limited');
    assert.equal(refused.headers['retry-after'], '60');
    const bob = await login(stack.url, 'bob');
    const other = startOf((await send(stack.url, '/api/chat', chatRequest(bob, { message: '我的' }))).text).conversationId;
    assert.equal((await send(stack.url, `/api/conversations/${other}/shares`, authed(bob, 'POST'))).status, 201, 'the limit is per user');
  });
});
