import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from '../src/resume-backoff.ts';
import { createSeededRandom, testSeed } from './support/seeded-random.ts';

const OPTIONS = { baseDelayMs: 500, maxDelayMs: 8_000 };

test('the wait doubles with each attempt up to the cap, between half the ceiling and the ceiling', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map((n) => backoffDelay(n, () => 0, OPTIONS)), [250, 500, 1000, 2000, 4000, 4000, 4000]);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map((n) => backoffDelay(n, () => 0.999999, OPTIONS)), [500, 1000, 2000, 4000, 8000, 8000, 8000]);
});

test('jitter spreads the waits of one attempt over its whole window', () => {
  const random = createSeededRandom(testSeed(0xbac0));
  const waits = Array.from({ length: 400 }, () => backoffDelay(3, () => random.next(), OPTIONS));
  assert.ok(waits.every((ms) => ms >= 2000 && ms <= 4000));
  assert.ok(new Set(waits).size > 100, 'waits are spread, not clustered');
  assert.ok(waits.some((ms) => ms < 2500) && waits.some((ms) => ms > 3500));
});

test('an absurd attempt number or a random value out of range still yields a bounded, non-negative wait', () => {
  assert.equal(backoffDelay(10_000, () => 2, OPTIONS), 8000);
  assert.equal(backoffDelay(-3, () => -1, OPTIONS), 250);
});
