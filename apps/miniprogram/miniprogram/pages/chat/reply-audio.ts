/**
 * The read-aloud side of the chat page: the latest reply's `AudioPlaybackQueue` and the control under
 * its bubble (停止朗读 while it reads, 重播 once read).
 *
 * Contract:
 * - One reply at a time: `update(index, segments)` feeds the reply shown at `index` (its queue is made
 *   on the first segment); a reply at another index replaces it, silencing and destroying the old
 *   queue's players. `drop()` does that without a successor, `dispose()` for good.
 * - `update` with `play: false` (voice off, page hidden) keeps the segments for 重播 without playing.
 * - The control is sent with one path-key `setData` when it changes, i.e. on the queue's edges, never
 *   per segment; never while hidden (`setVisible(false)`) — showing the page again sends the latest.
 * - Interruptions (a call, another app's audio): `interrupt()` holds the segment being read where it is,
 *   and the control offers 继续朗读 (`paused`); `interruptionEnded()` reads on from there when the page
 *   is shown — else the control keeps offering 继续朗读, which `resume()` answers.
 * - `prepare` (the platform's audio options) is awaited by each queue before its first `play()`.
 * - `linksExpired(now)`: the segments' signed links are older than AUDIO_LINK_LIFETIME_MS — a replay
 *   must fetch the reply's speech again (the speech route) rather than play links the server refuses.
 * - `finish()` says the reply has ended (so a read reply offers 重播); `stop()`, `replay()` act on the
 *   latest reply's audio; `withdraw()` silences and forgets it for good (a reply the content check
 *   stopped must not go on being read, nor be read again). Segment failures go to `audioError`; playback has already moved on.
 */
import { AudioPlaybackQueue, type AudioData, type AudioPlayer, type AudioPlayerError, type Scheduler } from '../../vendor/wxstream-client.js';
import { audioControlData, type AudioControl, type MessageAt, type SetDataObject } from './chat-view-model.ts';

/**
 * How long a reply's audio links are taken to work after the first one arrived: a little less than the
 * server's AUDIO_TTL_SECONDS default (10 minutes), so a replay never starts on a link about to lapse.
 */
export const AUDIO_LINK_LIFETIME_MS = 9 * 60_000;

export interface ReplyAudioDeps {
  setData(data: SetDataObject): void;
  createPlayer(): AudioPlayer;
  /** Awaited before a queue's first `play()` (the platform's audio options). */
  prepare?: () => Promise<void>;
  /** Now, for the age of the audio links. */
  now(): number;
  /** Where relative segment URLs are fetched from. */
  baseUrl: string;
  scheduler: Scheduler;
  audioError(index: number, error: AudioPlayerError): void;
}

export class ReplyAudio {
  private readonly deps: ReplyAudioDeps;
  /*
   * `latest` — the reply being read or last read: its bubble's index, its queue, and the control the
   *   view shows for it.
   * `visible` — the page is on screen; the control is sent only then.
   */
  private latest: { index: MessageAt; queue: AudioPlaybackQueue; control: AudioControl; linksFrom: number } | undefined;
  private visible = true;
  private disposed = false;

  constructor(deps: ReplyAudioDeps) {
    this.deps = deps;
  }

  /** The reply at `index` has `segments` so far (in index order); the new ones are queued. */
  update(index: MessageAt, segments: readonly AudioData[], options: { play: boolean }): void {
    if (this.disposed || segments.length === 0) return;
    const queue = this.queueFor(index, options.play);
    for (let at = queue.length; at < segments.length; at++) {
      const segment = segments[at];
      if (segment !== undefined) queue.push(segment);
    }
  }

  finish(): void {
    this.latest?.queue.finish();
    this.sync();
  }

  stop(): void {
    this.latest?.queue.stop();
    this.sync();
  }

  /** An audio interruption began: the segment being read is held where it is. */
  interrupt(): void {
    this.latest?.queue.pause();
    this.sync();
  }

  /** The interruption ended: reading goes on from where it was held, if the page is on screen. */
  interruptionEnded(): void {
    if (this.visible) this.latest?.queue.resume();
    this.sync();
  }

  /** 继续朗读: reads on from where an interruption held it. */
  resume(): boolean {
    const resumed = this.latest?.queue.resume() ?? false;
    this.sync();
    return resumed;
  }

  /** Whether the latest reply's audio links are too old to play again. */
  linksExpired(now: number): boolean {
    const latest = this.latest;
    return latest !== undefined && now - latest.linksFrom >= AUDIO_LINK_LIFETIME_MS;
  }

  /** Whether a held (interrupted) reading waits for 继续朗读. */
  get paused(): boolean {
    return this.latest?.queue.paused ?? false;
  }

  /** Reads the latest reply again from its first segment; false when there is nothing to read. */
  replay(): boolean {
    const replayed = this.latest?.queue.replay() ?? false;
    this.sync();
    return replayed;
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    this.sync();
  }

  /**
   * Silences and forgets the latest reply's audio. With `keepIndex` — the bubble a new reply is shown
   * in — the old bubble's control is cleared unless it is that same bubble (being replaced anyway);
   * without it nothing is sent (the page is being cleared or left).
   */
  drop(keepIndex?: MessageAt): void {
    const latest = this.latest;
    if (latest === undefined) return;
    this.latest = undefined;
    latest.queue.dispose();
    if (keepIndex !== undefined && keepIndex !== latest.index && latest.control !== '' && !this.disposed) {
      this.deps.setData(audioControlData(latest.index, ''));
    }
  }

  /** The reply was withdrawn (the content check stopped it): silenced at once, no 重播, no control. */
  withdraw(): void {
    const latest = this.latest;
    this.drop();
    if (latest !== undefined && latest.control !== '' && !this.disposed) this.deps.setData(audioControlData(latest.index, ''));
  }

  dispose(): void {
    this.drop();
    this.disposed = true;
  }

  private queueFor(index: MessageAt, play: boolean): AudioPlaybackQueue {
    if (this.latest?.index === index) return this.latest.queue;
    this.drop(index);
    const queue = new AudioPlaybackQueue({
      createPlayer: () => this.deps.createPlayer(),
      baseUrl: this.deps.baseUrl,
      scheduler: this.deps.scheduler,
      onActiveChange: () => {
        if (this.latest?.queue === queue) this.sync();
      },
      onSegmentError: (segment, error) => this.deps.audioError(segment, error),
      onPauseChange: () => {
        if (this.latest?.queue === queue) this.sync();
      },
      ...(this.deps.prepare === undefined ? {} : { prepare: this.deps.prepare }),
    });
    this.latest = { index, queue, control: '', linksFrom: this.deps.now() };
    if (!play) queue.stop();
    return queue;
  }

  /** Sends the control when it changed. */
  private sync(): void {
    const latest = this.latest;
    if (latest === undefined || this.disposed || !this.visible) return;
    const queue = latest.queue;
    const control: AudioControl = queue.paused ? 'paused' : queue.active ? 'playing' : queue.canReplay ? 'played' : '';
    if (control === latest.control) return;
    latest.control = control;
    this.deps.setData(audioControlData(latest.index, control));
  }
}
