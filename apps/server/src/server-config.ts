/**
 * The whole server's configuration: the core settings of `config.ts` composed with those of the
 * limits, metrics, WeChat and storage parts, read from one environment-like record.
 *
 * Contract: `loadServerConfig(env)` is pure like `loadConfig` and throws ONE `ConfigError` listing
 * every invalid variable of every part, so an operator fixes them all in one go. Each part keeps
 * its own loader (and its own tests); this module only gathers their problems and adds what
 * belongs to no part:
 *
 * | variable                     | default                 | meaning                                            |
 * |------------------------------|-------------------------|----------------------------------------------------|
 * | DATABASE_URL                 | (none)                  | PostgreSQL URL; set, it replaces the SQLite file and several servers share it |
 * | DATABASE_PATH                | `.data/wxstream.sqlite` | SQLite file (relative to the working directory), or `:memory:` |
 * | REPLY_CHECKPOINT_INTERVAL_MS | 1000                    | a streaming reply is written to the database at least this often |
 * | REPLY_CHECKPOINT_CHARS       | 500                     | … and whenever this many characters arrived since the last write |
 * | LOG_MESSAGE_TEXT             | false                   | debugging only: put message and reply text in the logs |
 * | CONTINUE_ON_DISCONNECT       | true                    | a reply whose client left is generated to its end and stored; false aborts it |
 *
 * TRUST_PROXY, the listener's timeouts and MAX_CONNECTIONS come from `http/http-config.ts`;
 * REDIS_URL / REDIS_KEY_PREFIX come from `redis/redis-config.ts`, REPLY_LOG_TTL_MS /
 * REPLY_LOG_MAX_EVENTS and the producer lease's REPLY_PRODUCER_LEASE_TTL_MS /
 * REPLY_PRODUCER_CHECK_INTERVAL_MS from `reply-log/reply-log-config.ts`, REQUEST_STOP_TTL_MS / POLL_WAIT_MS /
 * STOP_SETTLE_WAIT_MS from `requests/request-config.ts`, the VOICE_* and AUDIO_*
 * settings from `voice/voice-config.ts`, TITLE_GENERATION and FOLLOW_UP_* from `side-calls/side-calls-config.ts`.
 *
 * How users log in follows from the parts: with WeChat credentials, `wx.login` codes are exchanged
 * through WeChat and the development login is off whatever DEV_LOGIN says; without them the
 * development login is on when DEV_LOGIN allows it (by default everywhere except production).
 */
import { ConfigError, loadConfig, type Config, type Env } from './config.ts';
import { loadHttpConfig, type HttpConfig } from './http/http-config.ts';
import { createEnvReader } from './limits/env-reader.ts';
import { loadLimitsConfig, type LimitsConfig } from './limits/limits-config.ts';
import { loadMetricsConfig, type MetricsConfig } from './metrics/metrics-config.ts';
import { loadRedisConfig, type RedisConfig } from './redis/redis-config.ts';
import { loadReplyLogConfig, type ReplyLogConfig } from './reply-log/reply-log-config.ts';
import { loadRequestConfig, type RequestConfig } from './requests/request-config.ts';
import { loadSideCallsConfig, type SideCallsConfig } from './side-calls/side-calls-config.ts';
import { DEFAULT_DATABASE_PATH } from './storage/sqlite-store.ts';
import { loadUpstreamRetryConfig, type UpstreamRetryConfig } from './upstream/upstream-retry-config.ts';
import { loadTranscriptionConfig, type TranscriptionConfig } from './transcription/transcription-config.ts';
import { loadVoiceConfig, type VoiceConfig } from './voice/voice-config.ts';
import { loadWechatConfig, type WechatConfig } from './wechat/wechat-config.ts';

export interface StorageConfig {
  /** PostgreSQL; when set, `databasePath` is not used. */
  readonly databaseUrl: string | undefined;
  readonly databasePath: string;
  readonly checkpointIntervalMs: number;
  readonly checkpointChars: number;
}

/** `wechat`: jscode2session; `dev`: any code is user `dev:<code>`; `disabled`: 403 `dev_login_disabled`. */
export type LoginMode = 'wechat' | 'dev' | 'disabled';

export interface ServerConfig extends Config {
  readonly limits: LimitsConfig;
  readonly http: HttpConfig;
  readonly metrics: MetricsConfig;
  readonly wechat: WechatConfig;
  readonly storage: StorageConfig;
  readonly redis: RedisConfig;
  readonly replyLog: ReplyLogConfig;
  readonly requests: RequestConfig;
  readonly upstreamRetry: UpstreamRetryConfig;
  readonly voice: VoiceConfig;
  readonly transcription: TranscriptionConfig;
  readonly sideCalls: SideCallsConfig;
  /** A reply whose client disconnected goes on to its end (true) or is aborted (false). */
  readonly continueOnDisconnect: boolean;
  readonly logMessageText: boolean;
  readonly login: LoginMode;
  /** DEV_LOGIN=true was asked for but WeChat credentials switch the development login off (warned at start). */
  readonly devLoginOverridden: boolean;
}

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 1000;
export const DEFAULT_CHECKPOINT_CHARS = 500;

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];

export function loadServerConfig(env: Env): ServerConfig {
  const problems: string[] = [];
  const part = <T>(load: (env: Env) => T): T | undefined => {
    try {
      return load(env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const core = part(loadConfig);
  const limits = part(loadLimitsConfig);
  const http = part(loadHttpConfig);
  const metrics = part(loadMetricsConfig);
  const wechat = part(loadWechatConfig);
  const redis = part(loadRedisConfig);
  const replyLog = part(loadReplyLogConfig);
  const requests = part(loadRequestConfig);
  const upstreamRetry = part(loadUpstreamRetryConfig);
  const voice = part(loadVoiceConfig);
  const transcription = part(loadTranscriptionConfig);
  const sideCalls = part(loadSideCallsConfig);

  const read = createEnvReader(env, problems);
  const storage: StorageConfig = {
    databaseUrl: read.text('DATABASE_URL'),
    databasePath: read.text('DATABASE_PATH') ?? DEFAULT_DATABASE_PATH,
    checkpointIntervalMs: read.integer('REPLY_CHECKPOINT_INTERVAL_MS', DEFAULT_CHECKPOINT_INTERVAL_MS, 10, 600_000),
    checkpointChars: read.integer('REPLY_CHECKPOINT_CHARS', DEFAULT_CHECKPOINT_CHARS, 1, 10_000_000),
  };
  const logMessageText = read.flag('LOG_MESSAGE_TEXT', false);
  const continueOnDisconnect = read.flag('CONTINUE_ON_DISCONNECT', true);

  if (problems.length > 0 || core === undefined || limits === undefined || http === undefined || metrics === undefined || wechat === undefined || redis === undefined || replyLog === undefined || requests === undefined || upstreamRetry === undefined || voice === undefined || transcription === undefined || sideCalls === undefined) {
    throw new ConfigError(problems);
  }
  const wechatLogin = wechat.credentials !== undefined;
  const devLoginAsked = TRUE_WORDS.includes(env.DEV_LOGIN?.trim().toLowerCase() ?? '');
  return {
    ...core,
    limits,
    http,
    metrics,
    wechat,
    storage,
    redis,
    replyLog,
    requests,
    upstreamRetry,
    voice,
    transcription,
    sideCalls,
    continueOnDisconnect,
    logMessageText,
    login: wechatLogin ? 'wechat' : core.devLogin ? 'dev' : 'disabled',
    devLoginOverridden: wechatLogin && devLoginAsked,
  };
}
