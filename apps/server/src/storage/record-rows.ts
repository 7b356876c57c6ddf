/**
 * What the SQLite and the PostgreSQL store share: database rows → store records, and the checks on writes.
 *
 * Contract: a row carries the columns of `CONVERSATION_COLUMNS` / `MESSAGE_COLUMNS` under their SQL names,
 * and a value of the wrong type throws — a schema and code out of step must fail loudly, never produce a
 * half-filled record. The engines differ only in how integers arrive (SQLite: a number; PostgreSQL: BIGINT,
 * COUNT and SUM as decimal strings), so each store passes its own integer reader.
 */
import type { StoredMessageStatus } from '@wxstream/protocol';
import type { AssistantMessagePatch, ConversationRecord, MessageRecord, UserRecord } from './conversation-store.ts';

export type Row = Readonly<Record<string, unknown>>;
export type IntegerReader = (row: Row, column: string) => number;

export const CONVERSATION_COLUMNS = 'id, user_id, title, created_at, updated_at';
export const MESSAGE_COLUMNS =
  'id, conversation_id, seq, role, text, reasoning, status, finish_reason, error_code, prompt_tokens, completion_tokens, model, created_at, updated_at';

const STATUSES: ReadonlySet<string> = new Set<StoredMessageStatus>(['streaming', 'complete', 'stopped', 'error', 'blocked']);

export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`column ${column} is not text`);
  return value;
}

function optionalText(row: Row, column: string): string | null {
  return row[column] === null ? null : text(row, column);
}

export interface RecordReaders {
  toUser(row: Row): UserRecord;
  toConversation(row: Row): ConversationRecord;
  toMessage(row: Row): MessageRecord;
}

export function recordReaders(integer: IntegerReader): RecordReaders {
  const optionalInteger = (row: Row, column: string): number | null => (row[column] === null ? null : integer(row, column));
  return {
    toUser: (row) => ({ id: text(row, 'id'), identity: text(row, 'identity'), createdAt: integer(row, 'created_at') }),
    toConversation: (row) => ({
      id: text(row, 'id'),
      userId: text(row, 'user_id'),
      title: text(row, 'title'),
      createdAt: integer(row, 'created_at'),
      updatedAt: integer(row, 'updated_at'),
    }),
    toMessage: (row) => {
      const role = text(row, 'role');
      const status = text(row, 'status');
      if (role !== 'user' && role !== 'assistant') throw new Error(`unknown role ${role}`);
      if (!STATUSES.has(status)) throw new Error(`unknown status ${status}`);
      return {
        id: text(row, 'id'),
        conversationId: text(row, 'conversation_id'),
        seq: integer(row, 'seq'),
        role,
        text: text(row, 'text'),
        reasoning: text(row, 'reasoning'),
        status: status as StoredMessageStatus,
        finishReason: optionalText(row, 'finish_reason'),
        errorCode: optionalText(row, 'error_code'),
        promptTokens: optionalInteger(row, 'prompt_tokens'),
        completionTokens: optionalInteger(row, 'completion_tokens'),
        model: optionalText(row, 'model'),
        createdAt: integer(row, 'created_at'),
        updatedAt: integer(row, 'updated_at'),
      };
    },
  };
}

const isCount = (value: number): boolean => Number.isSafeInteger(value) && value >= 0;

/** Both engines refuse the same bad writes before touching the database. */
export function assertValidPatch(patch: AssistantMessagePatch): void {
  if (patch.usage !== undefined && !(isCount(patch.usage.promptTokens) && isCount(patch.usage.completionTokens))) {
    throw new Error('token counts must be whole numbers ≥ 0');
  }
}
