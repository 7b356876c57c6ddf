/**
 * Deliver — how a committed reply reaches the HTTP response of `POST /api/chat`: the one place
 * that answers the request once the reply exists.
 *
 * Contract: answers 200 with the stream headers and the protocol version, and makes the response
 * body the reply log's first reader (`reply-log-stream.ts`) — the same code path that serves a
 * resume from `Last-Event-ID`, so the response never buffers more than its sink holds and every
 * replay has the same ids and bytes. Nagle is off on the socket: each frame leaves at once. When the
 * body or the connection is torn down the reader stops; with `continueOnDisconnect` off that also
 * ends a reply still being written (`ClientClosed`). Leaves no listener behind.
 */
import { PassThrough } from 'node:stream';
import type { ParameterizedContext } from 'koa';
import { PROTOCOL_HEADER, PROTOCOL_VERSION, STREAM_HEADERS } from '@wxstream/protocol';
import type { AppState } from '../app-state.ts';
import type { ChatRouteDeps } from './chat-deps.ts';
import { ClientClosed } from './relay.ts';
import type { CommittedReply } from './reply-commit.ts';
import { streamReplyLog } from './reply-log-stream.ts';

export function deliverReply(ctx: ParameterizedContext<AppState>, deps: ChatRouteDeps, reply: CommittedReply): void {
  const { settings } = deps;
  const { writer, run, log } = reply;
  ctx.req.socket.setNoDelay(true);
  ctx.status = 200;
  ctx.set(STREAM_HEADERS);
  ctx.set(PROTOCOL_HEADER, String(PROTOCOL_VERSION));

  const body = new PassThrough();
  const reader = new AbortController();
  const res = ctx.res;
  const onBodyTornDown = () => {
    reader.abort();
    if (!settings.continueOnDisconnect && !writer.ended) run.endNow(new ClientClosed());
  };
  body.once('close', onBodyTornDown);
  res.once('close', onBodyTornDown);
  ctx.body = body;
  void streamReplyLog({
    log: deps.replyLog,
    replyId: reply.turn.reply.id,
    afterId: 0,
    sink: body,
    clock: deps.clock,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    signal: reader.signal,
  })
    .catch((error: unknown) => log.error({ err: error }, 'could not read the reply log'))
    .finally(() => {
      body.off('close', onBodyTornDown);
      res.off('close', onBodyTornDown);
    });
}
