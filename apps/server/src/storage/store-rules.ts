/**
 * What the SQLite and the PostgreSQL store answer the same way, beyond reading rows: the errors their
 * contract names, a newest-first page of messages, and a share's snapshot.
 *
 * Contract: pure. Error messages are for developers and logs (never shown to users, who see the
 * code's message) and name the id that was not found or not acceptable.
 */
import { WxstreamError } from '@wxstream/protocol';
import type { MessagePage, MessageRecord, SharedSnapshot } from './conversation-store.ts';
import { text, type IntegerReader, type Row } from './record-rows.ts';
import type { MessagePosition } from './list-cursor.ts';

export function notFound(conversationId: string): WxstreamError {
  return new WxstreamError('not_found', `No conversation ${conversationId}`);
}

/** A regenerate or edit that does not name the last turn's current question (or finds no reply). */
export function noTurnToRevise(conversationId: string, questionId: string): WxstreamError {
  return new WxstreamError(
    'invalid_request',
    `${questionId} is not the last question of conversation ${conversationId} with a reply; only the last turn can get a new version`,
  );
}

export function nothingToShare(conversationId: string): WxstreamError {
  return new WxstreamError('invalid_request', `Conversation ${conversationId} has no finished messages to share yet`);
}

/**
 * `rows` are up to `limit + 1` messages newest first (the extra one only says an older page
 * exists): the page oldest first, and the cursor of its oldest message when more are older.
 */
export function newestPage(rows: readonly MessageRecord[], limit: number, encode: (position: MessagePosition) => string): MessagePage {
  const page = rows.slice(0, limit);
  const oldest = page.at(-1);
  const nextCursor = rows.length > limit && oldest !== undefined ? encode({ turn: oldest.turn, seq: oldest.seq }) : null;
  return { items: page.reverse(), nextCursor };
}

/** A share's row (title, created_at) and its message rows (role, text, created_at) in order. */
export function sharedSnapshot(share: Row, messages: readonly Row[], integer: IntegerReader): SharedSnapshot {
  return {
    title: text(share, 'title'),
    createdAt: integer(share, 'created_at'),
    messages: messages.map((row) => {
      const role = text(row, 'role');
      if (role !== 'user' && role !== 'assistant') throw new Error(`unknown role ${role}`);
      return { role, text: text(row, 'text'), createdAt: integer(row, 'created_at') };
    }),
  };
}
