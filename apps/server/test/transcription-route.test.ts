import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseErrorBody, ROUTES, type TranscriptionCapabilities, type TranscriptionResponse } from '@wxstream/protocol';
import type { Transcriber, TranscriptionRequest } from '../src/transcription/transcriber.ts';
import { TranscriptionError } from '../src/transcription/transcriber.ts';
import { silentMp3 } from './support/fake-youdao-server.ts';
import { login, send, type HttpAnswer } from './support/http-client.ts';
import { adtsAac, m4aAac, multipartBody, silentWav, TEST_BOUNDARY, uploadRequest } from './support/recordings.ts';
import { createTestClock } from './support/test-clock.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

/** A transcriber that answers what the test scripts and remembers what it was asked. */
function scriptedTranscriber(answer: (request: TranscriptionRequest) => Promise<string> | string = () => 'hello there') {
  const requests: TranscriptionRequest[] = [];
  const transcriber: Transcriber = {
    id: 'scripted',
    languages: ['en', 'zh'],
    formats: ['mp3', 'aac', 'm4a', 'wav'],
    unavailableReason: undefined,
    async transcribe(request) {
      requests.push(request);
      return { text: await answer(request), ...(request.language === undefined ? {} : { language: request.language }) };
    },
  };
  return { transcriber, requests };
}

function codeOf(answer: HttpAnswer): string | undefined {
  return parseErrorBody(answer.json())?.code;
}

/** 38 silent frames of 44.1 kHz MP3: about a second. */
const ONE_SECOND_MP3 = silentMp3(38);

describe('POST /api/transcriptions', () => {
  let app: TestServer;
  let token: string;
  const script = scriptedTranscriber((request) => (request.durationMs < 300 ? '' : 'hello there'));

  before(async () => {
    app = await startTestServer({ upstream: 'offline', transcriber: script.transcriber });
    token = await login(app.url, 'speaker');
  });
  after(() => app.close());

  const post = (parts: Parameters<typeof uploadRequest>[1]) => send(app.url, ROUTES.transcriptions, uploadRequest(token, parts));

  test('an MP3 in field "file" comes back as its transcript, with its duration', async () => {
    const answer = await post([{ name: 'file', filename: 'voice.mp3', contentType: 'audio/mpeg', value: ONE_SECOND_MP3 }]);
    assert.equal(answer.status, 200, answer.text);
    const body = answer.json() as TranscriptionResponse;
    assert.deepEqual(body, { text: 'hello there', durationMs: Math.round((38 * 1152 * 1000) / 44100) });
    const last = script.requests.at(-1);
    assert.equal(last?.format, 'mp3');
    assert.equal(last?.sampleRate, 44100);
    assert.ok(last?.audio.equals(ONE_SECOND_MP3), 'the provider gets the bytes as uploaded');
  });

  test('the optional language field reaches the provider and the answer', async () => {
    const answer = await post([
      { name: 'language', value: 'zh' },
      { name: 'file', filename: 'voice.mp3', value: ONE_SECOND_MP3 },
    ]);
    assert.equal(answer.status, 200, answer.text);
    assert.equal((answer.json() as TranscriptionResponse).language, 'zh');
    assert.equal(script.requests.at(-1)?.language, 'zh');
  });

  for (const [format, bytes, sampleRate] of [
    ['wav', silentWav(1500), 16000],
    ['aac', adtsAac(20), 16000],
    ['m4a', m4aAac(2000), 16000],
  ] as const) {
    test(`a ${format} recording is recognised by its bytes, whatever its name and declared type`, async () => {
      const answer = await post([{ name: 'file', filename: 'upload.bin', contentType: 'application/octet-stream', value: bytes }]);
      assert.equal(answer.status, 200, answer.text);
      assert.equal(script.requests.at(-1)?.format, format);
      assert.equal(script.requests.at(-1)?.sampleRate, sampleRate);
    });
  }

  test('silence is 422 no_speech, not an empty message', async () => {
    const answer = await post([{ name: 'file', filename: 'quiet.wav', value: silentWav(200) }]);
    assert.equal(answer.status, 422);
    assert.equal(codeOf(answer), 'no_speech');
  });

  test('GET says what voice input can do here', async () => {
    const answer = await send(app.url, ROUTES.transcriptions, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json() as TranscriptionCapabilities, {
      available: true,
      provider: 'scripted',
      languages: ['en', 'zh'],
      maxDurationMs: 60_000,
      maxBytes: 4 * 1024 * 1024,
      formats: ['mp3', 'aac', 'm4a', 'wav'],
    });
  });

  describe('bad input gets the right 4xx and reaches no provider', () => {
    const cases: Array<{ name: string; status: number; code: string; request: () => Parameters<typeof send>[2] }> = [
      { name: 'an empty file', status: 400, code: 'audio_required', request: () => uploadRequest(token, [{ name: 'file', filename: 'a.mp3', value: Buffer.alloc(0) }]) },
      {
        name: 'a text file named .mp3',
        status: 415,
        code: 'audio_unsupported',
        request: () => uploadRequest(token, [{ name: 'file', filename: 'song.mp3', contentType: 'audio/mpeg', value: 'this is not audio at all\n'.repeat(40) }]),
      },
      {
        name: 'a truncated MP3',
        status: 400,
        code: 'audio_corrupt',
        request: () => uploadRequest(token, [{ name: 'file', filename: 'cut.mp3', value: ONE_SECOND_MP3.subarray(0, ONE_SECOND_MP3.length - 200) }]),
      },
      {
        name: 'an ID3 tag with nothing after it',
        status: 400,
        code: 'audio_corrupt',
        request: () => uploadRequest(token, [{ name: 'file', filename: 'tag.mp3', value: Buffer.concat([Buffer.from('ID3'), Buffer.from([4, 0, 0, 0, 0, 0x7f]), Buffer.alloc(40)]) }]),
      },
      { name: 'an M4A without its moov box', status: 400, code: 'audio_corrupt', request: () => uploadRequest(token, [{ name: 'file', filename: 'a.m4a', value: m4aAac(1000, 16000, { withMoov: false }) }]) },
      { name: 'an MP4 without a sound track', status: 415, code: 'audio_unsupported', request: () => uploadRequest(token, [{ name: 'file', filename: 'a.mp4', value: m4aAac(1000, 16000, { handler: 'vide' }) }]) },
      {
        name: 'a 10 MB file',
        status: 413,
        code: 'payload_too_large',
        request: () => uploadRequest(token, [{ name: 'file', filename: 'big.mp3', value: Buffer.concat([ONE_SECOND_MP3, Buffer.alloc(10 * 1024 * 1024)]) }]),
      },
      {
        name: 'a recording longer than 60 s',
        status: 413,
        code: 'audio_too_long',
        request: () => uploadRequest(token, [{ name: 'file', filename: 'long.wav', value: silentWav(61_000, 8000) }]),
      },
      { name: 'the audio in a field not named "file"', status: 400, code: 'audio_required', request: () => uploadRequest(token, [{ name: 'audio', filename: 'a.mp3', value: ONE_SECOND_MP3 }]) },
      {
        name: 'a multipart type without a boundary',
        status: 400,
        code: 'invalid_request',
        request: () => ({
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'multipart/form-data' },
          body: multipartBody([{ name: 'file', filename: 'a.mp3', value: ONE_SECOND_MP3 }]),
        }),
      },
      {
        name: 'a body cut off before its closing boundary',
        status: 400,
        code: 'invalid_request',
        request: () => {
          const whole = multipartBody([{ name: 'file', filename: 'a.mp3', value: ONE_SECOND_MP3 }]);
          return { ...uploadRequest(token, []), body: whole.subarray(0, whole.length - `--${TEST_BOUNDARY}--\r\n`.length - 2) };
        },
      },
      {
        name: 'raw audio without multipart',
        status: 415,
        code: 'unsupported_media_type',
        request: () => ({ method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'audio/mpeg' }, body: ONE_SECOND_MP3 }),
      },
      { name: 'a language that is not a language tag', status: 400, code: 'invalid_request', request: () => uploadRequest(token, [{ name: 'language', value: 'en; rm -rf' }, { name: 'file', value: ONE_SECOND_MP3, filename: 'a.mp3' }]) },
      { name: 'no token', status: 401, code: 'unauthorized', request: () => uploadRequest(undefined, [{ name: 'file', filename: 'a.mp3', value: ONE_SECOND_MP3 }]) },
    ];
    for (const { name, status, code, request } of cases) {
      test(`${name} → ${status} ${code}`, async () => {
        const before = script.requests.length;
        const answer = await send(app.url, ROUTES.transcriptions, request());
        assert.equal(answer.status, status, answer.text);
        assert.equal(codeOf(answer), code);
        assert.equal(script.requests.length, before, 'the provider never heard it');
      });
    }
  });

  test('the audio never reaches the logs', async () => {
    const marker = Buffer.from('AUDIO-MARKER-0123456789');
    const wav = silentWav(1000);
    const marked = Buffer.concat([wav.subarray(0, 44), marker, wav.subarray(44 + marker.length)]);
    assert.equal((await post([{ name: 'file', filename: 'm.wav', value: marked }])).status, 200);
    const logs = app.rawLogs();
    assert.ok(!logs.includes('AUDIO-MARKER'), 'no audio bytes');
    assert.ok(!logs.includes(marked.toString('base64').slice(0, 40)), 'no base64 audio');
    assert.ok(!logs.includes('hello there'), 'no transcript either');
  });
});

describe('voice-input limits', () => {
  const clock = createTestClock();
  let app: TestServer;
  const script = scriptedTranscriber();

  before(async () => {
    app = await startTestServer({
      upstream: 'offline',
      clock,
      transcriber: script.transcriber,
      env: { STT_RATE_LIMIT_PER_MINUTE: '1', STT_RATE_LIMIT_BURST: '1', STT_DAILY_SECONDS_QUOTA: '3', TOKEN_TTL_SECONDS: '86400' },
    });
  });
  after(() => app.close());

  const postAs = (token: string, bytes: Buffer) => send(app.url, ROUTES.transcriptions, uploadRequest(token, [{ name: 'file', filename: 'a.wav', value: bytes }]));

  test('a second recording within the rate is 429 rate_limited with Retry-After, before the body is read', async () => {
    const token = await login(app.url, 'fast-talker');
    assert.equal((await postAs(token, silentWav(1000))).status, 200);
    const before = script.requests.length;
    const refused = await postAs(token, silentWav(1000));
    assert.equal(refused.status, 429);
    assert.equal(codeOf(refused), 'rate_limited');
    const wait = Number(refused.headers['retry-after']);
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
    assert.equal(script.requests.length, before);
    clock.advance(60_000);
    assert.equal((await postAs(token, silentWav(1000))).status, 200, 'allowed again once the interval passed');
  });

  test('the daily audio seconds run out: 429 quota_exceeded until the next day', async () => {
    const token = await login(app.url, 'long-talker');
    assert.equal((await postAs(token, silentWav(3500))).status, 200, 'a recording that starts within the quota is heard');
    clock.advance(60_000);
    const refused = await postAs(token, silentWav(1000));
    assert.equal(refused.status, 429);
    assert.equal(codeOf(refused), 'quota_exceeded');
    const wait = Number(refused.headers['retry-after']);
    assert.ok(wait >= 1 && wait <= 24 * 3600, `Retry-After ${wait}`);
    clock.advance(wait * 1000);
    assert.equal((await postAs(token, silentWav(1000))).status, 200, 'a new day, a new quota');
  });

  test("another user's expired token is refused with token_expired", async () => {
    const token = await login(app.url, 'expired-user');
    clock.advance(86_400 * 1000 + 1000);
    const answer = await postAs(token, silentWav(1000));
    assert.equal(answer.status, 401);
    assert.equal(codeOf(answer), 'token_expired');
  });
});

describe('voice input that cannot work', () => {
  test('STT_PROVIDER=off: 503 stt_unavailable before the upload is read, and GET says so', async () => {
    const app = await startTestServer({ upstream: 'offline', env: { STT_PROVIDER: 'off' } });
    try {
      const token = await login(app.url, 'someone');
      const answer = await send(app.url, ROUTES.transcriptions, uploadRequest(token, [{ name: 'file', filename: 'a.mp3', value: ONE_SECOND_MP3 }]));
      assert.equal(answer.status, 503);
      assert.equal(codeOf(answer), 'stt_unavailable');
      const capabilities = (await send(app.url, ROUTES.transcriptions, { headers: { Authorization: `Bearer ${token}` } })).json() as TranscriptionCapabilities;
      assert.equal(capabilities.available, false);
      assert.equal(capabilities.provider, 'off');
      assert.ok(app.logs.some((record) => record.msg?.includes('voice input is off')));
    } finally {
      await app.close();
    }
  });

  test('pocketsphinx without its programs: reported unavailable at start, 503 on use', async () => {
    const app = await startTestServer({ upstream: 'offline', env: { STT_PROVIDER: 'pocketsphinx', POCKETSPHINX_MODEL_DIR: '/nonexistent/model' } });
    try {
      const warning = app.logs.find((record) => record.msg?.includes('voice input is unavailable'));
      assert.ok(warning, 'a start-up warning');
      assert.match(String(warning.reason), /\/nonexistent\/model/);
      const token = await login(app.url, 'someone');
      const answer = await send(app.url, ROUTES.transcriptions, uploadRequest(token, [{ name: 'file', filename: 'a.mp3', value: ONE_SECOND_MP3 }]));
      assert.equal(answer.status, 503);
      assert.equal(codeOf(answer), 'stt_unavailable');
    } finally {
      await app.close();
    }
  });

  test('a provider failure keeps its code and retryability', async () => {
    const script = scriptedTranscriber(() => {
      throw new TranscriptionError('stt_failed', 'provider timed out', { retryable: true });
    });
    const app = await startTestServer({ upstream: 'offline', transcriber: script.transcriber });
    try {
      const token = await login(app.url, 'someone');
      const answer = await send(app.url, ROUTES.transcriptions, uploadRequest(token, [{ name: 'file', filename: 'a.mp3', value: ONE_SECOND_MP3 }]));
      assert.equal(answer.status, 502);
      assert.deepEqual(parseErrorBody(answer.json()), { code: 'stt_failed', message: 'provider timed out', retryable: true });
    } finally {
      await app.close();
    }
  });
});

describe('STT_DEBUG_AUDIO_DIR', () => {
  test('unset, nothing is written; set, each accepted recording is kept there and the start says so', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'wxstream-debug-audio-'));
    const script = scriptedTranscriber();
    const app = await startTestServer({ upstream: 'offline', transcriber: script.transcriber, env: { STT_DEBUG_AUDIO_DIR: directory } });
    try {
      assert.ok(app.logs.some((record) => record.level === 40 && record.msg?.includes('STT_DEBUG_AUDIO_DIR')));
      const token = await login(app.url, 'debugger');
      assert.equal((await send(app.url, ROUTES.transcriptions, uploadRequest(token, [{ name: 'file', filename: 'a.mp3', value: ONE_SECOND_MP3 }]))).status, 200);
      const kept = await readdir(directory);
      assert.equal(kept.length, 1);
      assert.match(kept[0] ?? '', /\.mp3$/);
      assert.ok((await readFile(join(directory, kept[0] ?? ''))).equals(ONE_SECOND_MP3));
    } finally {
      await app.close();
      await rm(directory, { recursive: true, force: true });
    }
  });
});
