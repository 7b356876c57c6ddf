/**
 * One poll of a reply's events (`GET /api/chat/:messageId/events?lastEventId=N&poll=1`), for clients that
 * cannot read a response body as it arrives (PC and Mac WeChat): a complete `text/event-stream` body of
 * every event after N the log holds, with `Content-Length`, and then the response ends.
 *
 * Contract: the events are the same frames (`formatSseEvent`) a stream or a resume writes, so looping
 * polls from 0, each after the last id it got, yields the reply byte for byte, same ids, one terminal.
 * When the log holds nothing after N yet, the poll waits up to `waitMs` (`POLL_WAIT_MS`, 10 s by default)
 * for the first new event, then answers what exists at that moment — an empty body when still nothing
 * came; it never waits for more once it has one. No heartbeats (the body is complete). A poll that waited
 * in vain asks whether the reply's producer still lives (`onSilence`), so a reply whose instance died ends
 * and its poller sees the ending. An unknown or expired reply is the caller's 404 (checked before).
 */
import type { ParameterizedContext } from 'koa';
import { PROTOCOL_HEADER, PROTOCOL_VERSION, STREAM_HEADERS, formatSseEvent, isTerminalEvent, type ReplyEvent } from '@wxstream/protocol';
import type { Clock } from '../clock.ts';
import { ReplyNotFoundError, type ReplyLog } from '../reply-log/reply-log.ts';

export interface ReplyPollOptions {
  log: ReplyLog;
  replyId: string;
  afterId: number;
  clock: Clock;
  waitMs: number;
  /** The poll waited `waitMs` and got nothing. */
  onSilence?: () => Promise<void>;
}

/** The frames of the events after `afterId` that exist now, waiting up to `waitMs` for the first. */
export async function pollReplyEvents(options: ReplyPollOptions): Promise<string> {
  const { log, replyId, afterId, clock } = options;
  const reader = new AbortController();
  const events = log.read(replyId, afterId, { signal: reader.signal })[Symbol.asyncIterator]();
  const timer = clock.setTimeout(() => reader.abort(), options.waitMs);
  let body = '';
  try {
    const first = await events.next();
    clock.clearTimeout(timer);
    if (first.done === true) {
      if (reader.signal.aborted) await options.onSilence?.();
      return '';
    }
    body += formatSseEvent(first.value);
    if (isTerminalEvent(first.value)) return body;
    // Everything stored by now is read without waiting; what comes later is the next poll's.
    const lastStored = (await log.meta(replyId))?.lastEventId ?? first.value.id;
    let last: ReplyEvent = first.value;
    while (last.id < lastStored) {
      const next = await events.next();
      if (next.done === true) break;
      last = next.value;
      body += formatSseEvent(last);
      if (isTerminalEvent(last)) break;
    }
    return body;
  } catch (error) {
    if (error instanceof ReplyNotFoundError) return body;
    throw error;
  } finally {
    clock.clearTimeout(timer);
    reader.abort();
    await events.return?.();
  }
}

/** Answers the poll: 200, the stream's content type, `Content-Length`, the body. */
export function respondWithPoll(ctx: ParameterizedContext, body: string): void {
  ctx.status = 200;
  ctx.set(STREAM_HEADERS);
  // A complete body: no chunked transfer, no keep-alive promise of more.
  ctx.remove('Connection');
  ctx.set('Cache-Control', 'no-store, no-transform');
  ctx.set(PROTOCOL_HEADER, String(PROTOCOL_VERSION));
  ctx.body = Buffer.from(body, 'utf8');
}
