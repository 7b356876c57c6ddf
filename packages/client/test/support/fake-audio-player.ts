/**
 * A scriptable stand-in for WeChat's InnerAudioContext, and a factory that keeps every player it made.
 *
 * Contract: a player does nothing by itself; the test fires its events (`canplay`, `end`, `fail`)
 * synchronously — the harshest timing for re-entrancy. Listeners are removed by identity (`off*` with
 * none removes all), as WeChat does, and a destroyed player fires nothing. Misuse throws: `play()`
 * without a `src`, any use after `destroy()`. `players.log` records, in order, every `src`, `play`,
 * `stop` and `destroy` across all players, so a test can check what was loaded ahead and what played
 * when. The mini-program's fake `wx` hands these out from `createInnerAudioContext` (exported as
 * `@wxstream/client/testing/fake-audio-player`).
 */
import type { AudioPlayer, AudioPlayerError } from '../../src/audio-playback-queue.ts';

type Listener<T> = (value: T) => void;

function remove<T>(listeners: T[], listener: T | undefined): void {
  if (listener === undefined) {
    listeners.length = 0;
    return;
  }
  const index = listeners.indexOf(listener);
  if (index >= 0) listeners.splice(index, 1);
}

export class FakeAudioPlayer implements AudioPlayer {
  readonly id: number;
  playCalls = 0;
  stopCalls = 0;
  destroyed = false;
  /** Between `play()` and its end, pause, stop, failure or destruction. */
  playing = false;
  pauseCalls = 0;
  /** Where playback starts, in seconds (set before `src` to start mid-way). */
  startTime = 0;
  /** The position the test says playback has reached, in seconds (`advanceTo`). */
  currentTime = 0;
  private source = '';
  private readonly log: string[];
  private readonly canplayListeners: (() => void)[] = [];
  private readonly endedListeners: (() => void)[] = [];
  private readonly errorListeners: Listener<AudioPlayerError>[] = [];

  constructor(id: number, log: string[]) {
    this.id = id;
    this.log = log;
  }

  get src(): string {
    return this.source;
  }

  set src(value: string) {
    this.alive('src');
    this.source = value;
    this.log.push(this.startTime > 0 ? `src #${this.id} ${value} from ${this.startTime}` : `src #${this.id} ${value}`);
  }

  play(): void {
    this.alive('play');
    if (this.source === '') throw new Error(`FakeAudioPlayer #${this.id}: play() without a src`);
    this.playCalls++;
    this.playing = true;
    this.log.push(`play #${this.id}`);
  }

  pause(): void {
    this.alive('pause');
    this.pauseCalls++;
    this.playing = false;
    this.log.push(`pause #${this.id} at ${this.currentTime}`);
  }

  /** Playback has reached `seconds` into the source. */
  advanceTo(seconds: number): void {
    this.currentTime = seconds;
  }

  stop(): void {
    this.alive('stop');
    this.stopCalls++;
    this.playing = false;
    this.log.push(`stop #${this.id}`);
  }

  destroy(): void {
    this.destroyed = true;
    this.playing = false;
    this.log.push(`destroy #${this.id}`);
  }

  onCanplay(listener: () => void): void {
    this.canplayListeners.push(listener);
  }
  offCanplay(listener?: () => void): void {
    remove(this.canplayListeners, listener);
  }
  onEnded(listener: () => void): void {
    this.endedListeners.push(listener);
  }
  offEnded(listener?: () => void): void {
    remove(this.endedListeners, listener);
  }
  onError(listener: Listener<AudioPlayerError>): void {
    this.errorListeners.push(listener);
  }
  offError(listener?: Listener<AudioPlayerError>): void {
    remove(this.errorListeners, listener);
  }

  get listenerCount(): number {
    return this.canplayListeners.length + this.endedListeners.length + this.errorListeners.length;
  }

  /** The source has loaded enough to play. */
  canplay(): void {
    if (this.destroyed) return;
    for (const listener of [...this.canplayListeners]) listener();
  }

  /** Playback reached the end. */
  end(): void {
    if (this.destroyed) return;
    this.playing = false;
    for (const listener of [...this.endedListeners]) listener();
  }

  fail(errCode = 10002, errMsg = 'network error'): void {
    if (this.destroyed) return;
    this.playing = false;
    for (const listener of [...this.errorListeners]) listener({ errCode, errMsg });
  }

  private alive(what: string): void {
    if (this.destroyed) throw new Error(`FakeAudioPlayer #${this.id}: ${what} after destroy`);
  }
}

export class FakeAudioPlayers {
  readonly all: FakeAudioPlayer[] = [];
  readonly log: string[] = [];
  /** When set, the next `create` throws this (WeChat refuses more contexts than its limit). */
  refuseNext: Error | undefined;

  readonly create = (): FakeAudioPlayer => {
    const refusal = this.refuseNext;
    if (refusal !== undefined) {
      this.refuseNext = undefined;
      throw refusal;
    }
    const player = new FakeAudioPlayer(this.all.length, this.log);
    this.all.push(player);
    return player;
  };

  alive(): FakeAudioPlayer[] {
    return this.all.filter((player) => !player.destroyed);
  }

  playing(): FakeAudioPlayer[] {
    return this.all.filter((player) => player.playing);
  }

  /** The player whose `src` ends with `suffix` (segment URLs in the tests end with their index). */
  bySrc(suffix: string): FakeAudioPlayer {
    const found = this.all.filter((player) => player.src.endsWith(suffix));
    const player = found[found.length - 1];
    if (player === undefined) throw new Error(`no player has a src ending with ${suffix}`);
    return player;
  }

  /** The one player playing now. */
  current(): FakeAudioPlayer {
    const playing = this.playing();
    if (playing.length !== 1) throw new Error(`${playing.length} players are playing`);
    return playing[0] as FakeAudioPlayer;
  }
}
