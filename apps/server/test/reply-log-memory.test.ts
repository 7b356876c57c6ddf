import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InMemoryReplyLog, estimatedBytes } from '../src/reply-log/in-memory-reply-log.ts';
import { collect, describeReplyLogContract, replyEvents } from './support/reply-log-contract.ts';
import { createManualClock } from './support/manual-clock.ts';

const START_MS = Date.UTC(2025, 0, 1);
const RETENTION_MS = 600_000;

describeReplyLogContract(
  'in-memory reply log',
  async (options) => {
    const clock = createManualClock(START_MS);
    const log = new InMemoryReplyLog({ clock, ...options });
    return {
      log,
      now: () => clock.now(),
      elapse: async (ms) => clock.advance(ms),
      followers: async () => log.followers,
    };
  },
  // No leases in memory: the silence is any, here one a Redis lease would not outlive.
  { shortRetentionMs: RETENTION_MS, expiryMarginMs: 0, producerLeaseTtlMs: 15_000 },
);

describe('in-memory reply log: exact retention and memory', () => {
  const setup = () => {
    const clock = createManualClock(START_MS);
    return { clock, log: new InMemoryReplyLog({ clock, retentionMs: RETENTION_MS, maxEvents: 1000 }) };
  };

  test('an ended log is there 1 ms before its retention runs out and gone at the moment it does', async () => {
    const { clock, log } = setup();
    await log.create('r1', { userId: 'u1', conversationId: 'c1' });
    clock.advance(5000);
    for (const event of replyEvents(5)) await log.append('r1', event);
    assert.equal((await log.meta('r1'))?.expiresAt, START_MS + 5000 + RETENTION_MS);
    clock.advance(RETENTION_MS - 1);
    assert.equal((await log.meta('r1'))?.state, 'ended');
    clock.advance(1);
    assert.equal(await log.meta('r1'), undefined);
  });

  test('each append restarts a live log retention, so a slow reply is not cut off', async () => {
    const { clock, log } = setup();
    await log.create('r1', { userId: 'u1', conversationId: 'c1' });
    const events = replyEvents(6);
    for (const event of events.slice(0, 5)) {
      clock.advance(RETENTION_MS - 1);
      await log.append('r1', event);
    }
    clock.advance(RETENTION_MS - 1);
    await log.append('r1', events[5]!);
    assert.deepEqual(await collect(log.read('r1', 0)), events);
  });

  test('expired logs are dropped from memory by their timer, leaving no log and no timer behind', async () => {
    const { clock, log } = setup();
    for (let i = 0; i < 100; i++) {
      await log.create(`r${i}`, { userId: 'u1', conversationId: 'c1' });
      for (const event of replyEvents(5)) await log.append(`r${i}`, event);
    }
    assert.equal(log.size, 100);
    assert.equal(clock.pendingTimers, 100);
    clock.advance(RETENTION_MS);
    assert.equal(log.size, 0);
    assert.equal(clock.pendingTimers, 0);
  });

  test('a log kept alive by appends re-arms its one timer rather than adding more', async () => {
    const { clock, log } = setup();
    await log.create('r1', { userId: 'u1', conversationId: 'c1' });
    const events = replyEvents(40);
    for (const event of events.slice(0, -1)) {
      await log.append('r1', event);
      clock.advance(RETENTION_MS / 4);
      assert.ok(clock.pendingTimers <= 1, `${clock.pendingTimers} timers`);
    }
    assert.equal(log.size, 1);
    await log.append('r1', events.at(-1)!);
    clock.advance(RETENTION_MS);
    assert.equal(clock.pendingTimers, 0);
    assert.equal(log.size, 0);
  });

  test('a stored event is a frozen copy: the producer changing its object afterwards changes nothing', async () => {
    const { log } = setup();
    await log.create('r1', { userId: 'u1', conversationId: 'c1' });
    const events = replyEvents(5);
    const mutable = structuredClone(events[1]!);
    await log.append('r1', events[0]!);
    await log.append('r1', mutable);
    for (const event of events.slice(2)) await log.append('r1', event);
    (mutable.data as { text: string }).text = 'changed';
    const stored = await collect(log.read('r1', 0));
    assert.deepEqual(stored, events);
    assert.ok(Object.isFrozen(stored[1]) && Object.isFrozen(stored[1]?.data));
  });
});

describe('in-memory reply log: the total memory bound (REPLY_LOG_MAX_BYTES)', () => {
  const owner = { userId: 'u1', conversationId: 'c1' };
  const delta = (id: number, text: string) => ({ id, type: 'delta' as const, data: { text } });
  const done = (id: number) => ({ id, type: 'done' as const, data: { finishReason: 'stop' } });
  /** A reply of one delta of `chars` characters, ended when `end` says so. */
  async function reply(log: InMemoryReplyLog, id: string, chars: number, end: boolean): Promise<void> {
    await log.create(id, owner);
    await log.append(id, delta(1, 'x'.repeat(chars)));
    if (end) await log.append(id, done(2));
  }

  test('past the bound, ended logs go — the first to have ended first — and live ones stay', async () => {
    const clock = createManualClock(START_MS);
    const piece = estimatedBytes(delta(1, 'x'.repeat(10_000)));
    const log = new InMemoryReplyLog({ clock, retentionMs: RETENTION_MS, maxEvents: 1000, maxBytes: piece * 3 + estimatedBytes(done(2)) * 3 });
    await reply(log, 'live-old', 10_000, false);
    await reply(log, 'ended-first', 10_000, true);
    await reply(log, 'ended-second', 10_000, true);
    assert.ok(log.bytes <= piece * 3 + estimatedBytes(done(2)) * 3);
    await reply(log, 'newest', 10_000, true);
    assert.equal(await log.meta('ended-first'), undefined, 'the first ended log went');
    assert.notEqual(await log.meta('ended-second'), undefined);
    assert.notEqual(await log.meta('live-old'), undefined, 'a live log is never dropped, however old');
    assert.notEqual(await log.meta('newest'), undefined);
  });

  test('while live logs alone fill the bound there is no room for a new reply; when one ends, there is', async () => {
    const clock = createManualClock(START_MS);
    const log = new InMemoryReplyLog({ clock, retentionMs: RETENTION_MS, maxEvents: 1000, maxBytes: 64 * 1024 });
    assert.equal(log.hasRoomForNewReply(), true);
    await reply(log, 'a', 20_000, false);
    assert.equal(log.hasRoomForNewReply(), true);
    await reply(log, 'b', 20_000, false);
    assert.equal(log.hasRoomForNewReply(), false, '80 KB of live replies fill 64 KiB');
    await log.append('a', done(2));
    assert.equal(log.hasRoomForNewReply(), true, 'an ended log can be dropped to make room');
    clock.advance(RETENTION_MS);
    assert.equal(await log.meta('a'), undefined);
    assert.equal(await log.meta('b'), undefined, 'a live log whose producer went silent expires like any');
    assert.equal(log.bytes, 0, 'expired logs give their bytes back');
    assert.equal(log.hasRoomForNewReply(), true);
  });
});
