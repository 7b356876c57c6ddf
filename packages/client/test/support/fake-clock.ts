/**
 * Manual time for tests: one object is both the `Clock` and the `Scheduler` the client core takes.
 *
 * Contract: time only moves in `advance`/`advanceTo`/`runUntilIdle`. Advancing runs every callback that
 * falls due within the window, in due-time order (ties in scheduling order), with `now()` set to that
 * callback's due time — also callbacks scheduled by callbacks, when they fall inside the window. A
 * callback scheduled with a delay of 0 or less runs at the current time on the next advance (including
 * `advance(0)`), never synchronously inside `setTimeout`, as real timers do. Handles are unique objects,
 * so clearing a stale or foreign handle is a harmless no-op.
 */
import type { Clock, Scheduler } from '../../src/typewriter.ts';

interface Timer {
  readonly handle: object;
  readonly due: number;
  readonly order: number;
  readonly callback: () => void;
}

export class FakeClock implements Clock, Scheduler {
  private time: number;
  private order = 0;
  private timers: Timer[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = { id: ++this.order };
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.timers.push({ handle, due: this.time + delay, order: this.order, callback });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.handle !== handle);
  }

  /** Timers scheduled and not yet run or cleared. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Due time of the earliest pending timer, if any. */
  get nextDue(): number | undefined {
    return this.earliest()?.due;
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance by ${ms}`);
    this.advanceTo(this.time + ms);
  }

  advanceTo(target: number): void {
    if (target < this.time) throw new RangeError(`time cannot go back from ${this.time} to ${target}`);
    for (let next = this.earliest(); next !== undefined && next.due <= target; next = this.earliest()) {
      this.timers = this.timers.filter((timer) => timer !== next);
      this.time = next.due;
      next.callback();
    }
    this.time = target;
  }

  /** Runs timers until none is left; throws past `limitMs` of simulated time (a timer that never stops). */
  runUntilIdle(limitMs = 60_000): void {
    const deadline = this.time + limitMs;
    for (let next = this.earliest(); next !== undefined; next = this.earliest()) {
      if (next.due > deadline) throw new Error(`timers still pending after ${limitMs} ms of simulated time`);
      this.advanceTo(next.due);
    }
  }

  private earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const timer of this.timers) {
      if (best === undefined || timer.due < best.due || (timer.due === best.due && timer.order < best.order)) best = timer;
    }
    return best;
  }
}
