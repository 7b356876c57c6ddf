/**
 * The stores whose state must be shared when several instances serve one deployment: reply locks,
 * rate limits (of chats and of share creation), daily quotas, the reply log and the ledger of client-named
 * requests. One choice for all of them, made once at startup.
 *
 * Contract: without `redis` every store lives in this process's memory (a single instance, or a
 * laptop); with it every store lives in Redis under `keyPrefix`, so limits and resumable replies
 * hold whichever instance a request lands on. Both sets satisfy the same contract suites, so
 * nothing downstream knows which it got. The caller owns the Redis connections (open them with
 * `openRedis` before, close them after the HTTP server has drained); the stores hold no other
 * resource to release.
 */
import type { Clock } from './clock.ts';
import { InMemoryQuotaLedger } from './limits/in-memory-quota-ledger.ts';
import { InMemoryRateLimiter } from './limits/in-memory-rate-limiter.ts';
import { InMemoryReplyLocks } from './limits/in-memory-reply-locks.ts';
import type { LimitsConfig } from './limits/limits-config.ts';
import type { QuotaLedger } from './limits/quota-ledger.ts';
import type { RateLimiter } from './limits/rate-limiter.ts';
import { RedisQuotaLedger } from './limits/redis-quota-ledger.ts';
import { RedisRateLimiter } from './limits/redis-rate-limiter.ts';
import { RedisReplyLocks } from './limits/redis-reply-locks.ts';
import type { ReplyLocks } from './limits/reply-locks.ts';
import type { RedisConnections } from './redis/redis-connections.ts';
import { InMemoryReplyLog } from './reply-log/in-memory-reply-log.ts';
import type { ReplyLog } from './reply-log/reply-log.ts';
import type { ReplyLogConfig } from './reply-log/reply-log-config.ts';
import { RedisReplyLog } from './reply-log/redis-reply-log.ts';
import { InMemoryRequestLedger } from './requests/in-memory-request-ledger.ts';
import { RedisRequestLedger } from './requests/redis-request-ledger.ts';
import { DEFAULT_REQUESTS, type RequestConfig } from './requests/request-config.ts';
import type { RequestLedger } from './requests/request-ledger.ts';

export interface StateStores {
  /** Where the state lives; for the startup log line and /healthz. */
  readonly kind: 'memory' | 'redis';
  readonly locks: ReplyLocks;
  readonly rateLimiter: RateLimiter;
  /** Counts share creations, per user, under its own rate. */
  readonly shareRateLimiter: RateLimiter;
  readonly quota: QuotaLedger;
  readonly replyLog: ReplyLog;
  /** What became of the chat requests clients named (`requestId`): repeats and early stops. */
  readonly requests: RequestLedger;
  /**
   * Another rate limiter on the same store, for a limit with its own rate (per address, per user
   * on other routes). Its keys must not collide with the chat limiter's user ids: namespace them.
   */
  rateLimiterFor(rate: { perMinute: number; burst: number }): RateLimiter;
  /** In memory only: false while live replies fill the reply log's REPLY_LOG_MAX_BYTES (Redis has its own maxmemory). */
  readonly replyLogHasRoom?: () => boolean;
}

export interface StateStoresOptions {
  clock: Clock;
  limits: LimitsConfig;
  replyLog: ReplyLogConfig;
  /** Defaults: `DEFAULT_REQUESTS`. */
  requests?: RequestConfig;
  redis?: { connections: RedisConnections; keyPrefix: string };
}

export function createStateStores(options: StateStoresOptions): StateStores {
  const { clock, limits, replyLog, redis } = options;
  const rate = { perMinute: limits.rateLimitPerMinute, burst: limits.rateLimitBurst };
  const shareRate = { perMinute: limits.shareRateLimitPerMinute, burst: limits.shareRateLimitBurst };
  const quota = { dailyTokens: limits.dailyTokenQuota, utcOffsetMinutes: limits.quotaUtcOffsetMinutes };
  // A request is admitted within the reply lock's lifetime; once committed it is found as long as its events are.
  const requestTimes = {
    stopTtlMs: (options.requests ?? DEFAULT_REQUESTS).stopTtlMs,
    admittingTtlMs: limits.replyLockTtlMs,
    committedTtlMs: replyLog.retentionMs,
  };

  if (redis === undefined) {
    const inMemoryLog = new InMemoryReplyLog({ clock, ...replyLog });
    return {
      kind: 'memory',
      replyLogHasRoom: () => inMemoryLog.hasRoomForNewReply(),
      locks: new InMemoryReplyLocks({ clock, ttlMs: limits.replyLockTtlMs }),
      rateLimiter: new InMemoryRateLimiter({ clock, ...rate }),
      shareRateLimiter: new InMemoryRateLimiter({ clock, ...shareRate }),
      quota: new InMemoryQuotaLedger({ clock, ...quota }),
      replyLog: inMemoryLog,
      requests: new InMemoryRequestLedger({ clock, ...requestTimes }),
      rateLimiterFor: (other) => new InMemoryRateLimiter({ clock, ...other }),
    };
  }

  const { commands: client, subscriber } = redis.connections;
  const keyPrefix = redis.keyPrefix;
  return {
    kind: 'redis',
    locks: new RedisReplyLocks({ client, clock, ttlMs: limits.replyLockTtlMs, keyPrefix }),
    rateLimiter: new RedisRateLimiter({ client, clock, ...rate, keyPrefix }),
    shareRateLimiter: new RedisRateLimiter({ client, clock, ...shareRate, keyPrefix: `${keyPrefix}share:` }),
    quota: new RedisQuotaLedger({ client, clock, ...quota, keyPrefix }),
    replyLog: new RedisReplyLog({ client, subscriber, clock, ...replyLog, keyPrefix }),
    requests: new RedisRequestLedger({ client, keyPrefix, ...requestTimes }),
    rateLimiterFor: (other) => new RedisRateLimiter({ client, clock, ...other, keyPrefix }),
  };
}
