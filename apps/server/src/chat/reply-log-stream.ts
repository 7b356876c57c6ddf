/**
 * The reader side of a reply: streams a reply log to one HTTP response as SSE frames — the POST
 * `/api/chat` response (from the start) and `GET /api/chat/:messageId/events` (after
 * `Last-Event-ID`) are both this one code path, so ids and bytes are the same in every replay.
 *
 * Contract: every event is one write of one complete frame (`formatSseEvent`); a heartbeat is one
 * write of `SSE_HEARTBEAT` after `heartbeatIntervalMs` of silence, so it only ever lands between
 * events. Backpressure: after a write the sink refuses (its buffer is full) nothing more is read
 * from the log until the sink drains — a slow client holds at most the sink's buffer plus one
 * event, whatever the reply's length, and the log is the buffer. Heartbeats are skipped while the
 * sink is full. Resolves, having ended the sink, with how the stream ended: `terminal` (the reply's
 * terminal event was written), `closed` (`signal` aborted or the sink went away: the reader left),
 * `expired` (the log vanished before its end, or `afterId` was at or past its end — the client
 * resumes and gets a 404 or already has everything). Rejects only when the log itself fails (the
 * caller logs it); the sink is ended then too. Leaves no timer or listener behind.
 *
 * Producer check (optional): once the log has yielded nothing for `producerCheck.intervalMs`, and
 * every such interval while it stays silent, `producerCheck.run()` asks whether the reply's producer
 * still lives and ends the log if it died (`abandoned-reply.ts`); that terminal reaches this reader
 * through the log like any other, so the stream ends as usual. One check at a time; a check that
 * fails is tried again at the next interval. A live reply that streams is never checked.
 */
import type { Writable } from 'node:stream';
import { SSE_HEARTBEAT, formatSseEvent, isTerminalEvent } from '@wxstream/protocol';
import type { Clock, TimerHandle } from '../clock.ts';
import { ReplyNotFoundError, type ReplyLog } from '../reply-log/reply-log.ts';

export interface ReplyLogStreamOptions {
  log: ReplyLog;
  replyId: string;
  /** Stream the events after this id (0: from the start). */
  afterId: number;
  sink: Writable;
  clock: Clock;
  heartbeatIntervalMs: number;
  /** Aborts when the reader is gone. */
  signal: AbortSignal;
  producerCheck?: { readonly intervalMs: number; run(): Promise<void> };
}

export type ReplyLogStreamEnd = 'terminal' | 'closed' | 'expired';

export async function streamReplyLog(options: ReplyLogStreamOptions): Promise<ReplyLogStreamEnd> {
  const { sink, clock, signal } = options;
  const sinkGone = () => sink.destroyed || sink.writableEnded;
  let lastWrite = clock.now();
  let heartbeat: TimerHandle | undefined;
  let stopped = false;

  // One timer per stream, re-armed lazily: a write only records its time.
  const onHeartbeatDue = () => {
    heartbeat = undefined;
    if (stopped || sinkGone()) return;
    const silentFor = clock.now() - lastWrite;
    if (silentFor >= options.heartbeatIntervalMs && !sink.writableNeedDrain) {
      sink.write(SSE_HEARTBEAT);
      lastWrite = clock.now();
    }
    heartbeat = clock.setTimeout(onHeartbeatDue, Math.max(1, options.heartbeatIntervalMs - (clock.now() - lastWrite)));
  };
  heartbeat = clock.setTimeout(onHeartbeatDue, options.heartbeatIntervalMs);

  // Same lazy re-arming, against the time of the last event (a heartbeat is not news from the producer).
  const { producerCheck } = options;
  let lastEventAt = clock.now();
  let checkTimer: TimerHandle | undefined;
  const armCheck = (delayMs: number) => {
    if (producerCheck !== undefined && !stopped) checkTimer = clock.setTimeout(onCheckDue, Math.max(1, delayMs));
  };
  const onCheckDue = () => {
    checkTimer = undefined;
    if (stopped || producerCheck === undefined) return;
    const silentFor = clock.now() - lastEventAt;
    if (silentFor < producerCheck.intervalMs) return armCheck(producerCheck.intervalMs - silentFor);
    const next = () => armCheck(producerCheck.intervalMs);
    producerCheck.run().then(next, next);
  };
  armCheck(producerCheck?.intervalMs ?? 0);

  try {
    for await (const event of options.log.read(options.replyId, options.afterId, { signal })) {
      if (sinkGone()) return 'closed';
      const flowing = sink.write(formatSseEvent(event));
      lastWrite = clock.now();
      lastEventAt = lastWrite;
      if (isTerminalEvent(event)) return 'terminal';
      if (!flowing) await drained(sink, signal);
    }
    return signal.aborted || sinkGone() ? 'closed' : 'expired';
  } catch (error) {
    if (error instanceof ReplyNotFoundError) return 'expired';
    throw error;
  } finally {
    stopped = true;
    if (heartbeat !== undefined) clock.clearTimeout(heartbeat);
    if (checkTimer !== undefined) clock.clearTimeout(checkTimer);
    if (!sinkGone()) sink.end();
  }
}

/** Resolves once the sink takes more, is gone, or the reader left. */
function drained(sink: Writable, signal: AbortSignal): Promise<void> {
  if (!sink.writableNeedDrain || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const settle = () => {
      sink.off('drain', settle);
      sink.off('close', settle);
      signal.removeEventListener('abort', settle);
      resolve();
    };
    sink.once('drain', settle);
    sink.once('close', settle);
    signal.addEventListener('abort', settle, { once: true });
  });
}
