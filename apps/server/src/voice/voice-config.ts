/**
 * Voice-reply settings, read from an environment-like record by a pure function.
 *
 * Contract: `loadVoiceConfig(env)` never reads `process.env` and has no side effects; it returns a
 * complete `VoiceConfig` or throws one `ConfigError` listing every invalid variable.
 *
 * Provider (`VOICE_PROVIDER`): `espeak` (embedded, offline: needs the Debian packages espeak-ng
 * and lame), `youdao`, `openai` (any OpenAI-compatible `/audio/speech`), or `off`. Unset, it is
 * `youdao` when `YOUDAO_APP_KEY` and `YOUDAO_APP_SECRET` are set, else `espeak` — as chat falls
 * back to the offline model when no provider is configured.
 * - `VOICE_NAME`: the provider's voice (defaults: espeak `auto`, youdao `youxiaoqin`, openai `alloy`).
 * - `VOICE_NAMES`: more voices a request's `voiceName` may pick, beyond those the provider is
 *   known to offer (`offered-voices.ts`).
 * - `YOUDAO_APP_KEY` + `YOUDAO_APP_SECRET` (both or neither), `YOUDAO_API_BASE_URL` (default
 *   `https://openapi.youdao.com`; tests point it at a fake), `YOUDAO_LANG_TYPE` (default `zh-CHS`).
 * - `VOICE_OPENAI_API_KEY` / `VOICE_OPENAI_BASE_URL` (default to `OPENAI_API_KEY` /
 *   `OPENAI_BASE_URL`), `VOICE_OPENAI_MODEL` (default `tts-1`).
 * - `ESPEAK_CHINESE_VOICE` (default `cmn-latn-pinyin`), `ESPEAK_ENGLISH_VOICE` (default `en-us`),
 *   `ESPEAK_SPEED_WPM` (default 175).
 * Pipeline: `VOICE_TIMEOUT_MS` (15000, per synthesis), `VOICE_FINISH_TIMEOUT_MS` (20000: how long a
 * reply whose text is complete waits for its last segments before it ends without them),
 * `VOICE_CONCURRENCY` (3 segments ahead),
 * `VOICE_SEGMENT_MAX_CHARS` (150), `VOICE_SEGMENT_MIN_CHARS` (6), `VOICE_FIRST_COMMA_CHARS` (10),
 * `VOICE_STALL_FLUSH_MS` (800; 0 turns stall flushes off), `VOICE_SENTENCE_END_FLUSH_MS` (150: a
 * complete Chinese sentence is spoken after this quiet; 0 waits for the next character), `VOICE_CACHE_ENTRIES` (512),
 * `VOICE_CACHE_BYTES` (32 MiB). Audio: `AUDIO_TTL_SECONDS` (600: links and stored audio live this
 * long), `AUDIO_STORE_MAX_BYTES` (64 MiB), `AUDIO_URL_SECRET` (optional, at least 32 characters;
 * unset, the server derives one from its token secret).
 */
import { ConfigError, type Env } from '../config.ts';
import { createEnvReader } from '../limits/env-reader.ts';
import { DEFAULT_ESPEAK_CHINESE_VOICE, DEFAULT_ESPEAK_ENGLISH_VOICE, DEFAULT_ESPEAK_SPEED_WPM } from './espeak-tts.ts';
import { DEFAULT_OPENAI_SPEECH_MODEL } from './openai-speech.ts';
import { VOICE_NAME_PATTERN } from './offered-voices.ts';
import { MIN_AUDIO_URL_SECRET_LENGTH } from './signed-audio-url.ts';
import { DEFAULT_FIRST_COMMA_CHARS, DEFAULT_SEGMENT_MAX_CHARS, DEFAULT_SEGMENT_MIN_CHARS } from './speech-segmenter.ts';
import { DEFAULT_YOUDAO_BASE_URL, DEFAULT_YOUDAO_LANG_TYPE } from './youdao-tts.ts';

export const VOICE_PROVIDERS = ['espeak', 'youdao', 'openai', 'off'] as const;
export type VoiceProviderKind = (typeof VOICE_PROVIDERS)[number];

export type VoiceProviderConfig =
  | { readonly kind: 'off' }
  | { readonly kind: 'espeak'; readonly chineseVoice: string; readonly englishVoice: string; readonly speedWpm: number }
  | { readonly kind: 'youdao'; readonly appKey: string; readonly appSecret: string; readonly baseUrl: string; readonly langType: string }
  | { readonly kind: 'openai'; readonly apiKey: string | undefined; readonly baseURL: string | undefined; readonly model: string };

export interface VoiceConfig {
  readonly provider: VoiceProviderConfig;
  /** Undefined: the provider's default voice. */
  readonly voice: string | undefined;
  readonly timeoutMs: number;
  /** After the text is complete, the longest wait for the remaining segments before the reply ends without them. */
  readonly finishTimeoutMs: number;
  readonly concurrency: number;
  readonly segment: { readonly maxChars: number; readonly minChars: number; readonly firstCommaChars: number };
  /** 0: never flush on a stall. */
  readonly stallFlushMs: number;
  /** Quiet after a complete Chinese sentence before it is spoken without waiting for more text; 0: off. */
  readonly sentenceEndFlushMs: number;
  readonly cache: { readonly maxEntries: number; readonly maxBytes: number };
  readonly audio: { readonly ttlSeconds: number; readonly maxBytes: number };
  readonly audioUrlSecret: string | undefined;
  /** More voices a request may name (`VOICE_NAMES`), beyond what the provider is known to offer. */
  readonly extraVoices: readonly string[];
}

const MIB = 1024 * 1024;

/** `raw` without trailing slashes when it is an http(s) URL without query or fragment; otherwise a problem is pushed. */
export function httpUrl(raw: string | undefined, name: string, problems: string[]): string | undefined {
  if (raw === undefined) return undefined;
  try {
    const url = new URL(raw);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '') return raw.replace(/\/+$/, '');
  } catch {
    // Reported below.
  }
  problems.push(`${name} must be an http(s) URL without query, got "${raw}"`);
  return undefined;
}

export function loadVoiceConfig(env: Env): VoiceConfig {
  const problems: string[] = [];
  const read = createEnvReader(env, problems);

  const appKey = read.text('YOUDAO_APP_KEY');
  const appSecret = read.text('YOUDAO_APP_SECRET');
  if ((appKey === undefined) !== (appSecret === undefined)) {
    problems.push('YOUDAO_APP_KEY and YOUDAO_APP_SECRET must be set together (or neither)');
  }

  const kindRaw = read.text('VOICE_PROVIDER')?.toLowerCase();
  let kind: VoiceProviderKind = appKey !== undefined && appSecret !== undefined ? 'youdao' : 'espeak';
  if (kindRaw !== undefined) {
    if ((VOICE_PROVIDERS as readonly string[]).includes(kindRaw)) kind = kindRaw as VoiceProviderKind;
    else problems.push(`VOICE_PROVIDER must be one of ${VOICE_PROVIDERS.join(', ')}, got "${kindRaw}"`);
  }

  let provider: VoiceProviderConfig;
  switch (kind) {
    case 'off':
      provider = { kind };
      break;
    case 'espeak':
      provider = {
        kind,
        chineseVoice: read.text('ESPEAK_CHINESE_VOICE') ?? DEFAULT_ESPEAK_CHINESE_VOICE,
        englishVoice: read.text('ESPEAK_ENGLISH_VOICE') ?? DEFAULT_ESPEAK_ENGLISH_VOICE,
        speedWpm: read.integer('ESPEAK_SPEED_WPM', DEFAULT_ESPEAK_SPEED_WPM, 80, 450),
      };
      break;
    case 'youdao':
      if (appKey === undefined || appSecret === undefined) problems.push('VOICE_PROVIDER=youdao needs YOUDAO_APP_KEY and YOUDAO_APP_SECRET');
      provider = {
        kind,
        appKey: appKey ?? '',
        appSecret: appSecret ?? '',
        baseUrl: httpUrl(read.text('YOUDAO_API_BASE_URL'), 'YOUDAO_API_BASE_URL', problems) ?? DEFAULT_YOUDAO_BASE_URL,
        langType: read.text('YOUDAO_LANG_TYPE') ?? DEFAULT_YOUDAO_LANG_TYPE,
      };
      break;
    case 'openai': {
      const baseName = read.text('VOICE_OPENAI_BASE_URL') === undefined ? 'OPENAI_BASE_URL' : 'VOICE_OPENAI_BASE_URL';
      provider = {
        kind,
        apiKey: read.text('VOICE_OPENAI_API_KEY') ?? read.text('OPENAI_API_KEY'),
        baseURL: httpUrl(read.text(baseName), baseName, problems),
        model: read.text('VOICE_OPENAI_MODEL') ?? DEFAULT_OPENAI_SPEECH_MODEL,
      };
      break;
    }
  }

  const maxChars = read.integer('VOICE_SEGMENT_MAX_CHARS', DEFAULT_SEGMENT_MAX_CHARS, 8, 1000);
  const minChars = read.integer('VOICE_SEGMENT_MIN_CHARS', Math.min(DEFAULT_SEGMENT_MIN_CHARS, maxChars), 1, 1000);
  const firstCommaChars = read.integer('VOICE_FIRST_COMMA_CHARS', Math.min(Math.max(DEFAULT_FIRST_COMMA_CHARS, minChars), maxChars), 1, 1000);
  if (minChars > maxChars) problems.push(`VOICE_SEGMENT_MIN_CHARS (${minChars}) must not exceed VOICE_SEGMENT_MAX_CHARS (${maxChars})`);
  // A defaulted value follows the other two; only one the operator set can be out of place.
  if (read.text('VOICE_FIRST_COMMA_CHARS') !== undefined && (firstCommaChars < minChars || firstCommaChars > maxChars)) {
    problems.push(`VOICE_FIRST_COMMA_CHARS (${firstCommaChars}) must be between VOICE_SEGMENT_MIN_CHARS and VOICE_SEGMENT_MAX_CHARS`);
  }

  const audioUrlSecret = read.text('AUDIO_URL_SECRET');
  if (audioUrlSecret !== undefined && audioUrlSecret.length < MIN_AUDIO_URL_SECRET_LENGTH) {
    problems.push(`AUDIO_URL_SECRET must be at least ${MIN_AUDIO_URL_SECRET_LENGTH} characters long`);
  }

  const voiceName = read.text('VOICE_NAME');
  if (voiceName !== undefined && !VOICE_NAME_PATTERN.test(voiceName)) problems.push(`VOICE_NAME must be 1-64 characters of A-Z, a-z, 0-9, _, . or -, starting with a letter or digit, got "${voiceName}"`);
  const extraVoices = (read.text('VOICE_NAMES') ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
  for (const name of extraVoices) if (!VOICE_NAME_PATTERN.test(name)) problems.push(`VOICE_NAMES must list voice names (letters, digits, _, . or -, starting with a letter or digit), got "${name}"`);

  const config: VoiceConfig = {
    provider,
    voice: voiceName,
    timeoutMs: read.integer('VOICE_TIMEOUT_MS', 15_000, 1, 300_000),
    finishTimeoutMs: read.integer('VOICE_FINISH_TIMEOUT_MS', 20_000, 1, 600_000),
    concurrency: read.integer('VOICE_CONCURRENCY', 3, 1, 16),
    segment: { maxChars, minChars, firstCommaChars },
    stallFlushMs: read.integer('VOICE_STALL_FLUSH_MS', 800, 0, 60_000),
    sentenceEndFlushMs: read.integer('VOICE_SENTENCE_END_FLUSH_MS', 150, 0, 60_000),
    cache: { maxEntries: read.integer('VOICE_CACHE_ENTRIES', 512, 0, 1_000_000), maxBytes: read.integer('VOICE_CACHE_BYTES', 32 * MIB, 0, 4096 * MIB) },
    audio: { ttlSeconds: read.integer('AUDIO_TTL_SECONDS', 600, 10, 86_400), maxBytes: read.integer('AUDIO_STORE_MAX_BYTES', 64 * MIB, MIB, 4096 * MIB) },
    audioUrlSecret,
    extraVoices,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
