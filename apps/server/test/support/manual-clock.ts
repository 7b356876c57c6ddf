/**
 * A clock that moves only when the test says so, for exact timer behaviour without waiting:
 * `advance(ms)` moves `now()` forward and runs every timer that falls due, in order, each at its
 * own due time (timers a callback sets are run too if they fall within the advance).
 */
import type { Clock, TimerHandle } from '../../src/clock.ts';

export interface ManualClock extends Clock {
  advance(ms: number): void;
  readonly pendingTimers: number;
}

export function createManualClock(startMs = 0): ManualClock {
  let now = startMs;
  let nextId = 0;
  const timers = new Map<number, { due: number; callback: () => void }>();
  return {
    now: () => now,
    setTimeout(callback, delayMs) {
      const id = nextId++;
      timers.set(id, { due: now + delayMs, callback });
      return { id };
    },
    clearTimeout(handle: TimerHandle) {
      timers.delete(handle.id as number);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        let soonest: [number, { due: number; callback: () => void }] | undefined;
        for (const entry of timers) if (entry[1].due <= until && (soonest === undefined || entry[1].due < soonest[1].due)) soonest = entry;
        if (soonest === undefined) break;
        timers.delete(soonest[0]);
        now = soonest[1].due;
        soonest[1].callback();
      }
      now = until;
    },
    get pendingTimers() {
      return timers.size;
    },
  };
}
