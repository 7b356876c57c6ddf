import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InMemoryReplyLog } from '../src/reply-log/in-memory-reply-log.ts';
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
