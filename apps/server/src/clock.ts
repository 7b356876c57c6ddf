/**
 * Time, injected. Everything in the server that reads the wall clock or schedules work takes a
 * `Clock`, so tests can move token expiry forward or shorten timers without touching globals.
 *
 * Contract: `now()` is milliseconds since the epoch and advances consistently with the clock's own
 * timers (timers re-arm themselves from `now()`); `setTimeout` returns a handle that only
 * `clearTimeout` of the same clock understands. Timers never keep the process alive on their own
 * (a pending heartbeat must not block a clean exit).
 */

export interface TimerHandle {
  readonly id: unknown;
}

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return { id: timer };
  },
  clearTimeout(handle) {
    clearTimeout(handle.id as NodeJS.Timeout);
  },
};
