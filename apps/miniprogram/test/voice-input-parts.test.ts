/**
 * The pure parts of voice input: the level read from MP3 frames, the app-wide recorder shared by
 * button instances, the upload of a recording (with a renewed token), and the saved input mode.
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { WxstreamError } from '../miniprogram/vendor/wxstream-client.js';
import { mp3Level } from '../miniprogram/components/voice-input/recording-level.ts';
import { loadInputMode, saveInputMode } from '../miniprogram/lib/input-mode-preference.ts';
import { sharedRecorder } from '../miniprogram/lib/shared-recorder.ts';
import { uploadRecording, type WxUploadFileOptions } from '../miniprogram/lib/transcription-upload.ts';
import type { AuthSession } from '../miniprogram/lib/auth-session.ts';
import { FakeRecorderManager } from './support/fake-recorder.ts';
import { mp3Frame } from './support/mp3-frames.ts';

test('the level rises with the granule gain, is 0 for a granule without bits, and undefined without a frame', () => {
  assert.equal(mp3Level(mp3Frame({ globalGain: 120 })), 0);
  assert.equal(mp3Level(mp3Frame({ globalGain: 155 })), 0.5);
  assert.equal(mp3Level(mp3Frame({ globalGain: 200 })), 1);
  assert.equal(mp3Level(mp3Frame({ globalGain: 210, bits: 0 })), 0);
  assert.equal(mp3Level(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), undefined);
});

test('a chunk that starts mid-frame is read from its first whole header; the loudest granule counts', () => {
  const chunk = new Uint8Array([...mp3Frame({ globalGain: 150 }).subarray(100), ...mp3Frame({ globalGain: 140 }), ...mp3Frame({ globalGain: 170 })]);
  assert.equal(mp3Level(chunk), 0.8);
});

test('the app-wide recorder is registered on once, and only the latest attached button hears it', () => {
  const manager = new FakeRecorderManager();
  const shared = sharedRecorder(() => manager);
  const heard: string[] = [];
  const first = shared.attach();
  first.onStart(() => heard.push('first'));
  first.onStop(() => undefined);
  const second = shared.attach();
  second.onStart(() => heard.push('second'));
  manager.began();
  assert.deepEqual(heard, ['second']);
  assert.deepEqual(manager.listenerCounts, [1, 1, 1, 1]);
  first.detach();
  manager.began();
  assert.deepEqual(heard, ['second', 'second'], "an old button's detach leaves the new one alone");
  second.detach();
  manager.began();
  assert.equal(heard.length, 2);
});

function fakeAuth(tokens: string[]): AuthSession & { invalidated: number } {
  let invalidated = 0;
  return {
    token: async () => tokens[0] ?? 'none',
    invalidate: () => {
      invalidated += 1;
      tokens.shift();
    },
    get invalidated() {
      return invalidated;
    },
  } as AuthSession & { invalidated: number };
}

test('the upload sends the file as field "file" with the token, and a refused token is renewed once', async () => {
  const seen: WxUploadFileOptions[] = [];
  const answers = [
    { statusCode: 401, data: JSON.stringify({ error: { code: 'token_expired', message: 'expired' } }) },
    { statusCode: 200, data: JSON.stringify({ text: 'hello', durationMs: 1200 }) },
  ];
  const auth = fakeAuth(['old', 'new']);
  const answer = await uploadRecording(
    {
      serverUrl: 'https://api.example',
      auth,
      uploadFile: (options) => {
        seen.push(options);
        const next = answers.shift();
        if (next) options.success(next);
      },
    },
    'wxfile://tmp/a.mp3',
  );
  assert.deepEqual(answer, { text: 'hello', durationMs: 1200 });
  assert.deepEqual(
    seen.map((options) => [options.url, options.name, options.filePath, options.header.Authorization]),
    [
      ['https://api.example/api/transcriptions', 'file', 'wxfile://tmp/a.mp3', 'Bearer old'],
      ['https://api.example/api/transcriptions', 'file', 'wxfile://tmp/a.mp3', 'Bearer new'],
    ],
  );
  assert.equal(auth.invalidated, 1);
});

test('upload failures are WxstreamErrors with the server code, http_error, network_error or bad_response', async () => {
  const outcome = async (respond: (options: WxUploadFileOptions) => void): Promise<WxstreamError> => {
    try {
      await uploadRecording({ serverUrl: 'https://api.example', auth: fakeAuth(['t']), uploadFile: respond }, 'f');
    } catch (error) {
      assert.ok(error instanceof WxstreamError);
      return error;
    }
    assert.fail('expected a rejection');
  };
  assert.equal((await outcome((o) => o.success({ statusCode: 413, data: JSON.stringify({ error: { code: 'audio_too_long', message: 'x' } }) }))).code, 'audio_too_long');
  const gateway = await outcome((o) => o.success({ statusCode: 502, data: '<html>bad gateway</html>' }));
  assert.deepEqual([gateway.code, gateway.retryable], ['http_error', true]);
  assert.equal((await outcome((o) => o.fail({ errMsg: 'uploadFile:fail timeout' }))).code, 'network_error');
  assert.equal((await outcome((o) => o.success({ statusCode: 200, data: '{"text":""}' }))).code, 'bad_response');
});

test('the input mode is keyboard unless voice was saved', () => {
  const storage = new Map<string, unknown>();
  const wxStorage = { getStorageSync: (key: string) => storage.get(key) ?? '', setStorageSync: (key: string, value: unknown) => void storage.set(key, value) };
  assert.equal(loadInputMode(wxStorage), 'keyboard');
  saveInputMode(wxStorage, 'voice');
  assert.equal(loadInputMode(wxStorage), 'voice');
  storage.set('wxstream.inputMode', 'nonsense');
  assert.equal(loadInputMode(wxStorage), 'keyboard');
});
