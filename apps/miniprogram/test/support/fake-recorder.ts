/**
 * The fake `wx` parts voice input uses: one app-wide RecorderManager whose recordings the test plays
 * out (start → frames → stop, or an error), the `scope.record` permission (getSetting, authorize,
 * openSetting), and `wx.uploadFile` with the answers the test scripts.
 *
 * Contract: `recorder.startCalls` records every `start` option object; `began()` fires `onStart`,
 * `frame(bytes)` `onFrameRecorded`, `finish(durationMs)` `onStop` with a temp file path, `fail(msg)`
 * `onError`; `stop()` (what the page calls) is counted and, unless `holdStops` is set, finishes the
 * recording with `nextDurationMs` on the next tick. `permission.record` is the stored authorisation
 * (`undefined` = never asked); `authorizeAnswer` what the system dialog answers. Each `uploadFile`
 * is kept in `uploads` and answered from `uploadAnswers` (default: 200 with `{text:"你好"}`) on the
 * next tick; a `network` answer fails like a dropped connection.
 */

const later = (fn: () => void): void => {
  void Promise.resolve().then(fn);
};

type Listener<T> = (value: T) => void;

export class FakeRecorderManager {
  readonly startCalls: Record<string, unknown>[] = [];
  stopCalls = 0;
  recording = false;
  /** The duration reported when the page's stop() finishes a recording. */
  nextDurationMs = 2000;
  /** Leave stop() unanswered (to finish it by hand). */
  holdStops = false;
  private files = 0;
  private readonly startListeners: Listener<void>[] = [];
  private readonly stopListeners: Listener<{ tempFilePath: string; duration: number; fileSize: number }>[] = [];
  private readonly errorListeners: Listener<{ errMsg: string }>[] = [];
  private readonly frameListeners: Listener<{ frameBuffer: ArrayBuffer; isLastFrame: boolean }>[] = [];

  onStart = (listener: Listener<void>): void => void this.startListeners.push(listener);
  onStop = (listener: Listener<{ tempFilePath: string; duration: number; fileSize: number }>): void => void this.stopListeners.push(listener);
  onError = (listener: Listener<{ errMsg: string }>): void => void this.errorListeners.push(listener);
  onFrameRecorded = (listener: Listener<{ frameBuffer: ArrayBuffer; isLastFrame: boolean }>): void => void this.frameListeners.push(listener);
  onPause = (): void => undefined;
  onResume = (): void => undefined;
  onInterruptionBegin = (): void => undefined;
  onInterruptionEnd = (): void => undefined;

  start = (options: Record<string, unknown>): void => {
    this.startCalls.push(options);
    this.recording = true;
  };

  stop = (): void => {
    this.stopCalls += 1;
    if (!this.holdStops && this.recording) later(() => this.finish(this.nextDurationMs));
  };

  /** How many listeners of each kind are registered (the app's recorder must be registered on once). */
  get listenerCounts(): number[] {
    return [this.startListeners.length, this.stopListeners.length, this.errorListeners.length, this.frameListeners.length];
  }

  began(): void {
    for (const listener of this.startListeners) listener();
  }

  frame(bytes: Uint8Array): void {
    const frameBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    for (const listener of this.frameListeners) listener({ frameBuffer, isLastFrame: false });
  }

  finish(durationMs: number): string {
    this.recording = false;
    const tempFilePath = `wxfile://tmp/recording-${++this.files}.mp3`;
    for (const listener of this.stopListeners) listener({ tempFilePath, duration: durationMs, fileSize: durationMs * 6 });
    return tempFilePath;
  }

  fail(errMsg: string): void {
    this.recording = false;
    for (const listener of this.errorListeners) listener({ errMsg });
  }
}

export interface UploadOptions {
  url: string;
  filePath: string;
  name: string;
  header?: Record<string, string>;
  formData?: Record<string, unknown>;
  timeout?: number;
  success?: (result: { statusCode: number; data: string; errMsg: string }) => void;
  fail?: (error: { errMsg: string }) => void;
  complete?: () => void;
}

export type UploadAnswer = { statusCode: number; data: unknown } | { network: string };

export class FakeVoiceInput {
  readonly recorder = new FakeRecorderManager();
  /** The stored `scope.record` authorisation; undefined = never asked. */
  record: boolean | undefined = true;
  /** What the system's permission dialog answers. */
  authorizeAnswer = true;
  authorizeCalls = 0;
  openSettingCalls = 0;
  readonly uploads: UploadOptions[] = [];
  readonly uploadAnswers: UploadAnswer[] = [];

  getRecorderManager = (): FakeRecorderManager => this.recorder;

  getSetting = (options: { success?: (result: { authSetting: Record<string, boolean> }) => void; complete?: () => void }): void => {
    later(() => {
      options.success?.({ authSetting: this.record === undefined ? {} : { 'scope.record': this.record } });
      options.complete?.();
    });
  };

  authorize = (options: { scope: string; success?: () => void; fail?: (error: { errMsg: string }) => void; complete?: () => void }): void => {
    this.authorizeCalls += 1;
    later(() => {
      if (options.scope === 'scope.record' && this.authorizeAnswer) {
        this.record = true;
        options.success?.();
      } else {
        this.record = false;
        options.fail?.({ errMsg: 'authorize:fail auth deny' });
      }
      options.complete?.();
    });
  };

  openSetting = (): void => {
    this.openSettingCalls += 1;
  };

  uploadFile = (options: UploadOptions): void => {
    this.uploads.push(options);
    const answer = this.uploadAnswers.shift() ?? { statusCode: 200, data: { text: '你好', durationMs: 2000 } };
    later(() => {
      if ('network' in answer) options.fail?.({ errMsg: answer.network });
      else options.success?.({ statusCode: answer.statusCode, data: JSON.stringify(answer.data), errMsg: 'uploadFile:ok' });
      options.complete?.();
    });
  };
}
