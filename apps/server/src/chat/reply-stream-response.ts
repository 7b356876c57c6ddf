/**
 * Answers an HTTP request with a reply's stream: 200, the stream headers and the protocol version,
 * and a body that is a reader of the reply log (`streamReplyLog`) — what `POST /api/chat` and
 * `GET /api/chat/:messageId/events` both answer, so their headers, frames and heartbeats are the
 * same.
 *
 * Contract: Nagle is off on the socket (each frame leaves at once). The frames are written to the
 * HTTP response itself (Koa is told not to respond: no stream between the log and the socket, so
 * an event costs one `write`, and the frames of one tick leave in one segment — Node corks a
 * response until the next tick). The headers set on the context so far (request id, `Connection:
 * close` while draining) go out with the first frame. When the connection is torn down the reader
 * stops and `onLeave` (if given) is told. Resolves with how the stream ended (`ReplyLogStreamEnd`);
 * rejects when the log itself fails. Leaves no listener behind.
 */
import type { ParameterizedContext } from 'koa';
import { PROTOCOL_HEADER, PROTOCOL_VERSION, STREAM_HEADERS } from '@wxstream/protocol';
import { streamReplyLog, type ReplyLogStreamEnd, type ReplyLogStreamOptions } from './reply-log-stream.ts';

export type ReplyStreamResponseOptions = Omit<ReplyLogStreamOptions, 'sink' | 'signal'> & {
  /** The reader left (its connection or the body closed). */
  onLeave?: () => void;
};

export function respondWithReplyStream(ctx: ParameterizedContext, options: ReplyStreamResponseOptions): Promise<ReplyLogStreamEnd> {
  const { onLeave, ...stream } = options;
  ctx.req.socket.setNoDelay(true);
  ctx.status = 200;
  ctx.set(STREAM_HEADERS);
  ctx.set(PROTOCOL_HEADER, String(PROTOCOL_VERSION));
  ctx.respond = false;
  const reader = new AbortController();
  const res = ctx.res;
  const leave = () => {
    reader.abort();
    onLeave?.();
  };
  res.once('close', leave);
  return streamReplyLog({ ...stream, sink: res, signal: reader.signal }).finally(() => {
    res.off('close', leave);
  });
}
