import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { loadVoicePreference, saveVoicePreference, VOICE_STORAGE_KEY, type VoicePreferenceStorage } from '../miniprogram/lib/voice-preference.ts';

function memoryStorage(initial?: unknown): VoicePreferenceStorage & { values: Map<string, unknown> } {
  const values = new Map<string, unknown>();
  if (initial !== undefined) values.set(VOICE_STORAGE_KEY, initial);
  return {
    values,
    // WeChat answers '' for a key that was never set.
    getStorageSync: (key) => (values.has(key) ? values.get(key) : ''),
    setStorageSync: (key, value) => values.set(key, value),
  };
}

test('voice is off on a first start and on only after true was saved', () => {
  assert.equal(loadVoicePreference(memoryStorage()), false);
  assert.equal(loadVoicePreference(memoryStorage('true')), false, 'only the boolean counts');
  const storage = memoryStorage();
  saveVoicePreference(storage, true);
  assert.equal(storage.values.get(VOICE_STORAGE_KEY), true);
  assert.equal(loadVoicePreference(storage), true);
  saveVoicePreference(storage, false);
  assert.equal(loadVoicePreference(storage), false);
});

test('storage that throws leaves voice off and the toggle working', () => {
  const broken: VoicePreferenceStorage = {
    getStorageSync: () => {
      throw new Error('getStorageSync:fail');
    },
    setStorageSync: () => {
      throw new Error('setStorageSync:fail exceed storage max size');
    },
  };
  const warn = console.warn;
  console.warn = () => {};
  try {
    assert.equal(loadVoicePreference(broken), false);
    assert.doesNotThrow(() => saveVoicePreference(broken, true));
  } finally {
    console.warn = warn;
  }
});
