/**
 * The daily token quota counted from the usage the store already keeps — the embedded default.
 *
 * Contract: a `QuotaLedger` whose `check(userId)` sums the user's stored usage since the start of
 * the current quota day (`tokensUsedSince`, a ledger that survives restarts and conversation
 * deletes) and whose `record` adds nothing: every reply's usage (the provider's, or an estimate)
 * is written with the reply's final state, so recording it again would count it twice. The chat
 * route calls `record` anyway, so a ledger that keeps its own count (Redis, for several instances)
 * drops in without touching the route. Decisions follow the `QuotaLedger` contract: `remaining` is
 * quota − used (`Infinity` for quota 0 = unlimited), and a refusal waits until the next day starts.
 * A reply counts from the day it started in.
 */
import type { Clock } from '../clock.ts';
import { quotaDayAt } from '../limits/quota-day.ts';
import { assertTokenCount, type QuotaDecision, type QuotaLedger } from '../limits/quota-ledger.ts';
import type { ConversationStore } from '../storage/conversation-store.ts';

export interface StoredUsageQuotaOptions {
  store: Pick<ConversationStore, 'tokensUsedSince'>;
  clock: Pick<Clock, 'now'>;
  /** Tokens per user per day; 0 = unlimited. */
  dailyTokens: number;
  utcOffsetMinutes: number;
}

export function createStoredUsageQuota(options: StoredUsageQuotaOptions): QuotaLedger {
  if (!Number.isInteger(options.dailyTokens) || options.dailyTokens < 0) {
    throw new RangeError(`dailyTokens must be a whole number >= 0, got ${options.dailyTokens}`);
  }
  return {
    async check(userId): Promise<QuotaDecision> {
      if (options.dailyTokens === 0) return { allowed: true, remaining: Number.POSITIVE_INFINITY };
      const now = options.clock.now();
      const day = quotaDayAt(now, options.utcOffsetMinutes);
      const used = await options.store.tokensUsedSince(userId, day.startMs);
      if (used >= options.dailyTokens) return { allowed: false, retryAfterMs: day.nextStartMs - now };
      return { allowed: true, remaining: options.dailyTokens - used };
    },
    async record(_userId, tokens) {
      assertTokenCount(tokens);
    },
  };
}
