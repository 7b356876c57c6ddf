/**
 * `RequestLedger` in this process's memory, for a single instance (see request-ledger.ts for the
 * contract). Records expire on the injected clock; expired ones are dropped when next touched and by a
 * sweep every so many writes, so the map never grows without bound.
 */
import type { Clock } from '../clock.ts';
import type { ClaimResult, CommittedRequest, RequestLedger, RequestLedgerTimes, RequestRecord, StopResult } from './request-ledger.ts';

type Stored = { record: RequestRecord; expiresAt: number };

const SWEEP_EVERY_WRITES = 256;

export class InMemoryRequestLedger implements RequestLedger {
  readonly #records = new Map<string, Stored>();
  readonly #clock: Pick<Clock, 'now'>;
  readonly #times: RequestLedgerTimes;
  #writes = 0;

  constructor(options: { clock: Pick<Clock, 'now'> } & RequestLedgerTimes) {
    this.#clock = options.clock;
    this.#times = { stopTtlMs: options.stopTtlMs, admittingTtlMs: options.admittingTtlMs, committedTtlMs: options.committedTtlMs };
  }

  async claim(userId: string, requestId: string): Promise<ClaimResult> {
    const record = this.#read(requestId);
    if (record === undefined || (record.userId === userId && record.state === 'stop-requested')) {
      const stopRequested = record !== undefined;
      this.#write(requestId, { state: 'admitting', userId, stopRequested }, this.#times.admittingTtlMs);
      return { kind: 'claimed', stopRequested };
    }
    if (record.userId !== userId || record.state === 'stop-requested') return { kind: 'foreign' };
    if (record.state === 'admitting') return { kind: 'admitting' };
    return { kind: 'committed', messageId: record.messageId, conversationId: record.conversationId };
  }

  async commit(requestId: string, reply: CommittedRequest): Promise<{ stopRequested: boolean }> {
    const record = this.#read(requestId);
    if (record === undefined || record.state === 'stop-requested') return { stopRequested: false };
    const stopRequested = record.stopRequested;
    this.#write(requestId, { state: 'committed', userId: record.userId, stopRequested, ended: false, ...reply }, this.#times.committedTtlMs);
    return { stopRequested };
  }

  async release(requestId: string): Promise<void> {
    if (this.#read(requestId)?.state === 'admitting') this.#records.delete(requestId);
  }

  async end(requestId: string): Promise<void> {
    const record = this.#read(requestId);
    if (record?.state === 'committed') this.#write(requestId, { ...record, ended: true }, this.#times.committedTtlMs);
  }

  async stop(userId: string, requestId: string): Promise<StopResult> {
    const record = this.#read(requestId);
    if (record === undefined) {
      this.#write(requestId, { state: 'stop-requested', userId }, this.#times.stopTtlMs);
      return { kind: 'remembered' };
    }
    if (record.userId !== userId) return { kind: 'foreign' };
    if (record.state === 'stop-requested') return { kind: 'remembered' };
    const stored = this.#records.get(requestId) as Stored;
    stored.record = { ...record, stopRequested: true };
    if (record.state === 'admitting') return { kind: 'admitting' };
    return { kind: 'committed', messageId: record.messageId, conversationId: record.conversationId };
  }

  async get(requestId: string): Promise<RequestRecord | undefined> {
    return this.#read(requestId);
  }

  #read(requestId: string): RequestRecord | undefined {
    const stored = this.#records.get(requestId);
    if (stored === undefined) return undefined;
    if (stored.expiresAt <= this.#clock.now()) {
      this.#records.delete(requestId);
      return undefined;
    }
    return stored.record;
  }

  #write(requestId: string, record: RequestRecord, ttlMs: number): void {
    this.#records.set(requestId, { record, expiresAt: this.#clock.now() + ttlMs });
    if (++this.#writes % SWEEP_EVERY_WRITES === 0) this.#sweep();
  }

  #sweep(): void {
    const now = this.#clock.now();
    for (const [id, stored] of this.#records) if (stored.expiresAt <= now) this.#records.delete(id);
  }
}
