/**
 * Runs a suite once per conversation store: the embedded SQLite (in memory) and PostgreSQL (a fresh
 * schema per server, at TEST_DATABASE_URL) — or skips the PostgreSQL run with the reason when none
 * is reachable.
 *
 * Contract: `describeOnBothStores(name, body)` calls `body(storeEnv)` inside a `describe` per store;
 * `storeEnv()` resolves to the env overrides that point a server at that store (call it once per
 * server). The PostgreSQL schemas are dropped after the file's tests.
 */
import { after, describe } from 'node:test';
import type { Env } from '../../src/config.ts';
import { connectTestPostgres } from './test-postgres.ts';

export type StoreEnv = () => Promise<Env>;

const postgres = await connectTestPostgres();
after(async () => {
  if (postgres.available) await postgres.postgres.dispose();
});

export function describeOnBothStores(name: string, body: (storeEnv: StoreEnv) => void): void {
  describe(`${name} (SQLite)`, () => body(async () => ({})));
  describe(`${name} (PostgreSQL)`, { skip: postgres.available ? false : postgres.skipReason }, () =>
    body(async () => {
      if (!postgres.available) throw new Error('PostgreSQL is not available');
      return { DATABASE_URL: (await postgres.postgres.freshSchema()).databaseUrl };
    }),
  );
}
