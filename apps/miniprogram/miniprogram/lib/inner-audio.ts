/**
 * The audio players of spoken replies: WeChat's InnerAudioContext, set up once for speech.
 *
 * Contract: `createInnerAudio()` returns, for one page, `createPlayer` — a new
 * `wx.createInnerAudioContext()` per call, for `AudioPlaybackQueue` — and `prepare`, which sets the
 * app-wide InnerAudioContext options and resolves once WeChat has applied them (or refused: playback then
 * goes on with the defaults). The queue awaits `prepare` before its first `play()`, because
 * `wx.setInnerAudioOption` is asynchronous and a segment played before it lands would still obey the
 * silent switch. It calls WeChat once; later calls get the same promise. The options (`wx.setInnerAudioOption`, app-wide, base library 2.3.0+):
 * - `obeyMuteSwitch: false` — the user turned reading on in the app; on iOS the ring/silent switch would
 *   otherwise silence every reply without a hint why.
 * - `mixWithOther: false` — a voice reading over the user's music is hard to follow, so other audio
 *   pauses while a reply is read (WeChat also forces this with the speaker on, its default).
 * Set on first use rather than when the page opens, so opening the chat never interrupts the user's music.
 */
import type { AudioPlayer } from '../vendor/wxstream-client.js';

export interface InnerAudio {
  createPlayer(): AudioPlayer;
  prepare(): Promise<void>;
}

export function createInnerAudio(): InnerAudio {
  let prepared: Promise<void> | undefined;
  return {
    createPlayer: () => wx.createInnerAudioContext(),
    prepare() {
      if (prepared === undefined) {
        prepared = new Promise<void>((resolve) => {
          if (typeof wx.setInnerAudioOption !== 'function') {
            resolve();
            return;
          }
          wx.setInnerAudioOption({
            obeyMuteSwitch: false,
            mixWithOther: false,
            success: () => resolve(),
            fail: (error) => {
              console.warn('wxstream: could not set the audio options', error);
              resolve();
            },
          });
        });
      }
      return prepared;
    },
  };
}
