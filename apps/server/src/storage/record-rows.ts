/**
 * What the SQLite and the PostgreSQL store share: database rows → store records, and the checks on writes.
 *
 * Contract: a row carries the columns of `CONVERSATION_COLUMNS` / `MESSAGE_COLUMNS` under their SQL names,
 * and a value of the wrong type throws — a schema and code out of step must fail loudly, never produce a
 * half-filled record. The engines differ only in how integers arrive (SQLite: a number; PostgreSQL: BIGINT,
 * COUNT and SUM as decimal strings), so each store passes its own integer reader.
 */
import type { FeedbackRating, StoredMessageStatus } from '@wxstream/protocol';
import type {
  AssistantMessagePatch,
  ConversationRecord,
  FeedbackRecord,
  MessageRecord,
  ShareRecord,
  TitleSource,
  TurnVersionRecord,
  UserRecord,
} from './conversation-store.ts';

export type Row = Readonly<Record<string, unknown>>;
export type IntegerReader = (row: Row, column: string) => number;

export const CONVERSATION_COLUMNS = 'id, user_id, title, title_source, created_at, updated_at';
export const MESSAGE_COLUMNS =
  'id, conversation_id, seq, role, text, reasoning, status, finish_reason, error_code, prompt_tokens, completion_tokens, model, created_at, updated_at, ' +
  'turn, question_id, is_current, feedback_rating, feedback_comment, feedback_at';
/** What a new message is inserted with; the rest (finish reason, usage, feedback) start NULL. */
export const NEW_MESSAGE_COLUMNS = 'id, conversation_id, seq, role, text, reasoning, status, model, created_at, updated_at, turn, question_id, is_current';
export const VERSION_COLUMNS = 'turn, id, question_id, created_at, status, is_current';
export const SHARE_COLUMNS = 'id, title, created_at, message_count';

const STATUSES: ReadonlySet<string> = new Set<StoredMessageStatus>(['streaming', 'complete', 'stopped', 'error', 'blocked']);
const TITLE_SOURCES: ReadonlySet<string> = new Set<TitleSource>(['auto', 'model', 'user']);
const RATINGS: ReadonlySet<string> = new Set<FeedbackRating>(['up', 'down']);

function status(row: Row): StoredMessageStatus {
  const value = text(row, 'status');
  if (!STATUSES.has(value)) throw new Error(`unknown status ${value}`);
  return value as StoredMessageStatus;
}

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
  toVersion(row: Row): TurnVersionRecord;
  toShare(row: Row): ShareRecord;
}

export function recordReaders(integer: IntegerReader): RecordReaders {
  const optionalInteger = (row: Row, column: string): number | null => (row[column] === null ? null : integer(row, column));
  return {
    toUser: (row) => ({ id: text(row, 'id'), identity: text(row, 'identity'), createdAt: integer(row, 'created_at') }),
    toConversation: (row) => {
      const titleSource = text(row, 'title_source');
      if (!TITLE_SOURCES.has(titleSource)) throw new Error(`unknown title source ${titleSource}`);
      return {
        id: text(row, 'id'),
        userId: text(row, 'user_id'),
        title: text(row, 'title'),
        titleSource: titleSource as TitleSource,
        createdAt: integer(row, 'created_at'),
        updatedAt: integer(row, 'updated_at'),
      };
    },
    toVersion: (row) => ({
      turn: integer(row, 'turn'),
      replyId: text(row, 'id'),
      questionId: optionalText(row, 'question_id'),
      createdAt: integer(row, 'created_at'),
      status: status(row),
      current: integer(row, 'is_current') === 1,
    }),
    toShare: (row) => ({
      id: text(row, 'id'),
      title: text(row, 'title'),
      createdAt: integer(row, 'created_at'),
      messageCount: integer(row, 'message_count'),
    }),
    toMessage: (row) => {
      const role = text(row, 'role');
      if (role !== 'user' && role !== 'assistant') throw new Error(`unknown role ${role}`);
      const rating = optionalText(row, 'feedback_rating');
      if (rating !== null && !RATINGS.has(rating)) throw new Error(`unknown rating ${rating}`);
      const feedback: FeedbackRecord | null =
        rating === null
          ? null
          : { rating: rating as FeedbackRating, comment: optionalText(row, 'feedback_comment'), updatedAt: integer(row, 'feedback_at') };
      return {
        id: text(row, 'id'),
        conversationId: text(row, 'conversation_id'),
        seq: integer(row, 'seq'),
        role,
        text: text(row, 'text'),
        reasoning: text(row, 'reasoning'),
        status: status(row),
        finishReason: optionalText(row, 'finish_reason'),
        errorCode: optionalText(row, 'error_code'),
        promptTokens: optionalInteger(row, 'prompt_tokens'),
        completionTokens: optionalInteger(row, 'completion_tokens'),
        model: optionalText(row, 'model'),
        createdAt: integer(row, 'created_at'),
        updatedAt: integer(row, 'updated_at'),
        turn: integer(row, 'turn'),
        questionId: optionalText(row, 'question_id'),
        current: integer(row, 'is_current') === 1,
        feedback,
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
