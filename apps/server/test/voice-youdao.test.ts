import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../src/clock.ts';
import { mp3Info } from '../src/voice/mp3-info.ts';
import { TtsError } from '../src/voice/voice-errors.ts';
import { createYoudaoTts, youdaoSign, youdaoSignInput, type YoudaoTtsOptions } from '../src/voice/youdao-tts.ts';
import { SILENT_FRAME_MS, startFakeYoudaoServer, type FakeYoudaoOptions, type FakeYoudaoServer } from './support/fake-youdao-server.ts';
import { createManualClock } from './support/manual-clock.ts';

const APP_KEY = 'testappkey0001';
const APP_SECRET = 'testsecret0002-do-not-leak';
const NOW_MS = Date.UTC(2025, 0, 2, 3, 4, 5, 678);

const SHORT = '你好，世界';
const EXACTLY_20 = '一二三四五六七八九十一二三四五六七八九十';
const LONG = '今天天气很好，我们一起去公园散步吧，好不好呀朋友们';
/** The emoji sits on the 10th/11th UTF-16 unit: a UTF-16 cut leaves half of it. */
const EMOJI_ON_CUT = 'abcdefghi😀jklmnopqrstuvwxyz';
const EMOJI_INSIDE = '我们今天学习语音合成😀的签名算法，请仔细看看这个例子好吗';

async function withFake(options: Partial<FakeYoudaoOptions>, run: (fake: FakeYoudaoServer) => Promise<void>): Promise<void> {
  const fake = await startFakeYoudaoServer({ appKey: APP_KEY, appSecret: APP_SECRET, ...options });
  try {
    await run(fake);
  } finally {
    await fake.close();
  }
}

function provider(fake: FakeYoudaoServer, overrides: Partial<YoudaoTtsOptions> = {}) {
  return createYoudaoTts({ appKey: APP_KEY, appSecret: APP_SECRET, baseUrl: fake.url, timeoutMs: 5000, clock: createManualClock(NOW_MS), ...overrides });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

describe('Youdao v3 signature input', () => {
  test('a text of at most 20 characters is used whole', () => {
    assert.equal(youdaoSignInput(SHORT), SHORT);
    assert.equal(youdaoSignInput(EXACTLY_20), EXACTLY_20);
  });

  test('a longer text becomes its first 10 characters, its length and its last 10', () => {
    assert.equal(youdaoSignInput(LONG), '今天天气很好，我们一25步吧，好不好呀朋友们');
    assert.equal(youdaoSignInput(`${EXACTLY_20}!`), '一二三四五六七八九十21二三四五六七八九十!');
  });

  test('emoji count as two UTF-16 units like the Java demo, or one code point like the Python demo', () => {
    assert.equal(youdaoSignInput(EMOJI_ON_CUT, 'utf16'), 'abcdefghi\ud83d28qrstuvwxyz');
    assert.equal(youdaoSignInput(EMOJI_ON_CUT, 'codepoint'), 'abcdefghi😀27qrstuvwxyz');
    // Ten emoji: 20 UTF-16 units is still "at most 20"; 11 code points are not cut either way.
    assert.equal(youdaoSignInput('😀'.repeat(10), 'utf16'), '😀'.repeat(10));
  });

  test('signatures match vectors computed independently with Python hashlib', () => {
    const parts = { appKey: 'testappkey0001', appSecret: 'testsecret0002', salt: 'fixed-salt', curtime: '1700000000' };
    assert.equal(youdaoSign({ ...parts, q: SHORT }), '3c86168555ede0e46405a5f8014a19a56d3faadf8130a3821547316a97e53a32');
    assert.equal(youdaoSign({ ...parts, q: LONG }), '2eb8244fe5e0bef49814bdea431aa872460dbc1594d3bd4335b7430dc2a544b6');
    assert.equal(youdaoSign({ ...parts, q: EMOJI_ON_CUT, unit: 'codepoint' }), 'eab458b3ef15025e28f5c0237ea436fac966c9731f490621c0840ca151801a3e');
    // Java writes the half emoji left by the cut as '?'.
    assert.equal(youdaoSign({ ...parts, q: EMOJI_ON_CUT, unit: 'utf16' }), '2c6b0bfbfba3f65c6e1b1c15c47c2b76b38c0c0ab9f6caaa7f0f8dd7b17bc483');
  });
});

describe('Youdao TTS against a fake that verifies every signature', () => {
  let fake: FakeYoudaoServer;
  before(async () => {
    fake = await startFakeYoudaoServer({ appKey: APP_KEY, appSecret: APP_SECRET });
  });
  after(() => fake.close());

  test('short, exactly-20, long and emoji texts are all signed so the fake accepts them', async () => {
    const tts = provider(fake);
    for (const text of [SHORT, EXACTLY_20, LONG, EMOJI_ON_CUT, EMOJI_INSIDE]) {
      const before = fake.requests.length;
      const result = await tts.synthesize({ text, voice: 'youxiaoqin' });
      assert.equal(fake.requests.length, before + 1, `one request for ${text}`);
      const request = fake.requests.at(-1);
      assert.equal(request?.signatureValid, true, `signature for ${text}`);
      assert.equal(result.format, 'mp3');
      assert.ok(mp3Info(result.audio) !== undefined, 'audio is MP3');
      // The fake speaks four silent frames per character.
      assert.equal(result.durationMs, Math.round([...text].length * 4 * SILENT_FRAME_MS));
    }
  });

  test('each request is a form POST with a fresh UUID salt, curtime in seconds and the documented fields', async () => {
    const tts = provider(fake, { langType: 'zh-CHS' });
    const from = fake.requests.length;
    await tts.synthesize({ text: SHORT, voice: 'youxiaozhi' });
    await tts.synthesize({ text: SHORT, voice: 'youxiaozhi' });
    const [first, second] = fake.requests.slice(from);
    assert.ok(first !== undefined && second !== undefined);
    assert.equal(first.method, 'POST');
    assert.equal(first.path, '/ttsapi');
    assert.match(first.contentType, /^application\/x-www-form-urlencoded/);
    assert.deepEqual(
      { ...first.params, salt: undefined, sign: undefined },
      { q: SHORT, langType: 'zh-CHS', appKey: APP_KEY, salt: undefined, sign: undefined, signType: 'v3', curtime: String(Math.floor(NOW_MS / 1000)), voiceName: 'youxiaozhi', format: 'mp3' },
    );
    assert.match(first.params.salt ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(first.params.salt, second.params.salt);
    assert.equal(second.outcome, 'audio');
  });

  test('a wrong app secret is a signature failure: tts_unavailable, not retryable, secret not in the message', async () => {
    const tts = createYoudaoTts({ appKey: APP_KEY, appSecret: 'wrong-secret', baseUrl: fake.url, timeoutMs: 5000, clock: systemClock });
    const error = await rejection(tts.synthesize({ text: SHORT, voice: 'youxiaoqin' }));
    assert.ok(error instanceof TtsError);
    assert.equal(error.code, 'tts_unavailable');
    assert.equal(error.retryable, false);
    assert.match(error.message, /202/);
    assert.ok(!error.message.includes('wrong-secret') && !error.message.includes(SHORT));
  });
});

describe('Youdao TTS answers', () => {
  test('a fake counting code points rejects the UTF-16 signature of an emoji text, and the code-point retry is accepted', async () => {
    await withFake({ lengthUnit: 'codepoint' }, async (fake) => {
      const result = await provider(fake).synthesize({ text: EMOJI_ON_CUT, voice: 'youxiaoqin' });
      assert.ok(result.audio.length > 0);
      assert.deepEqual(
        fake.requests.map((request) => [request.signatureValid, request.outcome]),
        [
          [false, '202'],
          [true, 'audio'],
        ],
      );
      // Where the conventions agree there is nothing to retry: one request.
      await provider(fake).synthesize({ text: LONG, voice: 'youxiaoqin' });
      assert.equal(fake.requests.length, 3);
    });
  });

  test('JSON errors arrive with HTTP 200 and are mapped by errorCode', async () => {
    const codes = ['411', '108', '303', '9999'];
    await withFake({ answer: (_params, index) => ({ kind: 'json-error', errorCode: codes[index] ?? '0' }) }, async (fake) => {
      const tts = provider(fake);
      const errors: unknown[] = [];
      for (let i = 0; i < codes.length; i++) errors.push(await rejection(tts.synthesize({ text: SHORT, voice: 'youxiaoqin' })));
      assert.deepEqual(
        errors.map((error) => (error instanceof TtsError ? [error.code, error.retryable] : error)),
        [
          ['tts_failed', true],
          ['tts_unavailable', false],
          ['tts_failed', true],
          ['tts_failed', true],
        ],
      );
      assert.match(String((errors[0] as Error).message), /411.*rate limited/);
    });
  });

  test('HTTP errors and answers that are neither audio nor a JSON error are tts_failed', async () => {
    const answers = [
      { kind: 'http-error', status: 502 },
      { kind: 'http-error', status: 400 },
      { kind: 'json-error', errorCode: '0' },
    ] as const;
    await withFake({ answer: (_params, index) => answers[index] ?? { kind: 'verified' } }, async (fake) => {
      const tts = provider(fake);
      const results: unknown[] = [];
      for (let i = 0; i < answers.length; i++) results.push(await rejection(tts.synthesize({ text: SHORT, voice: 'v' })));
      assert.deepEqual(
        results.map((error) => (error instanceof TtsError ? [error.code, error.retryable] : error)),
        [
          ['tts_failed', true],
          ['tts_failed', false],
          ['tts_failed', true],
        ],
      );
    });
  });

  test('audio larger than the limit is refused', async () => {
    await withFake({ answer: () => ({ kind: 'audio', frames: 10 }) }, async (fake) => {
      const error = await rejection(provider(fake, { maxAudioBytes: 1000 }).synthesize({ text: SHORT, voice: 'v' }));
      assert.ok(error instanceof TtsError);
      assert.match(error.message, /4170 bytes, more than the 1000 allowed/);
    });
  });

  test('a server that never answers is a retryable timeout', async () => {
    await withFake({ answer: () => ({ kind: 'hang' }) }, async (fake) => {
      const error = await rejection(provider(fake, { timeoutMs: 80, clock: systemClock }).synthesize({ text: SHORT, voice: 'v' }));
      assert.ok(error instanceof TtsError);
      assert.equal(error.code, 'tts_failed');
      assert.equal(error.retryable, true);
      assert.match(error.message, /within 80 ms/);
    });
  });

  test('aborting rejects with the abort reason, not a TtsError', async () => {
    await withFake({ answer: () => ({ kind: 'hang' }) }, async (fake) => {
      const controller = new AbortController();
      const pending = provider(fake, { clock: systemClock }).synthesize({ text: SHORT, voice: 'v', signal: controller.signal });
      const reason = new Error('reply stopped');
      setTimeout(() => controller.abort(reason), 20);
      assert.equal(await rejection(pending), reason);
    });
  });

  test('an unreachable server is a retryable failure naming the cause', async () => {
    const fake = await startFakeYoudaoServer({ appKey: APP_KEY, appSecret: APP_SECRET });
    await fake.close();
    const error = await rejection(provider(fake).synthesize({ text: SHORT, voice: 'v' }));
    assert.ok(error instanceof TtsError);
    assert.equal(error.retryable, true);
    assert.match(error.message, /could not be reached.*ECONNREFUSED/);
  });
});
