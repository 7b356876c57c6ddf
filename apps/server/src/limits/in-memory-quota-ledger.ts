/**
 * `QuotaLedger` kept in this process's memory.
 *
 * State: for each user who used tokens on the current day, that day's number and count. Counts
 * from an earlier day mean zero; the first call on a new day drops all of them at once, so memory
 * holds at most one day of users, whatever the uptime. No timer.
 */
import type { Clock } from '../clock.ts';
import { quotaDayAt } from './quota-day.ts';
import { assertTokenCount, type QuotaDecision, type QuotaLedger } from './quota-ledger.ts';

export interface InMemoryQuotaLedgerOptions {
  clock: Pick<Clock, 'now'>;
  /** Tokens per user per day; 0 = unlimited. */
  dailyTokens: number;
  /** Minutes east of UTC where the day starts; 480 = UTC+8. */
  utcOffsetMinutes: number;
}

export class InMemoryQuotaLedger implements QuotaLedger {
  readonly #clock: Pick<Clock, 'now'>;
  readonly #dailyTokens: number;
  readonly #utcOffsetMinutes: number;
  readonly #used = new Map<string, number>();
  /** The day `#used` belongs to. */
  #day: number;

  constructor(options: InMemoryQuotaLedgerOptions) {
    if (!Number.isInteger(options.dailyTokens) || options.dailyTokens < 0) {
      throw new RangeError(`dailyTokens must be a whole number >= 0, got ${options.dailyTokens}`);
    }
    this.#clock = options.clock;
    this.#dailyTokens = options.dailyTokens;
    this.#utcOffsetMinutes = options.utcOffsetMinutes;
    this.#day = quotaDayAt(options.clock.now(), options.utcOffsetMinutes).day;
  }

  /** Users with a count today; for memory checks. */
  get size(): number {
    this.#rollOver(quotaDayAt(this.#clock.now(), this.#utcOffsetMinutes).day);
    return this.#used.size;
  }

  async check(userId: string): Promise<QuotaDecision> {
    const now = this.#clock.now();
    const today = quotaDayAt(now, this.#utcOffsetMinutes);
    this.#rollOver(today.day);
    if (this.#dailyTokens === 0) return { allowed: true, remaining: Number.POSITIVE_INFINITY };
    const used = this.#used.get(userId) ?? 0;
    if (used >= this.#dailyTokens) return { allowed: false, retryAfterMs: today.nextStartMs - now };
    return { allowed: true, remaining: this.#dailyTokens - used };
  }

  async record(userId: string, tokens: number): Promise<void> {
    assertTokenCount(tokens);
    this.#rollOver(quotaDayAt(this.#clock.now(), this.#utcOffsetMinutes).day);
    // Unlimited still counts nothing: there is no decision the count could change.
    if (this.#dailyTokens === 0 || tokens === 0) return;
    this.#used.set(userId, (this.#used.get(userId) ?? 0) + tokens);
  }

  #rollOver(today: number): void {
    if (today === this.#day) return;
    this.#day = today;
    this.#used.clear();
  }
}
