/**
 * The behaviour every `ConversationStore` must have, as a reusable suite: SQLite runs it today
 * (`test/storage-sqlite.test.ts`), a PostgreSQL store will run the very same tests.
 *
 * Contract for the factory: each call resolves to a store over an EMPTY database that reads time
 * from `deps.clock` and takes ids from `deps.ids`. The suite closes every store it opens.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_TITLE_CHARS, WxstreamError, type ErrorCode } from '@wxstream/protocol';
import {
  INTERRUPTED_REPLY_ERROR_CODE,
  type ConversationRecord,
  type ConversationStore,
} from '../../src/storage/conversation-store.ts';
import { createManualClock, type ManualClock } from './manual-clock.ts';
import { describeReplyActionsContract } from './store-reply-actions-contract.ts';

export interface StoreDeps {
  readonly clock: { now(): number };
  readonly ids: () => string;
}

export type StoreFactory = (deps: StoreDeps) => Promise<ConversationStore>;

/** Where every contract store's manual clock starts. */
export const START = Date.UTC(2025, 5, 1, 8, 0, 0);

/**
 * Ids whose sort order is unrelated to creation order (like UUIDs), so a test cannot pass by
 * accident because ids happen to ascend with time.
 */
export function scrambledIds(): () => string {
  let n = 0;
  return () => {
    n += 1;
    return `id-${String((n * 7919) % 100_003).padStart(6, '0')}`;
  };
}

export async function rejectsWithCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof WxstreamError, `expected a WxstreamError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

async function walkAllPages(store: ConversationStore, userId: string, limit: number): Promise<ConversationRecord[]> {
  const seen: ConversationRecord[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page += 1) {
    const result = await store.listConversations(userId, { limit, cursor });
    assert.ok(result.items.length <= limit);
    seen.push(...result.items);
    if (result.nextCursor === null) return seen;
    cursor = result.nextCursor;
  }
  throw new Error('pagination did not end');
}

function newestFirst(conversations: readonly ConversationRecord[]): string[] {
  return [...conversations]
    .sort((a, b) => b.updatedAt - a.updatedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .map((c) => c.id);
}

/** Runs `work` against a fresh store on a manual clock at START, and always closes the store. */
export function storeRunner(openStore: StoreFactory): (work: (store: ConversationStore, clock: ManualClock) => Promise<void>) => Promise<void> {
  return async (work) => {
    const clock = createManualClock(START);
    const store = await openStore({ clock, ids: scrambledIds() });
    try {
      await work(store, clock);
    } finally {
      await store.close();
    }
  };
}

export function describeConversationStoreContract(label: string, openStore: StoreFactory): void {
  describe(`${label}: ConversationStore contract`, () => {
    const withStore = storeRunner(openStore);

    test('ensureUser creates a user once per identity and returns the same one afterwards', () =>
      withStore(async (store, clock) => {
        const first = await store.ensureUser('wechat:o6_bmjrPTlm6_2sgVt7hMZOPfL2M');
        clock.advance(1000);
        const again = await store.ensureUser('wechat:o6_bmjrPTlm6_2sgVt7hMZOPfL2M');
        const other = await store.ensureUser('dev:alice');
        assert.deepEqual(again, first);
        assert.equal(first.identity, 'wechat:o6_bmjrPTlm6_2sgVt7hMZOPfL2M');
        assert.equal(first.createdAt, START);
        assert.notEqual(other.id, first.id);
        assert.equal(other.createdAt, START + 1000);
      }));

    test('a created conversation is found by its owner with a normalised title and clock times', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const created = await store.createConversation(user.id, '  周末\n去哪儿玩  ');
        assert.deepEqual(created, { id: created.id, userId: user.id, title: '周末 去哪儿玩', titleSource: 'auto', createdAt: START, updatedAt: START });
        assert.deepEqual(await store.getConversation(user.id, created.id), created);
        assert.equal(await store.getConversation(user.id, 'no-such-id'), undefined);
      }));

    test('a conversation cannot be created for a user that does not exist', () =>
      withStore(async (store) => {
        await assert.rejects(store.createConversation('no-such-user', 'orphan'));
      }));

    test('an empty or over-long title is refused with invalid_request on create and on rename', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        await rejectsWithCode(store.createConversation(user.id, ' \n\t '), 'invalid_request');
        await rejectsWithCode(store.createConversation(user.id, '长'.repeat(MAX_TITLE_CHARS + 1)), 'invalid_request');
        const conversation = await store.createConversation(user.id, '长'.repeat(MAX_TITLE_CHARS));
        await rejectsWithCode(store.renameConversation(user.id, conversation.id, ''), 'invalid_request');
        assert.equal((await store.getConversation(user.id, conversation.id))?.title, '长'.repeat(MAX_TITLE_CHARS));
      }));

    test('conversations list newest first and a new message moves a conversation to the top', () =>
      withStore(async (store, clock) => {
        const user = await store.ensureUser('dev:alice');
        const older = await store.createConversation(user.id, 'older');
        clock.advance(10);
        const newer = await store.createConversation(user.id, 'newer');
        let page = await store.listConversations(user.id);
        assert.deepEqual(page.items.map((c) => c.title), ['newer', 'older']);
        assert.equal(page.nextCursor, null);

        clock.advance(10);
        await store.addUserMessage(user.id, older.id, { text: 'hello again' });
        page = await store.listConversations(user.id);
        assert.deepEqual(page.items.map((c) => c.id), [older.id, newer.id]);
        assert.equal(page.items[0]?.updatedAt, START + 20);
        assert.equal(page.items[0]?.createdAt, START);
      }));

    test('renaming changes the title but not the position in the list', () =>
      withStore(async (store, clock) => {
        const user = await store.ensureUser('dev:alice');
        const first = await store.createConversation(user.id, 'first');
        clock.advance(10);
        const second = await store.createConversation(user.id, 'second');
        clock.advance(10);
        const renamed = await store.renameConversation(user.id, first.id, '  我的 第一个  ');
        assert.deepEqual(renamed, { ...first, title: '我的 第一个', titleSource: 'user' });
        const page = await store.listConversations(user.id);
        assert.deepEqual(page.items.map((c) => c.id), [second.id, first.id]);
        assert.equal((await store.getConversation(user.id, first.id))?.title, '我的 第一个');
      }));

    test('pages walk every conversation exactly once in order, including many with the same updatedAt', () =>
      withStore(async (store, clock) => {
        const user = await store.ensureUser('dev:alice');
        const created: ConversationRecord[] = [];
        for (let i = 0; i < 4; i += 1) created.push(await store.createConversation(user.id, `early ${i}`));
        clock.advance(5);
        for (let i = 0; i < 7; i += 1) created.push(await store.createConversation(user.id, `tied ${i}`));
        clock.advance(5);
        for (let i = 0; i < 2; i += 1) created.push(await store.createConversation(user.id, `late ${i}`));

        const expected = newestFirst(created);
        for (const limit of [1, 3, 7, 13, 50]) {
          assert.deepEqual((await walkAllPages(store, user.id, limit)).map((c) => c.id), expected, `limit ${limit}`);
        }
        const exact = await store.listConversations(user.id, { limit: 13 });
        assert.equal(exact.items.length, 13);
        assert.equal(exact.nextCursor, null, 'a page that ends exactly at the last row has no next page');
      }));

    test('a walk survives deletions and new conversations between pages without repeats or skips', () =>
      withStore(async (store, clock) => {
        const user = await store.ensureUser('dev:alice');
        const created: ConversationRecord[] = [];
        for (let i = 0; i < 9; i += 1) {
          created.push(await store.createConversation(user.id, `c${i}`));
          if (i % 3 === 2) clock.advance(1);
        }
        const order = newestFirst(created);
        const first = await store.listConversations(user.id, { limit: 4 });
        assert.deepEqual(first.items.map((c) => c.id), order.slice(0, 4));
        assert.ok(first.nextCursor !== null);

        // The row the cursor points at disappears, and a new conversation appears on top.
        await store.deleteConversation(user.id, order[3] as string);
        clock.advance(10);
        await store.createConversation(user.id, 'brand new');

        const rest: string[] = [];
        let cursor: string | null = first.nextCursor;
        while (cursor !== null) {
          const page = await store.listConversations(user.id, { limit: 4, cursor });
          rest.push(...page.items.map((c) => c.id));
          cursor = page.nextCursor;
        }
        assert.deepEqual(rest, order.slice(4));
      }));

    test('a malformed cursor is refused with invalid_request and the page size is clamped', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        for (let i = 0; i < 3; i += 1) await store.createConversation(user.id, `c${i}`);
        for (const cursor of ['not a cursor', 'eyJub3QiOiJhbiBhcnJheSJ9', '', '!!!!']) {
          await rejectsWithCode(store.listConversations(user.id, { cursor }), 'invalid_request');
        }
        assert.equal((await store.listConversations(user.id, { limit: 0 })).items.length, 1);
        assert.equal((await store.listConversations(user.id, { limit: -5 })).items.length, 1);
        assert.equal((await store.listConversations(user.id, { limit: 10_000 })).items.length, 3);
      }));

    test('deleting a conversation removes it and its messages and leaves the others alone', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const doomed = await store.createConversation(user.id, 'doomed');
        const kept = await store.createConversation(user.id, 'kept');
        await store.addUserMessage(user.id, doomed.id, { text: 'bye' });
        await store.addUserMessage(user.id, kept.id, { text: 'stay' });

        await store.deleteConversation(user.id, doomed.id);
        assert.equal(await store.getConversation(user.id, doomed.id), undefined);
        await rejectsWithCode(store.listMessages(user.id, doomed.id), 'not_found');
        await rejectsWithCode(store.deleteConversation(user.id, doomed.id), 'not_found');
        assert.deepEqual((await store.listConversations(user.id)).items.map((c) => c.id), [kept.id]);
        assert.deepEqual((await store.listMessages(user.id, kept.id)).map((m) => m.text), ['stay']);
      }));

    test("another user's conversation is not found by any operation and stays untouched", () =>
      withStore(async (store) => {
        const alice = await store.ensureUser('dev:alice');
        const mallory = await store.ensureUser('dev:mallory');
        const conversation = await store.createConversation(alice.id, 'private');
        await store.addUserMessage(alice.id, conversation.id, { text: 'secret' });
        const id = conversation.id;

        assert.equal(await store.getConversation(mallory.id, id), undefined);
        assert.deepEqual((await store.listConversations(mallory.id)).items, []);
        await rejectsWithCode(store.renameConversation(mallory.id, id, 'mine now'), 'not_found');
        await rejectsWithCode(store.deleteConversation(mallory.id, id), 'not_found');
        await rejectsWithCode(store.listMessages(mallory.id, id), 'not_found');
        await rejectsWithCode(store.countMessages(mallory.id, id), 'not_found');
        await rejectsWithCode(store.addUserMessage(mallory.id, id, { text: 'injected' }), 'not_found');
        await rejectsWithCode(store.startAssistantMessage(mallory.id, id, { model: 'm' }), 'not_found');

        assert.deepEqual(await store.getConversation(alice.id, id), conversation);
        assert.deepEqual((await store.listMessages(alice.id, id)).map((m) => m.text), ['secret']);
        assert.equal(await store.countMessages(alice.id, id), 1);
      }));

    test('getMessage finds one message of the user\'s own conversations, and nothing of anyone else\'s', () =>
      withStore(async (store) => {
        const alice = await store.ensureUser('dev:alice');
        const mallory = await store.ensureUser('dev:mallory');
        const conversation = await store.createConversation(alice.id, 'spoken');
        await store.addUserMessage(alice.id, conversation.id, { text: 'question' });
        const reply = await store.startAssistantMessage(alice.id, conversation.id, { model: 'm' });
        await store.updateAssistantMessage(reply.id, { text: 'an answer to read aloud', status: 'complete', finishReason: 'stop' });
        const found = await store.getMessage(alice.id, reply.id);
        assert.equal(found?.role, 'assistant');
        assert.equal(found?.text, 'an answer to read aloud');
        assert.equal(found?.conversationId, conversation.id);
        assert.equal(await store.getMessage(mallory.id, reply.id), undefined);
        assert.equal(await store.getMessage(alice.id, 'no-such-message'), undefined);
      }));

    test('messages come back in the order they were added, whatever their ids', () =>
      withStore(async (store, clock) => {
        const user = await store.ensureUser('dev:alice');
        const conversation = await store.createConversation(user.id, 'chat');
        assert.equal(await store.countMessages(user.id, conversation.id), 0);
        const written: string[] = [];
        for (let turn = 0; turn < 4; turn += 1) {
          const question = await store.addUserMessage(user.id, conversation.id, { text: `question ${turn}` });
          const reply = await store.startAssistantMessage(user.id, conversation.id, { model: 'qwen-plus' });
          await store.updateAssistantMessage(reply.id, { text: `answer ${turn}`, status: 'complete', finishReason: 'stop' });
          written.push(question.id, reply.id);
        }
        clock.advance(1);
        const messages = await store.listMessages(user.id, conversation.id);
        assert.deepEqual(messages.map((m) => m.id), written);
        assert.deepEqual(messages.map((m) => m.seq), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert.deepEqual(messages.slice(0, 2).map((m) => [m.role, m.text]), [
          ['user', 'question 0'],
          ['assistant', 'answer 0'],
        ]);
        assert.equal(await store.countMessages(user.id, conversation.id), 8);
      }));

    test('a user message is complete by default and can be stored as blocked', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const conversation = await store.createConversation(user.id, 'chat');
        const fine = await store.addUserMessage(user.id, conversation.id, { text: '你好' });
        const blocked = await store.addUserMessage(user.id, conversation.id, { text: '违规内容', status: 'blocked' });
        assert.deepEqual(
          { role: fine.role, status: fine.status, reasoning: fine.reasoning, model: fine.model, errorCode: fine.errorCode },
          { role: 'user', status: 'complete', reasoning: '', model: null, errorCode: null },
        );
        assert.equal(blocked.status, 'blocked');
      }));

    test('an assistant reply is checkpointed while streaming and frozen by its final write', () =>
      withStore(async (store, clock) => {
        const user = await store.ensureUser('dev:alice');
        const conversation = await store.createConversation(user.id, 'chat');
        await store.addUserMessage(user.id, conversation.id, { text: '讲个笑话' });
        clock.advance(100);
        const started = await store.startAssistantMessage(user.id, conversation.id, { model: 'deepseek-reasoner' });
        assert.deepEqual(
          [started.role, started.status, started.text, started.reasoning, started.model, started.createdAt],
          ['assistant', 'streaming', '', '', 'deepseek-reasoner', START + 100],
        );

        clock.advance(500);
        const checkpoint = await store.updateAssistantMessage(started.id, { reasoning: '用户想听', text: '从前' });
        assert.equal(checkpoint?.status, 'streaming');
        assert.equal(checkpoint?.text, '从前');
        assert.equal(checkpoint?.updatedAt, START + 600);

        clock.advance(500);
        await store.updateAssistantMessage(started.id, { text: '从前有座山' });
        clock.advance(500);
        const final = await store.updateAssistantMessage(started.id, {
          text: '从前有座山，山里有座庙。',
          status: 'complete',
          finishReason: 'stop',
          usage: { promptTokens: 12, completionTokens: 9 },
        });
        assert.deepEqual(final, {
          ...started,
          text: '从前有座山，山里有座庙。',
          reasoning: '用户想听',
          status: 'complete',
          finishReason: 'stop',
          promptTokens: 12,
          completionTokens: 9,
          updatedAt: START + 1600,
        });

        clock.advance(500);
        assert.equal(await store.updateAssistantMessage(started.id, { text: 'late checkpoint' }), undefined);
        const stored = (await store.listMessages(user.id, conversation.id)).at(-1);
        assert.deepEqual(stored, final);
      }));

    test('a stopped or failed reply keeps its partial text and its code', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const conversation = await store.createConversation(user.id, 'chat');
        await store.addUserMessage(user.id, conversation.id, { text: 'one' });
        const stopped = await store.startAssistantMessage(user.id, conversation.id, { model: 'm' });
        await store.updateAssistantMessage(stopped.id, { text: 'partial', status: 'stopped', finishReason: 'stopped' });
        await store.addUserMessage(user.id, conversation.id, { text: 'two' });
        const failed = await store.startAssistantMessage(user.id, conversation.id, { model: 'm' });
        await store.updateAssistantMessage(failed.id, { text: 'half', status: 'error', errorCode: 'upstream_timeout' });
        const [, a, , b] = await store.listMessages(user.id, conversation.id);
        assert.deepEqual([a?.status, a?.text, a?.finishReason, a?.errorCode], ['stopped', 'partial', 'stopped', null]);
        assert.deepEqual([b?.status, b?.text, b?.finishReason, b?.errorCode], ['error', 'half', null, 'upstream_timeout']);
      }));

    test('updating a message that is not an assistant reply changes nothing', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const conversation = await store.createConversation(user.id, 'chat');
        const question = await store.addUserMessage(user.id, conversation.id, { text: 'mine' });
        assert.equal(await store.updateAssistantMessage(question.id, { text: 'rewritten' }), undefined);
        assert.equal(await store.updateAssistantMessage('no-such-message', { text: 'x' }), undefined);
        assert.deepEqual(await store.listMessages(user.id, conversation.id), [question]);
      }));

    test('while a reply streams the conversation refuses new messages with reply_in_progress', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const conversation = await store.createConversation(user.id, 'chat');
        const other = await store.createConversation(user.id, 'other');
        await store.addUserMessage(user.id, conversation.id, { text: 'first' });
        const reply = await store.startAssistantMessage(user.id, conversation.id, { model: 'm' });

        await rejectsWithCode(store.addUserMessage(user.id, conversation.id, { text: 'impatient' }), 'reply_in_progress');
        await rejectsWithCode(store.startAssistantMessage(user.id, conversation.id, { model: 'm' }), 'reply_in_progress');
        await store.addUserMessage(user.id, other.id, { text: 'elsewhere is fine' });
        assert.equal(await store.countMessages(user.id, conversation.id), 2);

        await store.updateAssistantMessage(reply.id, { text: 'done', status: 'complete', finishReason: 'stop' });
        await store.addUserMessage(user.id, conversation.id, { text: 'second' });
        assert.equal(await store.countMessages(user.id, conversation.id), 3);
      }));

    test('startTurn stores exactly what createConversation, addUserMessage and startAssistantMessage store', async () => {
      // Two stores on identical clocks and id sequences: one takes the three calls, one startTurn.
      const stepwise = await openStore({ clock: createManualClock(START), ids: scrambledIds() });
      const clock = createManualClock(START);
      const atOnce = await openStore({ clock, ids: scrambledIds() });
      try {
        const dump = async (store: ConversationStore, userId: string) => {
          const conversations = (await store.listConversations(userId)).items;
          const messages = await Promise.all(conversations.map((conversation) => store.listMessages(userId, conversation.id)));
          return { conversations, messages, tokens: await store.tokensUsedSince(userId, 0) };
        };
        const a = await stepwise.ensureUser('dev:alice');
        const conversation = await stepwise.createConversation(a.id, '  明天  上海\n下雨吗 ');
        const question = await stepwise.addUserMessage(a.id, conversation.id, { text: '明天上海下雨吗？' });
        const reply = await stepwise.startAssistantMessage(a.id, conversation.id, { model: 'qwen-plus' });
        await stepwise.updateAssistantMessage(reply.id, { text: '会', status: 'complete', usage: { promptTokens: 3, completionTokens: 1 } });
        const again = await stepwise.addUserMessage(a.id, conversation.id, { text: '后天呢？' });
        const second = await stepwise.startAssistantMessage(a.id, conversation.id, { model: 'qwen-max' });

        const b = await atOnce.ensureUser('dev:alice');
        const first = await atOnce.startTurn(b.id, { conversation: { newTitle: '  明天  上海\n下雨吗 ' }, text: '明天上海下雨吗？', model: 'qwen-plus' });
        assert.deepEqual(first, { conversationId: conversation.id, userMessage: question, reply });
        await atOnce.updateAssistantMessage(first.reply.id, { text: '会', status: 'complete', usage: { promptTokens: 3, completionTokens: 1 } });
        const next = await atOnce.startTurn(b.id, { conversation: { id: first.conversationId }, text: '后天呢？', model: 'qwen-max' });
        assert.deepEqual(next, { conversationId: conversation.id, userMessage: again, reply: second });
        assert.deepEqual(await dump(atOnce, b.id), await dump(stepwise, a.id));
      } finally {
        await stepwise.close();
        await atOnce.close();
      }
    });

    test('startTurn refuses what the separate calls refuse, and then stores nothing', () =>
      withStore(async (store) => {
        const alice = await store.ensureUser('dev:alice');
        const mallory = await store.ensureUser('dev:mallory');
        const turn = { text: 'q', model: 'm' };
        await rejectsWithCode(store.startTurn(alice.id, { ...turn, conversation: { newTitle: ' \n ' } }), 'invalid_request');
        await rejectsWithCode(store.startTurn(alice.id, { ...turn, conversation: { newTitle: 'x'.repeat(MAX_TITLE_CHARS + 1) } }), 'invalid_request');
        assert.deepEqual((await store.listConversations(alice.id)).items, []);

        const started = await store.startTurn(alice.id, { ...turn, conversation: { newTitle: 'chat' } });
        await rejectsWithCode(store.startTurn(mallory.id, { ...turn, conversation: { id: started.conversationId } }), 'not_found');
        await rejectsWithCode(store.startTurn(alice.id, { ...turn, conversation: { id: 'no-such-conversation' } }), 'not_found');
        await rejectsWithCode(store.startTurn(alice.id, { ...turn, conversation: { id: started.conversationId } }), 'reply_in_progress');
        assert.deepEqual(await store.listMessages(alice.id, started.conversationId), [started.userMessage, started.reply]);
        assert.deepEqual((await store.listConversations(mallory.id)).items, []);
      }));

    test('tokensUsedSince sums the replies of one user started since a time, deleted conversations included', () =>
      withStore(async (store, clock) => {
        const alice = await store.ensureUser('dev:alice');
        const bob = await store.ensureUser('dev:bob');
        const reply = async (userId: string, conversationId: string, promptTokens: number, completionTokens: number) => {
          await store.addUserMessage(userId, conversationId, { text: 'q' });
          const message = await store.startAssistantMessage(userId, conversationId, { model: 'm' });
          await store.updateAssistantMessage(message.id, {
            text: 'a',
            status: 'complete',
            usage: { promptTokens, completionTokens },
          });
        };
        const aliceChat = await store.createConversation(alice.id, 'a');
        const bobChat = await store.createConversation(bob.id, 'b');
        await reply(alice.id, aliceChat.id, 1000, 1000); // yesterday
        clock.advance(24 * 3600_000);
        const today = clock.now();
        await reply(alice.id, aliceChat.id, 100, 20);
        await reply(bob.id, bobChat.id, 5000, 5000);
        clock.advance(60_000);
        await reply(alice.id, aliceChat.id, 30, 4);

        assert.equal(await store.tokensUsedSince(alice.id, today), 154);
        assert.equal(await store.tokensUsedSince(alice.id, START), 2154);
        assert.equal(await store.tokensUsedSince(bob.id, today), 10_000);
        assert.equal(await store.tokensUsedSince(alice.id, clock.now() + 1), 0);

        // Deleting the conversation does not give the quota back, even mid-reply.
        await store.addUserMessage(alice.id, aliceChat.id, { text: 'q' });
        const inFlight = await store.startAssistantMessage(alice.id, aliceChat.id, { model: 'm' });
        await store.deleteConversation(alice.id, aliceChat.id);
        const late = await store.updateAssistantMessage(inFlight.id, {
          status: 'stopped',
          usage: { promptTokens: 7, completionTokens: 3 },
        });
        assert.equal(late, undefined);
        assert.equal(await store.tokensUsedSince(alice.id, today), 164);
      }));

    test('a reply that has not reported usage counts zero and a finished one keeps its final usage', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const conversation = await store.createConversation(user.id, 'chat');
        await store.addUserMessage(user.id, conversation.id, { text: 'q' });
        const reply = await store.startAssistantMessage(user.id, conversation.id, { model: 'm' });
        assert.equal(await store.tokensUsedSince(user.id, START), 0);
        await store.updateAssistantMessage(reply.id, { status: 'complete', usage: { promptTokens: 5, completionTokens: 6 } });
        await store.updateAssistantMessage(reply.id, { usage: { promptTokens: 500, completionTokens: 600 } });
        assert.equal(await store.tokensUsedSince(user.id, START), 11);
      }));

    test('markInterruptedReplies turns orphaned streaming replies into stream_interrupted errors', () =>
      withStore(async (store, clock) => {
        const user = await store.ensureUser('dev:alice');
        const a = await store.createConversation(user.id, 'a');
        const b = await store.createConversation(user.id, 'b');
        const c = await store.createConversation(user.id, 'c');
        await store.addUserMessage(user.id, a.id, { text: 'q' });
        const orphan = await store.startAssistantMessage(user.id, a.id, { model: 'm' });
        await store.updateAssistantMessage(orphan.id, { text: 'half a sen' });
        await store.addUserMessage(user.id, b.id, { text: 'q' });
        const finished = await store.startAssistantMessage(user.id, b.id, { model: 'm' });
        await store.updateAssistantMessage(finished.id, { text: 'whole', status: 'complete', finishReason: 'stop' });
        clock.advance(30_000);
        await store.addUserMessage(user.id, c.id, { text: 'q' });
        const live = await store.startAssistantMessage(user.id, c.id, { model: 'm' });

        // With several servers on one database only stale replies are swept.
        assert.equal(await store.markInterruptedReplies({ updatedBefore: START + 10_000 }), 1);
        const [, swept] = await store.listMessages(user.id, a.id);
        assert.deepEqual(
          [swept?.status, swept?.errorCode, swept?.text, swept?.updatedAt],
          ['error', INTERRUPTED_REPLY_ERROR_CODE, 'half a sen', START + 30_000],
        );
        assert.equal((await store.listMessages(user.id, c.id))[1]?.status, 'streaming');

        assert.equal(await store.markInterruptedReplies(), 1);
        assert.equal((await store.listMessages(user.id, c.id))[1]?.errorCode, INTERRUPTED_REPLY_ERROR_CODE);
        assert.equal((await store.listMessages(user.id, b.id))[1]?.status, 'complete');
        assert.equal(await store.markInterruptedReplies(), 0);
        assert.equal(await store.updateAssistantMessage(live.id, { text: 'too late' }), undefined);
        await store.addUserMessage(user.id, a.id, { text: 'the conversation goes on' });
      }));

    test('close can be called twice', () =>
      withStore(async (store) => {
        await store.close();
        await store.close();
      }));
  });
  describeReplyActionsContract(label, openStore);
}
