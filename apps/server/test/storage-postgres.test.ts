/**
 * The PostgreSQL store: the shared contract suite, then what only a networked database adds —
 * migrations under concurrent starts, persistence across reopen, and the one-streaming-reply rule
 * between servers (two pools) racing for the same conversation.
 *
 * Needs a PostgreSQL at TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); when
 * there is none the database tests are skipped with the reason. Every store lives in a schema of
 * its own, named after this run, created here and dropped at the end: nothing else in the database
 * is read or written.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Client, Pool } from 'pg';
import { MIGRATIONS, MigrationError, type Migration } from '../src/storage/migrations.ts';
import { describeDatabaseUrl, openStore } from '../src/storage/open-store.ts';
import { applyPostgresMigrations, openPostgresStore, type PostgresConversationStore } from '../src/storage/postgres-store.ts';
import { MEMORY_DATABASE_PATH, openSqliteStore } from '../src/storage/sqlite-store.ts';
import type { ConversationStore } from '../src/storage/conversation-store.ts';
import { createManualClock } from './support/manual-clock.ts';
import { describeConversationStoreContract, rejectsWithCode, scrambledIds } from './support/store-contract.ts';
import { assertVersionOneUpgraded, V1_TIME, VERSION_ONE_ROWS } from './support/version-one-data.ts';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const START = Date.UTC(2025, 5, 1);
const RUN = `wxstream_test_${randomBytes(5).toString('hex')}`;

async function unreachableReason(): Promise<string | undefined> {
  const client = new Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL is not reachable at ${describeDatabaseUrl(DATABASE_URL)} (${String(error)}); start one or set TEST_DATABASE_URL to run these tests`;
  } finally {
    await client.end();
  }
}

const skip = await unreachableReason();
const admin = skip === undefined ? new Pool({ connectionString: DATABASE_URL, max: 2 }) : undefined;
const schemas: string[] = [];
const idleConnectionErrors: Error[] = [];

function adminPool(): Pool {
  if (admin === undefined) throw new Error('no database');
  return admin;
}

async function freshSchema(): Promise<string> {
  const schema = `${RUN}_${schemas.length + 1}`;
  schemas.push(schema);
  await adminPool().query(`CREATE SCHEMA ${schema}`);
  return schema;
}

after(async () => {
  if (admin === undefined) return;
  try {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await admin.end();
  }
  assert.deepEqual(idleConnectionErrors, [], 'no pooled connection failed while idle');
});

function openIn(
  schema: string,
  overrides: { migrations?: readonly Migration[]; clock?: { now(): number }; ids?: () => string } = {},
): Promise<PostgresConversationStore> {
  return openPostgresStore({
    connectionString: DATABASE_URL,
    schema,
    clock: overrides.clock ?? createManualClock(START),
    ids: overrides.ids ?? scrambledIds(),
    poolSize: 4,
    onIdleConnectionError: (error) => idleConnectionErrors.push(error),
    ...(overrides.migrations === undefined ? {} : { migrations: overrides.migrations }),
  });
}

async function appliedVersions(schema: string): Promise<number[]> {
  const { rows } = await adminPool().query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
  return rows.map((row) => row.version);
}

async function tableCount(schema: string): Promise<number> {
  const { rows } = await adminPool().query<{ count: string }>('SELECT COUNT(*) AS count FROM pg_tables WHERE schemaname = $1', [schema]);
  return Number(rows[0]?.count);
}

/** Every version this server knows, and a migration a next release might add. */
const ALL_VERSIONS = MIGRATIONS.map((migration) => migration.version);
const NEXT = MIGRATIONS.length + 1;
const NEXT_ADD_PINNED: Migration = {
  version: NEXT,
  name: 'conversations can be pinned',
  sql: 'ALTER TABLE conversations ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0',
};

/** Holds the migration lock long enough that a second server starting "at once" really overlaps. */
const NEXT_SLOW_ADD_PINNED: Migration = { ...NEXT_ADD_PINNED, sql: `SELECT pg_sleep(0.2); ${NEXT_ADD_PINNED.sql}` };

describe('PostgreSQL store', { skip }, () => {
  describeConversationStoreContract('PostgreSQL', async (deps) => openIn(await freshSchema(), deps));

  test('everything written is there after closing and reopening, BIGINT times included', async () => {
    const schema = await freshSchema();
    const clock = createManualClock(START);
    const ids = scrambledIds();
    const store = await openIn(schema, { clock, ids });
    assert.deepEqual(store.appliedMigrations, ALL_VERSIONS);
    const user = await store.ensureUser('wechat:openid-1');
    const conversation = await store.createConversation(user.id, '上海天气');
    await store.addUserMessage(user.id, conversation.id, { text: '明天上海下雨吗？' });
    const reply = await store.startAssistantMessage(user.id, conversation.id, { model: 'qwen-plus' });
    clock.advance(1500);
    await store.updateAssistantMessage(reply.id, {
      text: '明天有小雨，记得带伞。',
      reasoning: '查天气',
      status: 'complete',
      finishReason: 'stop',
      usage: { promptTokens: 20, completionTokens: 11 },
    });
    const cutOff = await store.createConversation(user.id, 'cut off');
    await store.addUserMessage(user.id, cutOff.id, { text: 'long answer please' });
    const orphan = await store.startAssistantMessage(user.id, cutOff.id, { model: 'qwen-plus' });
    await store.updateAssistantMessage(orphan.id, { text: 'Once upon' });
    const before = {
      conversations: await store.listConversations(user.id),
      messages: await store.listMessages(user.id, conversation.id),
    };
    await store.close();

    const reopened = await openIn(schema, { clock, ids });
    try {
      assert.deepEqual(reopened.appliedMigrations, []);
      assert.deepEqual(await reopened.ensureUser('wechat:openid-1'), user);
      assert.deepEqual(await reopened.listConversations(user.id), before.conversations);
      assert.deepEqual(await reopened.listMessages(user.id, conversation.id), before.messages);
      assert.equal(before.messages[1]?.updatedAt, START + 1500, 'a time past 2^31 ms survives as a number');
      assert.equal(await reopened.tokensUsedSince(user.id, START), 31);
      assert.equal((await reopened.listMessages(user.id, cutOff.id))[1]?.status, 'streaming');
      assert.equal(await reopened.markInterruptedReplies(), 1);
      const swept = (await reopened.listMessages(user.id, cutOff.id))[1];
      assert.deepEqual([swept?.status, swept?.text, swept?.errorCode], ['error', 'Once upon', 'stream_interrupted']);
    } finally {
      await reopened.close();
    }
  });

  test('reopening applies only new migrations, once each, and keeps the data', async () => {
    const schema = await freshSchema();
    const clock = createManualClock(START);
    const first = await openIn(schema, { clock });
    const user = await first.ensureUser('dev:alice');
    const conversation = await first.createConversation(user.id, 'before the upgrade');
    await first.close();
    assert.deepEqual(await appliedVersions(schema), ALL_VERSIONS);

    const again = await openIn(schema, { clock });
    assert.deepEqual(again.appliedMigrations, []);
    await again.close();

    clock.advance(60_000);
    const upgraded = await openIn(schema, { clock, migrations: [...MIGRATIONS, NEXT_ADD_PINNED] });
    assert.deepEqual(upgraded.appliedMigrations, [NEXT]);
    assert.deepEqual(await upgraded.getConversation(user.id, conversation.id), conversation);
    await upgraded.close();
    const current = await openIn(schema, { clock, migrations: [...MIGRATIONS, NEXT_ADD_PINNED] });
    assert.deepEqual(current.appliedMigrations, []);
    await current.close();

    const { rows } = await adminPool().query<{ version: number; name: string; applied_at: string }>(
      `SELECT version, name, applied_at FROM ${schema}.schema_migrations ORDER BY version`,
    );
    assert.deepEqual(
      rows.map((row) => [row.version, row.name, Number(row.applied_at)]),
      [...MIGRATIONS.map((migration) => [migration.version, migration.name, START]), [NEXT, NEXT_ADD_PINNED.name, START + 60_000]],
    );
    const pinned = await adminPool().query(`SELECT pinned FROM ${schema}.conversations WHERE id = $1`, [conversation.id]);
    assert.deepEqual(pinned.rows, [{ pinned: 0 }]);
  });

  test('a version-1 schema is upgraded in place: its messages become turns, its replies name their questions', async () => {
    const schema = await freshSchema();
    const client = await adminPool().connect();
    try {
      await client.query(`SET search_path TO ${schema}`);
      await applyPostgresMigrations(client, MIGRATIONS.slice(0, 1), V1_TIME);
      await client.query(VERSION_ONE_ROWS);
      await client.query('RESET search_path');
    } finally {
      client.release();
    }
    const store = await openIn(schema);
    try {
      assert.deepEqual(store.appliedMigrations, ALL_VERSIONS.slice(1));
      await assertVersionOneUpgraded(store);
    } finally {
      await store.close();
    }
  });

  test('a failing migration rolls back every migration of that open, the bookkeeping table included', async () => {
    const schema = await freshSchema();
    const broken: Migration = { version: NEXT + 1, name: 'broken', sql: 'ALTER TABLE no_such_table ADD COLUMN x INTEGER' };
    await assert.rejects(
      openIn(schema, { migrations: [...MIGRATIONS, NEXT_ADD_PINNED, broken] }),
      (error: unknown) => error instanceof MigrationError && error.message.includes(`migration ${NEXT + 1} (broken) failed`),
    );
    assert.equal(await tableCount(schema), 0);

    const store = await openIn(schema);
    assert.deepEqual(store.appliedMigrations, ALL_VERSIONS);
    await store.close();
  });

  test('a schema from a newer server is refused instead of used', async () => {
    const schema = await freshSchema();
    await (await openIn(schema, { migrations: [...MIGRATIONS, NEXT_ADD_PINNED] })).close();
    await assert.rejects(
      openIn(schema),
      (error: unknown) => error instanceof MigrationError && error.message.includes(`schema version ${NEXT}, newer than this server knows (${MIGRATIONS.length})`),
    );
  });

  test('three servers starting at once on an empty schema apply each migration exactly once', async () => {
    const schema = await freshSchema();
    const migrations = [...MIGRATIONS, NEXT_SLOW_ADD_PINNED];
    const stores = await Promise.all([openIn(schema, { migrations }), openIn(schema, { migrations }), openIn(schema, { migrations })]);
    try {
      const applied = stores.map((store) => store.appliedMigrations.join(',')).sort();
      assert.deepEqual(applied, ['', '', [...ALL_VERSIONS, NEXT].join(',')]);
      assert.deepEqual(await appliedVersions(schema), [...ALL_VERSIONS, NEXT]);
      // All three work on the one schema.
      const [a, b, c] = stores as [ConversationStore, ConversationStore, ConversationStore];
      const user = await a.ensureUser('dev:alice');
      assert.deepEqual(await b.ensureUser('dev:alice'), user);
      assert.deepEqual(await c.ensureUser('dev:alice'), user);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  test('two servers racing to start replies in one conversation get exactly one streaming reply', async () => {
    const schema = await freshSchema();
    const a = await openIn(schema, { ids: () => `a-${randomBytes(6).toString('hex')}` });
    const b = await openIn(schema, { ids: () => `b-${randomBytes(6).toString('hex')}` });
    try {
      const user = await a.ensureUser('dev:alice');
      const conversation = await a.createConversation(user.id, 'shared');
      await a.addUserMessage(user.id, conversation.id, { text: 'hi' });

      const attempts = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).startAssistantMessage(user.id, conversation.id, { model: 'm' })),
      );
      const started = attempts.filter((attempt) => attempt.status === 'fulfilled');
      const refused = attempts.filter((attempt) => attempt.status === 'rejected');
      assert.equal(started.length, 1);
      for (const attempt of refused) await rejectsWithCode(Promise.reject(attempt.reason), 'reply_in_progress');

      const messages = await b.listMessages(user.id, conversation.id);
      assert.deepEqual(
        messages.map((m) => [m.seq, m.role, m.status]),
        [
          [1, 'user', 'complete'],
          [2, 'assistant', 'streaming'],
        ],
      );
      assert.equal(messages[1]?.id, started[0]?.value.id);
      assert.equal(await a.tokensUsedSince(user.id, START), 0, 'refused replies leave no ledger rows to fill');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('two servers adding messages to one conversation at once get distinct consecutive seq numbers', async () => {
    const schema = await freshSchema();
    const a = await openIn(schema, { ids: () => `a-${randomBytes(6).toString('hex')}` });
    const b = await openIn(schema, { ids: () => `b-${randomBytes(6).toString('hex')}` });
    try {
      const user = await a.ensureUser('dev:alice');
      const conversation = await a.createConversation(user.id, 'shared');
      const added = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).addUserMessage(user.id, conversation.id, { text: `m${i}` })),
      );
      assert.deepEqual(added.map((m) => m.seq).sort((x, y) => x - y), Array.from({ length: 12 }, (_, i) => i + 1));
      assert.equal(await b.countMessages(user.id, conversation.id), 12);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a message insert waits for the conversation row lock and then sees the reply committed meanwhile', async () => {
    const schema = await freshSchema();
    const store = await openIn(schema);
    const other = new Client({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
    await other.connect();
    try {
      const user = await store.ensureUser('dev:alice');
      const conversation = await store.createConversation(user.id, 'contended');
      // Another server is in the middle of starting a reply: it holds the row lock.
      await other.query('BEGIN');
      await other.query('SELECT id FROM conversations WHERE id = $1 FOR UPDATE', [conversation.id]);
      const otherPid = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;

      const pending = store.addUserMessage(user.id, conversation.id, { text: 'impatient' });
      pending.catch(() => undefined); // observed below; keeps the rejection from counting as unhandled meanwhile
      let waiting = false;
      for (let poll = 0; poll < 300 && !waiting; poll += 1) {
        const { rows } = await adminPool().query<{ count: string }>(
          'SELECT COUNT(*) AS count FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))',
          [otherPid],
        );
        waiting = Number(rows[0]?.count) > 0;
        if (!waiting) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.ok(waiting, 'the insert waits on the row lock');

      await other.query(
        `INSERT INTO messages (id, conversation_id, seq, role, text, reasoning, status, model, created_at, updated_at)
         VALUES ('other-reply', $1, 1, 'assistant', '', '', 'streaming', 'm', $2, $2)`,
        [conversation.id, START],
      );
      await other.query('COMMIT');
      await rejectsWithCode(pending, 'reply_in_progress');
      assert.deepEqual((await store.listMessages(user.id, conversation.id)).map((m) => m.id), ['other-reply']);
    } finally {
      await other.end();
      await store.close();
    }
  });

  test('ties in the list are ordered by the code units of ids, the same as on SQLite', async () => {
    const ids = ['user', 'b', 'B', 'a', 'A', '_x', 'Z', 'é', 'e'];
    const idsFrom = () => {
      const queue = [...ids];
      return () => queue.shift() ?? 'exhausted';
    };
    const walk = async (store: ConversationStore): Promise<string[]> => {
      try {
        const user = await store.ensureUser('dev:alice');
        for (let i = 1; i < ids.length; i += 1) await store.createConversation(user.id, `c${i}`);
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page = await store.listConversations(user.id, { limit: 3, cursor });
          seen.push(...page.items.map((c) => c.id));
          cursor = page.nextCursor;
        } while (cursor !== null);
        return seen;
      } finally {
        await store.close();
      }
    };
    const clock = createManualClock(START);
    const onPostgres = await walk(await openIn(await freshSchema(), { clock, ids: idsFrom() }));
    const onSqlite = await walk(await openSqliteStore({ path: MEMORY_DATABASE_PATH, clock, ids: idsFrom() }));
    const codeUnitsDescending = ids.slice(1).sort((x, y) => (x < y ? 1 : x > y ? -1 : 0));
    assert.deepEqual(onPostgres, codeUnitsDescending);
    assert.deepEqual(onSqlite, codeUnitsDescending);
  });

  test('openStore picks PostgreSQL when DATABASE_URL is set, and the URL can carry the schema', async () => {
    const schema = await freshSchema();
    const url = new URL(DATABASE_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const store = await openStore(
      { databaseUrl: ` ${url.href} `, databasePath: '/nonexistent/never-created.sqlite' },
      { clock: createManualClock(START), onIdleConnectionError: (error) => idleConnectionErrors.push(error) },
    );
    try {
      assert.equal(store.engine, 'postgres');
      assert.equal(store.location, describeDatabaseUrl(DATABASE_URL));
      assert.deepEqual(store.appliedMigrations, ALL_VERSIONS);
      await store.ensureUser('dev:alice');
      const { rows } = await adminPool().query(`SELECT identity FROM ${schema}.users`);
      assert.deepEqual(rows, [{ identity: 'dev:alice' }]);
    } finally {
      await store.close();
    }
  });
});

test('openStore uses the SQLite file when DATABASE_URL is unset or blank', async () => {
  for (const databaseUrl of [undefined, '', '  ']) {
    const store = await openStore(
      { databaseUrl, databasePath: MEMORY_DATABASE_PATH },
      { clock: createManualClock(START), onIdleConnectionError: (error) => idleConnectionErrors.push(error) },
    );
    try {
      assert.deepEqual([store.engine, store.location, store.appliedMigrations], ['sqlite', MEMORY_DATABASE_PATH, ALL_VERSIONS]);
    } finally {
      await store.close();
    }
  }
});

test('the logged location of a database URL never includes its password', () => {
  assert.equal(describeDatabaseUrl('postgres://app:s3cret@db.internal:6432/wxstream?sslmode=require'), 'postgres://app@db.internal:6432/wxstream');
  assert.equal(describeDatabaseUrl('postgresql://db.internal/wxstream'), 'postgresql://db.internal/wxstream');
  assert.doesNotMatch(describeDatabaseUrl('not a url with s3cret'), /s3cret/);
});

test('an unreachable database fails the open with the connection error instead of hanging', async () => {
  await assert.rejects(
    openPostgresStore({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      clock: createManualClock(START),
      connectTimeoutMs: 1000,
      onIdleConnectionError: (error) => idleConnectionErrors.push(error),
    }),
    /ECONNREFUSED/,
  );
});

test('a schema name that is not a plain identifier, or one given twice, is refused before connecting', async () => {
  const open = (connectionString: string, schema: string) =>
    openPostgresStore({ connectionString, schema, clock: createManualClock(START), onIdleConnectionError: () => undefined });
  await assert.rejects(open('postgres://127.0.0.1:1/test', 'x; DROP TABLE users'), /not a plain lower-case identifier/);
  await assert.rejects(open('postgres://127.0.0.1:1/test?options=-c%20search_path%3Dy', 'x'), /not both/);
});
