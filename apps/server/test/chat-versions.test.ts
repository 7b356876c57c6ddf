/**
 * Regenerating the last reply and editing the last question through `POST /api/chat`, versions in
 * `GET /api/conversations/:id`, switching them, and what the model sees afterwards — on both stores.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseErrorBody, type CurrentVersionResponse, type StoredMessage } from '@wxstream/protocol';
import type { EmulatorScenario, RecordedRequest } from '../src/offline-model/openai-compatible-emulator.ts';
import { authed, getConversation, sendChat, startOf, waitForStoredReply } from './support/api-client.ts';
import { describeOnBothStores } from './support/both-stores.ts';
import { chatRequest, login, openStream, send } from './support/http-client.ts';
import { eventFrames, openResume, stopReply } from './support/reply-routes-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { startEmulator, startTestServer, type TestServer } from './support/test-server.ts';
import { createTestClock } from './support/test-clock.ts';

const dir = mkdtempSync(join(tmpdir(), 'wxstream-versions-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** What the model was asked: role and text of every message. */
function prompt(request: RecordedRequest | undefined): string[] {
  return (request?.messages ?? []).map((message) => `${message.role}:${String(message.content)}`);
}

describeOnBothStores('regenerate, edit and versions', (storeEnv) => {
  const clock = createTestClock();
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  let app: TestServer;
  let url: string;
  let alice: string;
  let bob: string;
  let served = 0;
  /** While set, replies stall after their first text until stopped. */
  let stall = false;

  before(async () => {
    emulator = await startEmulator({
      scenario: (request): EmulatorScenario => {
        served += 1;
        const content = [`答${served}：`, String(request.messages.at(-1)?.content)];
        return stall ? { content, stallAfter: 2 } : { content, usage: { promptTokens: 5, completionTokens: 5 } };
      },
    });
    app = await startTestServer({ upstream: emulator, clock, env: await storeEnv() });
    url = app.url;
    alice = await login(url, 'alice');
    bob = await login(url, 'bob');
  });
  after(async () => {
    await app.close();
    await emulator.close();
  });

  const chat = async (token: string, body: object) => {
    const answer = await sendChat(url, token, body);
    assert.equal(answer.status, 200, answer.text);
    return { start: startOf(answer.text), reply: parseReplyBody(answer.text) };
  };
  const lastRequest = () => emulator.requests.at(-1);
  const replyOf = (messages: readonly StoredMessage[]) => messages.at(-1);

  test('regenerating streams a new version of the last reply from the same prompt and keeps the old one', async () => {
    const first = await chat(alice, { message: '天空为什么是蓝的？' });
    const conversationId = first.start.conversationId;
    const second = await chat(alice, { message: '那日落呢？', conversationId });
    const askedFirst = prompt(lastRequest());

    const again = await chat(alice, { conversationId, regenerate: true });
    assert.equal(again.start.conversationId, conversationId);
    assert.notEqual(again.start.messageId, second.start.messageId);
    assert.equal(again.start.userMessageId, second.start.userMessageId, 'the same question');
    assert.deepEqual(prompt(lastRequest()), askedFirst, 'the same prompt went upstream');
    assert.equal(again.reply.events.at(-1)?.type, 'done');

    const detail = await getConversation(url, alice, conversationId);
    assert.deepEqual(
      detail.messages.map((message) => [message.role, message.text]),
      [
        ['user', '天空为什么是蓝的？'],
        ['assistant', first.reply.text],
        ['user', '那日落呢？'],
        ['assistant', again.reply.text],
      ],
    );
    assert.equal(detail.messages[1]?.versions, undefined, 'a turn with one version has no versions field');
    const versions = replyOf(detail.messages)?.versions;
    assert.equal(versions?.current, 1);
    assert.deepEqual(
      versions?.items.map((item) => [item.messageId, item.userMessageId, item.status]),
      [
        [second.start.messageId, second.start.userMessageId, 'complete'],
        [again.start.messageId, second.start.userMessageId, 'complete'],
      ],
    );
    for (const item of versions?.items ?? []) assert.match(item.createdAt, /^\d{4}-\d\d-\d\dT/);

    // A page carries the versions of the turns it shows, the same as the whole conversation.
    const page = await send(url, `/api/conversations/${conversationId}?limit=2`, authed(alice));
    const paged = page.json() as { messages: StoredMessage[]; nextCursor: string | null };
    assert.deepEqual(paged.messages.map((message) => message.id), [second.start.userMessageId, again.start.messageId]);
    assert.deepEqual(paged.messages[1]?.versions, versions);
    assert.equal(typeof paged.nextCursor, 'string');
  });

  test('switching versions changes what the conversation shows and what the next turn builds on', async () => {
    const first = await chat(alice, { message: '讲个笑话' });
    const conversationId = first.start.conversationId;
    const again = await chat(alice, { conversationId, regenerate: true });

    const switched = await send(url, `/api/conversations/${conversationId}/messages/${first.start.messageId}/current`, authed(alice, 'PUT'));
    assert.equal(switched.status, 200, switched.text);
    const turn = (switched.json() as CurrentVersionResponse).messages;
    assert.deepEqual(turn.map((message) => message.id), [first.start.userMessageId, first.start.messageId]);
    assert.equal(turn[1]?.versions?.current, 0);
    assert.equal(replyOf((await getConversation(url, alice, conversationId)).messages)?.text, first.reply.text);

    await chat(alice, { message: '再来一个', conversationId });
    const asked = prompt(lastRequest());
    assert.ok(asked.includes(`assistant:${first.reply.text}`), 'the current version is in the context');
    assert.ok(!asked.includes(`assistant:${again.reply.text}`), 'the other version is not');
  });

  test('editing the last question makes a new version of the turn, answered from the history before it', async () => {
    const first = await chat(alice, { message: '第一问' });
    const conversationId = first.start.conversationId;
    const second = await chat(alice, { message: '第二问（有错字）', conversationId });
    const edited = await chat(alice, { conversationId, message: '第二问', editOf: second.start.userMessageId });
    assert.notEqual(edited.start.userMessageId, second.start.userMessageId);
    assert.deepEqual(prompt(lastRequest()), ['user:第一问', `assistant:${first.reply.text}`, 'user:第二问']);

    const detail = await getConversation(url, alice, conversationId);
    assert.deepEqual(
      detail.messages.map((message) => message.text),
      ['第一问', first.reply.text, '第二问', edited.reply.text],
    );
    const versions = replyOf(detail.messages)?.versions;
    assert.deepEqual(
      versions?.items.map((item) => [item.messageId, item.userMessageId]),
      [
        [second.start.messageId, second.start.userMessageId],
        [edited.start.messageId, edited.start.userMessageId],
      ],
    );
    // The old question comes back with its version — named by its reply, or by the question itself.
    const back = await send(url, `/api/conversations/${conversationId}/messages/${second.start.userMessageId}/current`, authed(alice, 'PUT'));
    assert.deepEqual(
      (back.json() as CurrentVersionResponse).messages.map((message) => message.text),
      ['第二问（有错字）', second.reply.text],
    );
  });

  test('bad regenerate and edit requests are 400 naming the field, and nothing goes upstream', async () => {
    const first = await chat(alice, { message: '一' });
    const conversationId = first.start.conversationId;
    const second = await chat(alice, { message: '二', conversationId });
    const upstreamBefore = emulator.requests.length;
    const cases: [object, RegExp][] = [
      [{ regenerate: true }, /regenerate needs the conversationId/],
      [{ conversationId, regenerate: true, message: '三' }, /regenerate takes no message/],
      [{ conversationId, regenerate: 'yes' }, /regenerate must be true or false/],
      [{ conversationId, regenerate: true, editOf: second.start.userMessageId }, /cannot be combined/],
      [{ conversationId, message: '改', editOf: first.start.userMessageId }, /only the last question can be edited/],
      [{ conversationId, message: '改', editOf: second.start.messageId }, /only the last question can be edited/],
      [{ conversationId, message: '改', editOf: 42 }, /editOf must be the id/],
      [{ message: '改', editOf: second.start.userMessageId }, /editOf needs the conversationId/],
    ];
    for (const [body, message] of cases) {
      const answer = await send(url, '/api/chat', chatRequest(alice, body));
      assert.equal(answer.status, 400, JSON.stringify(body));
      const error = parseErrorBody(answer.json());
      assert.equal(error?.code, 'invalid_request', JSON.stringify(body));
      assert.match(error?.message ?? '', message, JSON.stringify(body));
    }
    const noMessage = await send(url, '/api/chat', chatRequest(alice, { conversationId, editOf: second.start.userMessageId }));
    assert.equal(parseErrorBody(noMessage.json())?.code, 'message_required');
    assert.equal(emulator.requests.length, upstreamBefore);
    assert.equal((await getConversation(url, alice, conversationId)).messages.length, 4);
  });

  test("another user's conversation, reply or version is 404 for regenerate, edit and switching", async () => {
    const first = await chat(alice, { message: '我的' });
    const conversationId = first.start.conversationId;
    const upstreamBefore = emulator.requests.length;
    const attempts = [
      await send(url, '/api/chat', chatRequest(bob, { conversationId, regenerate: true })),
      await send(url, '/api/chat', chatRequest(bob, { conversationId, message: '改', editOf: first.start.userMessageId })),
      await send(url, '/api/chat', chatRequest(alice, { conversationId: 'no-such-conversation', regenerate: true })),
      await send(url, `/api/conversations/${conversationId}/messages/${first.start.messageId}/current`, authed(bob, 'PUT')),
      await send(url, `/api/conversations/${conversationId}/messages/${first.start.userMessageId}/current`, authed(bob, 'PUT')),
      await send(url, `/api/conversations/${conversationId}/messages/no-such-message/current`, authed(alice, 'PUT')),
    ];
    for (const answer of attempts) {
      assert.equal(answer.status, 404, answer.text);
      assert.equal(parseErrorBody(answer.json())?.code, 'not_found');
    }
    assert.equal(emulator.requests.length, upstreamBefore);
  });

  test('20 regenerates at once give one stream and 19 × 409; a regenerated reply resumes and stops like any other', async () => {
    const first = await chat(alice, { message: '并发' });
    const conversationId = first.start.conversationId;
    stall = true;
    let running: Awaited<ReturnType<typeof openStream>> | undefined;
    try {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => openStream(url, '/api/chat', chatRequest(alice, { conversationId, regenerate: true }))),
      );
      const streams = answers.filter((answer) => answer.status === 200);
      assert.equal(streams.length, 1, 'one stream');
      running = streams[0];
      const refused = answers.filter((answer) => answer.status !== 200);
      assert.equal(refused.length, 19);
      for (const answer of refused) {
        assert.equal(answer.status, 409);
        assert.equal(parseErrorBody(JSON.parse((await answer.ended).toString('utf8')))?.code, 'reply_in_progress');
      }
      // While it streams, neither a regenerate, an edit nor a switch of that turn gets in.
      const duringRegenerate = await send(url, '/api/chat', chatRequest(alice, { conversationId, regenerate: true }));
      assert.equal(duringRegenerate.status, 409);
      const duringSwitch = await send(url, `/api/conversations/${conversationId}/messages/${first.start.messageId}/current`, authed(alice, 'PUT'));
      assert.equal(duringSwitch.status, 409);
      assert.equal(parseErrorBody(duringSwitch.json())?.code, 'reply_in_progress');
    } finally {
      stall = false;
    }
    assert.ok(running !== undefined);
    await running.waitForText('event: delta');
    const { messageId, userMessageId } = startOf(eventFrames(running.text()).join(''));
    assert.equal(userMessageId, first.start.userMessageId);
    const resumed = await openResume(url, alice, messageId, '1');
    assert.equal(resumed.status, 200);
    await resumed.waitForText('event: delta');
    assert.equal((await stopReply(url, alice, messageId)).status, 200);
    for (const body of [await running.ended, await resumed.ended]) {
      const last = parseReplyBody(body.toString('utf8')).events.at(-1);
      assert.deepEqual(last?.type === 'done' ? last.data : last, { finishReason: 'stopped' });
    }
    const stored = await waitForStoredReply(url, alice, conversationId);
    assert.equal(stored.status, 'stopped');
    assert.deepEqual(stored.versions?.items.map((item) => item.status), ['complete', 'stopped']);
  });
});

describeOnBothStores('versions across a restart', (storeEnv) => {
  test('versions, the current one and feedback are there after the server restarts on the same database', async () => {
    const emulator = await startEmulator({ scenario: (request) => ({ content: [`答：${String(request.messages.at(-1)?.content)}`] }) });
    const env = await storeEnv();
    // SQLite needs a file to outlive the process's memory; PostgreSQL keeps the same schema.
    const database = env.DATABASE_URL === undefined ? { DATABASE_PATH: join(dir, `restart-${Date.now()}.sqlite`) } : env;
    let app = await startTestServer({ upstream: emulator, env: database });
    try {
      const token = await login(app.url, 'alice');
      const first = startOf((await sendChat(app.url, token, { message: '重启前' })).text);
      const conversationId = first.conversationId;
      const again = startOf((await sendChat(app.url, token, { conversationId, regenerate: true })).text);
      assert.equal(
        (await send(app.url, `/api/conversations/${conversationId}/messages/${first.messageId}/current`, authed(token, 'PUT'))).status,
        200,
      );
      assert.equal((await send(app.url, `/api/messages/${again.messageId}/feedback`, authed(token, 'PUT', { rating: 'down' }))).status, 204);
      const before = await getConversation(app.url, token, conversationId);
      await app.close();

      app = await startTestServer({ upstream: emulator, env: database });
      const after = await getConversation(app.url, await login(app.url, 'alice'), conversationId);
      assert.deepEqual(after, before);
      const versions = after.messages.at(-1)?.versions;
      assert.deepEqual([versions?.current, versions?.items.map((item) => item.messageId)], [0, [first.messageId, again.messageId]]);
    } finally {
      await app.close();
      await emulator.close();
    }
  });
});
