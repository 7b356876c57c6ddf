import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { quotaDayAt } from '../src/limits/quota-day.ts';
import { RedisQuotaLedger } from '../src/limits/redis-quota-ledger.ts';
import { RedisRateLimiter } from '../src/limits/redis-rate-limiter.ts';
import { RedisReplyLocks } from '../src/limits/redis-reply-locks.ts';
import {
  CONTRACT_START_MS,
  describeQuotaLedgerContract,
  describeRateLimiterContract,
  describeReplyLocksContract,
} from './support/limits-contract.ts';
import { createManualClock } from './support/manual-clock.ts';
import { connectTestRedis } from './support/test-redis.ts';

const connected = await connectTestRedis();
const skip = connected.available ? false : connected.skipReason;
const redis = connected.available ? connected.redis : undefined;
after(async () => {
  await redis?.dispose();
});

/** Every store instance gets its own namespace under the run's prefix, as the contract asks. */
let instances = 0;
const freshPrefix = () => `${redis?.keyPrefix}${++instances}:`;
const client = () => {
  if (redis === undefined) throw new Error('Redis is not connected');
  return redis.connections.commands;
};

describe('Redis limit stores', { skip }, () => {
  describeReplyLocksContract('Redis reply locks', ({ clock, ttlMs }) =>
    new RedisReplyLocks({ client: client(), clock, ttlMs, keyPrefix: freshPrefix() }),
  );
  describeRateLimiterContract('Redis rate limiter', (options) => new RedisRateLimiter({ ...options, client: client(), keyPrefix: freshPrefix() }));
  describeQuotaLedgerContract('Redis quota ledger', (options) => new RedisQuotaLedger({ ...options, client: client(), keyPrefix: freshPrefix() }));

  describe('state is shared between instances and bounded in Redis', () => {
    test('two limiter instances on one Redis share one bucket per key', async () => {
      const clock = createManualClock(CONTRACT_START_MS);
      const keyPrefix = freshPrefix();
      const a = new RedisRateLimiter({ client: client(), clock, perMinute: 20, burst: 2, keyPrefix });
      const b = new RedisRateLimiter({ client: client(), clock, perMinute: 20, burst: 2, keyPrefix });
      assert.deepEqual(await a.hit('u1'), { allowed: true });
      assert.deepEqual(await b.hit('u1'), { allowed: true });
      assert.deepEqual(await a.hit('u1'), { allowed: false, retryAfterMs: 3000 });
    });

    test('a lease taken through one instance refuses the same user on another until released', async () => {
      const clock = createManualClock(CONTRACT_START_MS);
      const keyPrefix = freshPrefix();
      const a = new RedisReplyLocks({ client: client(), clock, ttlMs: 30_000, keyPrefix });
      const b = new RedisReplyLocks({ client: client(), clock, ttlMs: 30_000, keyPrefix });
      const lease = await a.tryAcquire('u1', 'r1');
      assert.ok(lease);
      assert.equal(await b.tryAcquire('u1', 'r2'), undefined);
      await lease.release();
      assert.ok(await b.tryAcquire('u1', 'r2'));
    });

    test('tokens recorded through two instances add up to one count', async () => {
      const clock = createManualClock(CONTRACT_START_MS);
      const options = { client: client(), clock, dailyTokens: 1000, utcOffsetMinutes: 480, keyPrefix: freshPrefix() };
      const a = new RedisQuotaLedger(options);
      const b = new RedisQuotaLedger(options);
      await Promise.all([a.record('u1', 300), b.record('u1', 400)]);
      assert.deepEqual(await a.check('u1'), { allowed: true, remaining: 300 });
    });

    test('a fractional token count is rounded up, never down', async () => {
      const clock = createManualClock(CONTRACT_START_MS);
      const ledger = new RedisQuotaLedger({ client: client(), clock, dailyTokens: 1000, utcOffsetMinutes: 480, keyPrefix: freshPrefix() });
      await ledger.record('u1', 10.2);
      assert.deepEqual(await ledger.check('u1'), { allowed: true, remaining: 989 });
    });

    test('every key the stores write carries an expiry, so nothing outlives its use', async () => {
      const clock = createManualClock(CONTRACT_START_MS);
      const keyPrefix = freshPrefix();
      await new RedisReplyLocks({ client: client(), clock, ttlMs: 30_000, keyPrefix }).tryAcquire('u1', 'r1');
      await new RedisRateLimiter({ client: client(), clock, perMinute: 20, burst: 5, keyPrefix }).hit('u1');
      await new RedisQuotaLedger({ client: client(), clock, dailyTokens: 1000, utcOffsetMinutes: 480, keyPrefix }).record('u1', 5);
      const keys = (await redis?.keys())?.filter((key) => key.startsWith(keyPrefix)) ?? [];
      const day = quotaDayAt(CONTRACT_START_MS, 480).day;
      assert.deepEqual(keys.map((key) => key.slice(keyPrefix.length)).sort(), ['lock:u1', `quota:${day}:u1`, 'rate:u1']);
      for (const key of keys) {
        const ttl = await client().pTTL(key);
        assert.ok(ttl > 0, `${key} has no expiry (PTTL ${ttl})`);
      }
    });

    test('a rested rate-limit key lives only until its bucket has refilled, plus a second of slack', async () => {
      const clock = createManualClock(CONTRACT_START_MS);
      const keyPrefix = freshPrefix();
      await new RedisRateLimiter({ client: client(), clock, perMinute: 20, burst: 5, keyPrefix }).hit('u1');
      const ttl = await client().pTTL(`${keyPrefix}rate:u1`);
      // One hit moves tat one interval (3 s) ahead; the key is collectable 1 s after that.
      assert.ok(ttl > 3000 && ttl <= 4000, `PTTL ${ttl}`);
    });
  });
});
