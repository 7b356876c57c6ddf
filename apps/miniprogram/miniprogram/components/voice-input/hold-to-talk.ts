/**
 * 按住 说话: what pressing, sliding and releasing the voice button do, apart from the component glue.
 *
 * Contract:
 * - `press(y)` tells the page at once (`onPress`: barge-in — the reply being spoken falls silent),
 *   then checks the record permission: granted → recording starts (16 kHz mono MP3, 48 kbit/s, as
 *   long as `maxDurationMs`); never asked → WeChat asks, and recording starts only if the finger is
 *   still down when it is granted (otherwise the hint says to press again); refused before →
 *   `record_permission_denied` and `permission.explain()` offers the way to the settings page.
 * - While recording, the view shows a level meter (from each recorded chunk, recording-level.ts),
 *   the hint 松开 发送 / 上滑 取消, and in the last 10 s the seconds left. `move(y)` more than
 *   CANCEL_DISTANCE_PX above where the press began arms cancelling (松开手指，取消发送); moving back
 *   disarms it.
 * - `release()` stops the recorder: cancelled → nothing is sent; shorter than MIN_DURATION_MS →
 *   `recording_too_short`; otherwise the recording is uploaded (`upload`) and its transcript handed
 *   to `onTranscript`. A recorder that stops by itself at the limit while the finger is still down
 *   sends the same way, and the later release does nothing. `cancel()` (touchcancel, the page
 *   going away) stops without sending.
 * - Failures reach `onFailure(code, message)` and the view, never silently: a failure that retrying
 *   can fix (network, a busy recogniser) keeps the recording — 重试 uploads it again, 放弃 drops it;
 *   `no_speech` and the others say what happened and go back to idle.
 * - `dispose()` stops a recording in progress without sending and clears every timer; the object is
 *   inert afterwards. Time, the recorder, permissions and the upload come in through the deps.
 */
import { userMessageFor, WxstreamError, type ErrorCode, type Scheduler, type TranscriptionResponse } from '../../vendor/wxstream-client.js';
import { mp3Level } from './recording-level.ts';

export const CANCEL_DISTANCE_PX = 80;
export const MIN_DURATION_MS = 500;
/** The seconds left are shown from here on. */
export const COUNTDOWN_FROM_MS = 10_000;
export const RECORDING_OPTIONS = { sampleRate: 16000, numberOfChannels: 1, encodeBitRate: 48000, format: 'mp3', frameSize: 1 } as const;

export type RecordPermission = 'granted' | 'denied' | 'ask';

export interface RecorderLike {
  start(options: typeof RECORDING_OPTIONS & { duration: number }): void;
  stop(): void;
  onStart(listener: () => void): void;
  onStop(listener: (result: { tempFilePath: string; duration: number }) => void): void;
  onError(listener: (error: { errMsg: string }) => void): void;
  onFrameRecorded(listener: (result: { frameBuffer: ArrayBuffer; isLastFrame: boolean }) => void): void;
}

export interface HoldToTalkDeps {
  recorder: RecorderLike;
  permission: {
    check(): Promise<RecordPermission>;
    /** Asks (WeChat's own dialog); resolves whether it was granted. */
    request(): Promise<boolean>;
    /** After a refusal: says why the microphone is needed and offers the settings page. */
    explain(): void;
  };
  upload(filePath: string): Promise<TranscriptionResponse>;
  clock: { now(): number };
  scheduler: Scheduler;
  maxDurationMs: number;
  render(view: Partial<HoldToTalkView>): void;
  onPress(): void;
  onTranscript(text: string, durationMs: number): void;
  onFailure(code: ErrorCode, message: string): void;
}

export type HoldPhase = 'idle' | 'preparing' | 'recording' | 'uploading' | 'failed';

/** What the component shows. */
export interface HoldToTalkView {
  phase: HoldPhase;
  cancelling: boolean;
  /** 0–1, for the meter. */
  level: number;
  /** Seconds left before the limit, shown in the last ten; -1 otherwise. */
  secondsLeft: number;
  /** The line under the button or in the overlay. */
  hint: string;
  /** The kept recording can be uploaded again. */
  canRetry: boolean;
}

export const IDLE_HINT = '按住 说话';
export const RECORDING_HINT = '松开 发送，上滑 取消';
export const CANCEL_HINT = '松开手指，取消发送';
export const UPLOADING_HINT = '正在识别…';
export const PRESS_AGAIN_HINT = '已允许录音，请再按住说话';

export function initialHoldView(): HoldToTalkView {
  return { phase: 'idle', cancelling: false, level: 0, secondsLeft: -1, hint: IDLE_HINT, canRetry: false };
}

type StopIntent = 'send' | 'cancel';

export class HoldToTalk {
  private readonly deps: HoldToTalkDeps;
  private phase: HoldPhase = 'idle';
  private pressed = false;
  private startY = 0;
  private cancelling = false;
  /** Why we asked the recorder to stop; undefined when it stops by itself (the limit). */
  private intent: StopIntent | undefined;
  private startedAt = 0;
  private level = 0;
  private ticker: unknown;
  private keptFile: string | undefined;
  private keptDurationMs = 0;
  private disposed = false;

  constructor(deps: HoldToTalkDeps) {
    this.deps = deps;
    deps.recorder.onStart(() => this.started());
    deps.recorder.onStop((result) => this.stopped(result));
    deps.recorder.onError((error) => this.recorderFailed(error));
    deps.recorder.onFrameRecorded((result) => this.frame(result.frameBuffer));
  }

  get currentPhase(): HoldPhase {
    return this.phase;
  }

  press(y: number): void {
    if (this.disposed || (this.phase !== 'idle' && this.phase !== 'failed')) return;
    this.deps.onPress();
    this.dropKept();
    this.pressed = true;
    this.startY = y;
    this.cancelling = false;
    this.intent = undefined;
    this.setPhase('preparing', { cancelling: false, level: 0, secondsLeft: -1, hint: RECORDING_HINT, canRetry: false });
    void this.authorizeAndStart();
  }

  move(y: number): void {
    if (this.disposed || !this.pressed) return;
    const cancelling = this.startY - y > CANCEL_DISTANCE_PX;
    if (cancelling === this.cancelling) return;
    this.cancelling = cancelling;
    this.deps.render({ cancelling, hint: cancelling ? CANCEL_HINT : RECORDING_HINT });
  }

  release(): void {
    this.finishPress(this.cancelling ? 'cancel' : 'send');
  }

  /** The touch was taken away (a call, a system gesture): stop without sending. */
  cancel(): void {
    this.finishPress('cancel');
  }

  /** 重试: uploads the kept recording again. */
  retry(): boolean {
    if (this.disposed || this.phase !== 'failed' || this.keptFile === undefined) return false;
    void this.send(this.keptFile, this.keptDurationMs);
    return true;
  }

  /** 放弃: drops the kept recording. */
  discard(): void {
    if (this.disposed || this.phase !== 'failed') return;
    this.dropKept();
    this.setPhase('idle', { ...initialHoldView() });
  }

  dispose(): void {
    if (this.disposed) return;
    if (this.phase === 'recording' || this.phase === 'preparing') {
      this.intent = 'cancel';
      this.deps.recorder.stop();
    }
    this.stopTicker();
    this.disposed = true;
  }

  private finishPress(intent: StopIntent): void {
    if (this.disposed || !this.pressed) return;
    this.pressed = false;
    if (this.phase === 'preparing') {
      // Released before the recorder started: it will stop as soon as it does (see `started`).
      this.intent = intent === 'send' ? 'send' : 'cancel';
      return;
    }
    if (this.phase !== 'recording') return;
    this.intent = intent;
    this.deps.recorder.stop();
  }

  private async authorizeAndStart(): Promise<void> {
    let permission: RecordPermission;
    try {
      permission = await this.deps.permission.check();
    } catch {
      permission = 'ask';
    }
    if (this.disposed) return;
    if (permission === 'ask') {
      const granted = await this.deps.permission.request().catch(() => false);
      if (this.disposed) return;
      if (!granted) {
        this.refused();
        return;
      }
      if (!this.pressed) {
        this.setPhase('idle', { ...initialHoldView(), hint: PRESS_AGAIN_HINT });
        return;
      }
    } else if (permission === 'denied') {
      this.refused();
      return;
    }
    if (!this.pressed && this.intent === 'cancel') {
      this.setPhase('idle', { ...initialHoldView() });
      return;
    }
    this.deps.recorder.start({ ...RECORDING_OPTIONS, duration: this.deps.maxDurationMs });
  }

  private refused(): void {
    this.pressed = false;
    this.fail('record_permission_denied', userMessageFor('record_permission_denied'), false);
    this.deps.permission.explain();
  }

  private started(): void {
    if (this.disposed || this.phase !== 'preparing') return;
    this.startedAt = this.deps.clock.now();
    this.setPhase('recording', { level: 0 });
    this.tick();
    // Released (or cancelled) while the recorder was getting ready.
    if (!this.pressed) this.deps.recorder.stop();
  }

  private tick(): void {
    this.stopTicker();
    const left = this.deps.maxDurationMs - (this.deps.clock.now() - this.startedAt);
    this.deps.render({ secondsLeft: left <= COUNTDOWN_FROM_MS ? Math.max(0, Math.ceil(left / 1000)) : -1 });
    this.ticker = this.deps.scheduler.setTimeout(() => this.tick(), 1000);
  }

  private stopTicker(): void {
    if (this.ticker !== undefined) this.deps.scheduler.clearTimeout(this.ticker);
    this.ticker = undefined;
  }

  private frame(buffer: ArrayBuffer): void {
    if (this.disposed || this.phase !== 'recording') return;
    const level = mp3Level(buffer);
    if (level === undefined) return;
    // Quantised so a steady voice is not a setData per chunk.
    const shown = Math.round(level * 4) / 4;
    if (shown === this.level) return;
    this.level = shown;
    this.deps.render({ level: shown });
  }

  private stopped(result: { tempFilePath: string; duration: number }): void {
    if (this.disposed) return;
    this.stopTicker();
    const intent = this.intent ?? 'send';
    // The limit stopped it with the finger still down: this is the send; the release will find nothing to do.
    this.pressed = false;
    this.intent = undefined;
    if (intent === 'cancel') {
      this.setPhase('idle', { ...initialHoldView() });
      return;
    }
    const durationMs = result.duration > 0 ? result.duration : this.deps.clock.now() - this.startedAt;
    if (durationMs < MIN_DURATION_MS) {
      this.fail('recording_too_short', userMessageFor('recording_too_short'), false);
      return;
    }
    void this.send(result.tempFilePath, durationMs);
  }

  private recorderFailed(error: { errMsg: string }): void {
    if (this.disposed) return;
    this.stopTicker();
    this.pressed = false;
    const denied = /auth|permission|denied/i.test(error.errMsg);
    if (denied) this.refused();
    else this.fail('recording_failed', userMessageFor('recording_failed'), false);
  }

  private async send(filePath: string, durationMs: number): Promise<void> {
    this.setPhase('uploading', { cancelling: false, level: 0, secondsLeft: -1, hint: UPLOADING_HINT, canRetry: false });
    let answer: TranscriptionResponse;
    try {
      answer = await this.deps.upload(filePath);
    } catch (error) {
      if (this.disposed) return;
      const failure = error instanceof WxstreamError ? error : new WxstreamError('network_error', String(error));
      const keep = failure.retryable && failure.code !== 'rate_limited' && failure.code !== 'quota_exceeded';
      if (keep) {
        this.keptFile = filePath;
        this.keptDurationMs = durationMs;
      }
      this.fail(failure.code, userMessageFor(failure.code), keep);
      return;
    }
    if (this.disposed) return;
    this.dropKept();
    this.setPhase('idle', { ...initialHoldView() });
    this.deps.onTranscript(answer.text, answer.durationMs ?? durationMs);
  }

  private fail(code: ErrorCode, message: string, keep: boolean): void {
    if (keep) this.setPhase('failed', { cancelling: false, level: 0, secondsLeft: -1, hint: message, canRetry: true });
    else this.setPhase('idle', { ...initialHoldView() });
    this.deps.onFailure(code, message);
  }

  private dropKept(): void {
    this.keptFile = undefined;
    this.keptDurationMs = 0;
  }

  private setPhase(phase: HoldPhase, view: Partial<HoldToTalkView>): void {
    this.phase = phase;
    if (phase !== 'recording') this.level = 0;
    this.deps.render({ ...view, phase });
  }
}
