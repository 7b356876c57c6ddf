/**
 * The gate a chat request passes before a reply starts: rate limit, then daily quota, then room
 * in the reply log's memory (503 `server_busy` while live replies fill it), then the
 * one-reply-at-a-time lock.
 *
 * Contract: `admitReply` resolves to the lease (release it when the reply ends, whatever the
 * outcome) and the tokens left today, or throws a `LimitExceededError`: `rate_limited` or
 * `quota_exceeded` with `retryAfterSeconds`, `reply_in_progress` without. The order is
 * deliberate: the rate limit counts every attempt, including ones refused for another reason
 * (that is what it is for); the quota is only read; the lock is taken last, so a refusal never
 * leaves a lease to give back. `onRefused` lets the caller count refusals (metrics) without this
 * module knowing about them.
 */
import { LimitExceededError } from './limit-exceeded-error.ts';
import type { QuotaLedger } from './quota-ledger.ts';
import type { RateLimiter } from './rate-limiter.ts';
import type { Lease, ReplyLocks } from './reply-locks.ts';

export type RefusedLimit = 'rate' | 'quota' | 'reply_in_progress' | 'reply_log_memory';

export interface ReplyAdmissionDeps {
  rateLimiter: RateLimiter;
  quota: QuotaLedger;
  locks: ReplyLocks;
  /** False while the reply log has no memory left for another reply (live replies fill it). */
  replyLogHasRoom?: () => boolean;
  onRefused?: (limit: RefusedLimit, error: LimitExceededError) => void;
}

/** Replies end within minutes; a client asked to wait this long finds room soon after. */
const REPLY_LOG_FULL_RETRY_AFTER_MS = 10_000;

export interface Admission {
  readonly lease: Lease;
  /** Tokens the user has left today; `Infinity` when the quota is unlimited. */
  readonly remainingTokens: number;
}

export async function admitReply(deps: ReplyAdmissionDeps, userId: string, replyId: string): Promise<Admission> {
  const refuse = (limit: RefusedLimit, error: LimitExceededError): never => {
    deps.onRefused?.(limit, error);
    throw error;
  };

  const rate = await deps.rateLimiter.hit(userId);
  if (!rate.allowed) {
    return refuse('rate', new LimitExceededError('rate_limited', 'Too many chat requests; slow down', { retryAfterMs: rate.retryAfterMs }));
  }
  const quota = await deps.quota.check(userId);
  if (!quota.allowed) {
    return refuse('quota', new LimitExceededError('quota_exceeded', "Today's token quota is used up", { retryAfterMs: quota.retryAfterMs }));
  }
  if (deps.replyLogHasRoom?.() === false) {
    return refuse('reply_log_memory', new LimitExceededError('server_busy', 'Replies in progress fill the reply log (REPLY_LOG_MAX_BYTES)', { retryAfterMs: REPLY_LOG_FULL_RETRY_AFTER_MS }));
  }
  const lease = await deps.locks.tryAcquire(userId, replyId);
  if (lease === undefined) {
    return refuse('reply_in_progress', new LimitExceededError('reply_in_progress', 'Another reply for this user is still in progress'));
  }
  return { lease, remainingTokens: quota.remaining };
}
