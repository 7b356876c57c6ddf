/**
 * Contract suites for the limit stores, reusable by every implementation: the in-process ones now,
 * Redis ones in issue 4. Each suite takes a factory that builds a FRESH, isolated instance (its own
 * key namespace in a shared store) driven by the manual clock it is given, and registers its tests
 * under `describe(name)`.
 *
 * Implementations decide expiry and day boundaries from the injected clock, so these tests move
 * time with `clock.advance` and never wait. The clock starts at `CONTRACT_START_MS`, 23:00 on
 * 2025-01-01 in UTC+8, one hour before a quota day boundary there.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { QuotaLedger } from '../../src/limits/quota-ledger.ts';
import type { RateLimiter } from '../../src/limits/rate-limiter.ts';
import type { ReplyLocks } from '../../src/limits/reply-locks.ts';
import { createManualClock, type ManualClock } from './manual-clock.ts';

/** 2025-01-01T15:00:00Z = 23:00 in UTC+8. */
export const CONTRACT_START_MS = Date.UTC(2025, 0, 1, 15, 0, 0);
const HOUR_MS = 60 * 60 * 1000;

type Factory<Options, Subject> = (options: Options & { clock: ManualClock }) => Subject | Promise<Subject>;

export interface ReplyLocksOptions {
  ttlMs: number;
}

export function describeReplyLocksContract(name: string, create: Factory<ReplyLocksOptions, ReplyLocks>): void {
  const TTL_MS = 30_000;
  const setup = async () => {
    const clock = createManualClock(CONTRACT_START_MS);
    return { clock, locks: await create({ clock, ttlMs: TTL_MS }) };
  };

  describe(name, () => {
    test('the first acquire gets a lease naming the user and reply; a second one for the same user is refused', async () => {
      const { locks } = await setup();
      const lease = await locks.tryAcquire('u1', 'r1');
      assert.ok(lease);
      assert.equal(lease.userId, 'u1');
      assert.equal(lease.replyId, 'r1');
      assert.equal(await locks.tryAcquire('u1', 'r2'), undefined);
    });

    test('releaseAbandoned frees a lease taken for that reply only, never a newer one', async () => {
      const { clock, locks } = await setup();
      assert.ok(await locks.tryAcquire('u1', 'r1'));
      await locks.releaseAbandoned('u1', 'r-other');
      assert.equal(await locks.tryAcquire('u1', 'r2'), undefined, 'another reply id frees nothing');
      await locks.releaseAbandoned('u1', 'r1');
      assert.ok(await locks.tryAcquire('u1', 'r2'), 'the abandoned reply freed its user');
      clock.advance(TTL_MS);
      assert.ok(await locks.tryAcquire('u1', 'r3'));
      await locks.releaseAbandoned('u1', 'r2');
      assert.equal(await locks.tryAcquire('u1', 'r4'), undefined, 'a stale release leaves the newer lease alone');
    });

    test('locks are per user: another user acquires while the first holds a lease', async () => {
      const { locks } = await setup();
      assert.ok(await locks.tryAcquire('u1', 'r1'));
      assert.ok(await locks.tryAcquire('u2', 'r2'));
    });

    test('releasing frees the user for the next reply, and releasing twice changes nothing', async () => {
      const { locks } = await setup();
      const first = await locks.tryAcquire('u1', 'r1');
      assert.ok(first);
      await first.release();
      const second = await locks.tryAcquire('u1', 'r2');
      assert.ok(second);
      await first.release();
      assert.equal(await locks.tryAcquire('u1', 'r3'), undefined, 'a repeated release must not free the newer lease');
    });

    test('a lease expires after the TTL, not a millisecond before', async () => {
      const { clock, locks } = await setup();
      assert.ok(await locks.tryAcquire('u1', 'r1'));
      clock.advance(TTL_MS - 1);
      assert.equal(await locks.tryAcquire('u1', 'r2'), undefined);
      clock.advance(1);
      assert.ok(await locks.tryAcquire('u1', 'r2'));
    });

    test('a late release of an expired lease does not free the lease that replaced it', async () => {
      const { clock, locks } = await setup();
      const stale = await locks.tryAcquire('u1', 'r1');
      assert.ok(stale);
      clock.advance(TTL_MS);
      const current = await locks.tryAcquire('u1', 'r2');
      assert.ok(current);
      await stale.release();
      assert.equal(await locks.tryAcquire('u1', 'r3'), undefined);
      assert.equal(await stale.renew(), false, 'the stale holder cannot take the lock back by renewing');
      await current.release();
      assert.ok(await locks.tryAcquire('u1', 'r3'));
    });

    test('renewing restarts the TTL from now while the lease is live', async () => {
      const { clock, locks } = await setup();
      const lease = await locks.tryAcquire('u1', 'r1');
      assert.ok(lease);
      clock.advance(TTL_MS - 1000);
      assert.equal(await lease.renew(), true);
      clock.advance(TTL_MS - 1);
      assert.equal(await locks.tryAcquire('u1', 'r2'), undefined, 'still held: renewed 1 ms short of a TTL ago');
      clock.advance(1);
      assert.ok(await locks.tryAcquire('u1', 'r2'));
    });

    test('renewing fails once the lease was released or has expired', async () => {
      const { clock, locks } = await setup();
      const released = await locks.tryAcquire('u1', 'r1');
      assert.ok(released);
      await released.release();
      assert.equal(await released.renew(), false);

      const expired = await locks.tryAcquire('u2', 'r2');
      assert.ok(expired);
      clock.advance(TTL_MS);
      assert.equal(await expired.renew(), false);
      assert.ok(await locks.tryAcquire('u2', 'r3'), 'a failed renew does not re-take the lock');
    });

    test('50 concurrent acquires for one user yield exactly one lease', async () => {
      const { locks } = await setup();
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => locks.tryAcquire('u1', `r${i}`)));
      const leases = results.filter((lease) => lease !== undefined);
      assert.equal(leases.length, 1);
      await leases[0]?.release();
      assert.ok(await locks.tryAcquire('u1', 'again'));
    });
  });
}

export interface RateLimiterOptions {
  perMinute: number;
  burst: number;
}

export function describeRateLimiterContract(name: string, create: Factory<RateLimiterOptions, RateLimiter>): void {
  const setup = async (perMinute: number, burst: number) => {
    const clock = createManualClock(CONTRACT_START_MS);
    return { clock, limiter: await create({ clock, perMinute, burst }) };
  };
  const hitTimes = async (limiter: RateLimiter, key: string, times: number) => {
    const decisions = [];
    for (let i = 0; i < times; i++) decisions.push(await limiter.hit(key));
    return decisions;
  };

  describe(name, () => {
    test('a rested key gets its burst at once, then is refused with the wait until one interval has passed', async () => {
      // 20 per minute is one request per 3 s.
      const { limiter } = await setup(20, 5);
      const decisions = await hitTimes(limiter, 'u1', 5);
      assert.deepEqual(decisions, Array(5).fill({ allowed: true }));
      assert.deepEqual(await limiter.hit('u1'), { allowed: false, retryAfterMs: 3000 });
    });

    test('the reported wait shrinks as the clock moves and the request is allowed exactly when it runs out', async () => {
      const { clock, limiter } = await setup(20, 5);
      await hitTimes(limiter, 'u1', 5);
      clock.advance(1200);
      assert.deepEqual(await limiter.hit('u1'), { allowed: false, retryAfterMs: 1800 });
      clock.advance(1799);
      assert.deepEqual(await limiter.hit('u1'), { allowed: false, retryAfterMs: 1 });
      clock.advance(1);
      assert.deepEqual(await limiter.hit('u1'), { allowed: true });
      assert.deepEqual(await limiter.hit('u1'), { allowed: false, retryAfterMs: 3000 });
    });

    test('refused hits consume nothing, so hammering does not push the wait out', async () => {
      const { clock, limiter } = await setup(20, 1);
      assert.deepEqual(await limiter.hit('u1'), { allowed: true });
      for (let i = 0; i < 10; i++) {
        assert.equal((await limiter.hit('u1')).allowed, false);
        clock.advance(100);
      }
      clock.advance(2000);
      assert.deepEqual(await limiter.hit('u1'), { allowed: true });
    });

    test('over a minute a busy key gets its burst plus the sustained rate, no more', async () => {
      const { clock, limiter } = await setup(20, 5);
      let allowed = 0;
      // One attempt every 500 ms for 60 s: burst 5 at the start, then one per 3 s.
      for (let elapsed = 0; elapsed < 60_000; elapsed += 500) {
        if ((await limiter.hit('u1')).allowed) allowed++;
        clock.advance(500);
      }
      assert.equal(allowed, 5 + 19);
    });

    test('a key that rests for a full bucket time gets its whole burst back', async () => {
      const { clock, limiter } = await setup(20, 5);
      await hitTimes(limiter, 'u1', 5);
      clock.advance(5 * 3000);
      assert.deepEqual(await hitTimes(limiter, 'u1', 5), Array(5).fill({ allowed: true }));
      assert.equal((await limiter.hit('u1')).allowed, false);
    });

    test('keys are limited independently', async () => {
      const { limiter } = await setup(20, 2);
      await hitTimes(limiter, 'u1', 2);
      assert.equal((await limiter.hit('u1')).allowed, false);
      assert.deepEqual(await limiter.hit('u2'), { allowed: true });
    });

    test('a rate that does not divide a minute rounds its interval up to a whole millisecond', async () => {
      // 60 000 / 7 = 8571.43 ms, so 8572 ms.
      const { limiter } = await setup(7, 1);
      assert.deepEqual(await limiter.hit('u1'), { allowed: true });
      assert.deepEqual(await limiter.hit('u1'), { allowed: false, retryAfterMs: 8572 });
    });

    test('a rate of 0 allows everything', async () => {
      const { limiter } = await setup(0, 1);
      assert.deepEqual(await hitTimes(limiter, 'u1', 100), Array(100).fill({ allowed: true }));
    });
  });
}

export interface QuotaLedgerOptions {
  dailyTokens: number;
  utcOffsetMinutes: number;
}

export function describeQuotaLedgerContract(name: string, create: Factory<QuotaLedgerOptions, QuotaLedger>): void {
  const setup = async (dailyTokens: number, utcOffsetMinutes = 480) => {
    const clock = createManualClock(CONTRACT_START_MS);
    return { clock, ledger: await create({ clock, dailyTokens, utcOffsetMinutes }) };
  };

  describe(name, () => {
    test('a user with no usage today has the whole quota left', async () => {
      const { ledger } = await setup(1000);
      assert.deepEqual(await ledger.check('u1'), { allowed: true, remaining: 1000 });
    });

    test('recorded tokens add up and reduce what is left', async () => {
      const { ledger } = await setup(1000);
      await ledger.record('u1', 300);
      await ledger.record('u1', 450);
      assert.deepEqual(await ledger.check('u1'), { allowed: true, remaining: 250 });
      assert.deepEqual(await ledger.check('u2'), { allowed: true, remaining: 1000 }, 'users are counted apart');
    });

    test('at the quota the user is refused until the next midnight in UTC+8', async () => {
      const { clock, ledger } = await setup(1000);
      await ledger.record('u1', 1000);
      // 23:00 in UTC+8: the day ends in exactly one hour.
      assert.deepEqual(await ledger.check('u1'), { allowed: false, retryAfterMs: HOUR_MS });
      clock.advance(HOUR_MS - 1500);
      assert.deepEqual(await ledger.check('u1'), { allowed: false, retryAfterMs: 1500 });
    });

    test('a reply that overshoots the quota still only refuses until the day ends', async () => {
      const { ledger } = await setup(1000);
      await ledger.record('u1', 999);
      assert.deepEqual(await ledger.check('u1'), { allowed: true, remaining: 1 });
      await ledger.record('u1', 5000);
      assert.deepEqual(await ledger.check('u1'), { allowed: false, retryAfterMs: HOUR_MS });
    });

    test('the count starts over at the day boundary, not a millisecond before', async () => {
      const { clock, ledger } = await setup(1000);
      await ledger.record('u1', 1000);
      clock.advance(HOUR_MS - 1);
      assert.equal((await ledger.check('u1')).allowed, false);
      clock.advance(1);
      assert.deepEqual(await ledger.check('u1'), { allowed: true, remaining: 1000 });
      await ledger.record('u1', 10);
      assert.deepEqual(await ledger.check('u1'), { allowed: true, remaining: 990 });
    });

    test('tokens recorded after the boundary count for the new day only', async () => {
      const { clock, ledger } = await setup(1000);
      await ledger.record('u1', 600);
      clock.advance(HOUR_MS);
      await ledger.record('u1', 600);
      assert.deepEqual(await ledger.check('u1'), { allowed: true, remaining: 400 });
    });

    test('the boundary follows the configured offset: at UTC+0 the same instant is 15:00, nine hours before midnight', async () => {
      const { ledger } = await setup(1000, 0);
      await ledger.record('u1', 1000);
      assert.deepEqual(await ledger.check('u1'), { allowed: false, retryAfterMs: 9 * HOUR_MS });
    });

    test('a negative offset works too: UTC-5 puts the instant at 10:00, fourteen hours before midnight', async () => {
      const { ledger } = await setup(1000, -300);
      await ledger.record('u1', 1000);
      assert.deepEqual(await ledger.check('u1'), { allowed: false, retryAfterMs: 14 * HOUR_MS });
    });

    test('a quota of 0 is unlimited', async () => {
      const { ledger } = await setup(0);
      await ledger.record('u1', 10_000_000);
      assert.deepEqual(await ledger.check('u1'), { allowed: true, remaining: Number.POSITIVE_INFINITY });
    });

    test('recording a negative or non-finite token count is refused as a programming error', async () => {
      const { ledger } = await setup(1000);
      await assert.rejects(ledger.record('u1', -1), RangeError);
      await assert.rejects(ledger.record('u1', Number.NaN), RangeError);
      await assert.rejects(ledger.record('u1', Number.POSITIVE_INFINITY), RangeError);
      assert.deepEqual(await ledger.check('u1'), { allowed: true, remaining: 1000 });
    });
  });
}
