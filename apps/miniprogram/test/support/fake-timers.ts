/**
 * A simulated clock and timer queue installed over the global `setTimeout`, `clearTimeout` and
 * `Date.now` — the globals the mini-program's platform adapter calls on a device.
 *
 * Contract: time moves only through `tick(ms)` / `runUntilIdle()`, which run due timers in order of due
 * time (then of creation) and set the clock to each timer's due time before running it, so code that
 * reads `Date.now()` inside a callback sees the simulated time. `pending()` counts timers not yet run or
 * cleared — what a "no timers left behind" assertion needs. `uninstall()` restores the real globals.
 */

type TimerCallback = () => void;

interface Timer {
  id: number;
  due: number;
  callback: TimerCallback;
}

export class FakeTimers {
  private nowMs: number;
  private nextId = 1;
  private readonly timers = new Map<number, Timer>();
  private saved: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout; dateNow: () => number } | undefined;

  constructor(startMs = Date.UTC(2025, 0, 1)) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  install(): this {
    if (this.saved) return this;
    this.saved = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout, dateNow: Date.now };
    const fakeSetTimeout = (callback: TimerCallback, ms?: number): number => this.schedule(callback, ms ?? 0);
    const fakeClearTimeout = (handle: unknown): void => {
      if (typeof handle === 'number') this.timers.delete(handle);
    };
    globalThis.setTimeout = fakeSetTimeout as unknown as typeof setTimeout;
    globalThis.clearTimeout = fakeClearTimeout as unknown as typeof clearTimeout;
    Date.now = () => this.nowMs;
    return this;
  }

  uninstall(): void {
    if (!this.saved) return;
    globalThis.setTimeout = this.saved.setTimeout;
    globalThis.clearTimeout = this.saved.clearTimeout;
    Date.now = this.saved.dateNow;
    this.saved = undefined;
  }

  schedule(callback: TimerCallback, ms: number): number {
    const id = this.nextId++;
    this.timers.set(id, { id, due: this.nowMs + Math.max(0, ms), callback });
    return id;
  }

  pending(): number {
    return this.timers.size;
  }

  private nextDue(limit: number): Timer | undefined {
    let next: Timer | undefined;
    for (const timer of this.timers.values()) {
      if (timer.due > limit) continue;
      if (!next || timer.due < next.due || (timer.due === next.due && timer.id < next.id)) next = timer;
    }
    return next;
  }

  /** Advances the clock by `ms`, running every timer that falls due on the way. */
  tick(ms: number): void {
    const end = this.nowMs + ms;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const timer = this.nextDue(end);
      if (!timer) break;
      this.timers.delete(timer.id);
      this.nowMs = Math.max(this.nowMs, timer.due);
      timer.callback();
    }
    this.nowMs = end;
  }
}
