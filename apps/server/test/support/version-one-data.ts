/**
 * A conversation as schema version 1 stored it (no turns, no versions), written as plain SQL that
 * both engines run, and the checks that version 2 read it right: the upgrade tests of each store
 * write it under version 1, migrate, and then use it through the store.
 */
import assert from 'node:assert/strict';
import type { ConversationStore } from '../../src/storage/conversation-store.ts';

export const V1_TIME = Date.UTC(2025, 0, 1);

/** One user, one conversation: an answered question, a blocked question, an answered question. */
export const VERSION_ONE_ROWS = `
  INSERT INTO users (id, identity, created_at) VALUES ('u-old', 'dev:old', ${V1_TIME});
  INSERT INTO conversations (id, user_id, title, created_at, updated_at) VALUES ('c-old', 'u-old', 'old title', ${V1_TIME}, ${V1_TIME});
  INSERT INTO messages (id, conversation_id, seq, role, text, reasoning, status, finish_reason, error_code, prompt_tokens, completion_tokens, model, created_at, updated_at) VALUES
    ('m1', 'c-old', 1, 'user', 'q1', '', 'complete', NULL, NULL, NULL, NULL, NULL, ${V1_TIME}, ${V1_TIME}),
    ('m2', 'c-old', 2, 'assistant', 'a1', '', 'complete', 'stop', NULL, 3, 4, 'm', ${V1_TIME}, ${V1_TIME}),
    ('m3', 'c-old', 3, 'user', 'bad', '', 'blocked', NULL, NULL, NULL, NULL, NULL, ${V1_TIME}, ${V1_TIME}),
    ('m4', 'c-old', 4, 'user', 'q3', '', 'complete', NULL, NULL, NULL, NULL, NULL, ${V1_TIME}, ${V1_TIME}),
    ('m5', 'c-old', 5, 'assistant', 'a3', '', 'complete', 'stop', NULL, 3, 4, 'm', ${V1_TIME}, ${V1_TIME});
`;

/** The upgraded conversation reads as before, in turns, and its last turn can be regenerated. */
export async function assertVersionOneUpgraded(store: ConversationStore): Promise<void> {
  const user = await store.ensureUser('dev:old');
  assert.equal(user.id, 'u-old');
  const conversation = await store.getConversation(user.id, 'c-old');
  assert.deepEqual([conversation?.title, conversation?.titleSource], ['old title', 'auto']);
  const messages = await store.listMessages(user.id, 'c-old');
  assert.deepEqual(
    messages.map((m) => [m.id, m.turn, m.questionId, m.current, m.feedback]),
    [
      ['m1', 1, null, true, null],
      ['m2', 1, 'm1', true, null],
      ['m3', 2, null, true, null],
      ['m4', 3, null, true, null],
      ['m5', 3, 'm4', true, null],
    ],
  );
  const again = await store.startRegeneration(user.id, { conversationId: 'c-old', questionId: 'm4', model: 'm' });
  await store.updateAssistantMessage(again.reply.id, { text: 'a3 again', status: 'complete' });
  assert.deepEqual(
    (await store.listTurnVersions(user.id, 'c-old')).map((v) => [v.turn, v.replyId, v.current]),
    [
      [3, 'm5', false],
      [3, again.reply.id, true],
    ],
  );
}
