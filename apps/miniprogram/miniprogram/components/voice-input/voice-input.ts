/**
 * The 按住 说话 button: `Component` glue between WeChat and `HoldToTalk` (hold-to-talk.ts).
 *
 * Wires the app's one recorder (lib/shared-recorder.ts), the `scope.record` permission (wx.getSetting /
 * wx.authorize, and after a refusal a dialog whose 去设置 opens wx.openSetting), the upload
 * (lib/transcription-upload.ts through `wx.uploadFile`) and the page's timers into it, and the touch
 * events into its calls. Tells the page three things: `press` (the user began to talk — silence the
 * reply being read), `transcript` `{text, durationMs}`, and `failure` `{code, message}` (the message,
 * in Chinese, is also shown here). Properties: `maxDurationMs` (the server's limit, default 60 s).
 * Detaching stops a recording without sending and clears every timer.
 */
import { SERVER_URL } from '../../config.ts';
import { systemClock, timerScheduler } from '../../lib/platform.ts';
import { sharedRecorder, type AttachedRecorder } from '../../lib/shared-recorder.ts';
import { uploadRecording } from '../../lib/transcription-upload.ts';
import { createWxAuthSession } from '../../lib/wx-services.ts';
import { HoldToTalk, initialHoldView, type RecordPermission } from './hold-to-talk.ts';

/** WeChat's RecorderManager is per app: one forwarding registration for every button instance. */
const appRecorder = sharedRecorder(() => wx.getRecorderManager());

const machines = new WeakMap<object, { hold: HoldToTalk; recorder: AttachedRecorder }>();

export const PERMISSION_TITLE = '需要麦克风权限';
export const PERMISSION_CONTENT = '按住说话需要使用麦克风。请在设置中打开「麦克风」，再回来按住说话。';

const permission = {
  check: () =>
    new Promise<RecordPermission>((resolve) => {
      wx.getSetting({
        success: (result) => {
          const granted = result.authSetting['scope.record'];
          resolve(granted === true ? 'granted' : granted === false ? 'denied' : 'ask');
        },
        fail: () => resolve('ask'),
      });
    }),
  request: () =>
    new Promise<boolean>((resolve) => {
      wx.authorize({ scope: 'scope.record', success: () => resolve(true), fail: () => resolve(false) });
    }),
  explain: () => {
    wx.showModal({
      title: PERMISSION_TITLE,
      content: PERMISSION_CONTENT,
      confirmText: '去设置',
      success: (result) => {
        if (result.confirm) wx.openSetting({});
      },
    });
  },
};

function touchY(event: WechatMiniprogram.TouchEvent): number {
  return event.touches[0]?.clientY ?? event.changedTouches[0]?.clientY ?? 0;
}

Component({
  properties: {
    maxDurationMs: { type: Number, value: 60_000 },
  },

  data: initialHoldView(),

  lifetimes: {
    attached() {
      const recorder = appRecorder.attach();
      const auth = createWxAuthSession();
      const hold = new HoldToTalk({
        recorder,
        permission,
        upload: (filePath) => uploadRecording({ serverUrl: SERVER_URL, auth, uploadFile: (options) => wx.uploadFile(options) }, filePath),
        clock: systemClock,
        scheduler: timerScheduler,
        maxDurationMs: Number(this.data.maxDurationMs) || 60_000,
        render: (view) => this.setData(view),
        onPress: () => this.triggerEvent('press'),
        onTranscript: (text, durationMs) => this.triggerEvent('transcript', { text, durationMs }),
        onFailure: (code, message) => this.triggerEvent('failure', { code, message }),
      });
      machines.set(this, { hold, recorder });
    },
    detached() {
      const machine = machines.get(this);
      machine?.hold.dispose();
      machine?.recorder.detach();
      machines.delete(this);
    },
  },

  methods: {
    onTouchStart(event: WechatMiniprogram.TouchEvent) {
      machines.get(this)?.hold.press(touchY(event));
    },
    onTouchMove(event: WechatMiniprogram.TouchEvent) {
      machines.get(this)?.hold.move(touchY(event));
    },
    onTouchEnd() {
      machines.get(this)?.hold.release();
    },
    onTouchCancel() {
      machines.get(this)?.hold.cancel();
    },
    onRetry() {
      machines.get(this)?.hold.retry();
    },
    onDiscard() {
      machines.get(this)?.hold.discard();
    },
  },
});
