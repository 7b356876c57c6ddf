/**
 * How long to wait before the next attempt to continue a broken reply.
 *
 * Contract: exponential backoff with "equal jitter" — attempt n (0-based) waits a uniformly random time
 * in [c/2, c] where c = min(maxDelayMs, baseDelayMs · 2ⁿ). Half the ceiling is fixed so a retry never
 * fires at once into the same dead network; the random half spreads the reconnects of many phones that
 * lost the same cell or server at the same moment. `random` is injected (uniform in [0, 1)); the result
 * is a whole number of milliseconds and never negative.
 */

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RESUME_BACKOFF: BackoffOptions = { baseDelayMs: 500, maxDelayMs: 8_000 };

export function backoffDelay(attempt: number, random: () => number, options: BackoffOptions = DEFAULT_RESUME_BACKOFF): number {
  const base = Math.max(0, options.baseDelayMs);
  const ceiling = Math.min(Math.max(base, options.maxDelayMs), base * 2 ** Math.max(0, Math.min(attempt, 30)));
  const unit = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling / 2 + (ceiling / 2) * unit);
}
