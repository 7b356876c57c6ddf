/**
 * `RateLimiter` kept in Redis, so a user's rate holds across every instance: GCRA (see `gcra.ts`
 * for the algorithm and why) as one atomic Lua script per hit.
 *
 * State: the `tat` of each key that is not rested, `<prefix>rate:<key>`, an integer of epoch ms.
 * The script is `gcraDecide` transcribed, with `now` taken from the injected clock and passed in,
 * so every instance and the in-process limiter decide identically. The key expires once its
 * bucket has refilled (plus slack): a rested key's state means the same as none, so memory holds
 * only keys that are currently limited. `perMinute: 0` switches limiting off without a round trip.
 */
import type { Clock } from '../clock.ts';
import type { RedisClient } from '../redis/redis-connections.ts';
import { integerArrayReply } from '../redis/redis-replies.ts';
import { RedisScript } from '../redis/redis-script.ts';
import { gcraParams, type GcraParams } from './gcra.ts';
import type { RateDecision, RateLimiter } from './rate-limiter.ts';

export interface RedisRateLimiterOptions {
  client: RedisClient;
  clock: Pick<Clock, 'now'>;
  /** Sustained requests per minute per key; 0 = unlimited. */
  perMinute: number;
  burst: number;
  keyPrefix: string;
}

/** Past a bucket's refill time, so clock skew between instances cannot forget a limited key early. */
const GC_SLACK_MS = 1000;

// KEYS[1] tat; ARGV now, intervalMs, burst, gcSlackMs. Returns {1, 0} allowed or {0, retryAfterMs}.
// Epoch milliseconds are exact in Lua's doubles; '%.0f' writes them back without an exponent.
const GCRA = new RedisScript(`
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if tat < now then tat = now end
local newTat = tat + interval
local allowAt = newTat - tonumber(ARGV[3]) * interval
if allowAt > now then return {0, allowAt - now} end
redis.call('SET', KEYS[1], string.format('%.0f', newTat), 'PX', string.format('%.0f', newTat - now + tonumber(ARGV[4])))
return {1, 0}
`);

export class RedisRateLimiter implements RateLimiter {
  readonly #client: RedisClient;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #params: GcraParams | undefined;
  readonly #keyPrefix: string;

  constructor(options: RedisRateLimiterOptions) {
    this.#client = options.client;
    this.#clock = options.clock;
    this.#params = options.perMinute === 0 ? undefined : gcraParams(options.perMinute, options.burst);
    this.#keyPrefix = options.keyPrefix;
  }

  async hit(key: string): Promise<RateDecision> {
    const params = this.#params;
    if (params === undefined) return { allowed: true };
    const now = Math.floor(this.#clock.now());
    const reply = await GCRA.run(
      this.#client,
      [`${this.#keyPrefix}rate:${key}`],
      [String(now), String(params.intervalMs), String(params.burst), String(GC_SLACK_MS)],
    );
    const [allowed, retryAfterMs] = integerArrayReply(reply, 2);
    return allowed === 1 ? { allowed: true } : { allowed: false, retryAfterMs: retryAfterMs ?? 0 };
  }
}
