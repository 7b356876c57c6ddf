/**
 * A clock the test can move forward: `now()` follows real time plus whatever `advance` added, and
 * timers are real, so timer-driven behaviour (heartbeats, idle watchdog) stays consistent with
 * `now()` while token expiry can be jumped to without waiting.
 */
import { performance } from 'node:perf_hooks';
import { systemClock, type Clock } from '../../src/clock.ts';

export interface TestClock extends Clock {
  advance(ms: number): void;
}

export function createTestClock(startMs = Date.UTC(2025, 0, 1)): TestClock {
  const origin = performance.now();
  let offset = 0;
  return {
    now: () => startMs + (performance.now() - origin) + offset,
    setTimeout: (callback, delayMs) => systemClock.setTimeout(callback, delayMs),
    clearTimeout: (handle) => systemClock.clearTimeout(handle),
    advance(ms) {
      offset += ms;
    },
  };
}
