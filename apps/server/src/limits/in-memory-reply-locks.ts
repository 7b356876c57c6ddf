/**
 * `ReplyLocks` held in this process's memory: right for a single instance (issue 4 moves them to
 * Redis so they hold across instances).
 *
 * State: one entry per user with a live (or not yet swept) lease — the lease's own identity, its
 * reply id and its expiry time. JavaScript runs each call to completion, so check-and-set inside
 * `tryAcquire` is atomic without further locking. Expired entries are dropped when their user
 * acquires again and by a sweep that runs at most once per TTL, during calls, so memory is bounded
 * by the users who held a lease within the last two TTLs, with no timer to clean up.
 */
import type { Clock } from '../clock.ts';
import type { Lease, ReplyLocks } from './reply-locks.ts';

export interface InMemoryReplyLocksOptions {
  clock: Pick<Clock, 'now'>;
  ttlMs: number;
}

interface Held {
  readonly identity: object;
  readonly replyId: string;
  expiresAt: number;
}

export class InMemoryReplyLocks implements ReplyLocks {
  readonly #clock: Pick<Clock, 'now'>;
  readonly #ttlMs: number;
  readonly #held = new Map<string, Held>();
  #lastSweepAt: number;

  constructor(options: InMemoryReplyLocksOptions) {
    if (!(options.ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${options.ttlMs}`);
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
    this.#lastSweepAt = options.clock.now();
  }

  /** Users with a tracked lease, live or awaiting the sweep; for memory checks. */
  get size(): number {
    return this.#held.size;
  }

  async tryAcquire(userId: string, replyId: string): Promise<Lease | undefined> {
    const now = this.#clock.now();
    this.#sweep(now);
    const current = this.#held.get(userId);
    if (current !== undefined && current.expiresAt > now) return undefined;

    const held: Held = { identity: {}, replyId, expiresAt: now + this.#ttlMs };
    this.#held.set(userId, held);
    const isOurs = () => this.#held.get(userId)?.identity === held.identity;
    return {
      userId,
      replyId,
      release: async () => {
        if (isOurs()) this.#held.delete(userId);
      },
      renew: async () => {
        const at = this.#clock.now();
        if (!isOurs() || held.expiresAt <= at) return false;
        held.expiresAt = at + this.#ttlMs;
        return true;
      },
    };
  }

  async releaseAbandoned(userId: string, replyId: string): Promise<void> {
    if (this.#held.get(userId)?.replyId === replyId) this.#held.delete(userId);
  }

  #sweep(now: number): void {
    if (now - this.#lastSweepAt < this.#ttlMs) return;
    this.#lastSweepAt = now;
    for (const [userId, held] of this.#held) if (held.expiresAt <= now) this.#held.delete(userId);
  }
}
