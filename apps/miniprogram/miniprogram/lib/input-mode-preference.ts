/**
 * Whether the composer shows the keyboard or the 按住 说话 button, kept in storage so the choice
 * survives restarts — as WeChat's own chat remembers it.
 *
 * Contract: `loadInputMode` is `voice` only when `voice` was saved (a first start, or anything else,
 * is `keyboard`); `saveInputMode` stores the choice, and a storage failure only costs the memory of
 * it. Storage comes in by injection (`wx` on a device).
 */
import type { VoicePreferenceStorage } from './voice-preference.ts';

export const INPUT_MODE_STORAGE_KEY = 'wxstream.inputMode';

export type InputMode = 'keyboard' | 'voice';

export function loadInputMode(storage: VoicePreferenceStorage): InputMode {
  try {
    return storage.getStorageSync(INPUT_MODE_STORAGE_KEY) === 'voice' ? 'voice' : 'keyboard';
  } catch (error) {
    console.warn('wxstream: could not read the input mode', error);
    return 'keyboard';
  }
}

export function saveInputMode(storage: VoicePreferenceStorage, mode: InputMode): void {
  try {
    storage.setStorageSync(INPUT_MODE_STORAGE_KEY, mode);
  } catch (error) {
    console.warn('wxstream: could not save the input mode', error);
  }
}
