/**
 * Redis and PostgreSQL together, for the suites that run several instances against both.
 *
 * Contract: resolves to both connections, or to the reason the suite must be skipped — and then
 * releases whichever of the two was reached, since its open connections would keep the test
 * process alive.
 */
import { connectTestPostgres, type TestPostgres } from './test-postgres.ts';
import { connectTestRedis, type TestRedis } from './test-redis.ts';

export type TestSharedServers = { available: true; redis: TestRedis; postgres: TestPostgres } | { available: false; skipReason: string };

export async function connectRedisAndPostgres(): Promise<TestSharedServers> {
  const [redis, postgres] = await Promise.all([connectTestRedis(), connectTestPostgres()]);
  if (redis.available && postgres.available) return { available: true, redis: redis.redis, postgres: postgres.postgres };
  if (redis.available) await redis.redis.dispose();
  if (postgres.available) await postgres.postgres.dispose();
  return { available: false, skipReason: !redis.available ? redis.skipReason : !postgres.available ? postgres.skipReason : 'unreachable' };
}
