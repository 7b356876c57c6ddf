/**
 * A clock whose `now()` the test moves; timers stay real (short ones, set through config).
 */
import { systemClock, type Clock } from '../../src/clock.ts';

export interface TestClock extends Clock {
  advance(ms: number): void;
}

export function createTestClock(startMs = Date.UTC(2025, 0, 1)): TestClock {
  let now = startMs;
  return {
    now: () => now,
    setTimeout: (callback, delayMs) => systemClock.setTimeout(callback, delayMs),
    clearTimeout: (handle) => systemClock.clearTimeout(handle),
    advance(ms) {
      now += ms;
    },
  };
}
