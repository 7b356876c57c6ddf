/**
 * Everything voice input needs at run time, built once at start: the configured transcriber, the
 * per-user rate limiter and the daily audio-seconds ledger, and the limits the route applies.
 *
 * Contract: `createTranscriptionService(config, deps)` never fails for a provider that cannot
 * work — `unavailableReason` says why (`STT_PROVIDER=off`, a program or model missing) and the
 * route answers `stt_unavailable` — so the server starts either way and says so in its log. The
 * limiter and the ledger are the chat's implementations (GCRA, quota ledger), in Redis under
 * `<prefix>stt:` when Redis is configured, so they hold across instances, else in this process.
 * The ledger counts whole seconds of audio.
 */
import type { TranscriptionCapabilities } from '@wxstream/protocol';
import type { Clock } from '../clock.ts';
import { InMemoryQuotaLedger } from '../limits/in-memory-quota-ledger.ts';
import { InMemoryRateLimiter } from '../limits/in-memory-rate-limiter.ts';
import type { QuotaLedger } from '../limits/quota-ledger.ts';
import type { RateLimiter } from '../limits/rate-limiter.ts';
import { RedisQuotaLedger } from '../limits/redis-quota-ledger.ts';
import { RedisRateLimiter } from '../limits/redis-rate-limiter.ts';
import type { RedisClient } from '../redis/redis-connections.ts';
import { createOpenAITranscriber } from './openai-transcriber.ts';
import { createPocketsphinxTranscriber } from './pocketsphinx-transcriber.ts';
import type { Transcriber } from './transcriber.ts';
import type { TranscriptionConfig } from './transcription-config.ts';
import { createYoudaoAsr } from './youdao-asr.ts';

export interface TranscriptionService {
  readonly config: TranscriptionConfig;
  /** Undefined when `STT_PROVIDER=off`. */
  readonly transcriber: Transcriber | undefined;
  /** Why voice input cannot work here, or undefined when it can. */
  readonly unavailableReason: string | undefined;
  readonly rateLimiter: RateLimiter;
  readonly quota: QuotaLedger;
  capabilities(): TranscriptionCapabilities;
}

export interface TranscriptionServiceDeps {
  readonly clock: Clock;
  /** The `PATH` to find the offline programs on (pass `process.env.PATH`). */
  readonly pathEnv: string | undefined;
  /** Where the audio-seconds day starts (`QUOTA_UTC_OFFSET_MINUTES`). */
  readonly utcOffsetMinutes: number;
  readonly redis?: { readonly client: RedisClient; readonly keyPrefix: string };
  /** Transcribes instead of the configured provider (tests, benchmarks). */
  readonly transcriber?: Transcriber;
}

export function createTranscriber(config: TranscriptionConfig, deps: Pick<TranscriptionServiceDeps, 'clock' | 'pathEnv'>): Transcriber | undefined {
  const { provider } = config;
  switch (provider.kind) {
    case 'off':
      return undefined;
    case 'pocketsphinx':
      return createPocketsphinxTranscriber({ pathEnv: deps.pathEnv, modelDir: provider.modelDir, timeoutMs: config.timeoutMs, clock: deps.clock });
    case 'openai':
      return createOpenAITranscriber({ apiKey: provider.apiKey, baseURL: provider.baseURL, model: provider.model, timeoutMs: config.timeoutMs, clock: deps.clock });
    case 'youdao':
      return createYoudaoAsr({
        appKey: provider.appKey,
        appSecret: provider.appSecret,
        baseUrl: provider.baseUrl,
        langType: provider.langType,
        timeoutMs: config.timeoutMs,
        clock: deps.clock,
      });
  }
}

export function createTranscriptionService(config: TranscriptionConfig, deps: TranscriptionServiceDeps): TranscriptionService {
  const transcriber = deps.transcriber ?? createTranscriber(config, deps);
  const unavailableReason = transcriber === undefined ? 'voice input is off (STT_PROVIDER=off)' : transcriber.unavailableReason;
  const rate = { clock: deps.clock, perMinute: config.ratePerMinute, burst: config.rateBurst };
  const quota = { clock: deps.clock, dailyTokens: config.dailySecondsQuota, utcOffsetMinutes: deps.utcOffsetMinutes };
  const redis = deps.redis;
  const keyPrefix = redis === undefined ? '' : `${redis.keyPrefix}stt:`;
  return {
    config,
    transcriber,
    unavailableReason,
    rateLimiter: redis === undefined ? new InMemoryRateLimiter(rate) : new RedisRateLimiter({ client: redis.client, keyPrefix, ...rate }),
    quota: redis === undefined ? new InMemoryQuotaLedger(quota) : new RedisQuotaLedger({ client: redis.client, keyPrefix, ...quota }),
    capabilities() {
      return {
        available: unavailableReason === undefined,
        provider: transcriber?.id ?? 'off',
        languages: [...(transcriber?.languages ?? [])],
        maxDurationMs: config.maxDurationMs,
        maxBytes: config.maxBytes,
        formats: [...(transcriber?.formats ?? [])],
      };
    },
  };
}

