import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseErrorBody, ROUTES, type TranscriptionResponse } from '@wxstream/protocol';
import { createOpenAITranscriber } from '../src/transcription/openai-transcriber.ts';
import { TranscriptionError, type TranscriptionRequest } from '../src/transcription/transcriber.ts';
import { createYoudaoAsr, youdaoLangType } from '../src/transcription/youdao-asr.ts';
import { silentMp3 } from './support/fake-youdao-server.ts';
import { startFakeTranscriptionServer, type FakeTranscriptionServer } from './support/fake-openai-transcription-server.ts';
import { startFakeYoudaoAsrServer, type FakeAsrServer } from './support/fake-youdao-asr-server.ts';
import { login, send } from './support/http-client.ts';
import { createManualClock } from './support/manual-clock.ts';
import { adtsAac, m4aAac, silentWav, uploadRequest } from './support/recordings.ts';
import { startTestServer } from './support/test-server.ts';

const API_KEY = 'sk-stt-test-key-0123456789abcdef';
const APP_KEY = 'asrappkey0001';
const APP_SECRET = 'asrsecret0002-do-not-leak';
const NOW_MS = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
const MP3 = silentMp3(30);

function request(overrides: Partial<TranscriptionRequest> = {}): TranscriptionRequest {
  return { audio: MP3, format: 'mp3', sampleRate: 44100, durationMs: 784, language: undefined, ...overrides };
}

async function rejection(promise: Promise<unknown>): Promise<TranscriptionError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TranscriptionError, `a TranscriptionError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

describe('OpenAI-compatible transcription against a fake that checks the multipart body', () => {
  let fake: FakeTranscriptionServer;
  before(async () => {
    fake = await startFakeTranscriptionServer({ apiKey: API_KEY });
  });
  after(() => fake.close());

  const transcriber = (overrides: { apiKey?: string; timeoutMs?: number } = {}) =>
    createOpenAITranscriber({ apiKey: overrides.apiKey ?? API_KEY, baseURL: fake.baseURL, model: 'whisper-test', timeoutMs: overrides.timeoutMs ?? 5000, clock: createManualClock(NOW_MS) });

  for (const [format, audio, name, type] of [
    ['mp3', MP3, 'audio.mp3', 'audio/mpeg'],
    ['wav', silentWav(500), 'audio.wav', 'audio/wav'],
    ['m4a', m4aAac(500), 'audio.m4a', 'audio/mp4'],
    ['aac', adtsAac(10), 'audio.aac', 'audio/aac'],
  ] as const) {
    test(`${format}: the file part carries the bytes, a name and type that say ${format}, and the model`, async () => {
      const answer = await transcriber().transcribe(request({ audio, format }));
      const seen = fake.requests.at(-1);
      assert.equal(seen?.problem, undefined);
      assert.equal(seen?.path, '/v1/audio/transcriptions');
      assert.equal(seen?.authorization, `Bearer ${API_KEY}`);
      assert.match(seen?.contentType ?? '', /^multipart\/form-data; boundary=/);
      assert.equal(seen?.file?.name, name);
      assert.equal(seen?.file?.type, type);
      assert.ok(seen?.file?.bytes.equals(audio), 'the exact bytes');
      assert.equal(seen?.fields.model, 'whisper-test');
      assert.equal(seen?.fields.response_format, 'json');
      assert.equal(seen?.fields.language, undefined);
      assert.deepEqual(answer, { text: `heard ${audio.length} bytes` });
    });
  }

  test('a language goes along and comes back', async () => {
    const answer = await transcriber().transcribe(request({ language: 'zh' }));
    assert.equal(fake.requests.at(-1)?.fields.language, 'zh');
    assert.equal(answer.language, 'zh');
  });

  test('a refused key is stt_unavailable, and the key is not in the message', async () => {
    const error = await rejection(transcriber({ apiKey: 'sk-wrong-key-9999999999999999' }).transcribe(request()));
    assert.equal(error.code, 'stt_unavailable');
    assert.ok(!error.message.includes('sk-wrong-key-9999999999999999'));
  });

  test('server errors are retryable stt_failed; other refusals are not retryable', async () => {
    const statuses = [503, 429, 400];
    const scripted = await startFakeTranscriptionServer({ apiKey: API_KEY, answer: (index) => ({ kind: 'http-error', status: statuses[index] ?? 500 }) });
    try {
      const make = () => createOpenAITranscriber({ apiKey: API_KEY, baseURL: scripted.baseURL, timeoutMs: 5000, clock: createManualClock(NOW_MS) });
      const unavailable = await rejection(make().transcribe(request()));
      assert.deepEqual([unavailable.code, unavailable.retryable], ['stt_failed', true]);
      const limited = await rejection(make().transcribe(request()));
      assert.deepEqual([limited.code, limited.retryable], ['stt_failed', true]);
      const refused = await rejection(make().transcribe(request()));
      assert.deepEqual([refused.code, refused.retryable], ['stt_failed', false]);
    } finally {
      await scripted.close();
    }
  });

  test('a provider that does not answer is abandoned at the deadline on the injected clock', async () => {
    const hanging = await startFakeTranscriptionServer({ apiKey: API_KEY, answer: () => ({ kind: 'hang' }) });
    const clock = createManualClock(NOW_MS);
    try {
      const pending = createOpenAITranscriber({ apiKey: API_KEY, baseURL: hanging.baseURL, timeoutMs: 7000, clock }).transcribe(request());
      while (hanging.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
      clock.advance(7000);
      const error = await rejection(pending);
      assert.deepEqual([error.code, error.retryable], ['stt_failed', true]);
      assert.match(error.message, /7000 ms/);
    } finally {
      await hanging.close();
    }
  });

  test('through the route: STT_PROVIDER=openai with its own base URL, key and model', async () => {
    const app = await startTestServer({
      upstream: 'offline',
      env: { STT_PROVIDER: 'openai', STT_OPENAI_BASE_URL: fake.baseURL, STT_OPENAI_API_KEY: API_KEY, STT_OPENAI_MODEL: 'gpt-4o-mini-transcribe' },
    });
    try {
      const token = await login(app.url, 'whisperer');
      const answer = await send(app.url, ROUTES.transcriptions, uploadRequest(token, [{ name: 'file', filename: 'tmp_abc.mp3', value: MP3 }]));
      assert.equal(answer.status, 200, answer.text);
      assert.equal((answer.json() as TranscriptionResponse).text, `heard ${MP3.length} bytes`);
      assert.equal(fake.requests.at(-1)?.fields.model, 'gpt-4o-mini-transcribe');
      assert.ok(!app.rawLogs().includes(API_KEY), 'the key is never logged');
    } finally {
      await app.close();
    }
  });
});

describe('Youdao short speech recognition against a fake that verifies signatures', () => {
  let fake: FakeAsrServer;
  before(async () => {
    fake = await startFakeYoudaoAsrServer({ appKey: APP_KEY, appSecret: APP_SECRET });
  });
  after(() => fake.close());

  const asr = (overrides: { appSecret?: string; baseUrl?: string } = {}) =>
    createYoudaoAsr({ appKey: APP_KEY, appSecret: overrides.appSecret ?? APP_SECRET, baseUrl: overrides.baseUrl ?? fake.url, timeoutMs: 5000, clock: createManualClock(NOW_MS) });

  test('a signed request with the audio in base64, its format and rate, is heard', async () => {
    const answer = await asr().transcribe(request());
    const seen = fake.requests.at(-1);
    assert.equal(seen?.signatureValid, true);
    assert.equal(seen?.errorCode, '0');
    assert.ok(seen?.audio.equals(MP3));
    assert.deepEqual(
      { format: seen?.params.format, rate: seen?.params.rate, channel: seen?.params.channel, type: seen?.params.type, langType: seen?.params.langType, curtime: seen?.params.curtime },
      { format: 'mp3', rate: '44100', channel: '1', type: '1', langType: 'zh-CHS', curtime: String(Math.floor(NOW_MS / 1000)) },
    );
    assert.deepEqual(answer, { text: `heard ${MP3.length} bytes`, language: 'zh-CHS' });
  });

  test('each request has its own salt, and M4A is sent as aac', async () => {
    await asr().transcribe(request({ audio: m4aAac(500), format: 'm4a', sampleRate: 16000 }));
    await asr().transcribe(request({ audio: silentWav(500), format: 'wav', sampleRate: 16000 }));
    const [m4a, wav] = fake.requests.slice(-2);
    assert.equal(m4a?.params.format, 'aac');
    assert.equal(wav?.params.format, 'wav');
    assert.notEqual(m4a?.params.salt, wav?.params.salt);
    assert.ok(fake.requests.every((seen) => seen.signatureValid));
  });

  test('languages map to Youdao codes; others pass through', () => {
    assert.equal(youdaoLangType('en', 'zh-CHS'), 'en');
    assert.equal(youdaoLangType('zh', 'en'), 'zh-CHS');
    assert.equal(youdaoLangType(undefined, 'zh-CHS'), 'zh-CHS');
    assert.equal(youdaoLangType('yue', 'zh-CHS'), 'yue');
  });

  test('a wrong secret fails the signature check: stt_unavailable, and the secret is in no message', async () => {
    const error = await rejection(asr({ appSecret: 'wrong-secret-abcdef' }).transcribe(request()));
    assert.equal(error.code, 'stt_unavailable');
    assert.match(error.message, /202/);
    assert.ok(!error.message.includes('wrong-secret-abcdef'));
  });

  test("Youdao's empty result is an empty transcript; its error codes map to ours", async () => {
    const codes = ['4304', '411', '4001', '102', '110', '9999'];
    const scripted = await startFakeYoudaoAsrServer({ appKey: APP_KEY, appSecret: APP_SECRET, answer: (index) => ({ kind: 'json-error', errorCode: codes[index] ?? '0' }) });
    try {
      const make = () => asr({ baseUrl: scripted.url });
      assert.deepEqual(await make().transcribe(request()), { text: '', language: 'zh-CHS' });
      const outcomes: Array<[string, boolean]> = [];
      for (let i = 1; i < codes.length; i++) {
        const error = await rejection(make().transcribe(request()));
        outcomes.push([error.code, error.retryable]);
      }
      assert.deepEqual(outcomes, [
        ['stt_failed', true],
        ['audio_unsupported', false],
        ['language_unsupported', false],
        ['stt_unavailable', false],
        ['stt_failed', true],
      ]);
    } finally {
      await scripted.close();
    }
  });

  test('through the route: keys set → Youdao is the default recogniser; silence → no_speech', async () => {
    const app = await startTestServer({
      upstream: 'offline',
      env: { YOUDAO_APP_KEY: APP_KEY, YOUDAO_APP_SECRET: APP_SECRET, YOUDAO_API_BASE_URL: fake.url, VOICE_PROVIDER: 'off' },
    });
    try {
      const token = await login(app.url, 'listener');
      const heard = await send(app.url, ROUTES.transcriptions, uploadRequest(token, [{ name: 'language', value: 'en' }, { name: 'file', filename: 'a.mp3', value: MP3 }]));
      assert.equal(heard.status, 200, heard.text);
      assert.equal(fake.requests.at(-1)?.params.langType, 'en');
      const quiet = await startFakeYoudaoAsrServer({ appKey: APP_KEY, appSecret: APP_SECRET, transcript: () => '' });
      await app.close();
      const silent = await startTestServer({
        upstream: 'offline',
        env: { YOUDAO_APP_KEY: APP_KEY, YOUDAO_APP_SECRET: APP_SECRET, YOUDAO_API_BASE_URL: quiet.url, VOICE_PROVIDER: 'off' },
      });
      try {
        const again = await login(silent.url, 'listener');
        const answer = await send(silent.url, ROUTES.transcriptions, uploadRequest(again, [{ name: 'file', filename: 'a.mp3', value: MP3 }]));
        assert.equal(answer.status, 422);
        assert.equal(parseErrorBody(answer.json())?.code, 'no_speech');
        assert.ok(!silent.rawLogs().includes(APP_SECRET));
      } finally {
        await silent.close();
        await quiet.close();
      }
    } finally {
      await app.close();
    }
  });
});
