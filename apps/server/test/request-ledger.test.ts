/**
 * The request ledger's contract (request-ledger.ts), run against both implementations: in process memory
 * on a manual clock, and in Redis (skipped, with the reason, where Redis is unreachable).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { InMemoryRequestLedger } from '../src/requests/in-memory-request-ledger.ts';
import { RedisRequestLedger } from '../src/requests/redis-request-ledger.ts';
import type { RequestLedger, RequestLedgerTimes } from '../src/requests/request-ledger.ts';
import { createManualClock } from './support/manual-clock.ts';
import { connectTestRedis } from './support/test-redis.ts';

const TIMES: RequestLedgerTimes = { stopTtlMs: 60_000, admittingTtlMs: 120_000, committedTtlMs: 600_000 };
const REPLY = { messageId: 'm-1', conversationId: 'c-1' };

const redisResult = await connectTestRedis();
after(async () => {
  if (redisResult.available) await redisResult.redis.dispose();
});

let ids = 0;
const newId = () => `ledger-test-${ids++}`;

const ledgers: { name: string; make: (times?: RequestLedgerTimes) => RequestLedger; skip?: string }[] = [
  { name: 'in memory', make: (times = TIMES) => new InMemoryRequestLedger({ clock: createManualClock(0), ...times }) },
  redisResult.available
    ? { name: 'in Redis', make: (times = TIMES) => new RedisRequestLedger({ client: redisResult.redis.connections.commands, keyPrefix: redisResult.redis.keyPrefix, ...times }) }
    : { name: 'in Redis', make: () => assert.fail('unreachable'), skip: redisResult.skipReason },
];

for (const { name, make, skip } of ledgers) {
  describe(`request ledger ${name}`, { ...(skip === undefined ? {} : { skip }) }, () => {
    test('a new id is claimed; a repeat while admitting waits; once committed a repeat gets the reply', async () => {
      const ledger = make();
      const id = newId();
      assert.deepEqual(await ledger.claim('u1', id), { kind: 'claimed', stopRequested: false });
      assert.deepEqual(await ledger.claim('u1', id), { kind: 'admitting' });
      assert.deepEqual(await ledger.commit(id, REPLY), { stopRequested: false });
      assert.deepEqual(await ledger.claim('u1', id), { kind: 'committed', ...REPLY });
      await ledger.end(id);
      assert.deepEqual(await ledger.get(id), { state: 'committed', userId: 'u1', stopRequested: false, ended: true, ...REPLY });
    });

    test("another user's id is foreign to claim and to stop", async () => {
      const ledger = make();
      const id = newId();
      await ledger.claim('u1', id);
      assert.deepEqual(await ledger.claim('u2', id), { kind: 'foreign' });
      assert.deepEqual(await ledger.stop('u2', id), { kind: 'foreign' });
      await ledger.commit(id, REPLY);
      assert.deepEqual(await ledger.stop('u2', id), { kind: 'foreign' });
    });

    test('a stop before the request is remembered, and the request that claims it is told', async () => {
      const ledger = make();
      const id = newId();
      assert.deepEqual(await ledger.stop('u1', id), { kind: 'remembered' });
      assert.deepEqual(await ledger.stop('u1', id), { kind: 'remembered' });
      assert.deepEqual(await ledger.claim('u2', id), { kind: 'foreign' }, 'a remembered stop is its user\'s');
      assert.deepEqual(await ledger.claim('u1', id), { kind: 'claimed', stopRequested: true });
      assert.deepEqual(await ledger.commit(id, REPLY), { stopRequested: true });
    });

    test('a stop while admitting flags it for the commit; a stop after the commit names the reply', async () => {
      const ledger = make();
      const id = newId();
      await ledger.claim('u1', id);
      assert.deepEqual(await ledger.stop('u1', id), { kind: 'admitting' });
      assert.deepEqual(await ledger.commit(id, REPLY), { stopRequested: true });
      assert.deepEqual(await ledger.stop('u1', id), { kind: 'committed', ...REPLY });
    });

    test('a released claim is forgotten, so the same id starts afresh', async () => {
      const ledger = make();
      const id = newId();
      await ledger.claim('u1', id);
      await ledger.release(id);
      assert.equal(await ledger.get(id), undefined);
      assert.deepEqual(await ledger.claim('u1', id), { kind: 'claimed', stopRequested: false });
      await ledger.commit(id, REPLY);
      await ledger.release(id);
      assert.equal((await ledger.get(id))?.state, 'committed', 'a committed request is never released');
    });
  });
}

test('in memory, records expire on the injected clock', async () => {
  const clock = createManualClock(0);
  const ledger = new InMemoryRequestLedger({ clock, ...TIMES, stopTtlMs: 1000 });
  await ledger.stop('u1', 'remembered-1');
  clock.advance(999);
  assert.equal((await ledger.get('remembered-1'))?.state, 'stop-requested');
  clock.advance(1);
  assert.equal(await ledger.get('remembered-1'), undefined);
  assert.deepEqual(await ledger.claim('u1', 'remembered-1'), { kind: 'claimed', stopRequested: false }, 'a lapsed stop stops nothing');
});

test('in Redis, a remembered stop carries its lifetime as the key\'s TTL', { ...(redisResult.available ? {} : { skip: redisResult.skipReason }) }, async () => {
  if (!redisResult.available) return;
  const { connections, keyPrefix } = redisResult.redis;
  const ledger = new RedisRequestLedger({ client: connections.commands, keyPrefix, ...TIMES, stopTtlMs: 1000 });
  await ledger.stop('u1', 'remembered-2');
  const ttl = await connections.commands.pTTL(`${keyPrefix}request:remembered-2`);
  assert.ok(ttl > 0 && ttl <= 1000, `TTL ${ttl}`);
});
