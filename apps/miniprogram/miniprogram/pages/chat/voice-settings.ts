/**
 * The chat page's two voice choices and what follows from them: the 朗读 toggle (replies are read aloud)
 * and the composer's keyboard / 按住 说话 mode, both saved; plus whether the latest reply is read aloud.
 *
 * Contract: `restore()` shows the saved choices (a `setData` only for one that differs from the page's
 * initial data). `toggle()` flips 朗读, saves it, shows it and returns the new value (the caller silences
 * the playback when it is off); turning it off also ends `spokenReply`, turning it on lets the
 * tts_unavailable notice be shown again. `asksVoice(spoken)` is what a request's `voice` should be: a
 * spoken question gets a spoken answer whatever the toggle says, and `messageSent(spoken)` remembers it
 * so `readsAloud` holds for that reply. `voiceRefused()` — the server said `voice: false` to a request
 * that asked for it — notifies once, until 朗读 is turned on again.
 */
import { userMessageFor } from '../../vendor/wxstream-client.js';
import type { InputMode } from '../../lib/input-mode-preference.ts';
import type { SetDataObject } from './chat-view-model.ts';

export interface VoiceSettingsDeps {
  setData(data: SetDataObject): void;
  /** The saved 朗读 toggle. */
  voicePreference: { load(): boolean; save(on: boolean): void };
  /** The saved keyboard / voice choice of the composer. */
  inputModePreference: { load(): InputMode; save(mode: InputMode): void };
  /** A short notice that goes away by itself (a toast). */
  notify(message: string): void;
}

export class VoiceSettings {
  private readonly deps: VoiceSettingsDeps;
  /** The 朗读 toggle. */
  private voice = false;
  /** The tts_unavailable notice was shown since 朗读 was last turned on. */
  private noticeShown = false;
  /** The latest message was spoken: its reply is read even with the toggle off (until the toggle is turned off). */
  private spokenReply = false;
  /** The composer's keyboard / voice choice. */
  private inputMode: InputMode = 'keyboard';

  constructor(deps: VoiceSettingsDeps) {
    this.deps = deps;
  }

  /** 朗读 is on: messages ask for spoken replies. */
  get on(): boolean {
    return this.voice;
  }

  /** The latest reply is read aloud (the toggle is on, or its question was spoken). */
  get readsAloud(): boolean {
    return this.voice || this.spokenReply;
  }

  /** Shows the saved choices (called once, when the page is attached). */
  restore(): void {
    this.voice = this.deps.voicePreference.load();
    if (this.voice) this.deps.setData({ voice: true });
    this.inputMode = this.deps.inputModePreference.load();
    if (this.inputMode === 'voice') this.deps.setData({ inputMode: 'voice' });
  }

  /** Keyboard ⇄ 按住 说话, remembered. */
  toggleInputMode(): void {
    this.inputMode = this.inputMode === 'voice' ? 'keyboard' : 'voice';
    this.deps.inputModePreference.save(this.inputMode);
    this.deps.setData({ inputMode: this.inputMode });
  }

  /** The composer shows the text box (for now; the saved choice is unchanged). */
  useKeyboard(): void {
    this.inputMode = 'keyboard';
    this.deps.setData({ inputMode: 'keyboard' });
  }

  /** Turns 朗读 on or off for the next messages; returns whether it is on now. */
  toggle(): boolean {
    this.voice = !this.voice;
    if (!this.voice) this.spokenReply = false;
    this.deps.voicePreference.save(this.voice);
    this.deps.setData({ voice: this.voice });
    if (this.voice) this.noticeShown = false;
    return this.voice;
  }

  /** Whether a message (spoken or typed) asks for a spoken reply. */
  asksVoice(spoken: boolean): boolean {
    return this.voice || spoken;
  }

  /** A new message was sent: its reply is read aloud if it was spoken (or 朗读 is on). */
  messageSent(spoken: boolean): void {
    this.spokenReply = spoken;
  }

  /** The server cannot speak a reply that asked for voice: say so once, until 朗读 is turned on again. */
  voiceRefused(): void {
    if (this.noticeShown) return;
    this.noticeShown = true;
    this.deps.notify(userMessageFor('tts_unavailable'));
  }
}
