import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ERROR_CODES } from '@wxstream/protocol';
import { assertConversationHasRoom } from '../src/limits/conversation-length.ts';
import { gcraDecide, gcraParams } from '../src/limits/gcra.ts';
import { InMemoryQuotaLedger } from '../src/limits/in-memory-quota-ledger.ts';
import { InMemoryRateLimiter } from '../src/limits/in-memory-rate-limiter.ts';
import { InMemoryReplyLocks } from '../src/limits/in-memory-reply-locks.ts';
import { LimitExceededError, retryAfterSeconds } from '../src/limits/limit-exceeded-error.ts';
import { quotaDayAt } from '../src/limits/quota-day.ts';
import { admitReply, type RefusedLimit } from '../src/limits/reply-admission.ts';
import {
  CONTRACT_START_MS,
  describeQuotaLedgerContract,
  describeRateLimiterContract,
  describeReplyLocksContract,
} from './support/limits-contract.ts';
import { createManualClock } from './support/manual-clock.ts';

describeReplyLocksContract('in-memory reply locks', ({ clock, ttlMs }) => new InMemoryReplyLocks({ clock, ttlMs }));
describeRateLimiterContract('in-memory rate limiter', (options) => new InMemoryRateLimiter(options));
describeQuotaLedgerContract('in-memory quota ledger', (options) => new InMemoryQuotaLedger(options));

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

describe('in-memory stores stay bounded', () => {
  test('reply locks forget expired leases nobody released once a TTL has passed', async () => {
    const clock = createManualClock(CONTRACT_START_MS);
    const locks = new InMemoryReplyLocks({ clock, ttlMs: MINUTE_MS });
    for (let i = 0; i < 1000; i++) await locks.tryAcquire(`user-${i}`, 'r');
    assert.equal(locks.size, 1000);
    clock.advance(MINUTE_MS);
    await locks.tryAcquire('late-user', 'r');
    assert.equal(locks.size, 1);
  });

  test('released leases leave nothing behind', async () => {
    const clock = createManualClock(CONTRACT_START_MS);
    const locks = new InMemoryReplyLocks({ clock, ttlMs: MINUTE_MS });
    const lease = await locks.tryAcquire('u1', 'r1');
    await lease?.release();
    assert.equal(locks.size, 0);
  });

  test('the rate limiter drops keys whose bucket has refilled', async () => {
    const clock = createManualClock(CONTRACT_START_MS);
    const limiter = new InMemoryRateLimiter({ clock, perMinute: 20, burst: 5 });
    for (let i = 0; i < 1000; i++) await limiter.hit(`user-${i}`);
    assert.equal(limiter.size, 1000);
    // A full bucket takes burst × interval = 15 s to refill.
    clock.advance(15_000);
    await limiter.hit('late-user');
    assert.equal(limiter.size, 1);
  });

  test('a rate limiter that is off stores nothing', async () => {
    const limiter = new InMemoryRateLimiter({ clock: createManualClock(), perMinute: 0, burst: 1 });
    for (let i = 0; i < 100; i++) await limiter.hit(`user-${i}`);
    assert.equal(limiter.size, 0);
  });

  test('the quota ledger drops the previous day when a new one starts', async () => {
    const clock = createManualClock(CONTRACT_START_MS);
    const ledger = new InMemoryQuotaLedger({ clock, dailyTokens: 1000, utcOffsetMinutes: 480 });
    for (let i = 0; i < 1000; i++) await ledger.record(`user-${i}`, 10);
    assert.equal(ledger.size, 1000);
    clock.advance(60 * MINUTE_MS);
    await ledger.record('u-next-day', 10);
    assert.equal(ledger.size, 1);
    for (let day = 0; day < 30; day++) {
      clock.advance(DAY_MS);
      await ledger.record(`user-${day}`, 10);
      await ledger.record(`user-${day}-b`, 10);
    }
    assert.equal(ledger.size, 2);
  });

  test('an unlimited quota counts nothing', async () => {
    const ledger = new InMemoryQuotaLedger({ clock: createManualClock(), dailyTokens: 0, utcOffsetMinutes: 480 });
    await ledger.record('u1', 500);
    assert.equal(ledger.size, 0);
  });
});

describe('GCRA arithmetic', () => {
  test('the interval is a minute divided by the rate, rounded up to a whole millisecond', () => {
    assert.deepEqual(gcraParams(20, 5), { intervalMs: 3000, burst: 5 });
    assert.deepEqual(gcraParams(7, 1), { intervalMs: 8572, burst: 1 });
    assert.deepEqual(gcraParams(60_000, 1), { intervalMs: 1, burst: 1 });
  });

  test('rates and bursts below one are refused', () => {
    assert.throws(() => gcraParams(0, 1), RangeError);
    assert.throws(() => gcraParams(20, 0), RangeError);
    assert.throws(() => gcraParams(1.5, 1), RangeError);
  });

  test('a stale theoretical arrival time counts as a rested key', () => {
    const params = gcraParams(20, 1);
    assert.deepEqual(gcraDecide(params, 1000, 50_000), { allowed: true, tat: 53_000 });
    assert.deepEqual(gcraDecide(params, undefined, 50_000), { allowed: true, tat: 53_000 });
  });

  test('a request is refused until the arrival time is within the burst tolerance', () => {
    const params = gcraParams(20, 2);
    // tat 6000 at now 0: two requests just went through.
    assert.deepEqual(gcraDecide(params, 6000, 0), { allowed: false, retryAfterMs: 3000 });
    assert.deepEqual(gcraDecide(params, 6000, 2999), { allowed: false, retryAfterMs: 1 });
    assert.deepEqual(gcraDecide(params, 6000, 3000), { allowed: true, tat: 9000 });
  });
});

describe('quota days', () => {
  test('midnight in UTC+8 is 16:00 UTC the day before', () => {
    const day = quotaDayAt(Date.UTC(2025, 0, 1, 15, 0), 480);
    assert.equal(day.startMs, Date.UTC(2024, 11, 31, 16, 0));
    assert.equal(day.nextStartMs, Date.UTC(2025, 0, 1, 16, 0));
  });

  test('the boundary instant belongs to the new day', () => {
    const boundary = Date.UTC(2025, 0, 1, 16, 0);
    assert.equal(quotaDayAt(boundary, 480).day, quotaDayAt(boundary - 1, 480).day + 1);
    assert.equal(quotaDayAt(boundary, 480).startMs, boundary);
  });

  test('instants before the epoch and negative offsets number days consistently', () => {
    const day = quotaDayAt(Date.UTC(1969, 11, 31, 3, 0), -300);
    assert.equal(day.startMs, Date.UTC(1969, 11, 30, 5, 0));
    assert.equal(day.nextStartMs - day.startMs, DAY_MS);
  });
});

describe('Retry-After', () => {
  test('waits are whole seconds rounded up, and never less than one', () => {
    assert.equal(retryAfterSeconds(3000), 3);
    assert.equal(retryAfterSeconds(3001), 4);
    assert.equal(retryAfterSeconds(1), 1);
    assert.equal(retryAfterSeconds(0), 1);
    assert.equal(retryAfterSeconds(3_600_000), 3600);
  });

  test('a limit error carries the protocol status for its code and the header value', () => {
    const error = new LimitExceededError('rate_limited', 'slow down', { retryAfterMs: 1800 });
    assert.equal(error.status, 429);
    assert.equal(error.retryable, true);
    assert.equal(error.retryAfterSeconds, 2);
    assert.deepEqual(error.toWire(), { code: 'rate_limited', message: 'slow down', retryable: true });
    assert.equal(new LimitExceededError('reply_in_progress', 'busy').retryAfterSeconds, undefined);
  });
});

describe('admitting a reply', () => {
  const setup = (limits: { perMinute?: number; burst?: number; dailyTokens?: number } = {}) => {
    const clock = createManualClock(CONTRACT_START_MS);
    const refusals: RefusedLimit[] = [];
    const deps = {
      rateLimiter: new InMemoryRateLimiter({ clock, perMinute: limits.perMinute ?? 20, burst: limits.burst ?? 5 }),
      quota: new InMemoryQuotaLedger({ clock, dailyTokens: limits.dailyTokens ?? 1000, utcOffsetMinutes: 480 }),
      locks: new InMemoryReplyLocks({ clock, ttlMs: MINUTE_MS }),
      onRefused: (limit: RefusedLimit) => refusals.push(limit),
    };
    return { clock, deps, refusals };
  };

  const refusalOf = async (promise: Promise<unknown>): Promise<LimitExceededError> => {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof LimitExceededError, `expected a LimitExceededError, got ${String(error)}`);
      return error;
    }
    assert.fail('expected the request to be refused');
  };

  test('an allowed request gets a lease for its reply and the tokens left today', async () => {
    const { deps } = setup();
    await deps.quota.record('u1', 400);
    const admission = await admitReply(deps, 'u1', 'r1');
    assert.equal(admission.lease.replyId, 'r1');
    assert.equal(admission.remainingTokens, 600);
  });

  test('a second request while a reply is in progress is refused with 409 reply_in_progress and no Retry-After', async () => {
    const { deps, refusals } = setup();
    const first = await admitReply(deps, 'u1', 'r1');
    const error = await refusalOf(admitReply(deps, 'u1', 'r2'));
    assert.equal(error.code, 'reply_in_progress');
    assert.equal(error.status, ERROR_CODES.reply_in_progress.status);
    assert.equal(error.retryAfterSeconds, undefined);
    assert.deepEqual(refusals, ['reply_in_progress']);
    await first.lease.release();
    assert.ok(await admitReply(deps, 'u1', 'r3'));
  });

  test('too many requests are refused with 429 rate_limited and the exact wait in seconds', async () => {
    const { clock, deps, refusals } = setup({ burst: 2 });
    for (const replyId of ['r1', 'r2']) await (await admitReply(deps, 'u1', replyId)).lease.release();
    clock.advance(500);
    const error = await refusalOf(admitReply(deps, 'u1', 'r3'));
    assert.equal(error.code, 'rate_limited');
    assert.equal(error.status, 429);
    assert.equal(error.retryAfterSeconds, 3, '2500 ms rounded up');
    assert.deepEqual(refusals, ['rate']);
  });

  test('a used-up quota is refused with 429 quota_exceeded until midnight in UTC+8, and takes no lease', async () => {
    const { deps, refusals } = setup({ dailyTokens: 1000 });
    await deps.quota.record('u1', 1000);
    const error = await refusalOf(admitReply(deps, 'u1', 'r1'));
    assert.equal(error.code, 'quota_exceeded');
    assert.equal(error.retryAfterSeconds, 3600);
    assert.deepEqual(refusals, ['quota']);
    assert.ok(await deps.locks.tryAcquire('u1', 'r2'), 'the refusal left the lock free');
  });

  test('attempts refused for a reply in progress still count against the rate limit', async () => {
    const { deps, refusals } = setup({ burst: 3 });
    await admitReply(deps, 'u1', 'r1');
    await refusalOf(admitReply(deps, 'u1', 'r2'));
    await refusalOf(admitReply(deps, 'u1', 'r3'));
    const error = await refusalOf(admitReply(deps, 'u1', 'r4'));
    assert.equal(error.code, 'rate_limited');
    assert.deepEqual(refusals, ['reply_in_progress', 'reply_in_progress', 'rate']);
  });
});

describe('conversation length', () => {
  test('a turn that fits under the cap passes, one that would pass it is refused with 409 conversation_too_long', () => {
    assert.doesNotThrow(() => assertConversationHasRoom(0, 200));
    assert.doesNotThrow(() => assertConversationHasRoom(198, 200));
    assert.throws(
      () => assertConversationHasRoom(199, 200),
      (error: unknown) =>
        error instanceof LimitExceededError &&
        error.code === 'conversation_too_long' &&
        error.status === 409 &&
        error.retryable === false &&
        error.retryAfterSeconds === undefined,
    );
  });
});
