import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseErrorBody } from '@wxstream/protocol';
import { openSqliteStore } from '../src/storage/sqlite-store.ts';
import { getConversation, listConversations, startOf, waitForStoredReply } from './support/api-client.ts';
import { chatRequest, login, openStream, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { startEmulator, startStack, startTestServer, type TestStack } from './support/test-server.ts';

const PIECES = Array.from({ length: 40 }, (_, index) => `第${index + 1}段。`);

async function chatOk(url: string, token: string, body: object) {
  const answer = await send(url, '/api/chat', chatRequest(token, body));
  assert.equal(answer.status, 200, answer.text);
  return { start: startOf(answer.text), reply: parseReplyBody(answer.text) };
}

describe('continuing a conversation', () => {
  test('sends the earlier turns upstream in order, with SYSTEM_PROMPT first', async () => {
    const stack = await startStack({
      env: { SYSTEM_PROMPT: 'You are a helpful assistant.' },
      scenario: (request) => ({ content: [`answer ${request.index + 1}`] }),
    });
    try {
      const token = await login(stack.url);
      const { start } = await chatOk(stack.url, token, { message: 'question 1' });
      await chatOk(stack.url, token, { message: 'question 2', conversationId: start.conversationId });
      await chatOk(stack.url, token, { message: 'question 3', conversationId: start.conversationId });
      assert.deepEqual(stack.emulator.requests[0]?.messages, [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'question 1' },
      ]);
      assert.deepEqual(stack.emulator.requests[2]?.messages, [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'question 1' },
        { role: 'assistant', content: 'answer 1' },
        { role: 'user', content: 'question 2' },
        { role: 'assistant', content: 'answer 2' },
        { role: 'user', content: 'question 3' },
      ]);
    } finally {
      await stack.close();
    }
  });

  test('trims the oldest turns to MAX_CONTEXT_TOKENS, never opening the history on a reply', async () => {
    // Every Han character is one estimated token and every message costs 4 more, a prompt 3 more:
    // system 4+4, each 20-character turn 24, the new 10-character question 14. A budget of 80 holds
    // the system prompt, the newest question and reply, and the new question (3+8+24+24+14 = 73).
    const stack = await startStack({
      env: { SYSTEM_PROMPT: '你是助手', MAX_CONTEXT_TOKENS: '80' },
      scenario: (request) => ({ content: [(request.index === 0 ? '甲' : '乙').repeat(20)] }),
    });
    try {
      const token = await login(stack.url);
      const { start } = await chatOk(stack.url, token, { message: '一'.repeat(20) });
      await chatOk(stack.url, token, { message: '二'.repeat(20), conversationId: start.conversationId });
      await chatOk(stack.url, token, { message: '三'.repeat(10), conversationId: start.conversationId });
      // Second turn: the first question and answer (24 + 24) do not both fit next to the new question,
      // and the answer alone would open the history on a reply, so neither goes.
      assert.deepEqual(stack.emulator.requests[1]?.messages, [
        { role: 'system', content: '你是助手' },
        { role: 'user', content: '二'.repeat(20) },
      ]);
      assert.deepEqual(stack.emulator.requests[2]?.messages, [
        { role: 'system', content: '你是助手' },
        { role: 'user', content: '二'.repeat(20) },
        { role: 'assistant', content: '乙'.repeat(20) },
        { role: 'user', content: '三'.repeat(10) },
      ]);
      // Trimming only shapes what the model sees: the stored conversation keeps every message.
      assert.equal((await getConversation(stack.url, token, start.conversationId)).messages.length, 6);
    } finally {
      await stack.close();
    }
  });
});

describe('replies are stored as they stream', () => {
  let stack: TestStack;
  let token: string;

  before(async () => {
    stack = await startStack({ env: { REPLY_CHECKPOINT_INTERVAL_MS: '40', REPLY_CHECKPOINT_CHARS: '100000' } });
    token = await login(stack.url);
  });
  after(() => stack.close());

  test('a reply in progress is checkpointed, so the partial text is readable while it streams', async () => {
    stack.emulator.setScenario({ content: PIECES, chunkDelayMs: 15 });
    const stream = await openStream(stack.url, '/api/chat', chatRequest(token, { message: 'stream slowly' }));
    await stream.waitForText('第3段');
    const conversationId = startOf(stream.text()).conversationId;
    const partial = await waitForStoredReply(stack.url, token, conversationId, (message) => message.status === 'streaming' && message.text !== '');
    assert.ok(PIECES.join('').startsWith(partial.text), partial.text);
    assert.ok(partial.text.length < PIECES.join('').length);
    await stream.ended;
    const final = await getConversation(stack.url, token, conversationId);
    assert.equal(final.messages[1]?.status, 'complete');
    assert.equal(final.messages[1]?.text, PIECES.join(''));
  });

  test('a client that goes away mid-reply does not stop the reply: it is generated to its end and stored complete', async () => {
    stack.emulator.setScenario({ content: PIECES, chunkDelayMs: 30 });
    const before = stack.emulator.requests.length;
    const stream = await openStream(stack.url, '/api/chat', chatRequest(token, { message: 'keep going without me' }));
    await stream.waitForText('第4段');
    stream.destroy();
    const conversationId = startOf(stream.text()).conversationId;
    const stored = await waitForStoredReply(stack.url, token, conversationId);
    assert.equal(stored.status, 'complete');
    assert.equal(stored.finishReason, 'stop');
    assert.equal(stored.text, PIECES.join(''));
    const request = stack.emulator.requests[before];
    assert.equal(request?.aborted, false, 'the model call ran to its end');
  });

  test('an upstream failure mid-reply is stored as error with its code and the partial text, before the error event is sent', async () => {
    stack.emulator.setScenario({ content: ['部分', '回答'], failAfter: { events: 3, mode: 'destroy' } });
    const { start, reply } = await chatOk(stack.url, token, { message: 'fail midway' });
    assert.equal(reply.events.at(-1)?.type, 'error');
    // No polling: the ending is stored before the terminal event goes out.
    const stored = (await getConversation(stack.url, token, start.conversationId)).messages[1];
    assert.equal(stored?.status, 'error');
    assert.equal(stored?.errorCode, 'upstream_error');
    assert.equal(stored?.text, '部分回答');
  });

  test('a completed reply is stored complete by the time the client has read done', async () => {
    stack.emulator.setScenario({ content: ['完', '整'] });
    const { start } = await chatOk(stack.url, token, { message: 'finish' });
    const stored = (await getConversation(stack.url, token, start.conversationId)).messages[1];
    assert.equal(stored?.status, 'complete');
    assert.equal(stored?.text, '完整');
  });

  test('a provider refusal before the stream stores nothing: the turn did not happen', async () => {
    const fresh = await login(stack.url, 'refused-user');
    stack.emulator.setScenario({ httpError: { status: 503, message: 'overloaded' } });
    const answer = await send(stack.url, '/api/chat', chatRequest(fresh, { message: 'will be refused' }));
    assert.equal(answer.status, 502);
    assert.equal(parseErrorBody(answer.json())?.code, 'upstream_unavailable');
    assert.deepEqual((await listConversations(stack.url, fresh)).items, []);
  });
});

test('a conversation at MAX_CONVERSATION_MESSAGES refuses the next turn with 409 conversation_too_long, sending nothing upstream', async () => {
  const stack = await startStack({ env: { MAX_CONVERSATION_MESSAGES: '4' }, scenario: { content: ['ok'] } });
  try {
    const token = await login(stack.url);
    const { start } = await chatOk(stack.url, token, { message: 'one' });
    await chatOk(stack.url, token, { message: 'two', conversationId: start.conversationId });
    const answer = await send(stack.url, '/api/chat', chatRequest(token, { message: 'three', conversationId: start.conversationId }));
    assert.equal(answer.status, 409);
    assert.equal(parseErrorBody(answer.json())?.code, 'conversation_too_long');
    assert.equal(stack.emulator.requests.length, 2);
    assert.equal((await chatOk(stack.url, token, { message: 'a new conversation still works' })).reply.events.at(-1)?.type, 'done');
  } finally {
    await stack.close();
  }
});

describe('the database file', () => {
  let directory: string;
  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'wxstream-db-'));
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  test('restarting the server on the same DATABASE_PATH keeps every conversation', async () => {
    const databasePath = join(directory, 'restart.sqlite');
    const emulator = await startEmulator({ scenario: { reasoning: ['嗯'], content: ['记', '住'] } });
    try {
      const first = await startTestServer({ upstream: emulator, env: { DATABASE_PATH: databasePath } });
      let token = await login(first.url, 'persistent');
      const one = await chatOk(first.url, token, { message: '第一个对话' });
      await chatOk(first.url, token, { message: '继续', conversationId: one.start.conversationId });
      await chatOk(first.url, token, { message: '第二个对话' });
      const listBefore = await listConversations(first.url, token);
      const detailBefore = await getConversation(first.url, token, one.start.conversationId);
      await first.close();

      const second = await startTestServer({ upstream: emulator, env: { DATABASE_PATH: databasePath } });
      try {
        assert.equal(second.server.databasePath, databasePath);
        const ready = second.logs.find((record) => record.msg === 'database ready');
        assert.deepEqual(ready?.appliedMigrations, [], 'the schema is current: no migration runs twice');
        token = await login(second.url, 'persistent');
        assert.deepEqual(await listConversations(second.url, token), listBefore);
        assert.deepEqual(await getConversation(second.url, token, one.start.conversationId), detailBefore);
        assert.equal(detailBefore.messages.length, 4);
      } finally {
        await second.close();
      }
    } finally {
      await emulator.close();
    }
  });

  test('a graceful shutdown stores the replies it interrupts before it closes the database', async () => {
    const databasePath = join(directory, 'shutdown.sqlite');
    const emulator = await startEmulator({ scenario: { content: PIECES, chunkDelayMs: 30 } });
    try {
      const env = { DATABASE_PATH: databasePath, SHUTDOWN_GRACE_MS: '100' };
      const first = await startTestServer({ upstream: emulator, env });
      const token = await login(first.url, 'draining');
      const stream = await openStream(first.url, '/api/chat', chatRequest(token, { message: 'interrupt me' }));
      await stream.waitForText('第2段');
      await first.close();
      const reply = parseReplyBody((await stream.ended).toString('utf8'));
      const last = reply.events.at(-1);
      assert.equal(last?.type === 'error' ? last.data.code : undefined, 'server_shutdown');

      const second = await startTestServer({ upstream: emulator, env });
      try {
        assert.equal(second.logs.find((record) => record.msg === 'database ready')?.interruptedReplies, 0, 'nothing was left streaming');
        const stored = (await getConversation(second.url, await login(second.url, 'draining'), startOf((await stream.ended).toString('utf8')).conversationId)).messages[1];
        assert.equal(stored?.status, 'error');
        assert.equal(stored?.errorCode, 'server_shutdown');
        assert.equal(stored?.text, reply.text);
      } finally {
        await second.close();
      }
    } finally {
      await emulator.close();
    }
  });

  test('at start, a reply a dead process left streaming is marked interrupted, keeping its partial text', async () => {
    const databasePath = join(directory, 'crash.sqlite');
    const crashed = await openSqliteStore({ path: databasePath, clock: { now: () => Date.now() } });
    const user = await crashed.ensureUser('dev:crashed');
    const conversation = await crashed.createConversation(user.id, 'before the crash');
    await crashed.addUserMessage(user.id, conversation.id, { text: 'hello?' });
    const reply = await crashed.startAssistantMessage(user.id, conversation.id, { model: 'emulated-model' });
    await crashed.updateAssistantMessage(reply.id, { text: 'half an ans' });
    await crashed.close();

    const server = await startTestServer({ upstream: 'offline', env: { DATABASE_PATH: databasePath } });
    try {
      assert.equal(server.logs.find((record) => record.msg === 'database ready')?.interruptedReplies, 1);
      const token = await login(server.url, 'crashed');
      const stored = (await getConversation(server.url, token, conversation.id)).messages[1];
      assert.equal(stored?.status, 'error');
      assert.equal(stored?.errorCode, 'stream_interrupted');
      assert.equal(stored?.text, 'half an ans');
    } finally {
      await server.close();
    }
  });
});
