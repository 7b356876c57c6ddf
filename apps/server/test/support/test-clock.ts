/**
 * A clock the test can move forward: `now()` follows real time plus whatever `advance` added, and
 * timers are real, so timer-driven behaviour (heartbeats, idle watchdog) runs on its own while
 * token expiry or a reply log's retention can be jumped to without waiting.
 *
 * Contract: `now()` and the timers stay consistent, as `Clock` requires — `advance(ms)` runs at
 * once, in due order, every timer that the jump made due, and re-arms the others for what is left
 * of their delay. So a test never has to sleep past a TTL and hope the machine kept up: it
 * advances, and the expiry has happened when `advance` returns.
 */
import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../../src/clock.ts';

export interface TestClock extends Clock {
  advance(ms: number): void;
}

interface PendingTimer {
  readonly due: number;
  readonly callback: () => void;
  timer: NodeJS.Timeout;
}

export function createTestClock(startMs = Date.UTC(2025, 0, 1)): TestClock {
  const origin = performance.now();
  let offset = 0;
  const now = () => startMs + (performance.now() - origin) + offset;
  const pending = new Map<object, PendingTimer>();
  const arm = (key: object, due: number, callback: () => void): PendingTimer => {
    const timer = setTimeout(() => {
      pending.delete(key);
      callback();
    }, Math.max(0, due - now()));
    // Like the system clock's: a pending timer never keeps the process alive.
    timer.unref();
    return { due, callback, timer };
  };
  return {
    now,
    setTimeout(callback, delayMs) {
      const key = {};
      pending.set(key, arm(key, now() + delayMs, callback));
      return { id: key };
    },
    clearTimeout(handle: TimerHandle) {
      const entry = pending.get(handle.id as object);
      if (entry === undefined) return;
      clearTimeout(entry.timer);
      pending.delete(handle.id as object);
    },
    advance(ms) {
      offset += ms;
      const at = now();
      const entries = [...pending].sort((a, b) => a[1].due - b[1].due);
      for (const [key, entry] of entries) {
        if (!pending.has(key)) continue; // cleared by a callback that ran before it
        clearTimeout(entry.timer);
        if (entry.due <= at) {
          pending.delete(key);
          entry.callback();
        } else {
          pending.set(key, arm(key, entry.due, entry.callback));
        }
      }
    },
  };
}
