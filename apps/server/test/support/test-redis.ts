/**
 * A Redis for tests: `TEST_REDIS_URL` (default redis://127.0.0.1:6379), or a clear reason to skip.
 *
 * Each test file gets its own connections and a key prefix unique to the run, so files and runs
 * never see each other's keys; `dispose()` deletes every key under the prefix and closes the
 * connections. A laptop without Redis skips the Redis suites with the reason; CI, which has
 * Redis, runs them.
 */
import { randomUUID } from 'node:crypto';
import { openRedis, type RedisConnections } from '../../src/redis/redis-connections.ts';

export const TEST_REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export interface TestRedis {
  readonly connections: RedisConnections;
  /** Unique to this run; every key a test writes starts with it. */
  readonly keyPrefix: string;
  /** Keys under the prefix that exist now; for leak checks. */
  keys(): Promise<string[]>;
  dispose(): Promise<void>;
}

export type TestRedisResult = { available: true; redis: TestRedis } | { available: false; skipReason: string };

export async function connectTestRedis(): Promise<TestRedisResult> {
  let connections: RedisConnections;
  const errors: Error[] = [];
  try {
    connections = await openRedis({ url: TEST_REDIS_URL, connectTimeoutMs: 1000, onError: (error) => errors.push(error) });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { available: false, skipReason: `Redis unreachable at ${TEST_REDIS_URL} (${reason}); set TEST_REDIS_URL to run these tests` };
  }
  const keyPrefix = `wxstream-test:${randomUUID()}:`;
  const keys = async () => {
    const found: string[] = [];
    for await (const batch of connections.commands.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 1000 })) found.push(...batch);
    return found;
  };
  return {
    available: true,
    redis: {
      connections,
      keyPrefix,
      keys,
      async dispose() {
        const left = await keys();
        if (left.length > 0) await connections.commands.unlink(left);
        await connections.close();
        if (errors.length > 0) throw new AggregateError(errors, 'the Redis connections reported errors during the tests');
      },
    },
  };
}
