/**
 * Voice-input (speech to text) settings, read from an environment-like record by a pure function.
 *
 * Contract: `loadTranscriptionConfig(env)` never reads `process.env` and has no side effects; it
 * returns a complete `TranscriptionConfig` or throws one `ConfigError` listing every invalid
 * variable.
 *
 * Provider (`STT_PROVIDER`): `pocketsphinx` (offline, English only: Debian's pocketsphinx,
 * pocketsphinx-en-us, lame and sox; faad for AAC/M4A), `openai` (any OpenAI-compatible
 * `/audio/transcriptions`), `youdao` (short speech recognition), or `off`. Unset, it is `youdao`
 * when `YOUDAO_APP_KEY` and `YOUDAO_APP_SECRET` are set, else `pocketsphinx` — as voice replies
 * choose their provider.
 * - `STT_OPENAI_API_KEY` / `STT_OPENAI_BASE_URL` (default to `OPENAI_API_KEY` / `OPENAI_BASE_URL`),
 *   `STT_OPENAI_MODEL` (default `whisper-1`).
 * - `YOUDAO_APP_KEY` + `YOUDAO_APP_SECRET`, `YOUDAO_API_BASE_URL` (shared with voice replies),
 *   `STT_YOUDAO_LANG_TYPE` (default `zh-CHS`: what is recognised when the client names no language).
 * - `POCKETSPHINX_MODEL_DIR` (default `/usr/share/pocketsphinx/model/en-us`).
 * Limits: `STT_MAX_DURATION_SECONDS` (60, as long as WeChat's recorder is usually allowed to run;
 * at most 600), `STT_MAX_BYTES` (4 MiB: a minute of 16-bit 16 kHz WAV is 1.9 MB, of 320 kbit/s MP3
 * 2.4 MB), `STT_TIMEOUT_MS` (30000, per transcription), `STT_RATE_LIMIT_PER_MINUTE` /
 * `STT_RATE_LIMIT_BURST` (10 / 3 per user; 0 per minute turns the limit off),
 * `STT_DAILY_SECONDS_QUOTA` (1800 seconds of audio per user per day, on the quota day of
 * `QUOTA_UTC_OFFSET_MINUTES`; 0 = unlimited).
 * Debugging: `STT_DEBUG_AUDIO_DIR` — when set, every accepted recording is written there (warned at
 * start); unset (the default), nothing of the audio is kept once the answer is sent.
 */
import { ConfigError, type Env } from '../config.ts';
import { createEnvReader } from '../limits/env-reader.ts';
import { DEFAULT_OPENAI_TRANSCRIPTION_MODEL } from './openai-transcriber.ts';
import { DEFAULT_POCKETSPHINX_MODEL_DIR } from './pocketsphinx-transcriber.ts';
import { DEFAULT_YOUDAO_ASR_LANG_TYPE } from './youdao-asr.ts';
import { httpUrl } from '../voice/voice-config.ts';
import { DEFAULT_YOUDAO_BASE_URL } from '../voice/youdao-tts.ts';

export const STT_PROVIDERS = ['pocketsphinx', 'openai', 'youdao', 'off'] as const;
export type SttProviderKind = (typeof STT_PROVIDERS)[number];

export type SttProviderConfig =
  | { readonly kind: 'off' }
  | { readonly kind: 'pocketsphinx'; readonly modelDir: string }
  | { readonly kind: 'youdao'; readonly appKey: string; readonly appSecret: string; readonly baseUrl: string; readonly langType: string }
  | { readonly kind: 'openai'; readonly apiKey: string | undefined; readonly baseURL: string | undefined; readonly model: string };

export interface TranscriptionConfig {
  readonly provider: SttProviderConfig;
  readonly maxDurationMs: number;
  readonly maxBytes: number;
  readonly timeoutMs: number;
  /** 0: no rate limit. */
  readonly ratePerMinute: number;
  readonly rateBurst: number;
  /** Seconds of audio per user per day; 0 = unlimited. */
  readonly dailySecondsQuota: number;
  /** Where accepted recordings are kept for debugging; undefined: nowhere. */
  readonly debugAudioDir: string | undefined;
}

const MIB = 1024 * 1024;
export const DEFAULT_STT_MAX_DURATION_SECONDS = 60;
export const DEFAULT_STT_MAX_BYTES = 4 * MIB;

export function loadTranscriptionConfig(env: Env): TranscriptionConfig {
  const problems: string[] = [];
  const read = createEnvReader(env, problems);

  // Whether both Youdao keys are set together is voice-config's to report; here they only choose.
  const appKey = read.text('YOUDAO_APP_KEY');
  const appSecret = read.text('YOUDAO_APP_SECRET');
  const kindRaw = read.text('STT_PROVIDER')?.toLowerCase();
  let kind: SttProviderKind = appKey !== undefined && appSecret !== undefined ? 'youdao' : 'pocketsphinx';
  if (kindRaw !== undefined) {
    if ((STT_PROVIDERS as readonly string[]).includes(kindRaw)) kind = kindRaw as SttProviderKind;
    else problems.push(`STT_PROVIDER must be one of ${STT_PROVIDERS.join(', ')}, got "${kindRaw}"`);
  }

  let provider: SttProviderConfig;
  switch (kind) {
    case 'off':
      provider = { kind };
      break;
    case 'pocketsphinx':
      provider = { kind, modelDir: read.text('POCKETSPHINX_MODEL_DIR') ?? DEFAULT_POCKETSPHINX_MODEL_DIR };
      break;
    case 'youdao':
      if (appKey === undefined || appSecret === undefined) problems.push('STT_PROVIDER=youdao needs YOUDAO_APP_KEY and YOUDAO_APP_SECRET');
      provider = {
        kind,
        appKey: appKey ?? '',
        appSecret: appSecret ?? '',
        baseUrl: httpUrl(read.text('YOUDAO_API_BASE_URL'), 'YOUDAO_API_BASE_URL', problems) ?? DEFAULT_YOUDAO_BASE_URL,
        langType: read.text('STT_YOUDAO_LANG_TYPE') ?? DEFAULT_YOUDAO_ASR_LANG_TYPE,
      };
      break;
    case 'openai': {
      const baseName = read.text('STT_OPENAI_BASE_URL') === undefined ? 'OPENAI_BASE_URL' : 'STT_OPENAI_BASE_URL';
      provider = {
        kind,
        apiKey: read.text('STT_OPENAI_API_KEY') ?? read.text('OPENAI_API_KEY'),
        baseURL: httpUrl(read.text(baseName), baseName, problems),
        model: read.text('STT_OPENAI_MODEL') ?? DEFAULT_OPENAI_TRANSCRIPTION_MODEL,
      };
      break;
    }
  }

  const config: TranscriptionConfig = {
    provider,
    maxDurationMs: read.integer('STT_MAX_DURATION_SECONDS', DEFAULT_STT_MAX_DURATION_SECONDS, 1, 600) * 1000,
    maxBytes: read.integer('STT_MAX_BYTES', DEFAULT_STT_MAX_BYTES, 1024, 100 * MIB),
    timeoutMs: read.integer('STT_TIMEOUT_MS', 30_000, 1, 600_000),
    ratePerMinute: read.integer('STT_RATE_LIMIT_PER_MINUTE', 10, 0, 60_000),
    rateBurst: read.integer('STT_RATE_LIMIT_BURST', 3, 1, 10_000),
    dailySecondsQuota: read.integer('STT_DAILY_SECONDS_QUOTA', 1800, 0, Number.MAX_SAFE_INTEGER),
    debugAudioDir: read.text('STT_DEBUG_AUDIO_DIR'),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
