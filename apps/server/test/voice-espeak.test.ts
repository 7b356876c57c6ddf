import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { systemClock } from '../src/clock.ts';
import { createEspeakTts, ESPEAK_PROGRAM, findProgram, LAME_PROGRAM } from '../src/voice/espeak-tts.ts';
import { mp3Info } from '../src/voice/mp3-info.ts';
import { TtsError } from '../src/voice/voice-errors.ts';

const PATH = process.env.PATH;
const espeakPath = findProgram(ESPEAK_PROGRAM, PATH);
const lamePath = findProgram(LAME_PROGRAM, PATH);
const skipReal =
  espeakPath === undefined || lamePath === undefined
    ? `needs ${[espeakPath === undefined ? ESPEAK_PROGRAM : '', lamePath === undefined ? LAME_PROGRAM : ''].filter(Boolean).join(' and ')} on PATH (Debian packages espeak-ng and lame)`
    : false;

const tts = () => createEspeakTts({ pathEnv: PATH, timeoutMs: 10_000, clock: systemClock });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

/** An MP3 starts with an ID3v2 tag or an MPEG frame sync (eleven set bits). */
function startsLikeMp3(audio: Buffer): boolean {
  return audio.toString('latin1', 0, 3) === 'ID3' || (audio[0] === 0xff && ((audio[1] ?? 0) & 0xe0) === 0xe0);
}

describe('espeak-ng provider without its programs', () => {
  const empty = mkdtempSync(join(tmpdir(), 'wxstream-no-programs-'));
  after(() => rmSync(empty, { recursive: true, force: true }));

  test('names both missing programs and the Debian packages, and refuses every synthesis as tts_unavailable', async () => {
    const provider = createEspeakTts({ pathEnv: empty, timeoutMs: 1000, clock: systemClock });
    assert.match(provider.unavailableReason ?? '', /^espeak-ng and lame not found on PATH — install the Debian packages espeak-ng and lame/);
    const error = await rejection(provider.synthesize({ text: '你好。', voice: 'auto' }));
    assert.ok(error instanceof TtsError);
    assert.equal(error.code, 'tts_unavailable');
    assert.equal(error.retryable, false);
    assert.equal(error.message, provider.unavailableReason);
  });

  test('names only the program that is missing', { skip: espeakPath === undefined ? 'needs espeak-ng to link' : false }, () => {
    const onlyEspeak = mkdtempSync(join(tmpdir(), 'wxstream-only-espeak-'));
    try {
      symlinkSync(espeakPath ?? '', join(onlyEspeak, ESPEAK_PROGRAM));
      const provider = createEspeakTts({ pathEnv: onlyEspeak, timeoutMs: 1000, clock: systemClock });
      assert.match(provider.unavailableReason ?? '', /^lame not found on PATH/);
    } finally {
      rmSync(onlyEspeak, { recursive: true, force: true });
    }
  });
});

describe('espeak-ng and lame, for real', { skip: skipReal }, () => {
  test('a Chinese sentence becomes a valid MP3 of plausible length', async () => {
    const text = '你好，今天天气很好，我们一起去公园散步吧。';
    const result = await tts().synthesize({ text, voice: 'auto' });
    assert.equal(result.format, 'mp3');
    assert.ok(startsLikeMp3(result.audio), `starts with ${result.audio.subarray(0, 4).toString('hex')}`);
    const info = mp3Info(result.audio);
    assert.ok(info !== undefined && info.frames > 10, 'MP3 frames');
    assert.equal(info.sampleRate, 22050);
    const chars = [...text].filter((ch) => /\p{Script=Han}/u.test(ch)).length;
    const durationMs = result.durationMs ?? 0;
    assert.ok(durationMs > chars * 100 && durationMs < chars * 600, `${durationMs} ms for ${chars} characters`);
    // The MP3 plays as long as the samples it encodes, give or take the encoder's padding.
    assert.ok(Math.abs(info.durationMs - durationMs) < 150, `MP3 ${info.durationMs} ms vs PCM ${durationMs} ms`);
  });

  test('an English sentence is read by the English voice at a plausible word rate', async () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    const result = await tts().synthesize({ text, voice: 'auto' });
    const words = text.split(' ').length;
    const durationMs = result.durationMs ?? 0;
    assert.ok(startsLikeMp3(result.audio));
    assert.ok(durationMs > words * 150 && durationMs < words * 800, `${durationMs} ms for ${words} words`);
  });

  test('mixed text is read run by run: Chinese by the pinyin voice, Latin by the English voice', async () => {
    const provider = tts();
    const mixed = await provider.synthesize({ text: '我用Python写代码', voice: 'auto' });
    const parts = await Promise.all([
      provider.synthesize({ text: '我用', voice: 'cmn-latn-pinyin' }),
      provider.synthesize({ text: 'Python', voice: 'en-us' }),
      provider.synthesize({ text: '写代码', voice: 'cmn-latn-pinyin' }),
    ]);
    const sum = parts.reduce((total, part) => total + (part.durationMs ?? 0), 0);
    // The samples are the three runs' samples joined; only millisecond rounding differs.
    assert.ok(Math.abs((mixed.durationMs ?? 0) - sum) <= 2, `mixed ${mixed.durationMs} ms vs parts ${sum} ms`);
    const asPinyin = await provider.synthesize({ text: '我用Python写代码', voice: 'cmn-latn-pinyin' });
    assert.notEqual(asPinyin.durationMs, mixed.durationMs);
  });

  test('text is given on stdin, so a segment starting with a dash is spoken, not taken as an option', async () => {
    const result = await tts().synthesize({ text: '-v 不是一个选项', voice: 'auto' });
    assert.ok((result.durationMs ?? 0) > 500);
  });

  test('a voice espeak-ng does not know fails with its own message', async () => {
    const error = await rejection(tts().synthesize({ text: 'hello', voice: 'nonexistent' }));
    assert.ok(error instanceof TtsError);
    assert.equal(error.code, 'tts_failed');
    assert.match(error.message, /espeak-ng exited with 1: .*voice does not exist/);
  });

  test('a segment with nothing to say is a non-retryable failure', async () => {
    const error = await rejection(tts().synthesize({ text: ' ', voice: 'auto' }));
    assert.ok(error instanceof TtsError);
    assert.equal(error.retryable, false);
    assert.match(error.message, /nothing to say/);
  });

  test('the deadline kills the programs and fails retryably', async () => {
    const provider = createEspeakTts({ pathEnv: PATH, timeoutMs: 1, clock: systemClock });
    const error = await rejection(provider.synthesize({ text: '这是一段需要一点时间才能读完的很长很长的句子。'.repeat(20), voice: 'auto' }));
    assert.ok(error instanceof TtsError);
    assert.equal(error.retryable, true);
    assert.match(error.message, /did not finish within 1 ms/);
  });

  test('aborting rejects with the caller’s reason', async () => {
    const controller = new AbortController();
    const reason = new Error('reply stopped');
    const pending = tts().synthesize({ text: '这是一段很长的句子。'.repeat(30), voice: 'auto', signal: controller.signal });
    controller.abort(reason);
    assert.equal(await rejection(pending), reason);
  });
});
