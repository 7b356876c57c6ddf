/**
 * Plays the spoken segments of one reply back to back, in index order, as they arrive.
 *
 * Contract:
 * - Input: `push(segment)` with the reply's `audio` data in index order (a segment out of its place is
 *   ignored, as the reducer already guarantees); `finish()` once the reply has ended (no more will come,
 *   unless a reopened reply pushes again).
 * - Order: segment n starts only after n − 1 ended, failed or was skipped; never two at once, never one
 *   twice (except through `replay`). A segment that arrives while another plays waits its turn; one that
 *   arrives while the queue waits starts at once.
 * - No audible wait: while segment n plays, the next playable one gets its own player with `src` set
 *   (the platform starts loading it) and is only told to `play` when n ends.
 * - Never hangs: a skipped segment is passed over; a player error, a player that cannot be created, or
 *   one that never reports (no `canplay` within `loadTimeoutMs`, no end well past its duration) skips to
 *   the next, reported through `onSegmentError`.
 * - `stop()` silences at once and ignores later segments (they are kept, for `replay`). `replay()` plays
 *   every segment again from the first. `active` is true from the first segment played until the last
 *   one of a finished reply ended, or `stop()`; `onActiveChange` reports each change, so a page updates
 *   its controls on these edges only, never per segment.
 * - Interruptions (a phone call, another app's audio): `pause()` holds the playing segment at its position
 *   — its watchdog off, so it is not skipped while the interruption lasts — and `resume()` plays it on
 *   from there. Should the platform have torn the player down meanwhile (its `play` fails), the segment is
 *   loaded again into a new player that starts at the position it was paused at (`startTime`), once; no
 *   sentence is skipped. `paused` says whether playback is held; `onPauseChange` reports each change.
 *   Segments that arrive while paused wait. `stop()` and `replay()` end a pause.
 * - `prepare` (optional) runs once, before the first `play()` of the queue, and is awaited: the platform's
 *   audio options (e.g. playing through the silent switch) must be in force before any sound.
 * - Players: at most two alive (playing, preloading); each is destroyed as soon as it is not needed, and
 *   `dispose()` destroys every one and silences every callback. URLs are resolved against `baseUrl` by
 *   `resolveAudioUrl`. Time comes in through the injected scheduler.
 */
import { isSkippedAudio, type AudioData, type AudioSegmentData } from '@wxstream/protocol';
import type { Scheduler } from './typewriter.ts';

/** What an audio player reports on failure (InnerAudioContext's `onError` result). */
export interface AudioPlayerError {
  errCode: number;
  errMsg: string;
}

/**
 * The slice of WeChat's InnerAudioContext the queue uses; a `wx.createInnerAudioContext()` result fits
 * it as is. Listeners are removed by identity, as WeChat does.
 */
export interface AudioPlayer {
  src: string;
  /** Where playback starts, in seconds (InnerAudioContext's `startTime`); set before `src` to start mid-way. */
  startTime?: number;
  /** The playback position in seconds, where the platform reports it. */
  readonly currentTime?: number;
  play(): void;
  pause(): void;
  stop(): void;
  destroy(): void;
  onCanplay(listener: () => void): void;
  offCanplay(listener?: () => void): void;
  onEnded(listener: () => void): void;
  offEnded(listener?: () => void): void;
  onError(listener: (error: AudioPlayerError) => void): void;
  offError(listener?: (error: AudioPlayerError) => void): void;
}

export interface AudioPlaybackQueueOptions {
  /** A new, unused player (e.g. `() => wx.createInnerAudioContext()`). May throw: the segment is skipped. */
  createPlayer: () => AudioPlayer;
  /** The server the reply came from: relative segment URLs are fetched from it. */
  baseUrl: string;
  scheduler: Scheduler;
  onActiveChange?: (active: boolean) => void;
  /** A segment could not be played and was skipped (for logs; playback has already moved on). */
  onSegmentError?: (index: number, error: AudioPlayerError) => void;
  /** Longest wait for a playing segment to become playable. Default 15,000. */
  loadTimeoutMs?: number;
  /** Playback is held for an interruption (true) or goes on again (false). */
  onPauseChange?: (paused: boolean) => void;
  /** Awaited once before the first `play()`; a failure is ignored (playback goes on with the platform's defaults). */
  prepare?: () => Promise<void>;
}

export const DEFAULT_AUDIO_LOAD_TIMEOUT_MS = 15_000;
/** How long a segment without a known duration may play before it counts as stuck. */
export const MAX_UNTIMED_SEGMENT_MS = 120_000;

/** errCode of the failures the queue detects itself (InnerAudioContext's "unknown error"). */
const QUEUE_ERROR_CODE = -1;

/**
 * Where to fetch a segment. Absolute URLs are kept; a protocol-relative one takes the base's scheme; a
 * path is appended to the base URL the way every route is (`SERVER_URL + ROUTES.chat`), so a base with a
 * path prefix behind a proxy keeps working. Written without `URL`, which WeChat's engines lack.
 */
export function resolveAudioUrl(url: string, baseUrl: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return url;
  if (url.startsWith('//')) {
    const scheme = /^([a-z][a-z0-9+.-]*:)/i.exec(baseUrl)?.[1] ?? 'https:';
    return scheme + url;
  }
  const base = baseUrl.replace(/\/+$/, '');
  return url.startsWith('/') ? base + url : `${base}/${url}`;
}

/** One segment with its player: the one playing, or the next one loading ahead. */
interface Slot {
  readonly index: number;
  readonly segment: AudioSegmentData;
  /** Undefined once released (or when its preload failed and the player was already destroyed). */
  player: AudioPlayer | undefined;
  /** `canplay` was reported. */
  ready: boolean;
  /** The player failed while loading ahead: skip it when its turn comes. */
  failed: boolean;
  /** Seconds into the segment it was paused at and resumed from; undefined when it never paused. */
  resumedFrom: number | undefined;
  /** The segment was already loaded again after its player failed on resume. */
  reloaded: boolean;
  readonly onCanplay: () => void;
  readonly onEnded: () => void;
  readonly onError: (error: AudioPlayerError) => void;
}

export class AudioPlaybackQueue {
  private readonly options: AudioPlaybackQueueOptions;
  private readonly loadTimeoutMs: number;

  /*
   * `segments` — every segment pushed, `segments[i].index === i`; kept after playing, for `replay`.
   * `position` — index of the segment playing, or of the next one to consider when none is.
   * `current` — the segment playing; undefined while waiting, stopped or done.
   * `ahead` — the next playable segment after `current`, its `src` already set; never without `current`.
   * `watchdog` / `watchdogArmed` — the one timer: the playing segment's load or end deadline.
   * `stopped` — `stop()` was called and no `replay()` since: pushes are kept, not played.
   * `finished` — the reply has ended: once the last segment is done the queue is no longer active.
   * `isActive` — see the contract; changes only through `setActive`.
   */
  private readonly segments: AudioData[] = [];
  private position = 0;
  private current: Slot | undefined;
  private ahead: Slot | undefined;
  private watchdog: unknown;
  private watchdogArmed = false;
  private stopped = false;
  private finished = false;
  private isActive = false;
  private disposed = false;
  private isPaused = false;
  private pausedAt = 0;
  private prepared: 'no' | 'running' | 'yes';

  constructor(options: AudioPlaybackQueueOptions) {
    this.options = options;
    const timeout = options.loadTimeoutMs;
    this.loadTimeoutMs = timeout !== undefined && timeout > 0 ? timeout : DEFAULT_AUDIO_LOAD_TIMEOUT_MS;
    this.prepared = options.prepare === undefined ? 'yes' : 'no';
  }

  /** Playback is held by `pause()` (an interruption) and waits for `resume()`. */
  get paused(): boolean {
    return this.isPaused;
  }

  /**
   * Holds the playing segment where it is (an audio interruption began). Returns whether anything was
   * playing to hold.
   */
  pause(): boolean {
    const current = this.current;
    if (this.disposed || this.stopped || this.isPaused || current === undefined) return false;
    this.cancelWatchdog();
    const position = current.player?.currentTime;
    this.pausedAt = typeof position === 'number' && Number.isFinite(position) && position > 0 ? position : 0;
    current.player?.pause();
    this.setPaused(true);
    return true;
  }

  /** Plays the held segment on from where it was paused (the interruption ended, or the user asked). */
  resume(): boolean {
    if (this.disposed || !this.isPaused) return false;
    this.setPaused(false);
    const current = this.current;
    if (current === undefined || current.player === undefined) {
      this.pump();
      return true;
    }
    current.resumedFrom = this.pausedAt;
    this.armWatchdog(current);
    current.player.play();
    this.loadAhead();
    return true;
  }

  get active(): boolean {
    return this.isActive;
  }

  /** The reply has ended with at least one segment that can be played, and nothing is playing. */
  get canReplay(): boolean {
    return !this.disposed && this.finished && !this.isActive && this.segments.some((segment) => !isSkippedAudio(segment));
  }

  /** How many segments were pushed. */
  get length(): number {
    return this.segments.length;
  }

  push(segment: AudioData): void {
    if (this.disposed || segment.index !== this.segments.length) return;
    this.segments.push(segment);
    // A reopened reply goes on after its earlier ending.
    this.finished = false;
    if (!this.stopped) this.pump();
  }

  finish(): void {
    if (this.disposed || this.finished) return;
    this.finished = true;
    if (this.current === undefined && this.position >= this.segments.length) this.setActive(false);
  }

  stop(): void {
    if (this.disposed) return;
    this.stopped = true;
    this.silence();
    this.setPaused(false);
    this.setActive(false);
  }

  /** Plays every segment again from the first. Returns false when there is none to play. */
  replay(): boolean {
    if (this.disposed || !this.segments.some((segment) => !isSkippedAudio(segment))) return false;
    this.silence();
    this.setPaused(false);
    this.stopped = false;
    this.position = 0;
    this.pump();
    return true;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.silence();
  }

  /** Starts the next playable segment if none plays, or loads the one after the playing one ahead. */
  private pump(): void {
    if (this.disposed || this.stopped) return;
    if (this.current !== undefined) {
      this.loadAhead();
      return;
    }
    if (this.isPaused) return;
    if (this.prepared !== 'yes') {
      this.runPrepare();
      return;
    }
    while (this.position < this.segments.length) {
      const index = this.position;
      const segment = this.segments[index] as AudioData;
      if (isSkippedAudio(segment)) {
        this.position++;
        continue;
      }
      const slot = this.ahead?.index === index ? this.ahead : this.load(index, segment);
      if (slot === this.ahead) this.ahead = undefined;
      if (slot === undefined || slot.failed || slot.player === undefined) {
        if (slot !== undefined) this.release(slot);
        this.position++;
        continue;
      }
      this.current = slot;
      this.setActive(true);
      this.armWatchdog(slot);
      slot.player.play();
      this.loadAhead();
      return;
    }
    if (this.finished) this.setActive(false);
  }

  /** Runs `prepare` once, then plays what has arrived meanwhile. */
  private runPrepare(): void {
    if (this.prepared !== 'no' || this.options.prepare === undefined) return;
    this.prepared = 'running';
    const done = (): void => {
      this.prepared = 'yes';
      this.pump();
    };
    let running: Promise<void>;
    try {
      running = this.options.prepare();
    } catch {
      done();
      return;
    }
    running.then(done, done);
  }

  /** Gives the next playable segment after the playing one its own player, so it is loaded when its turn comes. */
  private loadAhead(): void {
    const current = this.current;
    if (current === undefined || this.ahead !== undefined) return;
    for (let index = current.index + 1; index < this.segments.length; index++) {
      const segment = this.segments[index] as AudioData;
      if (isSkippedAudio(segment)) continue;
      this.ahead = this.load(index, segment);
      return;
    }
  }

  /** A player for `segment`, listening before its `src` is set so no early event is missed. */
  private load(index: number, segment: AudioSegmentData, startTime?: number): Slot | undefined {
    let player: AudioPlayer;
    try {
      player = this.options.createPlayer();
    } catch (cause) {
      this.report(index, { errCode: QUEUE_ERROR_CODE, errMsg: `could not create an audio player: ${String(cause)}` });
      return undefined;
    }
    const slot: Slot = {
      index,
      segment,
      player,
      ready: false,
      failed: false,
      resumedFrom: undefined,
      reloaded: false,
      onCanplay: () => this.handleCanplay(slot),
      onEnded: () => {
        if (slot === this.current) this.next();
      },
      onError: (error) => this.handleError(slot, error),
    };
    player.onCanplay(slot.onCanplay);
    player.onEnded(slot.onEnded);
    player.onError(slot.onError);
    if (startTime !== undefined) player.startTime = startTime;
    player.src = resolveAudioUrl(segment.url, this.options.baseUrl);
    return slot;
  }

  private handleCanplay(slot: Slot): void {
    if (slot.ready) return;
    slot.ready = true;
    // The load deadline is over; the end deadline starts.
    if (slot === this.current) this.armWatchdog(slot);
  }

  private handleError(slot: Slot, error: AudioPlayerError): void {
    if (slot === this.current && slot.resumedFrom !== undefined && !slot.reloaded) {
      // The player did not survive the interruption: the same segment again, from where it was held.
      this.reload(slot, slot.resumedFrom);
      return;
    }
    if (slot === this.current) {
      this.report(slot.index, error);
      this.next();
      return;
    }
    // Loading ahead (or failing inside `src =` itself): skipped when its turn comes; the player is of no further use.
    if (slot.player === undefined || slot.failed) return;
    this.report(slot.index, error);
    slot.failed = true;
    this.release(slot);
  }

  private reload(slot: Slot, from: number): void {
    this.cancelWatchdog();
    this.release(slot);
    const fresh = this.load(slot.index, slot.segment, from);
    if (fresh === undefined || fresh.player === undefined) {
      this.current = undefined;
      this.position = slot.index + 1;
      this.pump();
      return;
    }
    fresh.resumedFrom = from;
    fresh.reloaded = true;
    this.current = fresh;
    this.armWatchdog(fresh);
    fresh.player.play();
  }

  /** The playing segment is done (ended, failed or stuck): on to the next. */
  private next(): void {
    const current = this.current;
    if (current === undefined) return;
    this.current = undefined;
    this.cancelWatchdog();
    this.release(current);
    this.position = current.index + 1;
    this.pump();
  }

  private armWatchdog(slot: Slot): void {
    this.cancelWatchdog();
    const durationMs = slot.segment.durationMs;
    // A resumed segment has only its rest to play.
    const restMs = durationMs === undefined ? undefined : Math.max(0, durationMs - (slot.resumedFrom ?? 0) * 1000);
    const ms = !slot.ready ? this.loadTimeoutMs : restMs !== undefined ? restMs * 1.5 + 3_000 : MAX_UNTIMED_SEGMENT_MS;
    this.watchdogArmed = true;
    this.watchdog = this.options.scheduler.setTimeout(() => {
      this.watchdogArmed = false;
      if (slot !== this.current) return;
      const what = slot.ready ? 'did not end' : 'did not become playable';
      this.report(slot.index, { errCode: QUEUE_ERROR_CODE, errMsg: `segment ${slot.index} ${what} within ${ms} ms` });
      slot.player?.stop();
      this.next();
    }, ms);
  }

  private cancelWatchdog(): void {
    if (!this.watchdogArmed) return;
    this.watchdogArmed = false;
    this.options.scheduler.clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  /** Stops and destroys both players; the segments stay. */
  private silence(): void {
    this.cancelWatchdog();
    const current = this.current;
    const ahead = this.ahead;
    this.current = undefined;
    this.ahead = undefined;
    if (current !== undefined) {
      // stop() first: destroy() may release the native player only later.
      current.player?.stop();
      this.release(current);
    }
    if (ahead !== undefined) this.release(ahead);
  }

  private release(slot: Slot): void {
    const player = slot.player;
    if (player === undefined) return;
    slot.player = undefined;
    player.offCanplay(slot.onCanplay);
    player.offEnded(slot.onEnded);
    player.offError(slot.onError);
    player.destroy();
  }

  private setPaused(paused: boolean): void {
    if (this.isPaused === paused) return;
    this.isPaused = paused;
    if (!this.disposed) this.options.onPauseChange?.(paused);
  }

  private setActive(active: boolean): void {
    if (this.isActive === active) return;
    this.isActive = active;
    if (!this.disposed) this.options.onActiveChange?.(active);
  }

  private report(index: number, error: AudioPlayerError): void {
    if (!this.disposed) this.options.onSegmentError?.(index, error);
  }
}
