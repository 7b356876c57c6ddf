/**
 * When to try a refused model call again, and after how long — pure, randomness injected.
 *
 * Contract: only refusals that say "try later" are retried: `upstream_rate_limited` (429) and
 * `upstream_unavailable` (5xx, connection refused or reset before the response headers). Auth
 * failures, bad requests and timeouts are final: asking again changes nothing, and a headers
 * timeout already cost the user `UPSTREAM_IDLE_TIMEOUT_MS`.
 *
 * `nextRetryDelay` answers the wait before retry number `retry` (1-based): the provider's own
 * `Retry-After` when it sent one, otherwise exponential backoff with full jitter —
 * `random() × min(maxDelayMs, baseDelayMs × 2^(retry-1))` — so instances that were refused together
 * do not come back together. It answers `undefined` (give up on this model) when the provider
 * asks for longer than `maxDelayMs` (waiting less is pointless, waiting more keeps the user
 * staring at nothing) or when the wait would take the request past its total `budgetMs`.
 */
import type { ErrorCode } from '@wxstream/protocol';

export interface RetryPolicy {
  /** Retries after the first attempt of the primary model. */
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  /** The longest single wait, including one a provider asks for. */
  readonly maxDelayMs: number;
  /** The longest total wait over all retries of one request. */
  readonly budgetMs: number;
}

const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['upstream_rate_limited', 'upstream_unavailable']);

export function isRetryableRefusal(code: ErrorCode): boolean {
  return RETRYABLE.has(code);
}

export type RetryDecision =
  | { readonly retry: true; readonly delayMs: number }
  | { readonly retry: false; readonly reason: 'retry_after_too_long' | 'budget_exhausted' };

export function nextRetryDelay(options: {
  readonly policy: RetryPolicy;
  /** 1 for the first retry. */
  readonly retry: number;
  /** What the provider asked for, if anything. */
  readonly retryAfterMs: number | undefined;
  /** Time already spent waiting in this request. */
  readonly waitedMs: number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}): RetryDecision {
  const { policy, retry, retryAfterMs, waitedMs, random } = options;
  let delayMs: number;
  if (retryAfterMs !== undefined) {
    if (retryAfterMs > policy.maxDelayMs) return { retry: false, reason: 'retry_after_too_long' };
    delayMs = retryAfterMs;
  } else {
    const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(retry - 1, 30));
    delayMs = Math.floor(random() * ceiling);
  }
  if (waitedMs + delayMs > policy.budgetMs) return { retry: false, reason: 'budget_exhausted' };
  return { retry: true, delayMs };
}
