import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../src/config.ts';
import { inspectAudio } from '../src/transcription/audio-inspection.ts';
import { loadTranscriptionConfig } from '../src/transcription/transcription-config.ts';
import { silentMp3, SILENT_FRAME_MS } from './support/fake-youdao-server.ts';
import { adtsAac, m4aAac, silentWav, wordErrorRate } from './support/recordings.ts';

describe('recordings are recognised by their bytes', () => {
  test('MP3, with or without an ID3 tag, with its duration', () => {
    assert.deepEqual(inspectAudio(silentMp3(38)), { ok: true, format: 'mp3', durationMs: Math.round(38 * SILENT_FRAME_MS), sampleRate: 44100, channels: undefined });
    const tag = Buffer.concat([Buffer.from('ID3'), Buffer.from([4, 0, 0, 0, 0, 0, 10]), Buffer.alloc(10)]);
    assert.equal(inspectAudio(Buffer.concat([tag, silentMp3(5)])).ok, true);
  });

  test('WAV, ADTS AAC and M4A, with sample rate and duration', () => {
    assert.deepEqual(inspectAudio(silentWav(1500)), { ok: true, format: 'wav', durationMs: 1500, sampleRate: 16000, channels: 1 });
    assert.deepEqual(inspectAudio(adtsAac(100)), { ok: true, format: 'aac', durationMs: 6400, sampleRate: 16000, channels: 1 });
    assert.deepEqual(inspectAudio(m4aAac(2500, 16000)), { ok: true, format: 'm4a', durationMs: 2500, sampleRate: 16000, channels: undefined });
  });

  test('text, JSON, images and nothing at all are not audio', () => {
    for (const bytes of [Buffer.from('hello, this is a text file'), Buffer.from('{"a":1}'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(0)]) {
      const result = inspectAudio(bytes);
      assert.equal(result.ok ? 'ok' : result.problem, 'not_audio');
    }
  });

  test('cut-off or hollow files are corrupt, not "not audio"', () => {
    const cases: Array<[string, Buffer]> = [
      ['MP3 cut inside a frame', silentMp3(10).subarray(0, 417 * 9 + 100)],
      ['ADTS cut inside a frame', adtsAac(10).subarray(0, 27 * 9 + 10)],
      ['ID3 tag longer than the file', Buffer.concat([Buffer.from('ID3'), Buffer.from([4, 0, 0, 0, 0, 0x7f]), Buffer.alloc(20)])],
      ['ID3 tag followed by text', Buffer.concat([Buffer.from('ID3'), Buffer.from([4, 0, 0, 0, 0, 0, 0]), Buffer.from('not frames at all')])],
      ['M4A without moov', m4aAac(1000, 16000, { withMoov: false })],
      ['M4A cut in its last box', m4aAac(1000).subarray(0, m4aAac(1000).length - 10)],
      ['WAV without samples', silentWav(0)],
      ['RIFF that is not PCM', Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00', 'latin1'), Buffer.from([3, 0, 1, 0, 0x80, 0x3e, 0, 0, 0, 0xfa, 0, 0, 4, 0, 32, 0])])],
    ];
    for (const [name, bytes] of cases) {
      const result = inspectAudio(bytes);
      assert.equal(result.ok ? 'ok' : result.problem, 'corrupt', name);
    }
  });
});

describe('voice-input settings', () => {
  test('defaults: the offline recogniser, 60 s, 4 MiB, 10/min with a burst of 3, 30 minutes a day, nothing kept', () => {
    const config = loadTranscriptionConfig({});
    assert.deepEqual(config.provider, { kind: 'pocketsphinx', modelDir: '/usr/share/pocketsphinx/model/en-us' });
    assert.deepEqual(
      [config.maxDurationMs, config.maxBytes, config.ratePerMinute, config.rateBurst, config.dailySecondsQuota, config.debugAudioDir],
      [60_000, 4 * 1024 * 1024, 10, 3, 1800, undefined],
    );
  });

  test('Youdao keys make Youdao the default; STT_PROVIDER chooses explicitly', () => {
    assert.equal(loadTranscriptionConfig({ YOUDAO_APP_KEY: 'k', YOUDAO_APP_SECRET: 's' }).provider.kind, 'youdao');
    assert.equal(loadTranscriptionConfig({ YOUDAO_APP_KEY: 'k', YOUDAO_APP_SECRET: 's', STT_PROVIDER: 'pocketsphinx' }).provider.kind, 'pocketsphinx');
    assert.deepEqual(loadTranscriptionConfig({ STT_PROVIDER: 'off' }).provider, { kind: 'off' });
  });

  test('openai takes its own key, base URL and model, falling back to the chat ones', () => {
    assert.deepEqual(loadTranscriptionConfig({ STT_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-chat', OPENAI_BASE_URL: 'http://chat.example/v1' }).provider, {
      kind: 'openai',
      apiKey: 'sk-chat',
      baseURL: 'http://chat.example/v1',
      model: 'whisper-1',
    });
    assert.deepEqual(
      loadTranscriptionConfig({ STT_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-chat', STT_OPENAI_API_KEY: 'sk-stt', STT_OPENAI_BASE_URL: 'http://stt.example/v1/', STT_OPENAI_MODEL: 'large-v3' }).provider,
      { kind: 'openai', apiKey: 'sk-stt', baseURL: 'http://stt.example/v1', model: 'large-v3' },
    );
  });

  test('every invalid setting is reported at once', () => {
    assert.throws(
      () => loadTranscriptionConfig({ STT_PROVIDER: 'whisper', STT_MAX_DURATION_SECONDS: '0', STT_MAX_BYTES: 'lots', STT_OPENAI_BASE_URL: 'ftp://x' }),
      (error) => error instanceof ConfigError && error.problems.length === 3 && error.problems.some((problem) => problem.includes('STT_PROVIDER')),
    );
    assert.throws(() => loadTranscriptionConfig({ STT_PROVIDER: 'youdao' }), /needs YOUDAO_APP_KEY/);
  });
});

describe('word error rate', () => {
  test('counts substitutions, insertions and deletions over the reference, ignoring case and punctuation', () => {
    assert.equal(wordErrorRate('The weather is nice today.', 'the weather is nice today'), 0);
    assert.equal(wordErrorRate('how far is the moon', 'how far is a moon'), 0.2);
    assert.equal(wordErrorRate('one two three four', 'one three four five six'), 0.75);
  });
});
