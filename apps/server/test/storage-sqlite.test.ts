import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MIGRATIONS, MigrationError, applyMigrations, checkMigrationList, type Migration } from '../src/storage/migrations.ts';
import { MEMORY_DATABASE_PATH, openSqliteStore } from '../src/storage/sqlite-store.ts';
import { createManualClock } from './support/manual-clock.ts';
import { describeConversationStoreContract, rejectsWithCode, scrambledIds } from './support/store-contract.ts';
import { assertVersionOneUpgraded, V1_TIME, VERSION_ONE_ROWS } from './support/version-one-data.ts';

const dir = mkdtempSync(join(tmpdir(), 'wxstream-storage-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function freshPath(): string {
  files += 1;
  return join(dir, `store-${files}.sqlite`);
}

describeConversationStoreContract('SQLite in memory', (deps) => openSqliteStore({ path: MEMORY_DATABASE_PATH, ...deps }));
describeConversationStoreContract('SQLite file', (deps) => openSqliteStore({ path: freshPath(), ...deps }));

const START = Date.UTC(2025, 5, 1);

/** Every version this server knows, and a migration a next release might add. */
const ALL_VERSIONS = MIGRATIONS.map((migration) => migration.version);
const NEXT = MIGRATIONS.length + 1;
const NEXT_ADD_PINNED: Migration = {
  version: NEXT,
  name: 'conversations can be pinned',
  sql: 'ALTER TABLE conversations ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0',
};

function appliedVersions(path: string): number[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare('SELECT version FROM schema_migrations ORDER BY version').all().map((row) => Number(row.version));
  } finally {
    db.close();
  }
}

test('everything written is there after closing and reopening the file', async () => {
  const path = freshPath();
  const clock = createManualClock(START);
  const ids = scrambledIds();
  const store = await openSqliteStore({ path, clock, ids });
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
  const streaming = await store.createConversation(user.id, 'cut off');
  await store.addUserMessage(user.id, streaming.id, { text: 'long answer please' });
  const orphan = await store.startAssistantMessage(user.id, streaming.id, { model: 'qwen-plus' });
  await store.updateAssistantMessage(orphan.id, { text: 'Once upon' });
  const before = {
    conversations: await store.listConversations(user.id),
    messages: await store.listMessages(user.id, conversation.id),
    usage: await store.tokensUsedSince(user.id, START),
  };
  await store.close();

  const reopened = await openSqliteStore({ path, clock, ids });
  try {
    assert.deepEqual(reopened.appliedMigrations, []);
    assert.deepEqual(await reopened.ensureUser('wechat:openid-1'), user);
    assert.deepEqual(await reopened.listConversations(user.id), before.conversations);
    assert.deepEqual(await reopened.listMessages(user.id, conversation.id), before.messages);
    assert.equal(await reopened.tokensUsedSince(user.id, START), before.usage);
    assert.equal(before.usage, 31);
    // The reply cut off by the "crash" is still streaming until the start-up sweep.
    assert.equal((await reopened.listMessages(user.id, streaming.id))[1]?.status, 'streaming');
    assert.equal(await reopened.markInterruptedReplies(), 1);
    const swept = (await reopened.listMessages(user.id, streaming.id))[1];
    assert.deepEqual([swept?.status, swept?.text, swept?.errorCode], ['error', 'Once upon', 'stream_interrupted']);
  } finally {
    await reopened.close();
  }
});

test('the database directory is created when it does not exist', async () => {
  const path = join(dir, 'nested', 'deeper', 'wxstream.sqlite');
  const store = await openSqliteStore({ path, clock: createManualClock(START) });
  await store.close();
  assert.ok(existsSync(path));
});

test('the file is in WAL mode and schema_migrations records version and time', async () => {
  const path = freshPath();
  const store = await openSqliteStore({ path, clock: createManualClock(START) });
  await store.close();
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    assert.equal(db.prepare('PRAGMA journal_mode').get()?.journal_mode, 'wal');
    assert.deepEqual(
      db.prepare('SELECT version, name, applied_at FROM schema_migrations').all().map((row) => ({ ...row })),
      MIGRATIONS.map((migration) => ({ version: migration.version, name: migration.name, applied_at: START })),
    );
  } finally {
    db.close();
  }
});

test('reopening applies only migrations that are new, once, and keeps the data', async () => {
  const path = freshPath();
  const clock = createManualClock(START);
  const first = await openSqliteStore({ path, clock });
  const user = await first.ensureUser('dev:alice');
  const conversation = await first.createConversation(user.id, 'before the upgrade');
  await first.close();
  assert.deepEqual(appliedVersions(path), ALL_VERSIONS);

  clock.advance(60_000);
  const upgraded = await openSqliteStore({ path, clock, migrations: [...MIGRATIONS, NEXT_ADD_PINNED] });
  assert.deepEqual(upgraded.appliedMigrations, [NEXT]);
  assert.deepEqual(await upgraded.getConversation(user.id, conversation.id), conversation);
  await upgraded.close();

  const again = await openSqliteStore({ path, clock, migrations: [...MIGRATIONS, NEXT_ADD_PINNED] });
  assert.deepEqual(again.appliedMigrations, []);
  await again.close();
  assert.deepEqual(appliedVersions(path), [...ALL_VERSIONS, NEXT]);

  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const row = db.prepare('SELECT pinned FROM conversations WHERE id = ?').get(conversation.id);
    assert.equal(row?.pinned, 0);
    assert.equal(db.prepare('SELECT applied_at FROM schema_migrations WHERE version = ?').get(NEXT)?.applied_at, START + 60_000);
  } finally {
    db.close();
  }
});

test('a version-1 file is upgraded in place: its messages become turns, its replies name their questions', async () => {
  const path = freshPath();
  const db = new DatabaseSync(path);
  try {
    applyMigrations(db, MIGRATIONS.slice(0, 1), V1_TIME);
    db.exec(VERSION_ONE_ROWS);
  } finally {
    db.close();
  }
  const store = await openSqliteStore({ path, clock: createManualClock(START) });
  try {
    assert.deepEqual(store.appliedMigrations, ALL_VERSIONS.slice(1));
    await assertVersionOneUpgraded(store);
  } finally {
    await store.close();
  }
  // …and what was written after the upgrade is there after a restart.
  const reopened = await openSqliteStore({ path, clock: createManualClock(START) });
  try {
    assert.equal((await reopened.listTurnVersions('u-old', 'c-old')).length, 2);
  } finally {
    await reopened.close();
  }
});

test('a failing migration rolls back every migration of that open', async () => {
  const path = freshPath();
  const broken: Migration = { version: NEXT + 1, name: 'broken', sql: 'ALTER TABLE no_such_table ADD COLUMN x INTEGER' };
  await assert.rejects(
    openSqliteStore({ path, clock: createManualClock(START), migrations: [...MIGRATIONS, NEXT_ADD_PINNED, broken] }),
    (error: unknown) => error instanceof MigrationError && error.message.includes(`migration ${NEXT + 1} (broken) failed`),
  );
  assert.deepEqual(appliedVersions(path), []);

  const store = await openSqliteStore({ path, clock: createManualClock(START) });
  assert.deepEqual(store.appliedMigrations, ALL_VERSIONS);
  await store.close();
});

test('a database from a newer server is refused instead of used', async () => {
  const path = freshPath();
  const newer = await openSqliteStore({ path, clock: createManualClock(START), migrations: [...MIGRATIONS, NEXT_ADD_PINNED] });
  await newer.close();
  await assert.rejects(
    openSqliteStore({ path, clock: createManualClock(START) }),
    (error: unknown) => error instanceof MigrationError && error.message.includes(`schema version ${NEXT}, newer than this server knows (${MIGRATIONS.length})`),
  );
});

test('a migration list with a gap or a duplicate version is a programming error', () => {
  assert.throws(() => checkMigrationList([...MIGRATIONS, { ...NEXT_ADD_PINNED, version: NEXT + 1 }]), MigrationError);
  assert.throws(() => checkMigrationList([...MIGRATIONS, { ...NEXT_ADD_PINNED, version: 1 }]), MigrationError);
  checkMigrationList([...MIGRATIONS, NEXT_ADD_PINNED]);
});

test('two stores on one file see each other and the one-reply rule holds across them', async () => {
  const path = freshPath();
  const clock = createManualClock(START);
  const a = await openSqliteStore({ path, clock });
  const b = await openSqliteStore({ path, clock });
  try {
    assert.deepEqual(b.appliedMigrations, []);
    const user = await a.ensureUser('dev:alice');
    assert.deepEqual(await b.ensureUser('dev:alice'), user);
    const conversation = await a.createConversation(user.id, 'shared');
    await a.addUserMessage(user.id, conversation.id, { text: 'hi' });
    const reply = await a.startAssistantMessage(user.id, conversation.id, { model: 'm' });
    await rejectsWithCode(b.addUserMessage(user.id, conversation.id, { text: 'from b' }), 'reply_in_progress');
    await a.updateAssistantMessage(reply.id, { text: 'hello', status: 'complete' });
    await b.addUserMessage(user.id, conversation.id, { text: 'from b' });
    assert.deepEqual((await a.listMessages(user.id, conversation.id)).map((m) => m.text), ['hi', 'hello', 'from b']);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a write blocked by another connection fails cleanly after the busy timeout and the store stays usable', async () => {
  const path = freshPath();
  const store = await openSqliteStore({ path, clock: createManualClock(START), busyTimeoutMs: 20 });
  const other = new DatabaseSync(path);
  try {
    other.exec('BEGIN IMMEDIATE');
    await assert.rejects(store.ensureUser('dev:alice'), /database is locked/);
    other.exec('ROLLBACK');
    assert.equal((await store.ensureUser('dev:alice')).identity, 'dev:alice');
  } finally {
    other.close();
    await store.close();
  }
});

test('loading and using the store prints nothing on stderr (no ExperimentalWarning on this Node)', () => {
  const storeModule = fileURLToPath(new URL('../src/storage/sqlite-store.ts', import.meta.url));
  const script = `
    const { openSqliteStore } = await import(${JSON.stringify(storeModule)});
    const store = await openSqliteStore({ path: ':memory:', clock: { now: () => 0 } });
    await store.ensureUser('dev:x');
    await store.close();
    process.stdout.write('ok');
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(child.stderr, '');
  assert.equal(child.stdout, 'ok');
  assert.equal(child.status, 0);
});
