/**
 * `ReplyLog` kept in Redis, so any instance can replay and follow any reply.
 *
 * Layout per reply (the `{replyId}` hash tag keeps both keys in one Redis Cluster slot):
 * - `<prefix>reply:{id}:meta`, a hash: userId, conversationId, state (live/ended), lastId.
 * - `<prefix>reply:{id}:events`, a Redis Stream with one entry per event. The entry's stream ID is
 *   `<event id>-0`, so the event id IS the stream position: replay after an id is one XRANGE with an
 *   exclusive start, and XADD itself would refuse an id that does not grow. Fields: `type` and
 *   `data` (the event's data as JSON, exactly the text the SSE frame carries).
 * - `<prefix>reply:{id}:appended`, a pub/sub channel that gets the new id after each append.
 * Create and append are Lua scripts, so the checks (id is last + 1, not ended, under the cap), the
 * XADD, the meta update, the TTL refresh and the notification happen atomically; one append call
 * carries every event queued for the reply since the previous call (see `#sendAppends`). Both keys get
 * PEXPIRE `retentionMs` on every write: the TTL is Redis's own (real time), not the injected clock.
 *
 * Following live: a reader replays with XRANGE in batches of `batchSize`, fetched only when the
 * consumer asks for more, so its memory is one batch whatever the consumer's pace. Caught up on
 * a live reply, it subscribes to the reply's channel on the shared subscriber connection (no
 * connection per reader) and fetches again whenever notified. It also re-fetches every
 * `pollIntervalMs` without a notification: a notification lost while the subscriber reconnected
 * cannot stall it, and a log that expired under it (its producer died) is noticed. Every batch is
 * read together with the meta in one MULTI, so "caught up and ended" is decided on one snapshot.
 * */
import { isTerminalEvent, parseReplyEvent, type ReplyEvent } from '@wxstream/protocol';
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
}

const DEFAULT_BATCH_SIZE = 256;
const DEFAULT_POLL_INTERVAL_MS = 2000;

// KEYS[1] meta; ARGV userId, conversationId, retentionMs. 1 = created, 0 = the id is taken.
const CREATE = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'userId', ARGV[1], 'conversationId', ARGV[2], 'state', 'live', 'lastId', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`);

// KEYS[1] meta, KEYS[2] events; ARGV retentionMs, maxEvents, channel, then per event: id, type, data,
// terminal (1/0). Applies the events in order and returns one outcome each: 'ok' or the refusal
// (missing, ended, out_of_order, full). Refreshes the TTLs and notifies once per call.
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
end
return outcomes
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
  /** Replies with appends being sent; present while a script call for them is in flight. */
  readonly #appendQueues = new Map<string, AppendQueue>();
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
  }

  /** Readers past their replay, subscribed and waiting for live events; for leak checks. */
  get followers(): number {
    return this.#followers;
  }

  /** Replies with an append in flight; for leak checks. */
  get appending(): number {
    return this.#appendQueues.size;
  }

  /** Where a reply lives in Redis; for operators and for tests that inspect the keys. */
  keysOf(replyId: string): ReplyKeys {
    return this.#keys(replyId);
  }

  async create(replyId: string, owner: ReplyOwner): Promise<void> {
    const keys = this.#keys(replyId);
    const created = integerReply(await CREATE.run(this.#client, [keys.meta], [owner.userId, owner.conversationId, String(this.#retentionMs)]));
    if (created !== 1) throw new ReplyLogWriteError('exists', replyId, 'a reply id is used once');
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
        const outcomes = stringArrayReply(await APPEND.run(this.#client, [keys.meta, keys.events], args), batch.length);
        batch.forEach((item, i) => {
          const outcome = outcomes[i];
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
    return { meta: `${base}:meta`, events: `${base}:events`, channel: `${base}:appended` };
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
