/**
 * `QuotaLedger` kept in Redis, so a user's daily tokens add up across every instance.
 *
 * State: one integer per user per quota day, `<prefix>quota:<day>:<userId>`, where `day` comes
 * from `quotaDayAt` with the injected clock, so the day boundary is the same on every instance
 * whatever Redis's clock says. Recording is INCRBY plus PEXPIRE in one MULTI; the key expires
 * `GRACE_MS` after its day ends (relative to the injected clock, so a manual clock in tests never
 * sets an expiry in Redis's past), so Redis holds one day of users plus, briefly, the previous.
 *
 * Counts are whole tokens: a fractional count (an estimate) is rounded up, never down, so the
 * ledger can only over-count by under one token per reply.
 */
import type { Clock } from '../clock.ts';
import type { RedisClient } from '../redis/redis-connections.ts';
import { quotaDayAt } from './quota-day.ts';
import { assertTokenCount, type QuotaDecision, type QuotaLedger } from './quota-ledger.ts';

export interface RedisQuotaLedgerOptions {
  client: RedisClient;
  clock: Pick<Clock, 'now'>;
  /** Tokens per user per day; 0 = unlimited. */
  dailyTokens: number;
  /** Minutes east of UTC where the day starts; 480 = UTC+8. */
  utcOffsetMinutes: number;
  keyPrefix: string;
}

/** Keeps yesterday's key a while past midnight, for instances whose clocks run a little behind. */
const GRACE_MS = 60 * 60 * 1000;

export class RedisQuotaLedger implements QuotaLedger {
  readonly #client: RedisClient;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #dailyTokens: number;
  readonly #utcOffsetMinutes: number;
  readonly #keyPrefix: string;

  constructor(options: RedisQuotaLedgerOptions) {
    if (!Number.isInteger(options.dailyTokens) || options.dailyTokens < 0) {
      throw new RangeError(`dailyTokens must be a whole number >= 0, got ${options.dailyTokens}`);
    }
    this.#client = options.client;
    this.#clock = options.clock;
    this.#dailyTokens = options.dailyTokens;
    this.#utcOffsetMinutes = options.utcOffsetMinutes;
    this.#keyPrefix = options.keyPrefix;
  }

  async check(userId: string): Promise<QuotaDecision> {
    if (this.#dailyTokens === 0) return { allowed: true, remaining: Number.POSITIVE_INFINITY };
    const now = this.#clock.now();
    const today = quotaDayAt(now, this.#utcOffsetMinutes);
    const stored = await this.#client.get(this.#key(today.day, userId));
    const used = stored === null ? 0 : Number(stored);
    if (used >= this.#dailyTokens) return { allowed: false, retryAfterMs: today.nextStartMs - now };
    return { allowed: true, remaining: this.#dailyTokens - used };
  }

  async record(userId: string, tokens: number): Promise<void> {
    assertTokenCount(tokens);
    if (this.#dailyTokens === 0 || tokens === 0) return;
    const now = this.#clock.now();
    const today = quotaDayAt(now, this.#utcOffsetMinutes);
    const key = this.#key(today.day, userId);
    await this.#client
      .multi()
      .incrBy(key, Math.ceil(tokens))
      .pExpire(key, Math.ceil(today.nextStartMs - now) + GRACE_MS)
      .exec();
  }

  #key(day: number, userId: string): string {
    return `${this.#keyPrefix}quota:${day}:${userId}`;
  }
}
