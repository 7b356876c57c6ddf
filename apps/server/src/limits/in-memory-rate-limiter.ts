/**
 * `RateLimiter` kept in this process's memory, using GCRA (see `gcra.ts` for the algorithm and why).
 *
 * State: the `tat` of each key that is not rested. A rested key's state means the same as no
 * state, so a sweep — at most once per full-bucket time (`burst` intervals), during calls — drops
 * those; memory is bounded by the keys seen within the last two such spans, with no timer.
 * `perMinute: 0` switches limiting off: every hit is allowed and nothing is stored.
 */
import type { Clock } from '../clock.ts';
import { gcraDecide, gcraParams, type GcraParams } from './gcra.ts';
import type { RateDecision, RateLimiter } from './rate-limiter.ts';

export interface InMemoryRateLimiterOptions {
  clock: Pick<Clock, 'now'>;
  /** Sustained requests per minute per key; 0 = unlimited. */
  perMinute: number;
  burst: number;
}

export class InMemoryRateLimiter implements RateLimiter {
  readonly #clock: Pick<Clock, 'now'>;
  readonly #params: GcraParams | undefined;
  readonly #tats = new Map<string, number>();
  #lastSweepAt: number;

  constructor(options: InMemoryRateLimiterOptions) {
    this.#clock = options.clock;
    this.#params = options.perMinute === 0 ? undefined : gcraParams(options.perMinute, options.burst);
    this.#lastSweepAt = options.clock.now();
  }

  /** Keys with state; for memory checks. */
  get size(): number {
    return this.#tats.size;
  }

  async hit(key: string): Promise<RateDecision> {
    const params = this.#params;
    if (params === undefined) return { allowed: true };
    const now = this.#clock.now();
    this.#sweep(params, now);
    const result = gcraDecide(params, this.#tats.get(key), now);
    if (!result.allowed) return { allowed: false, retryAfterMs: result.retryAfterMs };
    this.#tats.set(key, result.tat);
    return { allowed: true };
  }

  #sweep(params: GcraParams, now: number): void {
    if (now - this.#lastSweepAt < params.burst * params.intervalMs) return;
    this.#lastSweepAt = now;
    for (const [key, tat] of this.#tats) if (tat <= now) this.#tats.delete(key);
  }
}
