/**
 * Daily token quota per user: the contract every implementation (in-process, Redis, or a sum over
 * stored usage in SQLite) satisfies; `test/support/limits-contract.ts` checks it.
 *
 * Contract:
 * - `record(userId, tokens)` adds the tokens a reply used (prompt + completion, from the provider's
 *   usage or an estimate when it sent none) to the user's count for the day current at the moment
 *   of recording. `tokens` is a finite number ≥ 0; anything else is a programming error (RangeError).
 * - `check(userId)` resolves `{ allowed: true, remaining }` while the day's count is below the daily
 *   quota (`remaining` = quota − count, > 0; `Infinity` when the quota is 0 = unlimited), else
 *   `{ allowed: false, retryAfterMs }` with the exact time until the next day boundary.
 * - Days start at local midnight for a fixed UTC offset (see `quota-day.ts`); a new day starts
 *   every count at 0. Implementations keep no more than the current day's counts (plus, briefly,
 *   the previous day's until swept or expired): memory does not grow with time.
 * - `check` gates the start of a reply; a reply may end past the quota by up to its own size (the
 *   integrator can cap `max_tokens` with `remaining` to bound that).
 * - Time comes from the injected clock.
 */

export type QuotaDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterMs: number };

export interface QuotaLedger {
  check(userId: string): Promise<QuotaDecision>;
  record(userId: string, tokens: number): Promise<void>;
}

export function assertTokenCount(tokens: number): void {
  if (!Number.isFinite(tokens) || tokens < 0) throw new RangeError(`tokens must be a finite number >= 0, got ${tokens}`);
}
