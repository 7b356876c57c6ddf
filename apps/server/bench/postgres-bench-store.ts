/**
 * A PostgreSQL store for a benchmark: opened at DATABASE_URL (default the test database on
 * loopback) in a throw-away schema that is dropped afterwards.
 *
 * Contract: `withPostgresBenchStore(clock, work)` runs `work` with the open store and always drops
 * the schema; when PostgreSQL cannot be reached it prints that it was skipped and returns, so a
 * benchmark run on a laptop without PostgreSQL still reports its SQLite figures.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ConversationStore } from '../src/storage/conversation-store.ts';
import { openPostgresStore } from '../src/storage/postgres-store.ts';

export const BENCH_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function withPostgresBenchStore(clock: { now(): number }, work: (store: ConversationStore) => Promise<void>): Promise<void> {
  const admin = new pg.Pool({ connectionString: BENCH_DATABASE_URL, max: 1, connectionTimeoutMillis: 2000 });
  const schema = `wxstream_bench_${randomBytes(5).toString('hex')}`;
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } catch (error) {
    console.log(`PostgreSQL skipped: ${String(error)}`);
    await admin.end();
    return;
  }
  try {
    const store = await openPostgresStore({ connectionString: BENCH_DATABASE_URL, schema, clock, onIdleConnectionError: () => {} });
    try {
      await work(store);
    } finally {
      await store.close();
    }
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}
