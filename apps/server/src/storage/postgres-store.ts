/**
 * `ConversationStore` on PostgreSQL through `pg` — the backend for running more than one server on
 * one database.
 *
 * Contract: `openPostgresStore` opens a connection pool, applies pending migrations and resolves to
 * a store that meets the same `ConversationStore` contract (and passes the same suite) as the
 * SQLite one. How the guarantees carry over from one file to many processes:
 * - Migrations: `applyPostgresMigrations` runs them in ONE transaction after taking a
 *   transaction-scoped advisory lock, so instances starting together apply each version once; the
 *   others wait for the lock, then find nothing to do. DDL is transactional in PostgreSQL, so a
 *   failed migration leaves no trace.
 * - One streaming reply per conversation: where SQLite takes the write lock (`BEGIN IMMEDIATE`),
 *   we lock the conversation row (`SELECT … FOR UPDATE`) and only then look for a streaming reply
 *   and the next `seq`. Under READ COMMITTED every statement after the lock wait reads a fresh
 *   snapshot, so a competitor's just-committed reply is seen; the same lock serialises `seq` and
 *   makes a delete wait for an insert in flight.
 * - Single statements are atomic without a transaction; a reply's update and its usage write are
 *   one statement (data-modifying CTEs), so they need no explicit transaction either.
 * - Times are BIGINT milliseconds. `pg` hands BIGINT (and COUNT/SUM) back as strings so that no
 *   precision is lost silently; we convert them to numbers and refuse any beyond 2^53.
 *
 * Queries are unnamed (parsed per call), so a transaction-pooling PgBouncer in front works as is.
 * `schema` puts our tables in a schema of their own through the connection's `search_path`
 * (tests use a throw-away one); without it, the URL's or the server's default applies.
 */
import { randomUUID } from 'node:crypto';
import { Pool, type PoolClient, type QueryConfig } from 'pg';
import { WxstreamError, type StoredMessageStatus } from '@wxstream/protocol';
import {
  DEFAULT_MESSAGE_PAGE_SIZE,
  INTERRUPTED_REPLY_ERROR_CODE,
  MAX_MESSAGE_PAGE_SIZE,
  pageSize,
  type AssistantMessagePatch,
  type ConversationListOptions,
  type ConversationListPage,
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
import {
  CREATE_MIGRATIONS_TABLE,
  MIGRATIONS,
  MigrationError,
  migrationSql,
  planMigrations,
  type Migration,
} from './migrations.ts';

export const DEFAULT_POOL_SIZE = 10;
/** A database that cannot be reached fails the call after this long instead of hanging it. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/**
 * The advisory-lock key of migrations: a constant class ('wxst' as an int4) plus the schema's
 * hash, so two schemas in one database (two apps, or parallel test runs) do not wait for each other.
 */
const MIGRATION_LOCK_CLASS = 0x77787374;

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database` — the `DATABASE_URL`. */
  readonly connectionString: string;
  readonly clock: { now(): number };
  readonly ids?: () => string;
  /** An existing schema to keep our tables in (`[a-z_][a-z0-9_]*`); see the module comment. */
  readonly schema?: string;
  /** Connections per process; default `DEFAULT_POOL_SIZE`. */
  readonly poolSize?: number;
  readonly connectTimeoutMs?: number;
  /**
   * An idle pooled connection failed (the database restarted, the network dropped). The pool has
   * already discarded it and the next query opens a new one; this is for the log. Without a
   * listener `pg` would raise it as an uncaught exception and end the process.
   */
  readonly onIdleConnectionError: (error: Error) => void;
  /** Defaults to the schema's `MIGRATIONS`; tests pass a longer list to exercise upgrades. */
  readonly migrations?: readonly Migration[];
}

export interface PostgresConversationStore extends ConversationStore {
  /** The migration versions this open applied (empty when the schema was current), for the start-up log. */
  readonly appliedMigrations: readonly number[];
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** INTEGER arrives as a number, BIGINT (and COUNT, SUM) as a decimal string. */
function integer(row: Row, column: string): number {
  const value = row[column];
  const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) {
    throw new Error(`column ${column} is not an integer within ±2^53`);
  }
  return number;
}

const { toUser, toConversation, toMessage, toVersion, toShare } = recordReaders(integer);

function qualified(columns: string, table: string): string {
  return columns
    .split(', ')
    .map((column) => `${table}.${column}`)
    .join(', ');
}

/** Explicit parameter types: a parameter used only in `COALESCE` or `IS NULL` has no type to infer. */
const SQL = {
  insertUser: 'INSERT INTO users (id, identity, created_at) VALUES ($1, $2, $3) ON CONFLICT (identity) DO NOTHING',
  userByIdentity: 'SELECT id, identity, created_at FROM users WHERE identity = $1',
  insertConversation: `INSERT INTO conversations (id, user_id, title, title_source, created_at, updated_at)
    VALUES ($1, $2, $3, 'auto', $4, $4) RETURNING ${CONVERSATION_COLUMNS}`,
  conversation: `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = $1 AND user_id = $2`,
  lockConversation: 'SELECT id FROM conversations WHERE id = $1 AND user_id = $2 FOR UPDATE',
  firstPage: `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE user_id = $1
    ORDER BY updated_at DESC, id DESC LIMIT $2`,
  pageAfter: `SELECT ${CONVERSATION_COLUMNS} FROM conversations
    WHERE user_id = $1 AND (updated_at < $2 OR (updated_at = $2 AND id < $3))
    ORDER BY updated_at DESC, id DESC LIMIT $4`,
  renameConversation: `UPDATE conversations SET title = $1, title_source = 'user' WHERE id = $2 AND user_id = $3
    RETURNING ${CONVERSATION_COLUMNS}`,
  generatedTitle: `UPDATE conversations SET title = $1, title_source = 'model' WHERE id = $2 AND user_id = $3 AND title_source <> 'user'
    RETURNING ${CONVERSATION_COLUMNS}`,
  deleteMessages: 'DELETE FROM messages WHERE conversation_id = $1',
  deleteConversationShareMessages: 'DELETE FROM share_messages WHERE share_id IN (SELECT id FROM shares WHERE conversation_id = $1)',
  deleteConversationShares: 'DELETE FROM shares WHERE conversation_id = $1',
  deleteConversation: 'DELETE FROM conversations WHERE id = $1',
  // One snapshot for "is it yours" and "what is in it": no rows means not found, one row with a
  // NULL message id means an empty conversation.
  messages: `SELECT ${qualified(MESSAGE_COLUMNS, 'm')} FROM conversations c
    LEFT JOIN messages m ON m.conversation_id = c.id AND m.is_current = 1
    WHERE c.id = $1 AND c.user_id = $2 ORDER BY m.turn, m.seq`,
  newestMessages: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND is_current = 1
    ORDER BY turn DESC, seq DESC LIMIT $2`,
  messagesBefore: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND is_current = 1
      AND (turn < $2 OR (turn = $2 AND seq < $3))
    ORDER BY turn DESC, seq DESC LIMIT $4`,
  versions: `SELECT ${VERSION_COLUMNS} FROM messages WHERE conversation_id = $1 AND role = 'assistant' AND turn BETWEEN $2 AND $3
      AND turn IN (SELECT turn FROM messages WHERE conversation_id = $1 AND role = 'assistant' GROUP BY turn HAVING COUNT(*) > 1)
    ORDER BY turn, seq`,
  // The version a message names: the reply itself, or for a question the latest reply to it.
  versionReply: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $2 AND role = 'assistant' AND (id = $1 OR question_id = $1)
    ORDER BY seq DESC LIMIT 1`,
  turnMessages: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND turn = $2 AND is_current = 1 ORDER BY seq`,
  streamingInTurn: `SELECT id FROM messages WHERE conversation_id = $1 AND turn = $2 AND status = 'streaming' LIMIT 1`,
  makeCurrent: 'UPDATE messages SET is_current = CASE WHEN id = $1 OR id = $2 THEN 1 ELSE 0 END WHERE conversation_id = $3 AND turn = $4',
  retireTurn: 'UPDATE messages SET is_current = 0 WHERE conversation_id = $1 AND turn = $2 AND is_current = 1',
  retireReplies: `UPDATE messages SET is_current = 0 WHERE conversation_id = $1 AND turn = $2 AND role = 'assistant' AND is_current = 1`,
  ownedMessage: `SELECT ${qualified(MESSAGE_COLUMNS, 'm')} FROM messages m
    JOIN conversations c ON c.id = m.conversation_id WHERE m.id = $1 AND c.user_id = $2`,
  messageCount: `SELECT (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.is_current = 1) AS count
    FROM conversations c WHERE c.id = $1 AND c.user_id = $2`,
  // Runs after the row lock, so it reads what the previous holder committed.
  replyInFlightAndNextSeq: `SELECT
      EXISTS (SELECT 1 FROM messages WHERE conversation_id = $1 AND status = 'streaming') AS in_flight,
      (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = $1) AS seq,
      (SELECT COALESCE(MAX(turn), 0) FROM messages WHERE conversation_id = $1) AS turn`,
  insertMessage: `WITH inserted AS (
      INSERT INTO messages (${NEW_MESSAGE_COLUMNS})
      VALUES ($1, $2, $3, $4, $5, '', $6, $7, $8::bigint, $8::bigint, $10::integer, $11::text, 1)
      RETURNING ${MESSAGE_COLUMNS}
    ), touched AS (
      UPDATE conversations SET updated_at = $8::bigint WHERE id = $2
    ), ledger AS (
      INSERT INTO token_usage (message_id, user_id, created_at, prompt_tokens, completion_tokens)
      SELECT id, $9::text, $8::bigint, 0, 0 FROM inserted WHERE role = 'assistant'
    )
    SELECT ${MESSAGE_COLUMNS} FROM inserted`,
  // COALESCE keeps a column the patch leaves out. The ledger is written when this update took
  // effect, or when the message no longer exists (its conversation was deleted mid-reply: the
  // tokens were still used); an already finished reply keeps the usage of its final write.
  updateStreamingReply: `WITH updated AS (
      UPDATE messages SET
        text = COALESCE($2::text, text),
        reasoning = COALESCE($3::text, reasoning),
        status = COALESCE($4::text, status),
        finish_reason = COALESCE($5::text, finish_reason),
        error_code = COALESCE($6::text, error_code),
        prompt_tokens = COALESCE($7::integer, prompt_tokens),
        completion_tokens = COALESCE($8::integer, completion_tokens),
        model = COALESCE($9::text, model),
        updated_at = $10::bigint
      WHERE id = $1::text AND role = 'assistant' AND status = 'streaming'
      RETURNING ${MESSAGE_COLUMNS}
    ), ledger AS (
      UPDATE token_usage SET prompt_tokens = $7::integer, completion_tokens = $8::integer
      WHERE message_id = $1::text AND $7::integer IS NOT NULL
        AND (EXISTS (SELECT 1 FROM updated) OR NOT EXISTS (SELECT 1 FROM messages WHERE id = $1::text))
    )
    SELECT ${MESSAGE_COLUMNS} FROM updated`,
  interruptAll: `UPDATE messages SET status = 'error', error_code = $1, updated_at = $2 WHERE status = 'streaming'`,
  interruptStale: `UPDATE messages SET status = 'error', error_code = $1, updated_at = $2
    WHERE status = 'streaming' AND updated_at < $3`,
  usageSince: `SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) AS total FROM token_usage
    WHERE user_id = $1 AND created_at >= $2`,
  insertSideUsage: 'INSERT INTO token_usage (message_id, user_id, created_at, prompt_tokens, completion_tokens) VALUES ($1, $2, $3, $4, $5)',
  setFeedback: `UPDATE messages SET feedback_rating = $1::text, feedback_comment = $2::text, feedback_at = $3::bigint
    WHERE id = $4 AND role = 'assistant' AND conversation_id IN (SELECT id FROM conversations WHERE user_id = $5)
    RETURNING ${MESSAGE_COLUMNS}`,
  insertShare: 'INSERT INTO shares (id, user_id, conversation_id, title, created_at) VALUES ($1, $2, $3, $4, $5)',
  snapshotMessages: `INSERT INTO share_messages (share_id, ord, role, text, created_at)
    SELECT $1, ROW_NUMBER() OVER (ORDER BY m.turn, m.seq), m.role, m.text, m.created_at FROM messages m
    WHERE m.conversation_id = $2 AND m.is_current = 1 AND m.text <> '' AND m.status NOT IN ('blocked', 'streaming')
      AND NOT EXISTS (SELECT 1 FROM messages r WHERE r.conversation_id = m.conversation_id AND r.turn = m.turn
                      AND r.is_current = 1 AND r.role = 'assistant' AND r.status IN ('blocked', 'streaming'))`,
  share: 'SELECT title, created_at FROM shares WHERE id = $1',
  shareMessages: 'SELECT role, text, created_at FROM share_messages WHERE share_id = $1 ORDER BY ord',
  shares: `SELECT ${SHARE_COLUMNS} FROM (SELECT s.id, s.title, s.created_at,
      (SELECT COUNT(*) FROM share_messages sm WHERE sm.share_id = s.id) AS message_count
    FROM shares s WHERE s.conversation_id = $1 AND s.user_id = $2) AS owned ORDER BY created_at DESC, id DESC`,
  ownShare: 'SELECT id FROM shares WHERE id = $1 AND user_id = $2 FOR UPDATE',
  deleteShareMessages: 'DELETE FROM share_messages WHERE share_id = $1',
  deleteShare: 'DELETE FROM shares WHERE id = $1',
} as const;

function firstRow(rows: readonly Row[], what: string): Row {
  const row = rows[0];
  if (row === undefined) throw new Error(`${what} returned no row`);
  return row;
}

/** Runs `work` inside BEGIN … COMMIT on one pooled connection; any failure rolls back. */
async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
      client.release();
    } catch (rollbackError) {
      // The connection is in an unknown state: destroy it rather than hand it to the next caller.
      client.release(rollbackError instanceof Error ? rollbackError : true);
    }
    throw error;
  }
}

/**
 * The PostgreSQL runner of the shared migration list. Returns the versions it applied. The lock
 * is taken before `schema_migrations` is even created: two first-ever starts would otherwise race
 * on `CREATE TABLE IF NOT EXISTS`, which is not safe against a concurrent creation.
 */
export async function applyPostgresMigrations(
  client: PoolClient,
  migrations: readonly Migration[],
  nowMs: number,
): Promise<number[]> {
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock($1::integer, hashtext(COALESCE(current_schema(), '')))`, [
      MIGRATION_LOCK_CLASS,
    ]);
    await client.query(CREATE_MIGRATIONS_TABLE);
    const { rows } = await client.query<Row>('SELECT version FROM schema_migrations ORDER BY version');
    const pending = planMigrations(
      migrations,
      rows.map((row) => integer(row, 'version')),
    );
    const appliedNow: number[] = [];
    for (const migration of pending) {
      try {
        await client.query(migrationSql(migration, 'postgres'));
      } catch (error) {
        throw new MigrationError(`migration ${migration.version} (${migration.name}) failed`, { cause: error });
      }
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        nowMs,
      ]);
      appliedNow.push(migration.version);
    }
    await client.query('COMMIT');
    return appliedNow;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      throw new AggregateError([error, rollbackError], 'migrating failed and so did the rollback');
    }
    throw error;
  }
}

function startupOptions(connectionString: string, schema: string | undefined): string | undefined {
  if (schema === undefined) return undefined;
  if (!SCHEMA_NAME.test(schema)) throw new Error(`schema "${schema}" is not a plain lower-case identifier`);
  // pg lets the URL's own `options` override ours without a word; refuse instead of guessing.
  if (/[?&]options=/.test(connectionString)) {
    throw new Error('give the schema either as the schema option or in the URL\'s options parameter, not both');
  }
  return `-c search_path=${schema}`;
}

export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresConversationStore> {
  const { clock } = options;
  const ids = options.ids ?? randomUUID;
  // A clock may have sub-millisecond precision; the columns hold whole milliseconds.
  const now = (): number => Math.floor(clock.now());

  const pool = new Pool({
    connectionString: options.connectionString,
    options: startupOptions(options.connectionString, options.schema),
    application_name: 'wxstream-server',
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  });
  pool.on('error', options.onIdleConnectionError);

  let appliedMigrations: number[];
  try {
    const client = await pool.connect();
    try {
      appliedMigrations = await applyPostgresMigrations(client, options.migrations ?? MIGRATIONS, now());
      client.release();
    } catch (error) {
      client.release(true);
      throw error;
    }
  } catch (error) {
    await pool.end();
    throw error;
  }

  const query = async (sql: string, values: QueryConfig['values'] = []): Promise<Row[]> =>
    (await pool.query<Row>(sql, values)).rows;

  type NewMessageFields = {
    role: 'user' | 'assistant';
    text: string;
    status: StoredMessageStatus;
    model: string | null;
    turn: number;
    questionId: string | null;
  };

  /** Inside a transaction: the next message of a conversation the caller locked and found idle, at `seq`. */
  const appendMessage = async (client: PoolClient, userId: string, conversationId: string, seq: number, fields: NewMessageFields): Promise<MessageRecord> => {
    const { rows } = await client.query<Row>(SQL.insertMessage, [
      ids(),
      conversationId,
      seq,
      fields.role,
      fields.text,
      fields.status,
      fields.model,
      now(),
      userId,
      fields.turn,
      fields.questionId,
    ]);
    return toMessage(firstRow(rows, 'INSERT … RETURNING'));
  };

  /**
   * Inside a transaction: locks the user's conversation, checks no reply of it streams, answers the
   * next seq and its last turn (0 when it has none).
   */
  const lockIdleConversation = async (client: PoolClient, userId: string, conversationId: string): Promise<{ seq: number; lastTurn: number }> => {
    const locked = await client.query(SQL.lockConversation, [conversationId, userId]);
    if (locked.rows.length === 0) throw notFound(conversationId);
    const state = firstRow((await client.query<Row>(SQL.replyInFlightAndNextSeq, [conversationId])).rows, 'the reply check');
    if (state.in_flight === true) {
      throw new WxstreamError('reply_in_progress', `A reply is still being written in conversation ${conversationId}`);
    }
    return { seq: integer(state, 'seq'), lastTurn: integer(state, 'turn') };
  };

  const currentOfTurn = async (client: PoolClient | Pool, conversationId: string, turn: number): Promise<MessageRecord[]> =>
    (await client.query<Row>(SQL.turnMessages, [conversationId, turn])).rows.map(toMessage);

  /** Inside a transaction: the last turn's current question (and reply), which must be `questionId`. */
  const lastTurnOf = async (
    client: PoolClient,
    conversationId: string,
    lastTurn: number,
    questionId: string,
  ): Promise<{ question: MessageRecord; reply: MessageRecord | undefined }> => {
    const current = await currentOfTurn(client, conversationId, lastTurn);
    const question = current.find((message) => message.role === 'user');
    if (question === undefined || question.id !== questionId) throw noTurnToRevise(conversationId, questionId);
    return { question, reply: current.find((message) => message.role === 'assistant') };
  };

  /** Inside a transaction: a question and its `streaming` reply as the current version of `turn`. */
  const startVersion = async (
    client: PoolClient,
    userId: string,
    conversationId: string,
    seq: number,
    turn: number,
    text: string,
    model: string,
  ): Promise<StartedTurn> => {
    const userMessage = await appendMessage(client, userId, conversationId, seq, { role: 'user', text, status: 'complete', model: null, turn, questionId: null });
    const reply = await appendMessage(client, userId, conversationId, seq + 1, {
      role: 'assistant',
      text: '',
      status: 'streaming',
      model,
      turn,
      questionId: userMessage.id,
    });
    return { conversationId, userMessage, reply };
  };

  const insertMessage = (userId: string, conversationId: string, fields: Omit<NewMessageFields, 'turn' | 'questionId'>): Promise<MessageRecord> =>
    inTransaction(pool, async (client) => {
      const { seq, lastTurn } = await lockIdleConversation(client, userId, conversationId);
      // A user message opens a turn; a reply joins the last one and answers its current question.
      if (fields.role === 'user') return appendMessage(client, userId, conversationId, seq, { ...fields, turn: lastTurn + 1, questionId: null });
      const question = (await currentOfTurn(client, conversationId, lastTurn)).find((message) => message.role === 'user');
      return appendMessage(client, userId, conversationId, seq, { ...fields, turn: lastTurn, questionId: question?.id ?? null });
    });

  /** Throws `not_found` unless the conversation is the user's (one indexed read). */
  const assertOwned = async (userId: string, conversationId: string): Promise<void> => {
    if ((await query(SQL.conversation, [conversationId, userId])).length === 0) throw notFound(conversationId);
  };

  let closed = false;

  return {
    appliedMigrations,

    async ensureUser(identity) {
      if (identity === '') throw new Error('a user identity must not be empty');
      // Every authenticated request lands here and the user almost always exists: read first, so
      // only a first sight pays a second round trip (and a write).
      const existing = (await query(SQL.userByIdentity, [identity]))[0];
      if (existing !== undefined) return toUser(existing);
      await query(SQL.insertUser, [ids(), identity, now()]);
      // A separate statement: under READ COMMITTED it sees a row a concurrent first login committed.
      const row = (await query(SQL.userByIdentity, [identity]))[0];
      if (row === undefined) throw new Error(`user ${identity} vanished right after its insert`);
      return toUser(row);
    },

    async createConversation(userId, title) {
      const rows = await query(SQL.insertConversation, [ids(), userId, normalizeTitle(title), now()]);
      return toConversation(firstRow(rows, 'INSERT … RETURNING'));
    },

    async getConversation(userId, conversationId) {
      const row = (await query(SQL.conversation, [conversationId, userId]))[0];
      return row === undefined ? undefined : toConversation(row);
    },

    async listConversations(userId, listOptions: ConversationListOptions = {}): Promise<ConversationListPage> {
      const limit = pageSize(listOptions.limit);
      const cursor = listOptions.cursor;
      // One row more than the page tells whether another page exists without a COUNT.
      const rows =
        cursor === undefined || cursor === null
          ? await query(SQL.firstPage, [userId, limit + 1])
          : await (() => {
              const after = decodeListCursor(cursor);
              return query(SQL.pageAfter, [userId, after.updatedAt, after.id, limit + 1]);
            })();
      const items = rows.slice(0, limit).map(toConversation);
      const last = items.at(-1);
      const nextCursor = rows.length > limit && last !== undefined ? encodeListCursor(last) : null;
      return { items, nextCursor };
    },

    async renameConversation(userId, conversationId, title) {
      const row = (await query(SQL.renameConversation, [normalizeTitle(title), conversationId, userId]))[0];
      if (row === undefined) throw notFound(conversationId);
      return toConversation(row);
    },

    async setGeneratedTitle(userId, conversationId, title) {
      const row = (await query(SQL.generatedTitle, [normalizeTitle(title), conversationId, userId]))[0];
      return row === undefined ? undefined : toConversation(row);
    },

    async deleteConversation(userId, conversationId) {
      // The row lock makes a delete wait for a message or share insert in flight, so nothing can slip
      // in between the deletes and break a foreign key.
      await inTransaction(pool, async (client) => {
        const locked = await client.query(SQL.lockConversation, [conversationId, userId]);
        if (locked.rows.length === 0) throw notFound(conversationId);
        await client.query(SQL.deleteConversationShareMessages, [conversationId]);
        await client.query(SQL.deleteConversationShares, [conversationId]);
        await client.query(SQL.deleteMessages, [conversationId]);
        await client.query(SQL.deleteConversation, [conversationId]);
      });
    },

    async listMessages(userId, conversationId) {
      const rows = await query(SQL.messages, [conversationId, userId]);
      if (rows.length === 0) throw notFound(conversationId);
      return rows.filter((row) => row.id !== null).map(toMessage);
    },

    async listMessagePage(userId, conversationId, pageOptions = {}) {
      await assertOwned(userId, conversationId);
      const limit = pageSize(pageOptions.limit, { size: DEFAULT_MESSAGE_PAGE_SIZE, max: MAX_MESSAGE_PAGE_SIZE });
      const before = pageOptions.before;
      // One row more than the page tells whether an older page exists.
      const rows =
        before === undefined || before === null
          ? await query(SQL.newestMessages, [conversationId, limit + 1])
          : await (() => {
              const at = decodeMessageCursor(before);
              return query(SQL.messagesBefore, [conversationId, at.turn, at.seq, limit + 1]);
            })();
      return newestPage(rows.map(toMessage), limit, encodeMessageCursor);
    },

    async listTurnVersions(userId, conversationId, range) {
      await assertOwned(userId, conversationId);
      const rows = await query(SQL.versions, [conversationId, range?.fromTurn ?? 0, range?.toTurn ?? 2_147_483_647]);
      return rows.map(toVersion);
    },

    async setCurrentVersion(userId, conversationId, messageId) {
      return inTransaction(pool, async (client) => {
        // The conversation's row lock orders this against a regenerate or edit starting a version.
        const locked = await client.query(SQL.lockConversation, [conversationId, userId]);
        if (locked.rows.length === 0) throw notFound(conversationId);
        const row = (await client.query<Row>(SQL.versionReply, [messageId, conversationId])).rows[0];
        if (row === undefined) throw new WxstreamError('not_found', `No version ${messageId} in conversation ${conversationId}`);
        const reply = toMessage(row);
        if ((await client.query(SQL.streamingInTurn, [conversationId, reply.turn])).rows.length > 0) {
          throw new WxstreamError('reply_in_progress', `A reply of turn ${reply.turn} is still being written`);
        }
        await client.query(SQL.makeCurrent, [reply.id, reply.questionId ?? reply.id, conversationId, reply.turn]);
        return currentOfTurn(client, conversationId, reply.turn);
      });
    },

    async getMessage(userId, messageId) {
      const row = (await query(SQL.ownedMessage, [messageId, userId]))[0];
      return row === undefined ? undefined : toMessage(row);
    },

    async countMessages(userId, conversationId) {
      const row = (await query(SQL.messageCount, [conversationId, userId]))[0];
      if (row === undefined) throw notFound(conversationId);
      return integer(row, 'count');
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
      return inTransaction(pool, async (client) => {
        const target = turn.conversation;
        let conversationId: string;
        let at: { seq: number; lastTurn: number };
        if ('id' in target) {
          conversationId = target.id;
          at = await lockIdleConversation(client, userId, conversationId);
        } else {
          // Not visible to anyone else before COMMIT: no lock needed, nothing streams, seq and turn start at 1.
          const { rows } = await client.query<Row>(SQL.insertConversation, [ids(), userId, normalizeTitle(target.newTitle), now()]);
          conversationId = toConversation(firstRow(rows, 'INSERT … RETURNING')).id;
          at = { seq: 1, lastTurn: 0 };
        }
        return startVersion(client, userId, conversationId, at.seq, at.lastTurn + 1, turn.text, turn.model);
      });
    },

    async startRegeneration(userId, regeneration) {
      const { conversationId } = regeneration;
      return inTransaction(pool, async (client) => {
        const { seq, lastTurn } = await lockIdleConversation(client, userId, conversationId);
        const { question, reply } = await lastTurnOf(client, conversationId, lastTurn, regeneration.questionId);
        if (reply === undefined) throw noTurnToRevise(conversationId, regeneration.questionId);
        await client.query(SQL.retireReplies, [conversationId, lastTurn]);
        const started = await appendMessage(client, userId, conversationId, seq, {
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
      return inTransaction(pool, async (client) => {
        const { seq, lastTurn } = await lockIdleConversation(client, userId, conversationId);
        await lastTurnOf(client, conversationId, lastTurn, edit.questionId);
        await client.query(SQL.retireTurn, [conversationId, lastTurn]);
        return startVersion(client, userId, conversationId, seq, lastTurn, edit.text, edit.model);
      });
    },

    async updateAssistantMessage(messageId, patch: AssistantMessagePatch) {
      assertValidPatch(patch);
      const rows = await query(SQL.updateStreamingReply, [
        messageId,
        patch.text ?? null,
        patch.reasoning ?? null,
        patch.status ?? null,
        patch.finishReason ?? null,
        patch.errorCode ?? null,
        patch.usage?.promptTokens ?? null,
        patch.usage?.completionTokens ?? null,
        patch.model ?? null,
        now(),
      ]);
      const row = rows[0];
      return row === undefined ? undefined : toMessage(row);
    },

    async markInterruptedReplies(interruptOptions: InterruptedRepliesOptions = {}) {
      const result =
        interruptOptions.updatedBefore === undefined
          ? await pool.query(SQL.interruptAll, [INTERRUPTED_REPLY_ERROR_CODE, now()])
          : // The column holds whole milliseconds; a clock may hand out fractions.
            await pool.query(SQL.interruptStale, [INTERRUPTED_REPLY_ERROR_CODE, now(), Math.floor(interruptOptions.updatedBefore)]);
      return result.rowCount ?? 0;
    },

    async setFeedback(userId, messageId, feedback) {
      const row = (
        await query(SQL.setFeedback, [feedback?.rating ?? null, feedback?.comment ?? null, feedback === null ? null : now(), messageId, userId])
      )[0];
      if (row === undefined) throw new WxstreamError('not_found', `No reply ${messageId}`);
      return toMessage(row);
    },

    async createShare(userId, conversationId, shareId) {
      return inTransaction(pool, async (client) => {
        // Locked like a message insert, so the snapshot is one consistent state of the conversation.
        const locked = await client.query<Row>(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = $1 AND user_id = $2 FOR UPDATE`, [
          conversationId,
          userId,
        ]);
        const conversationRow = locked.rows[0];
        if (conversationRow === undefined) throw notFound(conversationId);
        const conversation = toConversation(conversationRow);
        const at = now();
        await client.query(SQL.insertShare, [shareId, userId, conversationId, conversation.title, at]);
        const copied = (await client.query(SQL.snapshotMessages, [shareId, conversationId])).rowCount ?? 0;
        if (copied === 0) throw nothingToShare(conversationId);
        return { id: shareId, title: conversation.title, createdAt: at, messageCount: copied };
      });
    },

    async getShare(shareId) {
      const row = (await query(SQL.share, [shareId]))[0];
      if (row === undefined) return undefined;
      return sharedSnapshot(row, await query(SQL.shareMessages, [shareId]), integer);
    },

    async listShares(userId, conversationId) {
      await assertOwned(userId, conversationId);
      return (await query(SQL.shares, [conversationId, userId])).map(toShare);
    },

    async deleteShare(userId, shareId) {
      await inTransaction(pool, async (client) => {
        if ((await client.query(SQL.ownShare, [shareId, userId])).rows.length === 0) throw new WxstreamError('not_found', `No share ${shareId}`);
        await client.query(SQL.deleteShareMessages, [shareId]);
        await client.query(SQL.deleteShare, [shareId]);
      });
    },

    async recordSideUsage(userId, entryId, usage) {
      assertValidPatch({ usage });
      await query(SQL.insertSideUsage, [entryId, userId, now(), usage.promptTokens, usage.completionTokens]);
    },

    async tokensUsedSince(userId, sinceMs) {
      const row = (await query(SQL.usageSince, [userId, sinceMs]))[0];
      return row === undefined ? 0 : integer(row, 'total');
    },

    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
