import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { systemClock, type Clock, type TimerHandle } from '../src/clock.ts';
import { RedisReplyLog, type RedisReplyLogOptions } from '../src/reply-log/redis-reply-log.ts';
import { ReplyLogWriteError } from '../src/reply-log/reply-log.ts';
import { collect, describeReplyLogContract, replyEvents, until } from './support/reply-log-contract.ts';
import { createManualClock } from './support/manual-clock.ts';
import { connectTestRedis } from './support/test-redis.ts';

const connected = await connectTestRedis();
const skip = connected.available ? false : connected.skipReason;
const redis = connected.available ? connected.redis : undefined;
after(async () => {
  await redis?.dispose();
});

/** Redis TTLs run on Redis's own clock, so expiry tests wait for real: keep them short. */
// Long enough that a loaded CI machine still reads the log before it expires; short enough to wait out.
const SHORT_RETENTION_MS = 1500;
const POLL_INTERVAL_MS = 50;
/** Renewed every 200 ms by a live producer, so it survives a 400 ms stall of a loaded machine; lapses 600 ms after a dead one's last renewal. */
const PRODUCER_LEASE_TTL_MS = 600;
const PRODUCER_GONE = { code: 'server_shutdown', message: 'the instance generating this reply is gone', retryable: true } as const;

let instances = 0;
const freshPrefix = () => `${redis?.keyPrefix}${++instances}:`;
function createLog(options: Pick<RedisReplyLogOptions, 'retentionMs' | 'maxEvents'> & Partial<RedisReplyLogOptions>): RedisReplyLog {
  if (redis === undefined) throw new Error('Redis is not connected');
  return new RedisReplyLog({
    client: redis.connections.commands,
    subscriber: redis.connections.subscriber,
    clock: systemClock,
    keyPrefix: freshPrefix(),
    pollIntervalMs: POLL_INTERVAL_MS,
    producerLeaseTtlMs: PRODUCER_LEASE_TTL_MS,
    ...options,
  });
}

const subscribersOf = async (channel: string) => (await redis?.connections.commands.pubSubNumSub(channel))?.[channel] ?? 0;

describe('Redis reply log', { skip }, () => {
  describeReplyLogContract(
    'Redis reply log contract',
    async (options) => {
      const log = createLog(options);
      return {
        log,
        now: () => systemClock.now(),
        elapse: (ms) => sleep(ms),
        followers: async () => log.followers,
      };
    },
    // Redis expires a key within a millisecond of its TTL (lazily on access); the margin covers scheduling.
    { shortRetentionMs: SHORT_RETENTION_MS, expiryMarginMs: 100, producerLeaseTtlMs: PRODUCER_LEASE_TTL_MS },
  );

  describe('Redis specifics', () => {
    const owner = { userId: 'u1', conversationId: 'c1' };

    test('a reply appended through one instance is followed live through another', async () => {
      const keyPrefix = freshPrefix();
      const writer = createLog({ retentionMs: 60_000, maxEvents: 1000, keyPrefix });
      const reader = createLog({ retentionMs: 60_000, maxEvents: 1000, keyPrefix, pollIntervalMs: 60_000 });
      const events = replyEvents(12);
      await writer.create('r1', owner);
      await writer.append('r1', events[0]!);
      const reading = collect(reader.read('r1', 0));
      await until(() => reader.followers === 1, 'the other instance follows live');
      for (const event of events.slice(1)) await writer.append('r1', event);
      // The poll is a minute away: only notifications can have delivered these in time.
      assert.deepEqual(await reading, events);
      const { expiresAt, ...meta } = (await reader.meta('r1'))!;
      assert.deepEqual(meta, { userId: 'u1', conversationId: 'c1', state: 'ended', lastEventId: 12 });
      assert.ok(expiresAt > Date.now());
    });

    test('followers share the one subscriber connection, and the channel has no subscriber once they finish', async () => {
      const log = createLog({ retentionMs: 60_000, maxEvents: 1000 });
      const clientsBefore = (await redis!.connections.commands.clientList()).length;
      await log.create('r1', owner);
      const events = replyEvents(6);
      await log.append('r1', events[0]!);
      const controllers = Array.from({ length: 20 }, () => new AbortController());
      const readings = controllers.map((controller) => collect(log.read('r1', 0, { signal: controller.signal })));
      await until(() => log.followers === 20, 'twenty readers follow live');
      // The SUBSCRIBE may still be on its way to Redis when the readers wait: wait for it, then count.
      await until(async () => (await subscribersOf(log.keysOf('r1').channel)) > 0, 'the channel is subscribed');
      assert.equal(await subscribersOf(log.keysOf('r1').channel), 1, 'one subscription serves every reader of this instance');
      assert.equal((await redis!.connections.commands.clientList()).length, clientsBefore, 'no reader opened a connection');
      for (const controller of controllers.slice(0, 10)) controller.abort();
      await Promise.all(readings.slice(0, 10));
      assert.equal(log.followers, 10);
      for (const event of events.slice(1)) await log.append('r1', event);
      for (const reading of readings.slice(10)) assert.deepEqual(await reading, events);
      assert.equal(log.followers, 0);
      await until(async () => (await subscribersOf(log.keysOf('r1').channel)) === 0, 'the channel is unsubscribed');
    });

    test('a waiting reader holds one poll timer at a time, and none once it has finished', async () => {
      // Timers scheduled and neither fired nor cleared yet.
      const live = new Set<TimerHandle>();
      const countingClock: Clock = {
        now: () => systemClock.now(),
        setTimeout(callback, delayMs) {
          const handle: TimerHandle = systemClock.setTimeout(() => {
            live.delete(handle);
            callback();
          }, delayMs);
          live.add(handle);
          return handle;
        },
        clearTimeout(handle) {
          live.delete(handle);
          systemClock.clearTimeout(handle);
        },
      };
      // The producer is another instance: its lease renewals are its own timers, not this reader's.
      const keyPrefix = freshPrefix();
      const producer = createLog({ retentionMs: 60_000, maxEvents: 1000, keyPrefix });
      const log = createLog({ retentionMs: 60_000, maxEvents: 1000, keyPrefix, clock: countingClock, pollIntervalMs: 20 });
      await producer.create('r1', owner);
      const events = replyEvents(5);
      await producer.append('r1', events[0]!);
      const controller = new AbortController();
      const reading = collect(log.read('r1', 0, { signal: controller.signal }));
      await until(() => log.followers === 1, 'the reader waits');
      // Several polls come and go while nothing is appended.
      await sleep(100);
      assert.ok(live.size <= 1, `${live.size} timers pending`);
      controller.abort();
      assert.deepEqual(await reading, events.slice(0, 1));
      assert.equal(live.size, 0);
    });

    test('a reader that missed a notification still catches up by polling', async () => {
      const log = createLog({ retentionMs: 60_000, maxEvents: 1000 });
      await log.create('r1', owner);
      const events = replyEvents(5);
      await log.append('r1', events[0]!);
      const reading = collect(log.read('r1', 0));
      await until(() => log.followers === 1, 'the reader follows live');
      // Another writer that bypasses the log's script, so no notification is published.
      const keys = log.keysOf('r1');
      for (const event of events.slice(1)) {
        await redis!.connections.commands.xAdd(keys.events, `${event.id}-0`, { type: event.type, data: JSON.stringify(event.data) });
      }
      await redis!.connections.commands.hSet(keys.meta, { lastId: String(events.length), state: 'ended' });
      assert.deepEqual(await reading, events);
    });

    test('after Redis has forgotten its scripts, a burst of appends still lands in call order', async () => {
      const log = createLog({ retentionMs: 60_000, maxEvents: 1000 });
      await log.create('r1', owner);
      const events = replyEvents(300);
      await redis!.connections.commands.scriptFlush();
      await Promise.all(events.map((event) => log.append('r1', event)));
      assert.deepEqual(await collect(log.read('r1', 0)), events);
    });

    test('a reply log leaves exactly two keys, both with an expiry, and no append bookkeeping', async () => {
      const log = createLog({ retentionMs: 60_000, maxEvents: 1000 });
      await log.create('r1', owner);
      await Promise.all(replyEvents(20).map((event) => log.append('r1', event)));
      assert.equal(log.appending, 0);
      const { events, meta } = log.keysOf('r1');
      const replyBase = meta.slice(0, -':meta'.length);
      const keys = (await redis!.keys()).filter((key) => key.startsWith(replyBase)).sort();
      assert.deepEqual(keys, [events, meta].sort());
      for (const key of keys) {
        const ttl = await redis!.connections.commands.pTTL(key);
        assert.ok(ttl > 59_000 && ttl <= 60_000, `${key} PTTL ${ttl}`);
      }
    });

    test('a producer that stops renewing its lease has its live log ended by a reader: one terminal with the next id, whoever races', async () => {
      const keyPrefix = freshPrefix();
      // A clock that never moves: this producer's renewals never run, as when its process was killed.
      const producer = createLog({ retentionMs: 60_000, maxEvents: 1000, keyPrefix, clock: createManualClock(Date.now()) });
      const readers = Array.from({ length: 4 }, () => createLog({ retentionMs: 60_000, maxEvents: 1000, keyPrefix }));
      const events = replyEvents(8);
      await producer.create('r1', owner);
      for (const event of events.slice(0, 3)) await producer.append('r1', event);
      const following = collect(readers[0]!.read('r1', 0));
      await until(() => readers[0]!.followers === 1, 'a reader follows live');
      assert.deepEqual(
        await Promise.all(readers.map((reader) => reader.endIfProducerGone('r1', PRODUCER_GONE))),
        [undefined, undefined, undefined, undefined],
        'the lease still holds',
      );

      await sleep(PRODUCER_LEASE_TTL_MS + 50);
      const attempts = await Promise.all(readers.flatMap((reader) => [reader.endIfProducerGone('r1', PRODUCER_GONE), reader.endIfProducerGone('r1', PRODUCER_GONE)]));

      const terminal = { id: 4, type: 'error', data: PRODUCER_GONE };
      assert.deepEqual(attempts.filter((attempt) => attempt !== undefined), [terminal], 'exactly one of eight racing calls ended it');
      assert.deepEqual(await following, [...events.slice(0, 3), terminal], 'the follower got the terminal through the log');
      const { expiresAt: _expiresAt, ...meta } = (await readers[1]!.meta('r1'))!;
      assert.deepEqual(meta, { userId: 'u1', conversationId: 'c1', state: 'ended', lastEventId: 4 });
    });

    test('a producer coming back after its reply was ended as abandoned cannot append, not even a second terminal', async () => {
      const keyPrefix = freshPrefix();
      const producer = createLog({ retentionMs: 60_000, maxEvents: 1000, keyPrefix, clock: createManualClock(Date.now()) });
      const reader = createLog({ retentionMs: 60_000, maxEvents: 1000, keyPrefix });
      const events = replyEvents(6);
      await producer.create('r1', owner);
      for (const event of events.slice(0, 2)) await producer.append('r1', event);
      assert.equal(producer.producing, 1);
      await sleep(PRODUCER_LEASE_TTL_MS + 50);
      const ended = await reader.endIfProducerGone('r1', PRODUCER_GONE);
      assert.equal(ended?.id, 3);

      const refusedEnded = (error: unknown) => error instanceof ReplyLogWriteError && error.reason === 'ended';
      await assert.rejects(producer.append('r1', { id: 3, type: 'delta', data: { text: 'late' } }), refusedEnded);
      await assert.rejects(producer.append('r1', { id: 3, type: 'done', data: { finishReason: 'stop' } }), refusedEnded);
      await assert.rejects(producer.append('r1', { id: 4, type: 'done', data: { finishReason: 'stop' } }), refusedEnded);
      const stored = await collect(reader.read('r1', 0));
      assert.deepEqual(stored, [...events.slice(0, 2), ended]);
      assert.equal(stored.filter((event) => event.type === 'done' || event.type === 'error').length, 1);
      assert.equal(producer.producing, 0, 'the producer stopped renewing once it learnt its reply had ended');
      const replyBase = reader.keysOf('r1').meta.slice(0, -':meta'.length);
      assert.deepEqual((await redis!.keys()).filter((key) => key.startsWith(replyBase)).sort(), [reader.keysOf('r1').events, reader.keysOf('r1').meta].sort());
    });

    test('a live producer keeps its lease through silence, and drops it, and stops renewing, once it appends its terminal', async () => {
      const log = createLog({ retentionMs: 60_000, maxEvents: 1000 });
      const events = replyEvents(5);
      await log.create('r1', owner);
      await log.append('r1', events[0]!);
      const { lease } = log.keysOf('r1');
      await sleep(PRODUCER_LEASE_TTL_MS * 2);
      const ttl = await redis!.connections.commands.pTTL(lease);
      assert.ok(ttl > 0 && ttl <= PRODUCER_LEASE_TTL_MS, `lease PTTL ${ttl}`);
      assert.equal(log.producing, 1);
      for (const event of events.slice(1)) await log.append('r1', event);
      assert.equal(await redis!.connections.commands.exists(lease), 0);
      assert.equal(log.producing, 0);
    });

    test('a log written without a producer lease (by a server from before leases) is never judged abandoned', async () => {
      const log = createLog({ retentionMs: 60_000, maxEvents: 1000 });
      const { meta } = log.keysOf('r1');
      await redis!.connections.commands.hSet(meta, { userId: 'u1', conversationId: 'c1', state: 'live', lastId: '0' });
      await redis!.connections.commands.pExpire(meta, 60_000);
      assert.equal(await log.endIfProducerGone('r1', PRODUCER_GONE), undefined);
      assert.equal((await log.meta('r1'))?.state, 'live');
    });

    test('a reader fetches in batches, so replaying a long reply never holds more than one batch', async () => {
      const log = createLog({ retentionMs: 60_000, maxEvents: 1000, batchSize: 7 });
      await log.create('r1', owner);
      const events = replyEvents(50);
      for (const event of events) await log.append('r1', event);
      for (const afterId of [0, 6, 7, 8, 49, 50]) assert.deepEqual(await collect(log.read('r1', afterId)), events.slice(afterId), `after ${afterId}`);
    });
  });
});
