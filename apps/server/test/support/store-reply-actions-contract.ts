/**
 * The part of the `ConversationStore` contract that reply actions added: turn versions (regenerate,
 * edit, switching), paged history, feedback, generated titles and shares. Run by
 * `describeConversationStoreContract`, so every store (SQLite in memory, SQLite file, PostgreSQL)
 * passes the same tests.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StoredMessageStatus } from '@wxstream/protocol';
import type { ConversationStore, MessageRecord, StartedTurn } from '../../src/storage/conversation-store.ts';
import { rejectsWithCode, START, storeRunner, type StoreFactory } from './store-contract.ts';

/** Ends a started reply with `text` and `status`. */
async function finish(store: ConversationStore, started: StartedTurn, text: string, status: Exclude<StoredMessageStatus, 'streaming'> = 'complete') {
  const reply = await store.updateAssistantMessage(started.reply.id, { text, status });
  assert.ok(reply !== undefined);
  return reply;
}

function texts(messages: readonly MessageRecord[]): string[] {
  return messages.map((message) => `${message.role === 'user' ? 'Q' : 'A'}:${message.text}`);
}

export function describeReplyActionsContract(label: string, openStore: StoreFactory): void {
  describe(`${label}: ConversationStore contract — versions, paging, feedback, titles, shares`, () => {
    const withStore = storeRunner(openStore);

    /** A conversation of finished turns `[question, reply]…`; answers its id and the started turns. */
    async function conversationOf(store: ConversationStore, userId: string, turns: readonly [string, string][]) {
      const started: StartedTurn[] = [];
      let conversationId: string | undefined;
      for (const [question, reply] of turns) {
        const turn = await store.startTurn(userId, {
          conversation: conversationId === undefined ? { newTitle: question } : { id: conversationId },
          text: question,
          model: 'm',
        });
        conversationId = turn.conversationId;
        await finish(store, turn, reply);
        started.push(turn);
      }
      assert.ok(conversationId !== undefined);
      return { conversationId, started };
    }

    test('turns are numbered in order and a reply names its question', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const { conversationId, started } = await conversationOf(store, user.id, [['q1', 'a1'], ['q2', 'a2']]);
        const messages = await store.listMessages(user.id, conversationId);
        assert.deepEqual(messages.map((m) => [m.turn, m.role, m.questionId, m.current]), [
          [1, 'user', null, true],
          [1, 'assistant', started[0]?.userMessage.id, true],
          [2, 'user', null, true],
          [2, 'assistant', started[1]?.userMessage.id, true],
        ]);
        assert.deepEqual(await store.listTurnVersions(user.id, conversationId), [], 'no turn has versions yet');
      }));

    test('regenerating makes a new current reply to the same question and keeps the old one as a version', () =>
      withStore(async (store, clock) => {
        const user = await store.ensureUser('dev:alice');
        const { conversationId, started } = await conversationOf(store, user.id, [['q1', 'a1'], ['q2', 'a2 first']]);
        const question = started[1]?.userMessage;
        assert.ok(question !== undefined);
        clock.advance(1000);
        const again = await store.startRegeneration(user.id, { conversationId, questionId: question.id, model: 'm2' });
        assert.deepEqual(again.userMessage, question, 'the question is the same message');
        assert.deepEqual([again.reply.status, again.reply.turn, again.reply.questionId, again.reply.model], ['streaming', 2, question.id, 'm2']);
        await rejectsWithCode(store.startRegeneration(user.id, { conversationId, questionId: question.id, model: 'm' }), 'reply_in_progress');
        await finish(store, again, 'a2 second');

        assert.deepEqual(texts(await store.listMessages(user.id, conversationId)), ['Q:q1', 'A:a1', 'Q:q2', 'A:a2 second']);
        assert.equal(await store.countMessages(user.id, conversationId), 4);
        const versions = await store.listTurnVersions(user.id, conversationId);
        assert.deepEqual(versions.map((v) => [v.turn, v.replyId, v.questionId, v.status, v.current, v.createdAt]), [
          [2, started[1]?.reply.id, question.id, 'complete', false, START],
          [2, again.reply.id, question.id, 'complete', true, START + 1000],
        ]);
      }));

    test('editing the last question makes a new current turn and keeps the old question and reply as a version', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const { conversationId, started } = await conversationOf(store, user.id, [['q1', 'a1'], ['q2', 'a2']]);
        const old = started[1];
        assert.ok(old !== undefined);
        const edited = await store.startEdit(user.id, { conversationId, questionId: old.userMessage.id, text: 'q2 edited', model: 'm' });
        assert.notEqual(edited.userMessage.id, old.userMessage.id);
        assert.deepEqual([edited.userMessage.turn, edited.reply.turn, edited.reply.questionId], [2, 2, edited.userMessage.id]);
        await finish(store, edited, 'a2 edited');
        assert.deepEqual(texts(await store.listMessages(user.id, conversationId)), ['Q:q1', 'A:a1', 'Q:q2 edited', 'A:a2 edited']);
        assert.deepEqual(
          (await store.listTurnVersions(user.id, conversationId)).map((v) => [v.replyId, v.questionId, v.current]),
          [
            [old.reply.id, old.userMessage.id, false],
            [edited.reply.id, edited.userMessage.id, true],
          ],
        );
      }));

    test('only the last turn can get a new version, and only once it has a reply; nothing is stored on refusal', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const empty = await store.createConversation(user.id, 'empty');
        await rejectsWithCode(store.startRegeneration(user.id, { conversationId: empty.id, questionId: 'anything', model: 'm' }), 'invalid_request');
        const { conversationId, started } = await conversationOf(store, user.id, [['q1', 'a1'], ['q2', 'a2']]);
        const first = started[0]?.userMessage.id ?? '';
        await rejectsWithCode(store.startRegeneration(user.id, { conversationId, questionId: first, model: 'm' }), 'invalid_request');
        await rejectsWithCode(store.startEdit(user.id, { conversationId, questionId: first, text: 'x', model: 'm' }), 'invalid_request');
        const reply = started[1]?.reply.id ?? '';
        await rejectsWithCode(store.startEdit(user.id, { conversationId, questionId: reply, text: 'x', model: 'm' }), 'invalid_request');
        const stranger = await store.ensureUser('dev:mallory');
        const last = started[1]?.userMessage.id ?? '';
        await rejectsWithCode(store.startRegeneration(stranger.id, { conversationId, questionId: last, model: 'm' }), 'not_found');
        await rejectsWithCode(store.startEdit(stranger.id, { conversationId, questionId: last, text: 'x', model: 'm' }), 'not_found');
        assert.equal((await store.listMessages(user.id, conversationId)).length, 4);
        assert.deepEqual(await store.listTurnVersions(user.id, conversationId), []);
      }));

    test('a new version is refused with reply_in_progress while any reply of the conversation streams', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const { conversationId, started } = await conversationOf(store, user.id, [['q1', 'a1']]);
        const question = started[0]?.userMessage.id ?? '';
        const running = await store.startRegeneration(user.id, { conversationId, questionId: question, model: 'm' });
        await rejectsWithCode(store.startEdit(user.id, { conversationId, questionId: question, text: 'x', model: 'm' }), 'reply_in_progress');
        await rejectsWithCode(store.startTurn(user.id, { conversation: { id: conversationId }, text: 'next', model: 'm' }), 'reply_in_progress');
        await rejectsWithCode(store.setCurrentVersion(user.id, conversationId, started[0]?.reply.id ?? ''), 'reply_in_progress');
        await finish(store, running, 'done', 'stopped');
        const versions = await store.listTurnVersions(user.id, conversationId);
        assert.deepEqual(versions.map((v) => v.status), ['complete', 'stopped']);
      }));

    test('switching versions changes what the conversation reads, its next turn builds on the current version', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const { conversationId, started } = await conversationOf(store, user.id, [['q1', 'a1']]);
        const original = started[0];
        assert.ok(original !== undefined);
        const edited = await store.startEdit(user.id, { conversationId, questionId: original.userMessage.id, text: 'q1b', model: 'm' });
        await finish(store, edited, 'a1b');
        const regenerated = await store.startRegeneration(user.id, { conversationId, questionId: edited.userMessage.id, model: 'm' });
        await finish(store, regenerated, 'a1c');

        const turn = await store.setCurrentVersion(user.id, conversationId, original.reply.id);
        assert.deepEqual(texts(turn), ['Q:q1', 'A:a1']);
        assert.deepEqual(texts(await store.listMessages(user.id, conversationId)), ['Q:q1', 'A:a1']);
        assert.deepEqual(
          (await store.listTurnVersions(user.id, conversationId)).map((v) => v.current),
          [true, false, false],
        );
        assert.deepEqual(texts(await store.setCurrentVersion(user.id, conversationId, edited.reply.id)), ['Q:q1b', 'A:a1b']);

        const next = await store.startTurn(user.id, { conversation: { id: conversationId }, text: 'q2', model: 'm' });
        assert.equal(next.userMessage.turn, 2);
        await finish(store, next, 'a2');
        assert.deepEqual(texts(await store.listMessages(user.id, conversationId)), ['Q:q1b', 'A:a1b', 'Q:q2', 'A:a2']);
        // The earlier turn keeps its versions; the new one has none.
        assert.deepEqual((await store.listTurnVersions(user.id, conversationId)).map((v) => v.turn), [1, 1, 1]);
        assert.deepEqual(await store.listTurnVersions(user.id, conversationId, { fromTurn: 2, toTurn: 2 }), []);
      }));

    test('a version is named by its reply or by its question (then the latest reply to it)', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const { conversationId, started } = await conversationOf(store, user.id, [['q1', 'a1']]);
        const original = started[0];
        assert.ok(original !== undefined);
        await finish(store, await store.startRegeneration(user.id, { conversationId, questionId: original.userMessage.id, model: 'm' }), 'a1b');
        const edited = await store.startEdit(user.id, { conversationId, questionId: original.userMessage.id, text: 'q1 edited', model: 'm' });
        await finish(store, edited, 'a1c');
        assert.deepEqual(texts(await store.setCurrentVersion(user.id, conversationId, original.userMessage.id)), ['Q:q1', 'A:a1b']);
        assert.deepEqual(texts(await store.setCurrentVersion(user.id, conversationId, edited.userMessage.id)), ['Q:q1 edited', 'A:a1c']);
        assert.deepEqual(texts(await store.setCurrentVersion(user.id, conversationId, original.reply.id)), ['Q:q1', 'A:a1']);
      }));

    test('setCurrentVersion answers not_found for an unknown id, a message of another conversation and another user', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const stranger = await store.ensureUser('dev:mallory');
        const { conversationId, started } = await conversationOf(store, user.id, [['q1', 'a1']]);
        const turn = started[0];
        assert.ok(turn !== undefined);
        await rejectsWithCode(store.setCurrentVersion(user.id, conversationId, 'no-such-message'), 'not_found');
        await rejectsWithCode(store.setCurrentVersion(stranger.id, conversationId, turn.reply.id), 'not_found');
        const other = await conversationOf(store, user.id, [['x', 'y']]);
        await rejectsWithCode(store.setCurrentVersion(user.id, other.conversationId, turn.reply.id), 'not_found');
        await rejectsWithCode(store.setCurrentVersion(user.id, other.conversationId, turn.userMessage.id), 'not_found');
      }));

    test('message pages walk newest first, each oldest first, and never repeat or skip across new versions', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const turns: [string, string][] = Array.from({ length: 7 }, (_, i) => [`q${i + 1}`, `a${i + 1}`]);
        const { conversationId, started } = await conversationOf(store, user.id, turns);
        const newest = await store.listMessagePage(user.id, conversationId, { limit: 5 });
        assert.deepEqual(texts(newest.items), ['A:a5', 'Q:q6', 'A:a6', 'Q:q7', 'A:a7']);
        assert.ok(newest.nextCursor !== null);
        // A new version of the last turn between pages changes nothing older.
        const last = started[6];
        assert.ok(last !== undefined);
        await finish(store, await store.startRegeneration(user.id, { conversationId, questionId: last.userMessage.id, model: 'm' }), 'a7 again');
        const older = await store.listMessagePage(user.id, conversationId, { limit: 5, before: newest.nextCursor });
        assert.deepEqual(texts(older.items), ['Q:q3', 'A:a3', 'Q:q4', 'A:a4', 'Q:q5']);
        const oldest = await store.listMessagePage(user.id, conversationId, { limit: 5, before: older.nextCursor });
        assert.deepEqual(texts(oldest.items), ['Q:q1', 'A:a1', 'Q:q2', 'A:a2']);
        assert.equal(oldest.nextCursor, null);
        const exact = await store.listMessagePage(user.id, conversationId, { limit: 14 });
        assert.equal(exact.items.length, 14);
        assert.equal(exact.nextCursor, null, 'a page that ends exactly at the first message has no next page');
        assert.equal((await store.listMessagePage(user.id, conversationId)).items.length, 14, 'default page size 30');
        assert.equal((await store.listMessagePage(user.id, conversationId, { limit: 1000 })).items.length, 14);
        for (const before of ['not a cursor', 'WzEsImEiXQ', '']) {
          await rejectsWithCode(store.listMessagePage(user.id, conversationId, { before }), 'invalid_request');
        }
        const stranger = await store.ensureUser('dev:mallory');
        await rejectsWithCode(store.listMessagePage(stranger.id, conversationId), 'not_found');
      }));

    test('feedback is set, replaced and removed on the owner’s replies only', () =>
      withStore(async (store, clock) => {
        const user = await store.ensureUser('dev:alice');
        const stranger = await store.ensureUser('dev:mallory');
        const { conversationId, started } = await conversationOf(store, user.id, [['q1', 'a1']]);
        const turn = started[0];
        assert.ok(turn !== undefined);
        clock.advance(500);
        const rated = await store.setFeedback(user.id, turn.reply.id, { rating: 'down', comment: '答非所问' });
        assert.deepEqual(rated.feedback, { rating: 'down', comment: '答非所问', updatedAt: START + 500 });
        await store.setFeedback(user.id, turn.reply.id, { rating: 'up' });
        assert.deepEqual((await store.listMessages(user.id, conversationId))[1]?.feedback, { rating: 'up', comment: null, updatedAt: START + 500 });
        assert.equal((await store.setFeedback(user.id, turn.reply.id, null)).feedback, null);
        await rejectsWithCode(store.setFeedback(user.id, turn.userMessage.id, { rating: 'up' }), 'not_found');
        await rejectsWithCode(store.setFeedback(user.id, 'no-such-message', { rating: 'up' }), 'not_found');
        await rejectsWithCode(store.setFeedback(stranger.id, turn.reply.id, { rating: 'down' }), 'not_found');
        assert.equal((await store.listMessages(user.id, conversationId))[1]?.feedback, null);
      }));

    test('a generated title replaces an automatic or generated one, never the user’s', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const stranger = await store.ensureUser('dev:mallory');
        const { conversationId } = await conversationOf(store, user.id, [['天空为什么是蓝色的', '因为散射']]);
        const titled = await store.setGeneratedTitle(user.id, conversationId, '  天空的颜色 ');
        assert.deepEqual([titled?.title, titled?.titleSource], ['天空的颜色', 'model']);
        assert.equal(await store.setGeneratedTitle(stranger.id, conversationId, '偷改'), undefined);
        await store.renameConversation(user.id, conversationId, '我的标题');
        assert.equal(await store.setGeneratedTitle(user.id, conversationId, '模型的标题'), undefined);
        const conversation = await store.getConversation(user.id, conversationId);
        assert.deepEqual([conversation?.title, conversation?.titleSource], ['我的标题', 'user']);
        await rejectsWithCode(store.setGeneratedTitle(user.id, conversationId, '  '), 'invalid_request');
      }));

    test('a share is a snapshot of current, shareable messages that later changes do not touch', () =>
      withStore(async (store, clock) => {
        const user = await store.ensureUser('dev:alice');
        const { conversationId, started } = await conversationOf(store, user.id, [['q1', 'a1'], ['q2', 'a2']]);
        // A blocked turn and a reply still streaming are not shared, nor their questions.
        const blocked = await store.startTurn(user.id, { conversation: { id: conversationId }, text: 'bad question', model: 'm' });
        await finish(store, blocked, '', 'blocked');
        const live = await store.startTurn(user.id, { conversation: { id: conversationId }, text: 'q4', model: 'm' });
        await store.updateAssistantMessage(live.reply.id, { text: 'half' });
        clock.advance(1000);
        const share = await store.createShare(user.id, conversationId, 'share-one-0123456789abcd');
        assert.deepEqual(share, { id: 'share-one-0123456789abcd', title: 'q1', createdAt: START + 1000, messageCount: 4 });
        await finish(store, live, 'a4');
        await store.renameConversation(user.id, conversationId, 'renamed');
        const snapshot = await store.getShare(share.id);
        assert.deepEqual(snapshot, {
          title: 'q1',
          createdAt: START + 1000,
          messages: [
            { role: 'user', text: 'q1', createdAt: START },
            { role: 'assistant', text: 'a1', createdAt: START },
            { role: 'user', text: 'q2', createdAt: START },
            { role: 'assistant', text: 'a2', createdAt: START },
          ],
        });
        // A new version later is not in the earlier share, and is in a new one.
        const question = started[1]?.userMessage.id ?? '';
        assert.ok(question !== '');
        const second = await store.createShare(user.id, conversationId, 'share-two-0123456789abcd');
        assert.equal(second.messageCount, 6);
        assert.deepEqual(await store.getShare(share.id), snapshot);
        assert.deepEqual((await store.listShares(user.id, conversationId)).map((s) => [s.id, s.messageCount]), [
          ['share-two-0123456789abcd', 6],
          ['share-one-0123456789abcd', 4],
        ]);
      }));

    test('a share is revoked by its owner only, refused when nothing is shareable, and goes with its conversation', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const stranger = await store.ensureUser('dev:mallory');
        const empty = await store.createConversation(user.id, 'empty');
        await rejectsWithCode(store.createShare(user.id, empty.id, 'share-empty-123456789abc'), 'invalid_request');
        assert.deepEqual(await store.listShares(user.id, empty.id), [], 'a refused share leaves nothing behind');
        const { conversationId } = await conversationOf(store, user.id, [['q1', 'a1']]);
        await rejectsWithCode(store.createShare(stranger.id, conversationId, 'share-theft-123456789abc'), 'not_found');
        await rejectsWithCode(store.listShares(stranger.id, conversationId), 'not_found');
        const share = await store.createShare(user.id, conversationId, 'share-keep-0123456789abc');
        await rejectsWithCode(store.deleteShare(stranger.id, share.id), 'not_found');
        assert.ok((await store.getShare(share.id)) !== undefined);
        await store.deleteShare(user.id, share.id);
        assert.equal(await store.getShare(share.id), undefined);
        await rejectsWithCode(store.deleteShare(user.id, share.id), 'not_found');

        const kept = await store.createShare(user.id, conversationId, 'share-gone-0123456789abc');
        await store.deleteConversation(user.id, conversationId);
        assert.equal(await store.getShare(kept.id), undefined);
      }));

    test('deleting a conversation removes every version too', () =>
      withStore(async (store) => {
        const user = await store.ensureUser('dev:alice');
        const { conversationId, started } = await conversationOf(store, user.id, [['q1', 'a1']]);
        const question = started[0]?.userMessage.id ?? '';
        await finish(store, await store.startRegeneration(user.id, { conversationId, questionId: question, model: 'm' }), 'a1b');
        await store.deleteConversation(user.id, conversationId);
        assert.equal(await store.getConversation(user.id, conversationId), undefined);
        await rejectsWithCode(store.listTurnVersions(user.id, conversationId), 'not_found');
      }));

    test('the tokens of a side call count in the daily ledger like a reply’s', () =>
      withStore(async (store, clock) => {
        const user = await store.ensureUser('dev:alice');
        const turn = await store.startTurn(user.id, { conversation: { newTitle: 'q1' }, text: 'q1', model: 'm' });
        await store.updateAssistantMessage(turn.reply.id, { text: 'a1', status: 'complete', usage: { promptTokens: 10, completionTokens: 5 } });
        clock.advance(1000);
        await store.recordSideUsage(user.id, 'title:1', { promptTokens: 30, completionTokens: 7 });
        assert.equal(await store.tokensUsedSince(user.id, START), 52);
        assert.equal(await store.tokensUsedSince(user.id, START + 1000), 37);
        assert.equal(await store.tokensUsedSince(user.id, START + 1001), 0);
        await assert.rejects(store.recordSideUsage(user.id, 'title:2', { promptTokens: -1, completionTokens: 0 }));
      }));
  });
}
