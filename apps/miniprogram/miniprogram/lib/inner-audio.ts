/**
 * The audio players of spoken replies: WeChat's InnerAudioContext, set up once for speech.
 *
 * Contract: `createInnerAudioPlayerFactory()` returns a factory for `AudioPlaybackQueue`. Its first call
 * sets the app-wide InnerAudioContext options, then every call returns a new
 * `wx.createInnerAudioContext()`. The options (`wx.setInnerAudioOption`, app-wide, base library 2.3.0+):
 * - `obeyMuteSwitch: false` — the user turned reading on in the app; on iOS the ring/silent switch would
 *   otherwise silence every reply without a hint why.
 * - `mixWithOther: false` — a voice reading over the user's music is hard to follow, so other audio
 *   pauses while a reply is read (WeChat also forces this with the speaker on, its default).
 * Set on first use rather than when the page opens, so opening the chat never interrupts the user's music.
 */
import type { AudioPlayer } from '../vendor/wxstream-client.js';

export function createInnerAudioPlayerFactory(): () => AudioPlayer {
  let configured = false;
  return () => {
    if (!configured) {
      configured = true;
      if (typeof wx.setInnerAudioOption === 'function') {
        wx.setInnerAudioOption({
          obeyMuteSwitch: false,
          mixWithOther: false,
          fail: (error) => console.warn('wxstream: could not set the audio options', error),
        });
      }
    }
    return wx.createInnerAudioContext();
  };
}
