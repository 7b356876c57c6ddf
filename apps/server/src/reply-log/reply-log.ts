/**
 * The reply log: every event of a reply, kept while it is generated and for a while after, so a
 * client that lost its connection resumes with `Last-Event-ID` and any instance can serve it.
 * The contract every implementation (in-process, Redis) satisfies; `test/support/reply-log-contract.ts`
 * checks it.
 *
 * Contract:
 * - `create(replyId, owner)` opens an empty, live log and records who owns it; a reply id is used
 *   once (`ReplyLogWriteError` `exists` otherwise).
 * - `append(replyId, event)` stores the next event. Ids run 1, 2, 3 … with no gap (`out_of_order`
 *   otherwise), exactly as the reply's sequencer numbers them, so an id means the same event in
 *   every replay. A terminal event (`done`/`error`) ends the log; anything after it is refused
 *   (`ended`). Non-terminal events beyond `maxEvents` are refused (`full`) — the cap that bounds a
 *   log's memory; the terminal is always accepted, so a refused producer can still end its reply.
 *   Appends issued without awaiting the previous one are applied in call order. An unknown or
 *   expired reply rejects with `ReplyNotFoundError`.
 * - `read(replyId, afterId, { signal })` yields the stored events with id > `afterId` in order,
 *   then follows live, and finishes right after the terminal event. It holds at most one batch of
 *   events at a time and fetches more only when the consumer asks: a slow client makes nothing
 *   buffer — the log IS the buffer. `afterId` at or past the terminal yields nothing. Iteration
 *   is lazy: an unknown or expired reply rejects the first `next()` with `ReplyNotFoundError`.
 *   It finishes early, without the terminal, when `signal` aborts (the client is gone) or when
 *   the log expires while being followed (its producer died without ending it); the consumer
 *   tells these apart from a complete reply by whether it saw a terminal event. Ending in any way,
 *   including `break`, releases every listener, subscription and timer the reader held.
 * - `meta(replyId)` says who owns the reply (authorize before reading), whether it is still live,
 *   the last id stored and when the log expires if nothing more is appended; undefined when
 *   unknown or expired (answer 404).
 * - Retention: a log expires `retentionMs` after its last write (create or append). Once ended
 *   that is the configured time after the end; a live log whose producer died expires the same
 *   way, so nothing is kept forever.
 * - Producer liveness: the process that creates a log is its producer, and holds a producer lease
 *   on it from `create` until it appends the terminal — renewed while that process lives, lapsing
 *   when it dies without a goodbye (SIGKILL, a crash, lost power). `endIfProducerGone(replyId,
 *   error)` is what a reader calls after a silence: when the log is live and its producer's lease
 *   has lapsed, it appends `error` as an `error` event with the next id — in one atomic step, so
 *   of any number of readers racing (on any instance) exactly one ends the log and gets the event
 *   back; the others, and every call on a live producer's or an ended log, get undefined. Once
 *   ended that way the log refuses the producer's late appends (`ended`) like after any terminal.
 *   A log kept in process memory dies with its producer, so there it never answers an event.
 */
import { WxstreamError, type ReplyEvent, type WireError } from '@wxstream/protocol';

export type ErrorReplyEvent = Extract<ReplyEvent, { type: 'error' }>;

export interface ReplyOwner {
  readonly userId: string;
  readonly conversationId: string;
  /**
   * The id the reply's one-reply-per-user lock was taken for, so whoever ends a reply whose
   * instance died can free its user at once instead of after the lock's TTL.
   */
  readonly lockId?: string;
}

export interface ReplyMeta extends ReplyOwner {
  readonly state: 'live' | 'ended';
  /** Id of the last event stored; 0 before the first. */
  readonly lastEventId: number;
  /** Epoch ms at which the log is gone unless more is appended. */
  readonly expiresAt: number;
}

export interface ReplyLogReadOptions {
  /** Abort when the reader is gone; the iteration then finishes and releases what it held. */
  signal?: AbortSignal;
}

export interface ReplyLog {
  create(replyId: string, owner: ReplyOwner): Promise<void>;
  append(replyId: string, event: ReplyEvent): Promise<void>;
  read(replyId: string, afterId: number, options?: ReplyLogReadOptions): AsyncIterable<ReplyEvent>;
  meta(replyId: string): Promise<ReplyMeta | undefined>;
  /** The terminal this call appended because the producer is gone; undefined when it did not. */
  endIfProducerGone(replyId: string, error: WireError): Promise<ErrorReplyEvent | undefined>;
}

/** The reply has no log: it never existed here, or its retention has passed. Answer 404. */
export class ReplyNotFoundError extends WxstreamError {
  readonly replyId: string;

  constructor(replyId: string) {
    super('not_found', `No reply log for ${replyId}: unknown or expired`);
    this.name = 'ReplyNotFoundError';
    this.replyId = replyId;
  }
}

export type ReplyLogWriteRefusal = 'exists' | 'out_of_order' | 'ended' | 'full';

/**
 * A write the log refuses. `exists`, `out_of_order` and `ended` are programming errors of the
 * producer; `full` means the reply reached the cap and should end now (with an error terminal).
 */
export class ReplyLogWriteError extends Error {
  readonly reason: ReplyLogWriteRefusal;
  readonly replyId: string;

  constructor(reason: ReplyLogWriteRefusal, replyId: string, detail: string) {
    super(`Reply log ${replyId} refused a write (${reason}): ${detail}`);
    this.name = 'ReplyLogWriteError';
    this.reason = reason;
    this.replyId = replyId;
  }
}

/** Checks the `afterId` a reader asked for: a whole number ≥ 0 (0 reads from the start). */
export function assertAfterId(afterId: number): void {
  if (!Number.isSafeInteger(afterId) || afterId < 0) throw new RangeError(`afterId must be a whole number >= 0, got ${afterId}`);
}

/** Parses a `Last-Event-ID` header: absent or blank reads from the start; undefined when malformed. */
export function parseLastEventId(header: string | undefined): number | undefined {
  const trimmed = header?.trim() ?? '';
  if (trimmed === '') return 0;
  if (!/^\d{1,15}$/.test(trimmed)) return undefined;
  return Number(trimmed);
}
