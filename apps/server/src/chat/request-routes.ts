/**
 * `POST /api/chat/requests/:requestId/stop`: stops the reply a chat request started, named by the
 * `requestId` the client gave it — before or after its `start` event, on whichever instance it runs.
 *
 * Contract (the request ledger decides, atomically, what the id stands for):
 * - not seen yet (the stop overtook its request): the stop is remembered for `REQUEST_STOP_TTL_MS`, and
 *   the request, when it arrives, ends `stopped` without calling the model → `{"status":"pending"}`;
 * - being admitted (its reply does not exist yet): the instance admitting it closes its model call at
 *   once and ends the reply `stopped` (`named-request.ts`) → `{"status":"stopping"}`;
 * - committed: stopped like `POST /api/chat/:messageId/stop` → `stopping`, or `ended` when it had
 *   already ended (also when its instance died: it is ended here);
 * - another user's id, or one that is not a requestId at all → 404 `not_found`.
 * `stopping` is answered once the reply has ended and its run let go (or after `STOP_SETTLE_WAIT_MS`),
 * so a message the client sends right after the answer is not refused with `reply_in_progress`.
 */
import type { Middleware } from 'koa';
import type { Router } from '@koa/router';
import { ROUTES, WxstreamError, isValidRequestId, type StopRequestResponse } from '@wxstream/protocol';
import type { AppState } from '../app-state.ts';
import type { Clock } from '../clock.ts';
import type { ReplyLog } from '../reply-log/reply-log.ts';
import type { RequestLedger } from '../requests/request-ledger.ts';
import { endAbandonedReply, type AbandonedReplyDeps } from './abandoned-reply.ts';
import { requestStopId } from './named-request.ts';
import type { ReplyStopChannel } from './reply-stop-channel.ts';

export interface RequestRoutesDeps {
  requests: RequestLedger;
  replyLog: ReplyLog;
  stopChannel: ReplyStopChannel;
  abandoned: AbandonedReplyDeps;
  clock: Clock;
  /** Longest wait for a stopped reply to end before answering. */
  settleWaitMs: number;
}

/** How often the answer checks whether the stopped reply has ended. */
const SETTLE_CHECK_MS = 20;

export function mountRequestRoutes(router: Router<AppState>, guard: Middleware<AppState>, deps: RequestRoutesDeps): void {
  router.post(ROUTES.stopRequest, guard, async (ctx) => {
    const user = ctx.state.user;
    if (user === undefined) throw new Error('request routes must run behind requireAuth');
    const requestId = ctx.params.requestId;
    if (!isValidRequestId(requestId)) throw new WxstreamError('not_found', 'No such request');
    const log = ctx.state.log;
    const found = await deps.requests.stop(user.id, requestId);
    let answer: StopRequestResponse;
    switch (found.kind) {
      case 'foreign':
        throw new WxstreamError('not_found', 'No such request');
      case 'remembered':
        answer = { status: 'pending' };
        break;
      case 'admitting':
        await deps.stopChannel.request(requestStopId(requestId));
        answer = { status: 'stopping' };
        break;
      case 'committed': {
        const meta = await deps.replyLog.meta(found.messageId);
        if (meta === undefined || meta.state === 'ended' || (await endAbandonedReply(deps.abandoned, found.messageId, log))) {
          answer = { status: 'ended' };
        } else {
          await deps.stopChannel.request(found.messageId);
          answer = { status: 'stopping' };
        }
        break;
      }
    }
    if (answer.status === 'stopping') await settled(deps, requestId);
    log.info({ requestId, status: answer.status }, 'stop by request');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = answer;
  });
}

/** Resolves once the request's reply has ended and its run let go, it was dropped, or the wait is over. */
async function settled(deps: RequestRoutesDeps, requestId: string): Promise<void> {
  const deadline = deps.clock.now() + deps.settleWaitMs;
  for (;;) {
    const record = await deps.requests.get(requestId);
    if (record === undefined || (record.state === 'committed' && record.ended)) return;
    if (deps.clock.now() >= deadline) return;
    await new Promise<void>((resolve) => deps.clock.setTimeout(resolve, SETTLE_CHECK_MS));
  }
}
