/**
 * Deliver — how a committed reply reaches the HTTP response of `POST /api/chat`: the one place
 * that answers the request once the reply exists.
 *
 * Contract: the response is the reply log's first reader (`reply-stream-response.ts`) — the same
 * code path that serves a resume from `Last-Event-ID`, so the response never buffers more than its
 * sink holds and every replay has the same ids and bytes. When the reader leaves with
 * `continueOnDisconnect` off, a reply still being written ends (`ClientClosed`).
 */
import type { ParameterizedContext } from 'koa';
import type { AppState } from '../app-state.ts';
import type { ChatRouteDeps } from './chat-deps.ts';
import { ClientClosed } from './relay.ts';
import type { CommittedReply } from './reply-commit.ts';
import { respondWithReplyStream } from './reply-stream-response.ts';

export function deliverReply(ctx: ParameterizedContext<AppState>, deps: ChatRouteDeps, reply: CommittedReply): void {
  const { settings } = deps;
  const { writer, run, log } = reply;
  void respondWithReplyStream(ctx, {
    log: deps.replyLog,
    replyId: reply.turn.reply.id,
    afterId: 0,
    clock: deps.clock,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    onLeave: () => {
      if (!settings.continueOnDisconnect && !writer.ended) run.endNow(new ClientClosed());
    },
  }).catch((error: unknown) => log.error({ err: error }, 'could not read the reply log'));
}
