/**
 * `ReplyLog` kept in this process's memory: the embedded default for a single instance.
 *
 * State: per reply, its owner, its events in id order (event n at index n − 1, since ids have no
 * gaps), whether it ended, when it expires, one expiry timer, and the wake-ups of readers waiting
 * for the next event. Stored events are frozen copies, so neither the producer nor a reader can
 * change what another reader later sees.
 *
 * Expiry uses the injected clock: every access treats a log past `expiresAt` as gone, and one
 * timer per log — re-armed lazily when it fires early because appends moved `expiresAt` — drops
 * it and wakes its waiting readers, so memory is released on time even when nobody asks. When the
 * last log has expired no timer is left.
 *
 * Memory: besides each log's `maxEvents`, all logs together stay within `maxBytes` (an estimate:
 * the strings an event holds, two bytes a code unit, plus a fixed overhead per event). Whenever
 * they pass it, ended logs are dropped, the one that ended first going first, until they fit;
 * live logs are never dropped, so while they alone fill the budget `hasRoomForNewReply()` is false
 * and the chat refuses new replies (503 `server_busy`) instead of growing without bound.
 *
 * Producer liveness needs no lease here: the producer and every reader share this process, so a
 * producer that dies takes the log and its readers with it, and `endIfProducerGone` never ends a
 * log.
 */
import { isTerminalEvent, type ReplyEvent } from '@wxstream/protocol';
import type { Clock, TimerHandle } from '../clock.ts';
import {
  ReplyLogWriteError,
  ReplyNotFoundError,
  assertAfterId,
  type ReplyLog,
  type ReplyLogReadOptions,
  type ReplyMeta,
  type ReplyOwner,
} from './reply-log.ts';

export interface InMemoryReplyLogOptions {
  clock: Clock;
  /** How long a log is kept after its last write. */
  retentionMs: number;
  /** Non-terminal events one reply may hold. */
  maxEvents: number;
  /** Estimated bytes all logs together may hold; default unbounded. */
  maxBytes?: number;
}

interface Entry {
  readonly owner: ReplyOwner;
  readonly events: ReplyEvent[];
  ended: boolean;
  /** Estimated bytes of its events. */
  bytes: number;
  expiresAt: number;
  timer: TimerHandle | undefined;
  readonly waiters: Set<() => void>;
}

export class InMemoryReplyLog implements ReplyLog {
  readonly #clock: Clock;
  readonly #retentionMs: number;
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #entries = new Map<string, Entry>();
  /** Ended logs, in the order they ended: the first to go when memory runs short. */
  readonly #endedOrder = new Set<string>();
  #bytes = 0;
  #liveBytes = 0;
  #followers = 0;

  constructor(options: InMemoryReplyLogOptions) {
    if (!(options.retentionMs > 0)) throw new RangeError(`retentionMs must be positive, got ${options.retentionMs}`);
    if (!Number.isSafeInteger(options.maxEvents) || options.maxEvents < 1) throw new RangeError(`maxEvents must be a whole number >= 1, got ${options.maxEvents}`);
    this.#clock = options.clock;
    this.#retentionMs = options.retentionMs;
    this.#maxEvents = options.maxEvents;
    this.#maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  }

  /** Estimated bytes all logs hold now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** False while live replies alone fill `maxBytes`: a new reply would have nowhere to go. */
  hasRoomForNewReply(): boolean {
    return this.#liveBytes < this.#maxBytes;
  }

  /** Logs held now, expired ones not yet dropped included; for memory checks. */
  get size(): number {
    return this.#entries.size;
  }

  /** Readers past their replay, waiting for live events; for leak checks. */
  get followers(): number {
    return this.#followers;
  }

  async create(replyId: string, owner: ReplyOwner): Promise<void> {
    if (this.#find(replyId) !== undefined) throw new ReplyLogWriteError('exists', replyId, 'a reply id is used once');
    const entry: Entry = {
      owner: { ...owner },
      events: [],
      ended: false,
      bytes: 0,
      expiresAt: this.#clock.now() + this.#retentionMs,
      timer: undefined,
      waiters: new Set(),
    };
    this.#entries.set(replyId, entry);
    this.#armExpiry(replyId, entry);
  }

  async append(replyId: string, event: ReplyEvent): Promise<void> {
    const entry = this.#find(replyId);
    if (entry === undefined) throw new ReplyNotFoundError(replyId);
    const lastId = entry.events.length;
    if (entry.ended) throw new ReplyLogWriteError('ended', replyId, `event ${event.id} came after the terminal event ${lastId}`);
    if (event.id !== lastId + 1) throw new ReplyLogWriteError('out_of_order', replyId, `expected event ${lastId + 1}, got ${event.id}`);
    const terminal = isTerminalEvent(event);
    if (!terminal && lastId >= this.#maxEvents) throw new ReplyLogWriteError('full', replyId, `the log holds its cap of ${this.#maxEvents} events`);

    entry.events.push(Object.freeze({ ...event, data: Object.freeze({ ...event.data }) }) as ReplyEvent);
    const size = estimatedBytes(event);
    entry.bytes += size;
    this.#bytes += size;
    if (terminal) {
      this.#liveBytes -= entry.bytes - size;
      this.#endedOrder.add(replyId);
    } else {
      this.#liveBytes += size;
    }
    entry.ended = terminal;
    entry.expiresAt = this.#clock.now() + this.#retentionMs;
    this.#wake(entry);
    if (this.#bytes > this.#maxBytes) this.#evictEnded();
  }

  /** Drops ended logs, the one that ended first going first, until all fit within `maxBytes`. */
  #evictEnded(): void {
    for (const replyId of this.#endedOrder) {
      if (this.#bytes <= this.#maxBytes) return;
      const entry = this.#entries.get(replyId);
      if (entry === undefined) this.#endedOrder.delete(replyId);
      else this.#drop(replyId, entry);
    }
  }

  async meta(replyId: string): Promise<ReplyMeta | undefined> {
    const entry = this.#find(replyId);
    if (entry === undefined) return undefined;
    return {
      ...entry.owner,
      state: entry.ended ? 'ended' : 'live',
      lastEventId: entry.events.length,
      expiresAt: entry.expiresAt,
    };
  }

  read(replyId: string, afterId: number, options: ReplyLogReadOptions = {}): AsyncIterable<ReplyEvent> {
    assertAfterId(afterId);
    return this.#follow(replyId, afterId, options.signal);
  }

  async endIfProducerGone(): Promise<undefined> {
    // Whoever can call this shares the producer's process, so the producer is alive.
    return undefined;
  }

  async *#follow(replyId: string, afterId: number, signal: AbortSignal | undefined): AsyncGenerator<ReplyEvent> {
    const entry = this.#find(replyId);
    if (entry === undefined) throw new ReplyNotFoundError(replyId);
    // Events are read straight from the log, one per `next()`: the reader holds nothing.
    let delivered = afterId;
    let following = false;
    let wake: (() => void) | undefined;
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        if (signal?.aborted || this.#find(replyId) !== entry) return;
        while (delivered < entry.events.length) {
          const event = entry.events[delivered] as ReplyEvent;
          delivered = event.id;
          yield event;
          if (isTerminalEvent(event) || signal?.aborted) return;
        }
        if (entry.ended) return;
        if (!following) {
          following = true;
          this.#followers++;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          entry.waiters.add(resolve);
        });
        if (wake !== undefined) entry.waiters.delete(wake);
        wake = undefined;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (wake !== undefined) entry.waiters.delete(wake);
      if (following) this.#followers--;
    }
  }

  /** The live entry for `replyId`, dropping it first if it has expired. */
  #find(replyId: string): Entry | undefined {
    const entry = this.#entries.get(replyId);
    if (entry === undefined) return undefined;
    if (this.#clock.now() < entry.expiresAt) return entry;
    this.#drop(replyId, entry);
    return undefined;
  }

  #armExpiry(replyId: string, entry: Entry): void {
    entry.timer = this.#clock.setTimeout(() => {
      entry.timer = undefined;
      if (this.#entries.get(replyId) !== entry) return;
      if (this.#clock.now() >= entry.expiresAt) this.#drop(replyId, entry);
      else this.#armExpiry(replyId, entry);
    }, Math.max(0, entry.expiresAt - this.#clock.now()));
  }

  #drop(replyId: string, entry: Entry): void {
    this.#entries.delete(replyId);
    this.#endedOrder.delete(replyId);
    this.#bytes -= entry.bytes;
    if (!entry.ended) this.#liveBytes -= entry.bytes;
    if (entry.timer !== undefined) this.#clock.clearTimeout(entry.timer);
    entry.timer = undefined;
    this.#wake(entry);
  }

  #wake(entry: Entry): void {
    const waiters = [...entry.waiters];
    entry.waiters.clear();
    for (const resolve of waiters) resolve();
  }
}

/** Per event: its strings at two bytes a code unit, numbers at eight, plus the objects around them. */
const EVENT_OVERHEAD_BYTES = 96;

export function estimatedBytes(event: ReplyEvent): number {
  let bytes = EVENT_OVERHEAD_BYTES;
  for (const value of Object.values(event.data as unknown as Record<string, unknown>)) {
    bytes += typeof value === 'string' ? value.length * 2 : typeof value === 'object' && value !== null ? JSON.stringify(value).length * 2 : 8;
  }
  return bytes;
}
