/**
 * `ConversationStore` on SQLite through Node's built-in `node:sqlite` — the embedded default: one
 * file, no server to run.
 *
 * Contract: `openSqliteStore` creates the file's directory if needed, opens the database, applies
 * pending migrations and resolves to a store that meets the `ConversationStore` contract. Settings,
 * and why:
 * - WAL journal: readers never block the writer and a write is one append, not a page rewrite;
 *   `synchronous = NORMAL` is the setting SQLite documents for WAL (a power cut can lose the last
 *   commits, never corrupt the file).
 * - Foreign keys ON (SQLite leaves them off unless asked), so ownership links cannot dangle.
 * - A busy timeout, so a second process holding the write lock makes us wait instead of failing.
 * - Statements prepared once at open; every multi-statement write runs in `BEGIN IMMEDIATE`, which
 *   takes the write lock up front so a read-then-write cannot be invalidated by another writer.
 *
 * The calls are synchronous underneath (node:sqlite is), each a short indexed statement on a local
 * file; the async surface is there so PostgreSQL fits the same interface.
 *
 * node:sqlite is "release candidate" (stability 1.2) from Node 24.15 and no longer prints an
 * ExperimentalWarning there; earlier 24.x releases do. We do not filter process warnings from a
 * library — that would hide other warnings too; on an older 24.x the supported switch is
 * `node --disable-warning=ExperimentalWarning`.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { WxstreamError, type StoredMessageStatus } from '@wxstream/protocol';
import {
  INTERRUPTED_REPLY_ERROR_CODE,
  pageSize,
  type AssistantMessagePatch,
  type ConversationListOptions,
  type ConversationListPage,
  type ConversationRecord,
  type ConversationStore,
  type InterruptedRepliesOptions,
  type MessageRecord,
  type NewAssistantMessage,
  type NewTurn,
  type NewUserMessage,
  type StartedTurn,
} from './conversation-store.ts';
import { normalizeTitle } from './conversation-title.ts';
import { decodeListCursor, encodeListCursor } from './list-cursor.ts';
import { assertValidPatch, CONVERSATION_COLUMNS, MESSAGE_COLUMNS, recordReaders, type Row } from './record-rows.ts';
import { applyMigrations, MIGRATIONS, type Migration } from './migrations.ts';

/** Relative to the working directory. */
export const DEFAULT_DATABASE_PATH = '.data/wxstream.sqlite';
export const MEMORY_DATABASE_PATH = ':memory:';
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` for a private throw-away database (tests). */
  readonly path: string;
  readonly clock: { now(): number };
  readonly ids?: () => string;
  readonly busyTimeoutMs?: number;
  /** Defaults to the schema's `MIGRATIONS`; tests pass a longer list to exercise upgrades. */
  readonly migrations?: readonly Migration[];
}

export interface SqliteConversationStore extends ConversationStore {
  readonly path: string;
  /** The migration versions this open applied (empty when the schema was current), for the start-up log. */
  readonly appliedMigrations: readonly number[];
}

function integer(row: Row, column: string): number {
  const value = row[column];
  if (typeof value !== 'number') throw new Error(`column ${column} is not an integer`);
  return value;
}

const { toUser, toConversation, toMessage } = recordReaders(integer);

function prepareStatements(db: DatabaseSync) {
  const sql = (source: string): StatementSync => db.prepare(source);
  return {
    insertUser: sql('INSERT INTO users (id, identity, created_at) VALUES (?, ?, ?) ON CONFLICT (identity) DO NOTHING'),
    userByIdentity: sql('SELECT id, identity, created_at FROM users WHERE identity = ?'),
    insertConversation: sql(
      `INSERT INTO conversations (${CONVERSATION_COLUMNS}) VALUES (?, ?, ?, ?, ?) RETURNING ${CONVERSATION_COLUMNS}`,
    ),
    conversation: sql(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = ? AND user_id = ?`),
    firstPage: sql(
      `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE user_id = ?
       ORDER BY updated_at DESC, id DESC LIMIT ?`,
    ),
    pageAfter: sql(
      `SELECT ${CONVERSATION_COLUMNS} FROM conversations
       WHERE user_id = ? AND (updated_at < ? OR (updated_at = ? AND id < ?))
       ORDER BY updated_at DESC, id DESC LIMIT ?`,
    ),
    renameConversation: sql(
      `UPDATE conversations SET title = ? WHERE id = ? AND user_id = ? RETURNING ${CONVERSATION_COLUMNS}`,
    ),
    touchConversation: sql('UPDATE conversations SET updated_at = ? WHERE id = ?'),
    deleteMessages: sql('DELETE FROM messages WHERE conversation_id = ?'),
    deleteConversation: sql('DELETE FROM conversations WHERE id = ? AND user_id = ?'),
    messages: sql(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY seq`),
    messageCount: sql('SELECT COUNT(*) AS count FROM messages WHERE conversation_id = ?'),
    streamingReply: sql(`SELECT id FROM messages WHERE conversation_id = ? AND status = 'streaming' LIMIT 1`),
    nextSeq: sql('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM messages WHERE conversation_id = ?'),
    insertMessage: sql(
      `INSERT INTO messages (${MESSAGE_COLUMNS})
       VALUES (?, ?, ?, ?, ?, '', ?, NULL, NULL, NULL, NULL, ?, ?, ?) RETURNING ${MESSAGE_COLUMNS}`,
    ),
    // COALESCE keeps a column when the patch leaves it out (bound as NULL).
    updateStreamingReply: sql(
      `UPDATE messages SET
         text = COALESCE(?, text),
         reasoning = COALESCE(?, reasoning),
         status = COALESCE(?, status),
         finish_reason = COALESCE(?, finish_reason),
         error_code = COALESCE(?, error_code),
         prompt_tokens = COALESCE(?, prompt_tokens),
         completion_tokens = COALESCE(?, completion_tokens),
         model = COALESCE(?, model),
         updated_at = ?
       WHERE id = ? AND role = 'assistant' AND status = 'streaming'
       RETURNING ${MESSAGE_COLUMNS}`,
    ),
    messageExists: sql('SELECT 1 AS found FROM messages WHERE id = ?'),
    insertUsage: sql(
      'INSERT INTO token_usage (message_id, user_id, created_at, prompt_tokens, completion_tokens) VALUES (?, ?, ?, 0, 0)',
    ),
    setUsage: sql('UPDATE token_usage SET prompt_tokens = ?, completion_tokens = ? WHERE message_id = ?'),
    interruptAll: sql(
      `UPDATE messages SET status = 'error', error_code = ?, updated_at = ? WHERE status = 'streaming'`,
    ),
    interruptStale: sql(
      `UPDATE messages SET status = 'error', error_code = ?, updated_at = ? WHERE status = 'streaming' AND updated_at < ?`,
    ),
    usageSince: sql(
      `SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) AS total FROM token_usage
       WHERE user_id = ? AND created_at >= ?`,
    ),
  };
}

function notFound(conversationId: string): WxstreamError {
  return new WxstreamError('not_found', `No conversation ${conversationId}`);
}

export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteConversationStore> {
  const { path, clock } = options;
  const ids = options.ids ?? randomUUID;
  // A clock may have sub-millisecond precision; the columns hold whole milliseconds.
  const now = (): number => Math.floor(clock.now());

  if (path !== MEMORY_DATABASE_PATH) mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path, {
    enableForeignKeyConstraints: true,
    timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
  });
  let appliedMigrations: number[];
  try {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA foreign_keys = ON');
    appliedMigrations = applyMigrations(db, options.migrations ?? MIGRATIONS, now());
  } catch (error) {
    db.close();
    throw error;
  }
  const statements = prepareStatements(db);

  const transaction = <T>(work: () => T): T => {
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      db.exec('COMMIT');
      return result;
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  };

  const ownedConversation = (userId: string, conversationId: string): ConversationRecord => {
    const row = statements.conversation.get(conversationId, userId);
    if (row === undefined) throw notFound(conversationId);
    return toConversation(row);
  };

  type NewMessageFields = { role: 'user' | 'assistant'; text: string; status: StoredMessageStatus; model: string | null };

  /** Inside a transaction: the next message of a conversation the caller found owned and idle, at `seq`. */
  const appendMessage = (
    userId: string,
    conversationId: string,
    seq: number,
    fields: NewMessageFields,
  ): MessageRecord => {
    const at = now();
    const values: SQLInputValue[] = [ids(), conversationId, seq, fields.role, fields.text, fields.status, fields.model, at, at];
    const row = statements.insertMessage.get(...values);
    if (row === undefined) throw new Error('INSERT … RETURNING returned no row');
    const message = toMessage(row);
    statements.touchConversation.run(at, conversationId);
    if (fields.role === 'assistant') statements.insertUsage.run(message.id, userId, at);
    return message;
  };

  /** Inside a transaction: the conversation is the user's and no reply of it streams; answers the next seq. */
  const nextSeqOfIdle = (userId: string, conversationId: string): number => {
    ownedConversation(userId, conversationId);
    if (statements.streamingReply.get(conversationId) !== undefined) {
      throw new WxstreamError('reply_in_progress', `A reply is still being written in conversation ${conversationId}`);
    }
    const seqRow = statements.nextSeq.get(conversationId);
    if (seqRow === undefined) throw new Error('MAX(seq) returned no row');
    return integer(seqRow, 'seq');
  };

  const insertMessage = (
    userId: string,
    conversationId: string,
    fields: NewMessageFields,
  ): MessageRecord => transaction(() => appendMessage(userId, conversationId, nextSeqOfIdle(userId, conversationId), fields));

  const insertConversation = (userId: string, title: string): ConversationRecord => {
    const at = now();
    const row = statements.insertConversation.get(ids(), userId, normalizeTitle(title), at, at);
    if (row === undefined) throw new Error('INSERT … RETURNING returned no row');
    return toConversation(row);
  };

  let closed = false;

  return {
    path,
    appliedMigrations,

    async ensureUser(identity) {
      if (identity === '') throw new Error('a user identity must not be empty');
      // Every authenticated request lands here and the user almost always exists: read first, so
      // only a first sight pays for an insert (and for the write lock the insert takes).
      const existing = statements.userByIdentity.get(identity);
      if (existing !== undefined) return toUser(existing);
      statements.insertUser.run(ids(), identity, now());
      const row = statements.userByIdentity.get(identity);
      if (row === undefined) throw new Error(`user ${identity} vanished right after its insert`);
      return toUser(row);
    },

    async createConversation(userId, title) {
      return insertConversation(userId, title);
    },

    async getConversation(userId, conversationId) {
      const row = statements.conversation.get(conversationId, userId);
      return row === undefined ? undefined : toConversation(row);
    },

    async listConversations(userId, listOptions: ConversationListOptions = {}): Promise<ConversationListPage> {
      const limit = pageSize(listOptions.limit);
      const cursor = listOptions.cursor;
      // One row more than the page tells whether another page exists without a COUNT.
      const rows =
        cursor === undefined || cursor === null
          ? statements.firstPage.all(userId, limit + 1)
          : (() => {
              const after = decodeListCursor(cursor);
              return statements.pageAfter.all(userId, after.updatedAt, after.updatedAt, after.id, limit + 1);
            })();
      const items = rows.slice(0, limit).map(toConversation);
      const last = items.at(-1);
      const nextCursor = rows.length > limit && last !== undefined ? encodeListCursor(last) : null;
      return { items, nextCursor };
    },

    async renameConversation(userId, conversationId, title) {
      const row = statements.renameConversation.get(normalizeTitle(title), conversationId, userId);
      if (row === undefined) throw notFound(conversationId);
      return toConversation(row);
    },

    async deleteConversation(userId, conversationId) {
      transaction(() => {
        ownedConversation(userId, conversationId);
        statements.deleteMessages.run(conversationId);
        statements.deleteConversation.run(conversationId, userId);
      });
    },

    async listMessages(userId, conversationId) {
      ownedConversation(userId, conversationId);
      return statements.messages.all(conversationId).map(toMessage);
    },

    async countMessages(userId, conversationId) {
      ownedConversation(userId, conversationId);
      const row = statements.messageCount.get(conversationId);
      return row === undefined ? 0 : integer(row, 'count');
    },

    async addUserMessage(userId, conversationId, message: NewUserMessage) {
      return insertMessage(userId, conversationId, {
        role: 'user',
        text: message.text,
        status: message.status ?? 'complete',
        model: null,
      });
    },

    async startAssistantMessage(userId, conversationId, message: NewAssistantMessage) {
      return insertMessage(userId, conversationId, { role: 'assistant', text: '', status: 'streaming', model: message.model });
    },

    async startTurn(userId, turn: NewTurn): Promise<StartedTurn> {
      return transaction(() => {
        const target = turn.conversation;
        // A conversation created in this transaction has no messages: nothing streams, seq starts at 1.
        const conversationId = 'id' in target ? target.id : insertConversation(userId, target.newTitle).id;
        const seq = 'id' in target ? nextSeqOfIdle(userId, conversationId) : 1;
        const userMessage = appendMessage(userId, conversationId, seq, { role: 'user', text: turn.text, status: 'complete', model: null });
        const reply = appendMessage(userId, conversationId, seq + 1, { role: 'assistant', text: '', status: 'streaming', model: turn.model });
        return { conversationId, userMessage, reply };
      });
    },

    async updateAssistantMessage(messageId, patch: AssistantMessagePatch) {
      assertValidPatch(patch);
      return transaction(() => {
        const row = statements.updateStreamingReply.get(
          patch.text ?? null,
          patch.reasoning ?? null,
          patch.status ?? null,
          patch.finishReason ?? null,
          patch.errorCode ?? null,
          patch.usage?.promptTokens ?? null,
          patch.usage?.completionTokens ?? null,
          patch.model ?? null,
          now(),
          messageId,
        );
        // A reply whose conversation was deleted mid-stream still used the tokens; an already
        // finished one keeps the usage of its final write.
        if (patch.usage !== undefined && (row !== undefined || statements.messageExists.get(messageId) === undefined)) {
          statements.setUsage.run(patch.usage.promptTokens, patch.usage.completionTokens, messageId);
        }
        return row === undefined ? undefined : toMessage(row);
      });
    },

    async markInterruptedReplies(interruptOptions: InterruptedRepliesOptions = {}) {
      const result =
        interruptOptions.updatedBefore === undefined
          ? statements.interruptAll.run(INTERRUPTED_REPLY_ERROR_CODE, now())
          : statements.interruptStale.run(INTERRUPTED_REPLY_ERROR_CODE, now(), interruptOptions.updatedBefore);
      return Number(result.changes);
    },

    async tokensUsedSince(userId, sinceMs) {
      const row = statements.usageSince.get(userId, sinceMs);
      return row === undefined ? 0 : integer(row, 'total');
    },

    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
