/**
 * WeChat's recorder is one object per app (`wx.getRecorderManager()` returns the same manager every
 * time) and its listeners cannot be removed, so a component that registered on it directly would
 * keep hearing recordings after it is gone, and a second one would double every event.
 *
 * Contract: `sharedRecorder(getManager)` registers on the manager once, the first time a recorder is
 * used (and once more only if `getManager` ever hands out a different manager), and forwards each event to the listeners of the one `RecorderLike` currently attached
 * (the latest `attach()`); `detach()` stops forwarding to it (a newer attachment is left alone).
 * `start`/`stop` go straight to the manager.
 */
import type { RecorderLike } from '../components/voice-input/hold-to-talk.ts';

type Listeners = {
  start?: () => void;
  stop?: (result: { tempFilePath: string; duration: number }) => void;
  error?: (error: { errMsg: string }) => void;
  frame?: (result: { frameBuffer: ArrayBuffer; isLastFrame: boolean }) => void;
};

/** The parts of WeChat's RecorderManager used here. */
export interface RecorderManagerLike {
  start(options: Record<string, unknown>): void;
  stop(): void;
  onStart(listener: () => void): void;
  onStop(listener: (result: { tempFilePath: string; duration: number }) => void): void;
  onError(listener: (error: { errMsg: string }) => void): void;
  onFrameRecorded(listener: (result: { frameBuffer: ArrayBuffer; isLastFrame: boolean }) => void): void;
}

export interface AttachedRecorder extends RecorderLike {
  detach(): void;
}

export function sharedRecorder(getManager: () => RecorderManagerLike): { attach(): AttachedRecorder } {
  let manager: RecorderManagerLike | undefined;
  let current: Listeners | undefined;
  const ensure = (): RecorderManagerLike => {
    const created = getManager();
    if (created === manager) return created;
    created.onStart(() => current?.start?.());
    created.onStop((result) => current?.stop?.(result));
    created.onError((error) => current?.error?.(error));
    created.onFrameRecorded((result) => current?.frame?.(result));
    manager = created;
    return created;
  };
  return {
    attach() {
      const mine: Listeners = {};
      current = mine;
      return {
        start: (options) => ensure().start(options),
        stop: () => ensure().stop(),
        onStart: (listener) => {
          ensure();
          mine.start = listener;
        },
        onStop: (listener) => {
          ensure();
          mine.stop = listener;
        },
        onError: (listener) => {
          ensure();
          mine.error = listener;
        },
        onFrameRecorded: (listener) => {
          ensure();
          mine.frame = listener;
        },
        detach: () => {
          if (current === mine) current = undefined;
        },
      };
    },
  };
}
