import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import { DEFAULT_LIMITS } from '../src/limits/limits-config.ts';
import { openRedis } from '../src/redis/redis-connections.ts';
import { DEFAULT_REPLY_LOG } from '../src/reply-log/reply-log-config.ts';
import { createStateStores } from '../src/state-stores.ts';
import { collect, replyEvents } from './support/reply-log-contract.ts';
import { createManualClock } from './support/manual-clock.ts';
import { connectTestRedis } from './support/test-redis.ts';

const connected = await connectTestRedis();
const redis = connected.available ? connected.redis : undefined;
after(async () => {
  await redis?.dispose();
});

const owner = { userId: 'u1', conversationId: 'c1' };

describe('state stores', () => {
  test('without Redis every store lives in memory, and instances share nothing', async () => {
    const clock = createManualClock(Date.UTC(2025, 0, 1));
    const a = createStateStores({ clock, limits: DEFAULT_LIMITS, replyLog: DEFAULT_REPLY_LOG });
    const b = createStateStores({ clock, limits: DEFAULT_LIMITS, replyLog: DEFAULT_REPLY_LOG });
    assert.equal(a.kind, 'memory');
    assert.ok(await a.locks.tryAcquire('u1', 'r1'));
    assert.ok(await b.locks.tryAcquire('u1', 'r2'), 'a second process knows nothing of the first one’s lock');
    await a.replyLog.create('r1', owner);
    assert.equal(await b.replyLog.meta('r1'), undefined);
  });

  test('with Redis two instances share locks, limits, quotas and reply logs', { skip: connected.available ? false : connected.skipReason }, async () => {
    assert.ok(redis);
    const clock = createManualClock(Date.UTC(2025, 0, 1));
    const shared = { connections: redis.connections, keyPrefix: `${redis.keyPrefix}stores:` };
    const limits = { ...DEFAULT_LIMITS, rateLimitBurst: 1, dailyTokenQuota: 100 };
    const a = createStateStores({ clock, limits, replyLog: DEFAULT_REPLY_LOG, redis: shared });
    const b = createStateStores({ clock, limits, replyLog: DEFAULT_REPLY_LOG, redis: shared });
    assert.equal(a.kind, 'redis');

    assert.ok(await a.locks.tryAcquire('u1', 'r1'));
    assert.equal(await b.locks.tryAcquire('u1', 'r2'), undefined);
    assert.deepEqual(await a.rateLimiter.hit('u1'), { allowed: true });
    assert.equal((await b.rateLimiter.hit('u1')).allowed, false);
    await a.quota.record('u1', 100);
    assert.equal((await b.quota.check('u1')).allowed, false);

    const events = replyEvents(6);
    await a.replyLog.create('r1', owner);
    for (const event of events) await a.replyLog.append('r1', event);
    assert.deepEqual(await collect(b.replyLog.read('r1', 2)), events.slice(2));
  });
});

describe('opening Redis', () => {
  test('an unreachable Redis fails the start at once instead of retrying forever', async () => {
    // A port that was free a moment ago: nothing listens on it.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const address = probe.address();
    assert.ok(address !== null && typeof address === 'object');
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const reported: Error[] = [];
    await assert.rejects(openRedis({ url: `redis://127.0.0.1:${address.port}`, connectTimeoutMs: 1000, onError: (error) => reported.push(error) }), /ECONNREFUSED/);
    assert.ok(reported.every((error) => /ECONNREFUSED/.test(error.message)), 'only the refusal is reported');
  });
});
