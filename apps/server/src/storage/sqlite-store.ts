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
  DEFAULT_MESSAGE_PAGE_SIZE,
  INTERRUPTED_REPLY_ERROR_CODE,
  MAX_MESSAGE_PAGE_SIZE,
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
import { decodeListCursor, decodeMessageCursor, encodeListCursor, encodeMessageCursor } from './list-cursor.ts';
import {
  assertValidPatch,
  CONVERSATION_COLUMNS,
  MESSAGE_COLUMNS,
  NEW_MESSAGE_COLUMNS,
  recordReaders,
  SHARE_COLUMNS,
  VERSION_COLUMNS,
  type Row,
} from './record-rows.ts';
import { newestPage, nothingToShare, notFound, noTurnToRevise, sharedSnapshot } from './store-rules.ts';
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

const { toUser, toConversation, toMessage, toVersion, toShare } = recordReaders(integer);

function prepareStatements(db: DatabaseSync) {
  const sql = (source: string): StatementSync => db.prepare(source);
  return {
    insertUser: sql('INSERT INTO users (id, identity, created_at) VALUES (?, ?, ?) ON CONFLICT (identity) DO NOTHING'),
    userByIdentity: sql('SELECT id, identity, created_at FROM users WHERE identity = ?'),
    insertConversation: sql(
      `INSERT INTO conversations (id, user_id, title, title_source, created_at, updated_at) VALUES (?, ?, ?, 'auto', ?, ?)
       RETURNING ${CONVERSATION_COLUMNS}`,
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
      `UPDATE conversations SET title = ?, title_source = 'user' WHERE id = ? AND user_id = ? RETURNING ${CONVERSATION_COLUMNS}`,
    ),
    generatedTitle: sql(
      `UPDATE conversations SET title = ?, title_source = 'model' WHERE id = ? AND user_id = ? AND title_source <> 'user'
       RETURNING ${CONVERSATION_COLUMNS}`,
    ),
    touchConversation: sql('UPDATE conversations SET updated_at = ? WHERE id = ?'),
    deleteMessages: sql('DELETE FROM messages WHERE conversation_id = ?'),
    deleteConversationShareMessages: sql(
      'DELETE FROM share_messages WHERE share_id IN (SELECT id FROM shares WHERE conversation_id = ?)',
    ),
    deleteConversationShares: sql('DELETE FROM shares WHERE conversation_id = ?'),
    deleteConversation: sql('DELETE FROM conversations WHERE id = ? AND user_id = ?'),
    messages: sql(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND is_current = 1 ORDER BY turn, seq`),
    newestMessages: sql(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND is_current = 1
       ORDER BY turn DESC, seq DESC LIMIT ?`,
    ),
    messagesBefore: sql(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND is_current = 1 AND (turn < ? OR (turn = ? AND seq < ?))
       ORDER BY turn DESC, seq DESC LIMIT ?`,
    ),
    versions: sql(
      `SELECT ${VERSION_COLUMNS} FROM messages WHERE conversation_id = ? AND role = 'assistant' AND turn BETWEEN ? AND ?
         AND turn IN (SELECT turn FROM messages WHERE conversation_id = ? AND role = 'assistant' GROUP BY turn HAVING COUNT(*) > 1)
       ORDER BY turn, seq`,
    ),
    // The version a message names: the reply itself, or for a question the latest reply to it.
    versionReply: sql(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND role = 'assistant' AND (id = ? OR question_id = ?)
       ORDER BY seq DESC LIMIT 1`,
    ),
    turnMessages: sql(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND turn = ? AND is_current = 1 ORDER BY seq`),
    streamingInTurn: sql(`SELECT id FROM messages WHERE conversation_id = ? AND turn = ? AND status = 'streaming' LIMIT 1`),
    makeCurrent: sql('UPDATE messages SET is_current = CASE WHEN id = ? OR id = ? THEN 1 ELSE 0 END WHERE conversation_id = ? AND turn = ?'),
    retireTurn: sql('UPDATE messages SET is_current = 0 WHERE conversation_id = ? AND turn = ? AND is_current = 1'),
    retireReplies: sql(`UPDATE messages SET is_current = 0 WHERE conversation_id = ? AND turn = ? AND role = 'assistant' AND is_current = 1`),
    messageCount: sql('SELECT COUNT(*) AS count FROM messages WHERE conversation_id = ? AND is_current = 1'),
    streamingReply: sql(`SELECT id FROM messages WHERE conversation_id = ? AND status = 'streaming' LIMIT 1`),
    nextSeqAndTurn: sql(
      'SELECT COALESCE(MAX(seq), 0) + 1 AS seq, COALESCE(MAX(turn), 0) AS turn FROM messages WHERE conversation_id = ?',
    ),
    insertMessage: sql(
      `INSERT INTO messages (${NEW_MESSAGE_COLUMNS})
       VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, 1) RETURNING ${MESSAGE_COLUMNS}`,
    ),
    setFeedback: sql(
      `UPDATE messages SET feedback_rating = ?, feedback_comment = ?, feedback_at = ?
       WHERE id = ? AND role = 'assistant' AND conversation_id IN (SELECT id FROM conversations WHERE user_id = ?)
       RETURNING ${MESSAGE_COLUMNS}`,
    ),
    insertShare: sql('INSERT INTO shares (id, user_id, conversation_id, title, created_at) VALUES (?, ?, ?, ?, ?)'),
    snapshotMessages: sql(
      `INSERT INTO share_messages (share_id, ord, role, text, created_at)
       SELECT ?, ROW_NUMBER() OVER (ORDER BY m.turn, m.seq), m.role, m.text, m.created_at FROM messages m
       WHERE m.conversation_id = ? AND m.is_current = 1 AND m.text <> '' AND m.status NOT IN ('blocked', 'streaming')
         AND NOT EXISTS (SELECT 1 FROM messages r WHERE r.conversation_id = m.conversation_id AND r.turn = m.turn
                         AND r.is_current = 1 AND r.role = 'assistant' AND r.status IN ('blocked', 'streaming'))`,
    ),
    share: sql('SELECT title, created_at FROM shares WHERE id = ?'),
    shareMessages: sql('SELECT role, text, created_at FROM share_messages WHERE share_id = ? ORDER BY ord'),
    shares: sql(
      `SELECT ${SHARE_COLUMNS} FROM (SELECT s.id, s.title, s.created_at,
         (SELECT COUNT(*) FROM share_messages sm WHERE sm.share_id = s.id) AS message_count
       FROM shares s WHERE s.conversation_id = ? AND s.user_id = ?) ORDER BY created_at DESC, id DESC`,
    ),
    ownShare: sql('SELECT id FROM shares WHERE id = ? AND user_id = ?'),
    deleteShareMessages: sql('DELETE FROM share_messages WHERE share_id = ?'),
    deleteShare: sql('DELETE FROM shares WHERE id = ?'),
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
    ownedMessage: sql(
      `SELECT ${MESSAGE_COLUMNS.split(', ').map((column) => `m.${column}`).join(', ')} FROM messages m
       JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ? AND c.user_id = ?`,
    ),
    insertUsage: sql(
      'INSERT INTO token_usage (message_id, user_id, created_at, prompt_tokens, completion_tokens) VALUES (?, ?, ?, 0, 0)',
    ),
    insertSideUsage: sql(
      'INSERT INTO token_usage (message_id, user_id, created_at, prompt_tokens, completion_tokens) VALUES (?, ?, ?, ?, ?)',
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

  type NewMessageFields = {
    role: 'user' | 'assistant';
    text: string;
    status: StoredMessageStatus;
    model: string | null;
    turn: number;
    questionId: string | null;
  };

  /** Inside a transaction: the next message of a conversation the caller found owned and idle, at `seq`. */
  const appendMessage = (
    userId: string,
    conversationId: string,
    seq: number,
    fields: NewMessageFields,
  ): MessageRecord => {
    const at = now();
    const values: SQLInputValue[] = [
      ids(),
      conversationId,
      seq,
      fields.role,
      fields.text,
      fields.status,
      fields.model,
      at,
      at,
      fields.turn,
      fields.questionId,
    ];
    const row = statements.insertMessage.get(...values);
    if (row === undefined) throw new Error('INSERT … RETURNING returned no row');
    const message = toMessage(row);
    statements.touchConversation.run(at, conversationId);
    if (fields.role === 'assistant') statements.insertUsage.run(message.id, userId, at);
    return message;
  };

  /**
   * Inside a transaction: the conversation is the user's and no reply of it streams; answers the
   * next seq and its last turn (0 when it has none).
   */
  const idleConversation = (userId: string, conversationId: string): { seq: number; lastTurn: number } => {
    ownedConversation(userId, conversationId);
    if (statements.streamingReply.get(conversationId) !== undefined) {
      throw new WxstreamError('reply_in_progress', `A reply is still being written in conversation ${conversationId}`);
    }
    const row = statements.nextSeqAndTurn.get(conversationId);
    if (row === undefined) throw new Error('MAX(seq) returned no row');
    return { seq: integer(row, 'seq'), lastTurn: integer(row, 'turn') };
  };

  /** Inside a transaction: the last turn's current question (and reply), which must be `questionId`. */
  const lastTurnOf = (conversationId: string, lastTurn: number, questionId: string): { question: MessageRecord; reply: MessageRecord | undefined } => {
    const current = statements.turnMessages.all(conversationId, lastTurn).map(toMessage);
    const question = current.find((message) => message.role === 'user');
    if (question === undefined || question.id !== questionId) throw noTurnToRevise(conversationId, questionId);
    return { question, reply: current.find((message) => message.role === 'assistant') };
  };

  const insertMessage = (userId: string, conversationId: string, fields: Omit<NewMessageFields, 'turn' | 'questionId'>): MessageRecord =>
    transaction(() => {
      const { seq, lastTurn } = idleConversation(userId, conversationId);
      // A user message opens a turn; a reply joins the last one and answers its current question.
      if (fields.role === 'user') return appendMessage(userId, conversationId, seq, { ...fields, turn: lastTurn + 1, questionId: null });
      const question = statements.turnMessages.all(conversationId, lastTurn).map(toMessage).find((message) => message.role === 'user');
      return appendMessage(userId, conversationId, seq, { ...fields, turn: lastTurn, questionId: question?.id ?? null });
    });

  /** Inside a transaction: a question and its `streaming` reply as the current version of `turn`. */
  const startVersion = (userId: string, conversationId: string, seq: number, turn: number, text: string, model: string): StartedTurn => {
    const userMessage = appendMessage(userId, conversationId, seq, { role: 'user', text, status: 'complete', model: null, turn, questionId: null });
    const reply = appendMessage(userId, conversationId, seq + 1, {
      role: 'assistant',
      text: '',
      status: 'streaming',
      model,
      turn,
      questionId: userMessage.id,
    });
    return { conversationId, userMessage, reply };
  };

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

    async setGeneratedTitle(userId, conversationId, title) {
      const row = statements.generatedTitle.get(normalizeTitle(title), conversationId, userId);
      return row === undefined ? undefined : toConversation(row);
    },

    async deleteConversation(userId, conversationId) {
      transaction(() => {
        ownedConversation(userId, conversationId);
        statements.deleteConversationShareMessages.run(conversationId);
        statements.deleteConversationShares.run(conversationId);
        statements.deleteMessages.run(conversationId);
        statements.deleteConversation.run(conversationId, userId);
      });
    },

    async listMessages(userId, conversationId) {
      ownedConversation(userId, conversationId);
      return statements.messages.all(conversationId).map(toMessage);
    },

    async listMessagePage(userId, conversationId, pageOptions = {}) {
      ownedConversation(userId, conversationId);
      const limit = pageSize(pageOptions.limit, { size: DEFAULT_MESSAGE_PAGE_SIZE, max: MAX_MESSAGE_PAGE_SIZE });
      const before = pageOptions.before;
      // One row more than the page tells whether an older page exists.
      const rows =
        before === undefined || before === null
          ? statements.newestMessages.all(conversationId, limit + 1)
          : (() => {
              const at = decodeMessageCursor(before);
              return statements.messagesBefore.all(conversationId, at.turn, at.turn, at.seq, limit + 1);
            })();
      return newestPage(rows.map(toMessage), limit, encodeMessageCursor);
    },

    async listTurnVersions(userId, conversationId, range) {
      ownedConversation(userId, conversationId);
      const from = range?.fromTurn ?? 0;
      const to = range?.toTurn ?? Number.MAX_SAFE_INTEGER;
      return statements.versions.all(conversationId, from, to, conversationId).map(toVersion);
    },

    async setCurrentVersion(userId, conversationId, messageId) {
      return transaction(() => {
        ownedConversation(userId, conversationId);
        const row = statements.versionReply.get(conversationId, messageId, messageId);
        if (row === undefined) throw new WxstreamError('not_found', `No version ${messageId} in conversation ${conversationId}`);
        const reply = toMessage(row);
        if (statements.streamingInTurn.get(conversationId, reply.turn) !== undefined) {
          throw new WxstreamError('reply_in_progress', `A reply of turn ${reply.turn} is still being written`);
        }
        statements.makeCurrent.run(reply.id, reply.questionId ?? reply.id, conversationId, reply.turn);
        return statements.turnMessages.all(conversationId, reply.turn).map(toMessage);
      });
    },

    async getMessage(userId, messageId) {
      const row = statements.ownedMessage.get(messageId, userId);
      return row === undefined ? undefined : toMessage(row);
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
        // A conversation created in this transaction has no messages: nothing streams, seq and turn start at 1.
        const conversationId = 'id' in target ? target.id : insertConversation(userId, target.newTitle).id;
        const { seq, lastTurn } = 'id' in target ? idleConversation(userId, conversationId) : { seq: 1, lastTurn: 0 };
        return startVersion(userId, conversationId, seq, lastTurn + 1, turn.text, turn.model);
      });
    },

    async startRegeneration(userId, regeneration) {
      const { conversationId } = regeneration;
      return transaction(() => {
        const { seq, lastTurn } = idleConversation(userId, conversationId);
        const { question, reply } = lastTurnOf(conversationId, lastTurn, regeneration.questionId);
        if (reply === undefined) throw noTurnToRevise(conversationId, regeneration.questionId);
        statements.retireReplies.run(conversationId, lastTurn);
        const started = appendMessage(userId, conversationId, seq, {
          role: 'assistant',
          text: '',
          status: 'streaming',
          model: regeneration.model,
          turn: lastTurn,
          questionId: question.id,
        });
        return { conversationId, userMessage: question, reply: started };
      });
    },

    async startEdit(userId, edit) {
      const { conversationId } = edit;
      return transaction(() => {
        const { seq, lastTurn } = idleConversation(userId, conversationId);
        lastTurnOf(conversationId, lastTurn, edit.questionId);
        statements.retireTurn.run(conversationId, lastTurn);
        return startVersion(userId, conversationId, seq, lastTurn, edit.text, edit.model);
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

    async setFeedback(userId, messageId, feedback) {
      const row = statements.setFeedback.get(
        feedback?.rating ?? null,
        feedback?.comment ?? null,
        feedback === null ? null : now(),
        messageId,
        userId,
      );
      if (row === undefined) throw new WxstreamError('not_found', `No reply ${messageId}`);
      return toMessage(row);
    },

    async createShare(userId, conversationId, shareId) {
      return transaction(() => {
        const conversation = ownedConversation(userId, conversationId);
        const at = now();
        statements.insertShare.run(shareId, userId, conversationId, conversation.title, at);
        const copied = Number(statements.snapshotMessages.run(shareId, conversationId).changes);
        if (copied === 0) throw nothingToShare(conversationId);
        return { id: shareId, title: conversation.title, createdAt: at, messageCount: copied };
      });
    },

    async getShare(shareId) {
      const row = statements.share.get(shareId);
      if (row === undefined) return undefined;
      return sharedSnapshot(row, statements.shareMessages.all(shareId), integer);
    },

    async listShares(userId, conversationId) {
      ownedConversation(userId, conversationId);
      return statements.shares.all(conversationId, userId).map(toShare);
    },

    async deleteShare(userId, shareId) {
      transaction(() => {
        if (statements.ownShare.get(shareId, userId) === undefined) throw new WxstreamError('not_found', `No share ${shareId}`);
        statements.deleteShareMessages.run(shareId);
        statements.deleteShare.run(shareId);
      });
    },

    async recordSideUsage(userId, entryId, usage) {
      assertValidPatch({ usage });
      statements.insertSideUsage.run(entryId, userId, now(), usage.promptTokens, usage.completionTokens);
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
