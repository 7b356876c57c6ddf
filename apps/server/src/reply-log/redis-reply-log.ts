/**
 * `ReplyLog` kept in Redis, so any instance can replay and follow any reply.
 *
 * Layout per reply (the `{replyId}` hash tag keeps both keys in one Redis Cluster slot):
 * - `<prefix>reply:{id}:meta`, a hash: userId, conversationId, lockId (when given), state (live/ended), lastId.
 * - `<prefix>reply:{id}:events`, a Redis Stream with one entry per event. The entry's stream ID is
 *   `<event id>-0`, so the event id IS the stream position: replay after an id is one XRANGE with an
 *   exclusive start, and XADD itself would refuse an id that does not grow. Fields: `type` and
 *   `data` (the event's data as JSON, exactly the text the SSE frame carries).
 * - `<prefix>reply:{id}:appended`, a pub/sub channel that gets the new id after each append.
 * - `<prefix>reply:{id}:producer`, the producer lease while the log is live: a key with a
 *   `producerLeaseTtlMs` TTL, set by create and deleted by the terminal append. The meta's
 *   `leased` field says the log has one (a log written by a server without leases is never
 *   judged abandoned; it expires as before).
 * Create and append are Lua scripts, so the checks (id is last + 1, not ended, under the cap), the
 * XADD, the meta update, the TTL refresh and the notification happen atomically; one append call
 * carries every event queued for the reply since the previous call (see `#sendAppends`). Both keys get
 * PEXPIRE `retentionMs` on every write: the TTL is Redis's own (real time), not the injected clock.
 *
 * Producer lease: this object renews the lease of every log it created and has not ended, all in
 * one round every third of the TTL on the injected clock (one script call per live reply, never
 * per event). A renewal re-takes a lapsed lease while the log is still live — a producer that
 * stalled and came back before anyone noticed carries on — and reports the log lost once it has
 * ended or expired, which stops renewing it. `endIfProducerGone` checks the log is live, leased and
 * its lease gone, and appends the terminal with the next id, in one script: of racing readers
 * exactly one wins, and the producer's own late appends are then refused as after any terminal.
 * Lease and log share the `{replyId}` hash tag, so every script stays within one Cluster slot.
 *
 * Following live: a reader replays with XRANGE in batches of `batchSize`, fetched only when the
 * consumer asks for more, so its memory is one batch whatever the consumer's pace. Caught up on
 * a live reply, it subscribes to the reply's channel on the shared subscriber connection (no
 * connection per reader) and fetches again whenever notified. It also re-fetches every
 * `pollIntervalMs` without a notification: a notification lost while the subscriber reconnected
 * cannot stall it, and a log that expired under it (its producer died) is noticed. Every batch is
 * read together with the meta in one MULTI, so "caught up and ended" is decided on one snapshot.
 * */
import { isTerminalEvent, parseReplyEvent, type ReplyEvent, type WireError } from '@wxstream/protocol';
import type { Clock, TimerHandle } from '../clock.ts';
import type { RedisClient } from '../redis/redis-connections.ts';
import {
  integerReply,
  optionalStringArrayReply,
  streamEntriesReply,
  stringArrayReply,
  stringRecordReply,
  type StreamEntry,
} from '../redis/redis-replies.ts';
import { RedisScript } from '../redis/redis-script.ts';
import {
  ReplyLogWriteError,
  ReplyNotFoundError,
  assertAfterId,
  type ErrorReplyEvent,
  type ReplyLog,
  type ReplyLogReadOptions,
  type ReplyLogWriteRefusal,
  type ReplyMeta,
  type ReplyOwner,
} from './reply-log.ts';

export interface RedisReplyLogOptions {
  /** The shared command connection. */
  client: RedisClient;
  /** The shared connection in subscriber mode; readers add listeners to it, never connections. */
  subscriber: RedisClient;
  clock: Clock;
  retentionMs: number;
  /** Non-terminal events one reply may hold. */
  maxEvents: number;
  keyPrefix: string;
  /** Events per XRANGE; bounds what one reader holds. */
  batchSize?: number;
  /** Re-check interval of a waiting reader when no notification comes. */
  pollIntervalMs?: number;
  /** How long the producer lease outlives its last renewal; renewed every third of it. */
  producerLeaseTtlMs?: number;
}

const DEFAULT_BATCH_SIZE = 256;
const DEFAULT_POLL_INTERVAL_MS = 2000;
const DEFAULT_PRODUCER_LEASE_TTL_MS = 15_000;

// KEYS[1] meta, KEYS[2] producer lease; ARGV userId, conversationId, retentionMs, leaseTtlMs, lockId
// ('' for none). 1 = created (and the lease taken), 0 = the id is taken.
const CREATE = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'userId', ARGV[1], 'conversationId', ARGV[2], 'state', 'live', 'lastId', '0', 'leased', '1')
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'lockId', ARGV[5]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
return 1
`);

// KEYS[1] meta, KEYS[2] events, KEYS[3] producer lease; ARGV retentionMs, maxEvents, channel, then
// per event: id, type, data, terminal (1/0). Applies the events in order and returns one outcome
// each: 'ok' or the refusal (missing, ended, out_of_order, full). Refreshes the TTLs and notifies
// once per call; a terminal drops the lease, which has nothing left to guard.
const APPEND = new RedisScript(`
local meta = redis.call('HMGET', KEYS[1], 'state', 'lastId')
local count = (#ARGV - 3) / 4
local outcomes = {}
if not meta[1] then
  for i = 1, count do outcomes[i] = 'missing' end
  return outcomes
end
local ended = meta[1] == 'ended'
local lastId = tonumber(meta[2])
local storedBefore = lastId
local maxEvents = tonumber(ARGV[2])
for i = 1, count do
  local at = 3 + (i - 1) * 4
  local id = tonumber(ARGV[at + 1])
  local terminal = ARGV[at + 4] == '1'
  if ended then outcomes[i] = 'ended'
  elseif id ~= lastId + 1 then outcomes[i] = 'out_of_order'
  elseif not terminal and lastId >= maxEvents then outcomes[i] = 'full'
  else
    redis.call('XADD', KEYS[2], ARGV[at + 1] .. '-0', 'type', ARGV[at + 2], 'data', ARGV[at + 3])
    lastId = id
    ended = terminal
    outcomes[i] = 'ok'
  end
end
if lastId ~= storedBefore then
  redis.call('HSET', KEYS[1], 'lastId', string.format('%d', lastId), 'state', ended and 'ended' or 'live')
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
  redis.call('PUBLISH', ARGV[3], string.format('%d', lastId))
  if ended then redis.call('DEL', KEYS[3]) end
end
return outcomes
`);

// KEYS[1] meta, KEYS[2] producer lease; ARGV leaseTtlMs. 1 = renewed (re-taken if it had lapsed),
// 0 = the log has ended or expired: nothing to renew any more.
const RENEW_LEASE = new RedisScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'live' then return 0 end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 1
`);

// KEYS[1] meta, KEYS[2] events, KEYS[3] producer lease; ARGV retentionMs, channel, the error's data.
// Appends the error as the next event when the log is live, leased and its lease gone; answers the
// id it appended, or 0 (the producer lives, the log has ended or expired, or it has no lease).
const END_IF_PRODUCER_GONE = new RedisScript(`
local meta = redis.call('HMGET', KEYS[1], 'state', 'lastId', 'leased')
if meta[1] ~= 'live' or meta[3] ~= '1' then return 0 end
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local id = string.format('%d', tonumber(meta[2]) + 1)
redis.call('XADD', KEYS[2], id .. '-0', 'type', 'error', 'data', ARGV[3])
redis.call('HSET', KEYS[1], 'lastId', id, 'state', 'ended')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[2], id)
return tonumber(id)
`);

/** Events one append script carries at most; a longer queue goes in several calls. */
const MAX_APPEND_BATCH = 512;

interface PendingAppend {
  readonly event: ReplyEvent;
  resolve(): void;
  reject(error: unknown): void;
}

/** The appends of one reply waiting to be sent; at most one script call per reply is in flight. */
interface AppendQueue {
  readonly pending: PendingAppend[];
}

export interface ReplyKeys {
  readonly meta: string;
  readonly events: string;
  readonly channel: string;
  readonly lease: string;
}

interface Snapshot {
  /** Undefined when the log does not exist (unknown or expired). */
  readonly state: 'live' | 'ended' | undefined;
  readonly lastId: number;
  readonly events: ReplyEvent[];
}

export class RedisReplyLog implements ReplyLog {
  readonly #client: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #clock: Clock;
  readonly #retentionMs: number;
  readonly #maxEvents: number;
  readonly #keyPrefix: string;
  readonly #batchSize: number;
  readonly #pollIntervalMs: number;
  readonly #leaseTtlMs: number;
  /** Replies with appends being sent; present while a script call for them is in flight. */
  readonly #appendQueues = new Map<string, AppendQueue>();
  /** Replies this object created and has not seen end: their producer leases are renewed. */
  readonly #leased = new Set<string>();
  #renewTimer: TimerHandle | undefined;
  #followers = 0;

  constructor(options: RedisReplyLogOptions) {
    if (!Number.isSafeInteger(options.retentionMs) || options.retentionMs < 1) throw new RangeError(`retentionMs must be a whole number >= 1, got ${options.retentionMs}`);
    if (!Number.isSafeInteger(options.maxEvents) || options.maxEvents < 1) throw new RangeError(`maxEvents must be a whole number >= 1, got ${options.maxEvents}`);
    this.#client = options.client;
    this.#subscriber = options.subscriber;
    this.#clock = options.clock;
    this.#retentionMs = options.retentionMs;
    this.#maxEvents = options.maxEvents;
    this.#keyPrefix = options.keyPrefix;
    this.#batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.#pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.#leaseTtlMs = options.producerLeaseTtlMs ?? DEFAULT_PRODUCER_LEASE_TTL_MS;
    if (!Number.isSafeInteger(this.#leaseTtlMs) || this.#leaseTtlMs < 3) throw new RangeError(`producerLeaseTtlMs must be a whole number >= 3, got ${this.#leaseTtlMs}`);
  }

  /** Readers past their replay, subscribed and waiting for live events; for leak checks. */
  get followers(): number {
    return this.#followers;
  }

  /** Replies with an append in flight; for leak checks. */
  get appending(): number {
    return this.#appendQueues.size;
  }

  /** Replies whose producer lease this object renews: created here, not yet ended; for leak checks. */
  get producing(): number {
    return this.#leased.size;
  }

  /** Where a reply lives in Redis; for operators and for tests that inspect the keys. */
  keysOf(replyId: string): ReplyKeys {
    return this.#keys(replyId);
  }

  async create(replyId: string, owner: ReplyOwner): Promise<void> {
    const keys = this.#keys(replyId);
    const created = integerReply(
      await CREATE.run(this.#client, [keys.meta, keys.lease], [owner.userId, owner.conversationId, String(this.#retentionMs), String(this.#leaseTtlMs), owner.lockId ?? '']),
    );
    if (created !== 1) throw new ReplyLogWriteError('exists', replyId, 'a reply id is used once');
    this.#leased.add(replyId);
    this.#armRenewal();
  }

  async endIfProducerGone(replyId: string, error: WireError): Promise<ErrorReplyEvent | undefined> {
    const keys = this.#keys(replyId);
    const data: WireError = { code: error.code, message: error.message, retryable: error.retryable };
    const id = integerReply(await END_IF_PRODUCER_GONE.run(this.#client, [keys.meta, keys.events, keys.lease], [String(this.#retentionMs), keys.channel, JSON.stringify(data)]));
    return id === 0 ? undefined : { id, type: 'error', data };
  }

  /** One renewal round per third of the lease TTL while any lease is held; none otherwise. */
  #armRenewal(): void {
    if (this.#renewTimer !== undefined || this.#leased.size === 0) return;
    this.#renewTimer = this.#clock.setTimeout(() => void this.#renewLeases(), Math.max(1, Math.floor(this.#leaseTtlMs / 3)));
  }

  async #renewLeases(): Promise<void> {
    // A closed client means the server is shutting down; its replies are ended or given up on.
    if (!this.#client.isOpen) {
      this.#renewTimer = undefined;
      return;
    }
    await Promise.all(
      [...this.#leased].map(async (replyId) => {
        const keys = this.#keys(replyId);
        try {
          if (integerReply(await RENEW_LEASE.run(this.#client, [keys.meta, keys.lease], [String(this.#leaseTtlMs)])) === 0) this.#leased.delete(replyId);
        } catch {
          // Redis unreachable: the connection reports its errors itself, and the next round, well
          // inside the TTL, tries again. A lease that lapses meanwhile is re-taken if nobody ended it.
        }
      }),
    );
    this.#renewTimer = undefined;
    this.#armRenewal();
  }

  append(replyId: string, event: ReplyEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const queued = this.#appendQueues.get(replyId);
      if (queued !== undefined) {
        queued.pending.push({ event, resolve, reject });
        return;
      }
      const queue: AppendQueue = { pending: [{ event, resolve, reject }] };
      this.#appendQueues.set(replyId, queue);
      void this.#sendAppends(replyId, queue);
    });
  }

  /**
   * Sends a reply's queued appends, one script call at a time, until none are left. One call in
   * flight per reply keeps them in call order whatever happens to a call (a NOSCRIPT retry, a
   * failure); appends made meanwhile go together in the next call, so a burst of small deltas
   * costs a few round trips, not one each.
   */
  async #sendAppends(replyId: string, queue: AppendQueue): Promise<void> {
    // Appends made in the same tick as the first join its call.
    await Promise.resolve();
    const keys = this.#keys(replyId);
    while (queue.pending.length > 0) {
      const batch = queue.pending.splice(0, MAX_APPEND_BATCH);
      const args = [String(this.#retentionMs), String(this.#maxEvents), keys.channel];
      for (const { event } of batch) args.push(String(event.id), event.type, JSON.stringify(event.data), isTerminalEvent(event) ? '1' : '0');
      try {
        const outcomes = stringArrayReply(await APPEND.run(this.#client, [keys.meta, keys.events, keys.lease], args), batch.length);
        batch.forEach((item, i) => {
          const outcome = outcomes[i];
          // Ended by its terminal, by a reader, or gone: no lease left to renew.
          if ((outcome === 'ok' && isTerminalEvent(item.event)) || outcome === 'ended' || outcome === 'missing') this.#leased.delete(replyId);
          if (outcome === 'ok') item.resolve();
          else if (outcome === 'missing') item.reject(new ReplyNotFoundError(replyId));
          else if (isRefusal(outcome)) item.reject(new ReplyLogWriteError(outcome, replyId, `event ${item.event.id} (${item.event.type})`));
          else item.reject(new Error(`unexpected append outcome ${JSON.stringify(outcome)} for ${keys.meta}`));
        });
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
    this.#appendQueues.delete(replyId);
  }

  async meta(replyId: string): Promise<ReplyMeta | undefined> {
    const keys = this.#keys(replyId);
    const [fields, ttlReply] = await this.#client.multi().hGetAll(keys.meta).pTTL(keys.meta).exec();
    const hash = stringRecordReply(fields);
    const ttl = integerReply(ttlReply);
    // PTTL is -2 for a missing key; -1 (no expiry) cannot happen for keys this log wrote.
    if (hash['state'] === undefined || ttl < 0) return undefined;
    return {
      userId: hash['userId'] ?? '',
      conversationId: hash['conversationId'] ?? '',
      ...(hash['lockId'] === undefined ? {} : { lockId: hash['lockId'] }),
      state: hash['state'] === 'ended' ? 'ended' : 'live',
      lastEventId: Number(hash['lastId'] ?? 0),
      expiresAt: this.#clock.now() + ttl,
    };
  }

  read(replyId: string, afterId: number, options: ReplyLogReadOptions = {}): AsyncIterable<ReplyEvent> {
    assertAfterId(afterId);
    return this.#follow(replyId, afterId, options.signal);
  }

  async *#follow(replyId: string, afterId: number, signal: AbortSignal | undefined): AsyncGenerator<ReplyEvent> {
    const keys = this.#keys(replyId);
    let delivered = afterId;
    let first = true;
    let subscribed = false;
    // Set by a notification that arrives while the reader is not waiting, so it is not lost.
    let notified = false;
    let wake: (() => void) | undefined;
    let pollTimer: TimerHandle | undefined;
    const onNotify = () => {
      notified = true;
      wake?.();
    };
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        if (signal?.aborted) return;
        notified = false;
        const snapshot = await this.#snapshot(keys, delivered);
        if (signal?.aborted) return;
        if (snapshot.state === undefined) {
          if (first) throw new ReplyNotFoundError(replyId);
          return;
        }
        first = false;
        for (const event of snapshot.events) {
          delivered = event.id;
          yield event;
          if (isTerminalEvent(event) || signal?.aborted) return;
        }
        if (snapshot.events.length === this.#batchSize) continue;
        if (snapshot.state === 'ended' && delivered >= snapshot.lastId) return;
        if (!subscribed) {
          // Subscribe, then fetch again: an append between the fetch above and the subscription
          // is caught by that fetch, and every later one by a notification.
          subscribed = true;
          this.#followers++;
          await this.#subscriber.subscribe(keys.channel, onNotify);
          continue;
        }
        if (notified) continue;
        await new Promise<void>((resolve) => {
          wake = resolve;
          pollTimer = this.#clock.setTimeout(resolve, this.#pollIntervalMs);
        });
        wake = undefined;
        if (pollTimer !== undefined) this.#clock.clearTimeout(pollTimer);
        pollTimer = undefined;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (pollTimer !== undefined) this.#clock.clearTimeout(pollTimer);
      if (subscribed) {
        this.#followers--;
        // A closed subscriber (shutdown) has dropped its listeners already.
        if (this.#subscriber.isOpen) await this.#subscriber.unsubscribe(keys.channel, onNotify);
      }
    }
  }

  async #snapshot(keys: ReplyKeys, afterId: number): Promise<Snapshot> {
    const start = afterId === 0 ? '-' : `(${afterId}-0`;
    const [meta, entries] = await this.#client
      .multi()
      .hmGet(keys.meta, ['state', 'lastId'])
      .xRange(keys.events, start, '+', { COUNT: this.#batchSize })
      .exec();
    const [state, lastId] = optionalStringArrayReply(meta, 2);
    if (state !== 'live' && state !== 'ended') return { state: undefined, lastId: 0, events: [] };
    return { state, lastId: Number(lastId), events: streamEntriesReply(entries).map((entry) => toEvent(keys.events, entry)) };
  }

  #keys(replyId: string): ReplyKeys {
    const base = `${this.#keyPrefix}reply:{${replyId}}`;
    return { meta: `${base}:meta`, events: `${base}:events`, channel: `${base}:appended`, lease: `${base}:producer` };
  }
}

const REFUSALS: readonly string[] = ['exists', 'out_of_order', 'ended', 'full'] satisfies ReplyLogWriteRefusal[];

function isRefusal(outcome: string | undefined): outcome is ReplyLogWriteRefusal {
  return outcome !== undefined && REFUSALS.includes(outcome);
}

/** Turns a stream entry back into the event, through the protocol's one validating gate. */
function toEvent(key: string, entry: StreamEntry): ReplyEvent {
  const parsed = parseReplyEvent({ event: entry.message['type'] ?? '', data: entry.message['data'] ?? '', id: entry.id.split('-')[0] ?? '' });
  if (!parsed.ok) throw new Error(`${key} entry ${entry.id} is not a reply event: ${parsed.reason}`);
  return parsed.event;
}
