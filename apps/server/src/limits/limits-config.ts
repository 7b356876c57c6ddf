/**
 * Configuration of the per-user limits and of what a reply may carry into the model, read from an
 * environment-like record by a pure function (same conventions as `src/config.ts`).
 *
 * Contract: `loadLimitsConfig(env)` never reads `process.env` and has no side effects; it returns a
 * complete `LimitsConfig` or throws one `ConfigError` listing every invalid variable.
 *
 * | variable                  | default  | meaning                                                        |
 * |---------------------------|----------|----------------------------------------------------------------|
 * | RATE_LIMIT_PER_MINUTE     | 20       | sustained chat requests per user per minute; 0 turns it off   |
 * | RATE_LIMIT_BURST          | 5        | requests a rested user may send back to back                   |
 * | DAILY_TOKEN_QUOTA         | 200000   | prompt + completion tokens per user per day; 0 = unlimited     |
 * | QUOTA_UTC_OFFSET_MINUTES  | 480      | where "a day" starts: UTC+8 (China Standard Time) by default   |
 * | REPLY_LOCK_TTL_MS         | 120000   | a reply lock nobody releases or renews frees itself after this |
 * | SHARE_RATE_LIMIT_PER_MINUTE | 10     | shares a user may create per minute (sustained); 0 turns it off |
 * | SHARE_RATE_LIMIT_BURST    | 5        | shares a rested user may create back to back                   |
 * | MAX_CONVERSATION_MESSAGES | 200      | messages one conversation may hold (409 conversation_too_long) |
 * | MAX_CONTEXT_TOKENS        | 8000     | budget for system prompt + history + new message sent upstream |
 * | SYSTEM_PROMPT             | (none)   | system message put before every conversation                   |
 * | LOGIN_RATE_LIMIT_PER_MINUTE / _BURST  | 20 / 10  | logins per client address; 0 turns it off          |
 * | PUBLIC_RATE_LIMIT_PER_MINUTE / _BURST | 600 / 200 | other requests without a valid token, per address  |
 * | API_RATE_LIMIT_PER_MINUTE / _BURST    | 300 / 100 | authenticated requests other than chats, per user  |
 * | MAX_STREAMS_PER_USER      | 4        | reply streams (chats and resumes) one user holds open at once  |
 * | MAX_READERS_PER_REPLY     | 4        | resumes following one reply at once                            |
 *
 * MAX_BODY_BYTES and MAX_MESSAGE_CHARS stay in `src/config.ts`, where they already are.
 */
import { ConfigError, type Env } from '../config.ts';
import { createEnvReader } from './env-reader.ts';

export interface LimitsConfig {
  /** Sustained rate; 0 means no rate limit. */
  readonly rateLimitPerMinute: number;
  readonly rateLimitBurst: number;
  /** Sustained share creations per user; 0 means no limit. */
  readonly shareRateLimitPerMinute: number;
  readonly shareRateLimitBurst: number;
  /** 0 means unlimited. */
  readonly dailyTokenQuota: number;
  readonly quotaUtcOffsetMinutes: number;
  readonly replyLockTtlMs: number;
  readonly maxConversationMessages: number;
  readonly maxContextTokens: number;
  readonly systemPrompt: string | undefined;
  /** Per client address, on `POST /api/auth/login` (each may cost a WeChat call). */
  readonly loginRate: RateSetting;
  /** Per client address, on every other request that carries no valid token (`/healthz` aside). */
  readonly publicRate: RateSetting;
  /** Per user, on the authenticated routes other than `POST /api/chat` (which has `rateLimitPerMinute`). */
  readonly apiRate: RateSetting;
  readonly maxStreamsPerUser: number;
  readonly maxReadersPerReply: number;
}

/** A GCRA rate: sustained requests per minute (0 = off) and how many a rested key may send at once. */
export interface RateSetting {
  readonly perMinute: number;
  readonly burst: number;
}

export const DEFAULT_LIMITS: LimitsConfig = {
  rateLimitPerMinute: 20,
  rateLimitBurst: 5,
  shareRateLimitPerMinute: 10,
  shareRateLimitBurst: 5,
  dailyTokenQuota: 200_000,
  quotaUtcOffsetMinutes: 480,
  replyLockTtlMs: 120_000,
  maxConversationMessages: 200,
  maxContextTokens: 8000,
  systemPrompt: undefined,
  loginRate: { perMinute: 20, burst: 10 },
  // Generous: many phones share one carrier address, and a voice reply fetches a link per segment.
  publicRate: { perMinute: 600, burst: 200 },
  // Resumes, stops and the history: a client polling a reply or paging its history stays well under.
  apiRate: { perMinute: 300, burst: 100 },
  maxStreamsPerUser: 4,
  maxReadersPerReply: 4,
};

/** One request per millisecond: beyond that the limiter's whole-millisecond interval would be 0. */
const MAX_RATE_PER_MINUTE = 60_000;
/** Real zones run from UTC-12:00 to UTC+14:00. */
const MIN_UTC_OFFSET_MINUTES = -12 * 60;
const MAX_UTC_OFFSET_MINUTES = 14 * 60;
/** A turn adds the user's message and the reply, so fewer than two would refuse every turn. */
const MIN_CONVERSATION_MESSAGES = 2;

export function loadLimitsConfig(env: Env): LimitsConfig {
  const problems: string[] = [];
  const read = createEnvReader(env, problems);
  const d = DEFAULT_LIMITS;
  const readRate = (prefix: string, fallback: RateSetting): RateSetting => ({
    perMinute: read.integer(`${prefix}_PER_MINUTE`, fallback.perMinute, 0, MAX_RATE_PER_MINUTE),
    burst: read.integer(`${prefix}_BURST`, fallback.burst, 1, 100_000),
  });

  const config: LimitsConfig = {
    rateLimitPerMinute: read.integer('RATE_LIMIT_PER_MINUTE', d.rateLimitPerMinute, 0, MAX_RATE_PER_MINUTE),
    rateLimitBurst: read.integer('RATE_LIMIT_BURST', d.rateLimitBurst, 1, 10_000),
    shareRateLimitPerMinute: read.integer('SHARE_RATE_LIMIT_PER_MINUTE', d.shareRateLimitPerMinute, 0, MAX_RATE_PER_MINUTE),
    shareRateLimitBurst: read.integer('SHARE_RATE_LIMIT_BURST', d.shareRateLimitBurst, 1, 10_000),
    dailyTokenQuota: read.integer('DAILY_TOKEN_QUOTA', d.dailyTokenQuota, 0, Number.MAX_SAFE_INTEGER),
    quotaUtcOffsetMinutes: read.integer('QUOTA_UTC_OFFSET_MINUTES', d.quotaUtcOffsetMinutes, MIN_UTC_OFFSET_MINUTES, MAX_UTC_OFFSET_MINUTES),
    replyLockTtlMs: read.integer('REPLY_LOCK_TTL_MS', d.replyLockTtlMs, 1000, 24 * 60 * 60 * 1000),
    maxConversationMessages: read.integer('MAX_CONVERSATION_MESSAGES', d.maxConversationMessages, MIN_CONVERSATION_MESSAGES, 100_000),
    maxContextTokens: read.integer('MAX_CONTEXT_TOKENS', d.maxContextTokens, 1, 10_000_000),
    systemPrompt: read.text('SYSTEM_PROMPT'),
    loginRate: readRate('LOGIN_RATE_LIMIT', d.loginRate),
    publicRate: readRate('PUBLIC_RATE_LIMIT', d.publicRate),
    apiRate: readRate('API_RATE_LIMIT', d.apiRate),
    maxStreamsPerUser: read.integer('MAX_STREAMS_PER_USER', d.maxStreamsPerUser, 1, 10_000),
    maxReadersPerReply: read.integer('MAX_READERS_PER_REPLY', d.maxReadersPerReply, 1, 10_000),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
