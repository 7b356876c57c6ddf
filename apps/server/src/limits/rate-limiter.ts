/**
 * Per-key request rate limit: the contract every implementation (in-process now, Redis later)
 * satisfies; `test/support/limits-contract.ts` checks it.
 *
 * Contract: `hit(key)` counts one request for `key` if it is allowed now, and resolves
 * `{ allowed: true }`; otherwise it counts nothing and resolves `{ allowed: false, retryAfterMs }`,
 * where `retryAfterMs` is exactly how long until the same call would be allowed (> 0), computed
 * from the limiter's state — not a guess — so `Retry-After` is truthful. Refused hits do not
 * consume anything, so a client hammering while refused does not push its own wait further out.
 * Time comes from the injected clock (see `reply-locks.ts` on store-side clocks).
 */

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

export interface RateLimiter {
  hit(key: string): Promise<RateDecision>;
}
