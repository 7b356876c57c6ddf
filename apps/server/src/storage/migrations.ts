/**
 * The database schema as an ordered list of migrations, and the SQLite runner that applies them.
 *
 * Contract: versions are 1, 2, 3 … and a released migration is never edited — a change is a new
 * one. `applyMigrations` records each applied version in `schema_migrations (version, name,
 * applied_at)`, applies every pending one in ONE transaction (all or nothing) and returns the
 * versions it applied; a second run applies nothing. It takes the write lock before reading what
 * is applied, so two processes opening the same file cannot both apply a version. A database that
 * already holds a version this code does not know (written by a newer release) is refused rather
 * than used with a schema we cannot read correctly.
 *
 * Both engines run this one list, in the same order, recording versions the same way: SQLite
 * through `applyMigrations` here, PostgreSQL through `applyPostgresMigrations` in
 * `postgres-store.ts` (a transaction under an advisory lock). `planMigrations` is the rule both
 * share. A migration's SQL is one text for both engines; where they must differ it is a pair
 * `{ sqlite, postgres }` and `migrationSql` picks the engine's — each such place says why.
 *
 * Portability: the SQL is written to run unchanged on SQLite and PostgreSQL.
 * - Times are BIGINT milliseconds (SQLite gives any type containing "INT" integer affinity and
 *   stores 64-bit integers; PostgreSQL needs BIGINT, since INTEGER is 32-bit there).
 * - Text is TEXT, flags and enumerations are TEXT with CHECK constraints: no SQLite-only types,
 *   no AUTOINCREMENT, no PostgreSQL-only types (no SERIAL, TIMESTAMPTZ, JSONB), ids are app-made.
 * - Partial indexes (`WHERE status = 'streaming'`), `ON CONFLICT … DO NOTHING` and `RETURNING`
 *   exist in both (SQLite ≥ 3.35; node:sqlite bundles 3.5x).
 * - Foreign keys have no ON DELETE CASCADE: deletes are explicit in a transaction, so a forgotten
 *   child row is a constraint error instead of silent data loss. SQLite only enforces foreign keys
 *   with `PRAGMA foreign_keys = ON` (set at open); PostgreSQL always does.
 * - SQLite runs DDL inside the transaction like PostgreSQL does, so both roll back a failed
 *   migration whole.
 */
import type { DatabaseSync } from 'node:sqlite';

export type SqlDialect = 'sqlite' | 'postgres';

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** The same SQL for both engines, or one text per engine where they must differ. */
  readonly sql: string | Readonly<Record<SqlDialect, string>>;
}

export function migrationSql(migration: Migration, dialect: SqlDialect): string {
  return typeof migration.sql === 'string' ? migration.sql : migration.sql[dialect];
}

/**
 * The one engine difference of version 1. The conversation list breaks `updated_at` ties by id and
 * its cursor compares ids with `<`, so the id order must be the same everywhere. SQLite compares
 * text byte-wise (BINARY); PostgreSQL uses the database's collation, which is often a linguistic
 * one (en_US.UTF-8 puts 'a' before 'B') and can change with a C library upgrade under an existing
 * index. `COLLATE "C"` makes PostgreSQL compare these ids byte-wise too — and faster.
 */
const CONVERSATION_ID_TYPE: Readonly<Record<SqlDialect, string>> = { sqlite: 'TEXT', postgres: 'TEXT COLLATE "C"' };

function usersConversationsMessagesAndLedger(dialect: SqlDialect): string {
  return `
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        identity TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL
      );

      CREATE TABLE conversations (
        id ${CONVERSATION_ID_TYPE[dialect]} PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id),
        title TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      -- The list query: one user's conversations, newest first, keyset-paginated.
      CREATE INDEX conversations_by_user_recency ON conversations (user_id, updated_at DESC, id DESC);

      CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversations (id),
        seq INTEGER NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        text TEXT NOT NULL,
        reasoning TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('streaming', 'complete', 'stopped', 'error', 'blocked')),
        finish_reason TEXT,
        error_code TEXT,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        model TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        UNIQUE (conversation_id, seq)
      );
      -- Replies in flight are few; this keeps the start-up sweep and the one-reply check cheap.
      CREATE INDEX messages_streaming ON messages (conversation_id, updated_at) WHERE status = 'streaming';

      -- One row per reply, kept when its conversation is deleted (no foreign key to messages), so
      -- deleting conversations cannot reset a daily quota.
      CREATE TABLE token_usage (
        message_id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id),
        created_at BIGINT NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL
      );
      CREATE INDEX token_usage_by_user_time ON token_usage (user_id, created_at);
    `;
}

/**
 * Version 2: turns with versions, feedback, title sources and shares.
 * - `turn` numbers a conversation's questions and their replies; `question_id` links a reply to its
 *   question; `is_current` (0/1: PostgreSQL has no implicit integer-boolean) marks the version shown.
 *   Existing messages are numbered from their order: a user message starts a turn, a reply joins the
 *   turn of the user message before it. Every existing message is current (nothing had versions).
 * - Feedback is three nullable columns of the reply it rates (one rating per reply, the owner's).
 * - `title_source`: existing titles count as automatic (`auto`); a later rename makes them `user`.
 * - A share is a row plus a copy of the messages it showed (`share_messages`), so nothing done to
 *   the conversation later changes what its readers see. Their ids are app-made random strings.
 * One text for both engines: SQLite takes one ADD COLUMN per ALTER TABLE, which PostgreSQL accepts too.
 */
const TURN_VERSIONS_FEEDBACK_TITLES_SHARES = `
  ALTER TABLE messages ADD COLUMN turn INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN question_id TEXT;
  ALTER TABLE messages ADD COLUMN is_current INTEGER NOT NULL DEFAULT 1 CHECK (is_current IN (0, 1));
  ALTER TABLE messages ADD COLUMN feedback_rating TEXT CHECK (feedback_rating IN ('up', 'down'));
  ALTER TABLE messages ADD COLUMN feedback_comment TEXT;
  ALTER TABLE messages ADD COLUMN feedback_at BIGINT;
  UPDATE messages SET turn = (
    SELECT COUNT(*) FROM messages q
    WHERE q.conversation_id = messages.conversation_id AND q.role = 'user' AND q.seq <= messages.seq
  );
  UPDATE messages SET question_id = (
    SELECT q.id FROM messages q
    WHERE q.conversation_id = messages.conversation_id AND q.role = 'user' AND q.seq < messages.seq
    ORDER BY q.seq DESC LIMIT 1
  ) WHERE role = 'assistant';
  -- Reading a conversation (whole or a page): its current messages in turn order.
  CREATE INDEX messages_current_in_order ON messages (conversation_id, is_current, turn, seq);

  ALTER TABLE conversations ADD COLUMN title_source TEXT NOT NULL DEFAULT 'auto' CHECK (title_source IN ('auto', 'model', 'user'));

  CREATE TABLE shares (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    title TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX shares_by_conversation ON shares (conversation_id, created_at);

  CREATE TABLE share_messages (
    share_id TEXT NOT NULL REFERENCES shares (id),
    ord INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (share_id, ord)
  );
`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'users, conversations, messages and the token ledger',
    sql: { sqlite: usersConversationsMessagesAndLedger('sqlite'), postgres: usersConversationsMessagesAndLedger('postgres') },
  },
  { version: 2, name: 'turn versions, feedback, title sources and shares', sql: TURN_VERSIONS_FEEDBACK_TITLES_SHARES },
];

/** The same on both engines. */
export const CREATE_MIGRATIONS_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL
  )
`;

export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/** Versions must be 1, 2, 3 … in order: a gap or a duplicate is a mistake in the list, not in the database. */
export function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new MigrationError(`migration #${index} has version ${migration.version}; expected ${index + 1}`);
    }
  });
}

/**
 * The migrations still to apply, in order, given the versions a database has recorded. Refuses a
 * database that holds a version this code does not know (written by a newer release) rather than
 * use a schema we cannot read correctly. Call it after taking the migration lock.
 */
export function planMigrations(migrations: readonly Migration[], appliedVersions: readonly number[]): Migration[] {
  checkMigrationList(migrations);
  const applied = new Set(appliedVersions);
  const newest = Math.max(0, ...applied);
  if (newest > migrations.length) {
    throw new MigrationError(
      `the database is at schema version ${newest}, newer than this server knows (${migrations.length}); upgrade the server`,
    );
  }
  return migrations.filter((migration) => !applied.has(migration.version));
}

/** The SQLite runner. */
export function applyMigrations(db: DatabaseSync, migrations: readonly Migration[], nowMs: number): number[] {
  checkMigrationList(migrations);
  db.exec(CREATE_MIGRATIONS_TABLE);
  // IMMEDIATE takes the write lock now, before we read which versions are applied.
  db.exec('BEGIN IMMEDIATE');
  try {
    const rows = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
    const pending = planMigrations(migrations, rows.map((row) => Number(row.version)));
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    const appliedNow: number[] = [];
    for (const migration of pending) {
      try {
        db.exec(migrationSql(migration, 'sqlite'));
      } catch (error) {
        throw new MigrationError(`migration ${migration.version} (${migration.name}) failed`, { cause: error });
      }
      record.run(migration.version, migration.name, nowMs);
      appliedNow.push(migration.version);
    }
    db.exec('COMMIT');
    return appliedNow;
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}
