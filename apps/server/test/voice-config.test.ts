import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { systemClock } from '../src/clock.ts';
import { ConfigError } from '../src/config.ts';
import { createTtsProvider } from '../src/voice/create-tts-provider.ts';
import { loadVoiceConfig } from '../src/voice/voice-config.ts';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadVoiceConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('voice configuration', () => {
  test('with nothing set, voice uses the embedded espeak-ng with the documented defaults', () => {
    assert.deepEqual(loadVoiceConfig({}), {
      provider: { kind: 'espeak', chineseVoice: 'cmn-latn-pinyin', englishVoice: 'en-us', speedWpm: 175 },
      voice: undefined,
      timeoutMs: 15_000,
      finishTimeoutMs: 20_000,
      concurrency: 3,
      segment: { maxChars: 150, minChars: 6, firstCommaChars: 10 },
      stallFlushMs: 800,
      sentenceEndFlushMs: 150,
      cache: { maxEntries: 512, maxBytes: 32 * 1024 * 1024 },
      audio: { ttlSeconds: 600, maxBytes: 64 * 1024 * 1024 },
      audioUrlSecret: undefined,
      extraVoices: [],
    });
  });

  test('Youdao credentials select Youdao unless another provider is named', () => {
    const env = { YOUDAO_APP_KEY: 'key', YOUDAO_APP_SECRET: 'secret', YOUDAO_API_BASE_URL: 'http://127.0.0.1:9999/', VOICE_NAME: 'youxiaozhi' };
    const config = loadVoiceConfig(env);
    assert.deepEqual(config.provider, { kind: 'youdao', appKey: 'key', appSecret: 'secret', baseUrl: 'http://127.0.0.1:9999', langType: 'zh-CHS' });
    assert.equal(config.voice, 'youxiaozhi');
    assert.equal(loadVoiceConfig({ ...env, VOICE_PROVIDER: 'espeak' }).provider.kind, 'espeak');
    assert.equal(loadVoiceConfig({ ...env, VOICE_PROVIDER: 'OFF' }).provider.kind, 'off');
  });

  test('OpenAI-compatible speech falls back to the chat provider’s key and base URL', () => {
    assert.deepEqual(loadVoiceConfig({ VOICE_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-chat', OPENAI_BASE_URL: 'http://localhost:8000/v1' }).provider, {
      kind: 'openai',
      apiKey: 'sk-chat',
      baseURL: 'http://localhost:8000/v1',
      model: 'tts-1',
    });
    assert.deepEqual(
      loadVoiceConfig({ VOICE_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-chat', VOICE_OPENAI_API_KEY: 'sk-voice', VOICE_OPENAI_BASE_URL: 'https://tts.example/v1', VOICE_OPENAI_MODEL: 'gpt-4o-mini-tts' })
        .provider,
      { kind: 'openai', apiKey: 'sk-voice', baseURL: 'https://tts.example/v1', model: 'gpt-4o-mini-tts' },
    );
  });

  test('every invalid variable is reported at once', () => {
    const problems = problemsOf({
      VOICE_PROVIDER: 'youdao',
      YOUDAO_APP_KEY: 'only-the-key',
      YOUDAO_API_BASE_URL: 'ftp://nope',
      VOICE_CONCURRENCY: '0',
      VOICE_SEGMENT_MAX_CHARS: '20',
      VOICE_SEGMENT_MIN_CHARS: '30',
      AUDIO_URL_SECRET: 'short',
    });
    assert.deepEqual(problems, [
      'YOUDAO_APP_KEY and YOUDAO_APP_SECRET must be set together (or neither)',
      'VOICE_PROVIDER=youdao needs YOUDAO_APP_KEY and YOUDAO_APP_SECRET',
      'YOUDAO_API_BASE_URL must be an http(s) URL without query, got "ftp://nope"',
      'VOICE_SEGMENT_MIN_CHARS (30) must not exceed VOICE_SEGMENT_MAX_CHARS (20)',
      'AUDIO_URL_SECRET must be at least 32 characters long',
      'VOICE_CONCURRENCY must be between 1 and 16, got 0',
    ]);
    assert.deepEqual(problemsOf({ VOICE_PROVIDER: 'azure' }), ['VOICE_PROVIDER must be one of espeak, youdao, openai, off, got "azure"']);
    assert.deepEqual(problemsOf({ VOICE_FIRST_COMMA_CHARS: '3' }), ['VOICE_FIRST_COMMA_CHARS (3) must be between VOICE_SEGMENT_MIN_CHARS and VOICE_SEGMENT_MAX_CHARS']);
  });

  test('the configured provider is built; off builds none; missing programs are reported, not thrown', () => {
    const deps = { clock: systemClock, pathEnv: '/nonexistent-directory' };
    assert.equal(createTtsProvider(loadVoiceConfig({ VOICE_PROVIDER: 'off' }), deps), undefined);
    const espeak = createTtsProvider(loadVoiceConfig({}), deps);
    assert.equal(espeak?.provider.id, 'espeak-ng');
    assert.match(espeak?.unavailableReason ?? '', /espeak-ng and lame not found/);
    const youdao = createTtsProvider(loadVoiceConfig({ YOUDAO_APP_KEY: 'k', YOUDAO_APP_SECRET: 's' }), deps);
    assert.deepEqual([youdao?.provider.id, youdao?.provider.defaultVoice, youdao?.unavailableReason], ['youdao', 'youxiaoqin', undefined]);
    const openai = createTtsProvider(loadVoiceConfig({ VOICE_PROVIDER: 'openai' }), deps);
    assert.deepEqual([openai?.provider.id, openai?.provider.defaultVoice], ['openai:tts-1', 'alloy']);
  });
});
