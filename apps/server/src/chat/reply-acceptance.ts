/**
 * The answers of `POST /api/chat` that are not a fresh stream: `202` for polling delivery, and the answer
 * to a repeated request (its reply's events from the start, or `202`).
 *
 * Contract: `acceptReply` answers `202 {"messageId","conversationId"}` (no-store): the client polls the
 * reply's events route with `poll=1`. `answerRepeat` answers a repeat of a committed request — `202` in
 * polling delivery, otherwise the reply's stream from event 1 (`respondWithReplyStream` from id 0: the same
 * ids, bytes and headers as a resume from 0); a reply whose log has expired is `404 not_found`.
 */
import type { ParameterizedContext } from 'koa';
import { WxstreamError, type ChatAcceptedResponse } from '@wxstream/protocol';
import type { AppState } from '../app-state.ts';
import type { ChatRouteDeps } from './chat-deps.ts';
import type { RepeatedRequest } from './named-request.ts';
import { respondWithReplyStream } from './reply-stream-response.ts';

export function acceptReply(ctx: ParameterizedContext<AppState>, accepted: ChatAcceptedResponse): void {
  ctx.status = 202;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { messageId: accepted.messageId, conversationId: accepted.conversationId } satisfies ChatAcceptedResponse;
}

export async function answerRepeat(ctx: ParameterizedContext<AppState>, deps: ChatRouteDeps, repeat: RepeatedRequest): Promise<void> {
  const log = ctx.state.log;
  log.info({ messageId: repeat.messageId, delivery: repeat.delivery ?? 'stream' }, 'a repeated request gets the reply it started');
  if (repeat.delivery === 'poll') {
    acceptReply(ctx, repeat);
    return;
  }
  if ((await deps.replyLog.meta(repeat.messageId)) === undefined) {
    throw new WxstreamError('not_found', 'The reply this request started is no longer kept');
  }
  void respondWithReplyStream(ctx, {
    log: deps.replyLog,
    replyId: repeat.messageId,
    afterId: 0,
    clock: deps.clock,
    heartbeatIntervalMs: deps.settings.heartbeatIntervalMs,
  }).catch((error: unknown) => log.error({ err: error }, 'could not read the reply log'));
}
