/**
 * Paces received text into frames that type it out smoothly, independent of network cadence.
 *
 * Contract:
 * - Frames: `onFrame(visible)` gets the whole revealed prefix. Never two frames within `frameIntervalMs`
 *   of each other, never a frame that reveals nothing new, never a cut inside a grapheme cluster
 *   (`safeBoundary`). A frame may be emitted synchronously inside `push`, `resume` or `finish` when the
 *   frame budget allows it at that moment; otherwise it waits for the budget.
 * - Pace: at least `charsPerSecond` (UTF-16 code units), faster when needed so that text pushed at time t
 *   is fully revealed by t + `maxLagMs`. The speed-up is spread evenly up to that deadline, so a burst of
 *   5,000 characters types out at a steady, fast pace instead of jumping, and never trails by more than
 *   `maxLagMs` (plus at most one frame interval when a frame has to wait for the budget).
 * - Timers: one at most, and none while caught up, paused, finished-and-flushed or disposed.
 * - `preset(text)`, before anything is pushed, makes `text` the revealed prefix at once and without a
 *   frame: text the reader already sees (a reply continued by a new session) is not typed again.
 * - `finish()` reveals everything in one final frame (at the earliest moment the budget allows); text
 *   pushed after it is revealed in full at the next allowed frame. `pause()` emits nothing until
 *   `resume()`, which emits at most one catch-up frame (everything whose deadline passed while hidden,
 *   plus the normal pace for the hidden time) and then continues. After `dispose()` nothing happens.
 */
import { safeBoundary } from './grapheme-boundary.ts';

export interface Clock {
  now(): number;
}

export interface Scheduler {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface TypewriterOptions {
  clock: Clock;
  scheduler: Scheduler;
  onFrame: (visible: string) => void;
  /** Minimum time between two frames. Default 50 (at most 20 frames a second). */
  frameIntervalMs?: number;
  /** Base reading pace when the stream is slow. Default 35. */
  charsPerSecond?: number;
  /** Text is revealed at most about this long after it was pushed. Default 1000. */
  maxLagMs?: number;
}

export const DEFAULT_FRAME_INTERVAL_MS = 50;
export const DEFAULT_CHARS_PER_SECOND = 35;
export const DEFAULT_MAX_LAG_MS = 1000;

/** One `push` not yet fully revealed: the buffer length it brought us to, and when that must be visible. */
interface Arrival {
  readonly end: number;
  readonly due: number;
}

export class Typewriter {
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly onFrame: (visible: string) => void;
  private readonly frameIntervalMs: number;
  private readonly unitsPerMs: number;
  private readonly maxLagMs: number;

  /*
   * `buffer` — all text pushed so far.
   * `shown` — length of the revealed prefix; always a grapheme boundary at the time it was revealed
   *   (a later push may extend the last cluster: that is the unavoidable mid-stream case).
   * `cursor` — the ideal, fractional reveal position the pace has reached; `shown` ≤ `cursor` ≤
   *   buffer length. Keeping the fraction lets a slow pace accumulate across frames, and a cluster
   *   longer than one frame's share is revealed once the cursor has passed its end.
   * `arrivals` — pushes beyond `shown`, oldest first, each with its reveal deadline.
   * `pacedUntil` — the time up to which pace has been accounted; undefined while caught up, so idle
   *   time never becomes credit for a jump.
   * `lastFrameAt` — when the last frame was emitted; the frame budget counts from it.
   * `timer` / `timerSet` — the single pending tick (a handle may be any value, even 0, hence the flag).
   */
  private buffer = '';
  private shown = 0;
  private shownText = '';
  private cursor = 0;
  private arrivals: Arrival[] = [];
  private pacedUntil: number | undefined;
  private lastFrameAt = Number.NEGATIVE_INFINITY;
  private timer: unknown;
  private timerSet = false;
  private paused = false;
  private finished = false;
  private disposed = false;

  constructor(options: TypewriterOptions) {
    this.clock = options.clock;
    this.scheduler = options.scheduler;
    this.onFrame = options.onFrame;
    this.frameIntervalMs = positiveOr(options.frameIntervalMs, DEFAULT_FRAME_INTERVAL_MS);
    this.unitsPerMs = positiveOr(options.charsPerSecond, DEFAULT_CHARS_PER_SECOND) / 1000;
    this.maxLagMs = positiveOr(options.maxLagMs, DEFAULT_MAX_LAG_MS);
  }

  /** The revealed text, as of the last frame. */
  get visible(): string {
    return this.shownText;
  }

  /** Code units received and not yet revealed. */
  get pending(): number {
    return this.buffer.length - this.shown;
  }

  push(text: string): void {
    if (this.disposed || text === '') return;
    this.buffer += text;
    if (!this.finished) this.arrivals.push({ end: this.buffer.length, due: this.clock.now() + this.maxLagMs });
    this.wake();
  }

  /** Text already on screen: revealed at once, no frame. Only before the first `push`. */
  preset(text: string): void {
    if (this.buffer !== '') throw new Error('Typewriter.preset: text was already pushed; preset only what the reader saw before');
    this.buffer = text;
    this.shown = text.length;
    this.shownText = text;
    this.cursor = text.length;
  }

  finish(): void {
    if (this.disposed || this.finished) return;
    this.finished = true;
    this.arrivals = [];
    // A tick may be armed for a full interval after the last (frameless) tick; the final frame is due
    // as soon as the budget allows.
    this.cancelTick();
    this.wake();
  }

  pause(): void {
    if (this.disposed || this.paused) return;
    this.paused = true;
    this.cancelTick();
  }

  resume(): void {
    if (this.disposed || !this.paused) return;
    this.paused = false;
    this.wake();
  }

  dispose(): void {
    this.disposed = true;
    this.cancelTick();
    this.arrivals = [];
  }

  /** Makes sure a tick is coming if there is something to reveal: now if the budget allows, else later. */
  private wake(): void {
    if (this.paused || this.disposed || this.timerSet || this.pending === 0) return;
    const now = this.clock.now();
    if (this.pacedUntil === undefined) this.pacedUntil = now - this.frameIntervalMs;
    const wait = this.lastFrameAt + this.frameIntervalMs - now;
    if (wait <= 0) this.tick();
    else this.schedule(wait);
  }

  private tick(): void {
    this.timerSet = false;
    const now = this.clock.now();
    const revealed = this.advance(now);
    if (this.pending > 0) this.schedule(this.frameIntervalMs);
    else {
      this.pacedUntil = undefined;
      this.cursor = this.shown;
    }
    // Emitted last, so a callback that pushes or finishes sees a consistent state and an armed timer.
    if (revealed) {
      this.lastFrameAt = now;
      this.onFrame(this.shownText);
    }
  }

  /** Moves the cursor for the time since the last tick; returns whether the revealed text grew. */
  private advance(now: number): boolean {
    const from = this.pacedUntil ?? now;
    const elapsed = Math.max(0, now - from);
    this.pacedUntil = now;
    const end = this.buffer.length;
    let target: number;
    if (this.finished) target = end;
    else {
      while (this.arrivals.length > 0 && (this.arrivals[0] as Arrival).end <= this.shown) this.arrivals.shift();
      let rate = this.unitsPerMs;
      let floor = this.cursor;
      for (const arrival of this.arrivals) {
        // The remaining share of every pending push is spread evenly over the time left to its deadline,
        // measured from the previous tick so the pace applies to the interval just elapsed.
        const window = arrival.due - from;
        if (arrival.due <= now || window <= 0) floor = Math.max(floor, arrival.end);
        else rate = Math.max(rate, (arrival.end - this.cursor) / window);
      }
      target = Math.max(floor, this.cursor + rate * elapsed);
    }
    this.cursor = Math.min(end, target);
    const cut = safeBoundary(this.buffer, this.cursor);
    if (cut <= this.shown) return false;
    this.shown = cut;
    this.shownText = this.buffer.slice(0, cut);
    return true;
  }

  private schedule(ms: number): void {
    this.timerSet = true;
    this.timer = this.scheduler.setTimeout(() => this.tick(), ms);
  }

  private cancelTick(): void {
    if (!this.timerSet) return;
    this.timerSet = false;
    this.scheduler.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function positiveOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}
