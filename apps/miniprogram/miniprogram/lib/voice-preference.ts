/**
 * Whether the user wants replies read aloud, kept in storage so it survives restarts.
 *
 * Contract: `loadVoicePreference` is true only when `true` was saved (nothing stored — a first start —
 * or anything else means off: voice costs data and must be asked for); `saveVoicePreference` stores the
 * choice. Storage comes in by injection (`wx` on a device).
 */

export const VOICE_STORAGE_KEY = 'wxstream.voice';

export interface VoicePreferenceStorage {
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: unknown): void;
}

export function loadVoicePreference(storage: VoicePreferenceStorage): boolean {
  try {
    return storage.getStorageSync(VOICE_STORAGE_KEY) === true;
  } catch (error) {
    console.warn('wxstream: could not read the voice setting', error);
    return false;
  }
}

export function saveVoicePreference(storage: VoicePreferenceStorage, on: boolean): void {
  try {
    storage.setStorageSync(VOICE_STORAGE_KEY, on);
  } catch (error) {
    // The toggle still works for this visit; only the next start forgets it.
    console.warn('wxstream: could not save the voice setting', error);
  }
}
