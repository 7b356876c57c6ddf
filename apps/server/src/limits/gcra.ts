/**
 * The rate limit's arithmetic: GCRA (generic cell rate algorithm), a token bucket kept as a single
 * number per key. Pure, so the in-process limiter and a Redis script compute the same thing.
 *
 * Why GCRA rather than a sliding window: it is a token bucket — a rested user may send `burst`
 * requests back to back, then one per `intervalMs` — and a user who hits the limit waits one
 * interval (3 s at 20/min), not for a whole window to drain (up to 60 s with a sliding log). Its
 * state is one timestamp per key instead of one per request (a sliding log at 20/min keeps 20),
 * so it is O(1) in memory and one atomic read-modify-write of one key in Redis, and the wait it
 * reports is exact. In any span of t ms a key gets at most `burst + floor(t / intervalMs)` requests.
 *
 * State: `tat`, the theoretical arrival time — when the bucket would be full again if nothing more
 * arrived. A key with `tat <= now` (or no state) is rested. Each allowed request moves `tat` one
 * interval later; a request is allowed while `tat` would stay within `burst` intervals of now.
 * All quantities are whole milliseconds, so there is no float drift and Redis can store integers.
 */

export interface GcraParams {
  /** Time one request "costs": 60 000 / per-minute, rounded up to a whole millisecond. */
  readonly intervalMs: number;
  /** Requests a rested key may make at once; at least 1. */
  readonly burst: number;
}

export type GcraResult = { allowed: true; tat: number } | { allowed: false; retryAfterMs: number };

export function gcraParams(perMinute: number, burst: number): GcraParams {
  if (!Number.isInteger(perMinute) || perMinute < 1) throw new RangeError(`perMinute must be a positive whole number, got ${perMinute}`);
  if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`burst must be a positive whole number, got ${burst}`);
  return { intervalMs: Math.ceil(60_000 / perMinute), burst };
}

/** Decides one request at `now` against the stored `tat` (undefined for a key never seen). */
export function gcraDecide(params: GcraParams, tat: number | undefined, now: number): GcraResult {
  const newTat = Math.max(tat ?? now, now) + params.intervalMs;
  const allowAt = newTat - params.burst * params.intervalMs;
  if (allowAt > now) return { allowed: false, retryAfterMs: allowAt - now };
  return { allowed: true, tat: newTat };
}
