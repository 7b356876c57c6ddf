/**
 * A PostgreSQL for server tests: `TEST_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/test,
 * as `storage-postgres.test.ts`), or a clear reason to skip.
 *
 * `freshSchema()` creates a schema unique to this run and returns a `DATABASE_URL` whose
 * connections use it (`options=-c search_path=…`), so servers started with it see nothing else in
 * the database; `dispose()` drops every schema it created.
 */
import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { describeDatabaseUrl } from '../../src/storage/open-store.ts';

export const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestPostgres {
  /** A new schema; the URL to give a server as DATABASE_URL. */
  freshSchema(): Promise<{ schema: string; databaseUrl: string }>;
  dispose(): Promise<void>;
}

export type TestPostgresResult = { available: true; postgres: TestPostgres } | { available: false; skipReason: string };

export async function connectTestPostgres(): Promise<TestPostgresResult> {
  const probe = new Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await probe.connect();
    await probe.query('SELECT 1');
  } catch (error) {
    return {
      available: false,
      skipReason: `PostgreSQL is not reachable at ${describeDatabaseUrl(TEST_DATABASE_URL)} (${String(error)}); start one or set TEST_DATABASE_URL to run these tests`,
    };
  } finally {
    await probe.end().catch(() => undefined);
  }
  const admin = new Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  const run = `wxstream_srv_${randomBytes(5).toString('hex')}`;
  const schemas: string[] = [];
  return {
    available: true,
    postgres: {
      async freshSchema() {
        const schema = `${run}_${schemas.length + 1}`;
        schemas.push(schema);
        await admin.query(`CREATE SCHEMA ${schema}`);
        const url = new URL(TEST_DATABASE_URL);
        url.searchParams.set('options', `-c search_path=${schema}`);
        return { schema, databaseUrl: url.href };
      },
      async dispose() {
        try {
          for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        } finally {
          await admin.end();
        }
      },
    },
  };
}
