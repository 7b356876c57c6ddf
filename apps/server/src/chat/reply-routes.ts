/**
 * The routes that act on a reply after `POST /api/chat` started it:
 * - `GET /api/chat/:messageId/events` replays the reply's events after `Last-Event-ID` (the header,
 *   or `lastEventId` in the query for `wx.request`, which cannot always set it; the header wins when
 *   both are sent) and follows it live to its end, with the same headers, frames and heartbeats as
 *   the POST response (both are `streamReplyLog`). Malformed id → 400 `invalid_request`. With
 *   `poll=1` it answers one complete batch instead (`reply-poll.ts`), for clients that cannot read a
 *   body as it arrives.
 * - `POST /api/chat/:messageId/stop` stops a reply in progress wherever it is generated and answers
 *   `200 {"status":"stopping"}`, or `{"status":"ended"}` when it had already ended.
 * Both answer 404 `not_found` for an unknown or expired reply and for another user's (never saying
 * which). Whether a reply exists, and whose it is, comes from the reply log, so any instance can
 * answer for any reply. A resume that gets no event for `producerCheckIntervalMs` asks, every such
 * interval, whether the instance generating the reply still lives, and ends the reply if it died
 * without a goodbye (`abandoned-reply.ts`), so a reader never waits for an end that cannot come.
 */
import type { Middleware } from 'koa';
import type { Router } from '@koa/router';
import { LAST_EVENT_ID_QUERY, POLL_QUERY, ROUTES, WxstreamError, type StopReplyResponse } from '@wxstream/protocol';
import type { AppState, AuthenticatedUser } from '../app-state.ts';
import type { Clock } from '../clock.ts';
import type { HoldStreamSlot } from '../limits/stream-slots.ts';
import { parseLastEventId, type ReplyLog, type ReplyMeta } from '../reply-log/reply-log.ts';
import { endAbandonedReply, type AbandonedReplyDeps } from './abandoned-reply.ts';
import { pollReplyEvents, respondWithPoll } from './reply-poll.ts';
import { respondWithReplyStream } from './reply-stream-response.ts';
import type { ReplyStopChannel } from './reply-stop-channel.ts';

export interface ReplyRoutesDeps {
  replyLog: ReplyLog;
  stopChannel: ReplyStopChannel;
  clock: Clock;
  heartbeatIntervalMs: number;
  /** Silence after which a resume checks that the reply's producer still lives. */
  producerCheckIntervalMs: number;
  /** Stores and counts a reply a resume ended because its producer died. */
  abandoned: AbandonedReplyDeps;
  /** While shutting down, resumes are sent elsewhere (503 `server_shutdown`); stops still work. */
  lifecycle: { readonly shuttingDown: boolean };
  /** How long a poll (`poll=1`) waits for a first new event (`reply-poll.ts`). */
  pollWaitMs: number;
  /** Takes a stream slot for a resume of the user's own reply (per user, per reply: `limits/stream-slots.ts`). */
  holdStreamSlot?: HoldStreamSlot;
}

/** Longer than any id we hand out; refused before it reaches the log. */
const MAX_MESSAGE_ID_LENGTH = 128;

function userOf(state: AppState): AuthenticatedUser {
  if (state.user === undefined) throw new Error('reply routes must run behind requireAuth');
  return state.user;
}

async function ownReply(replyLog: ReplyLog, user: AuthenticatedUser, messageId: string | undefined): Promise<{ id: string; meta: ReplyMeta }> {
  if (messageId !== undefined && messageId !== '' && messageId.length <= MAX_MESSAGE_ID_LENGTH) {
    const meta = await replyLog.meta(messageId);
    if (meta !== undefined && meta.userId === user.id) return { id: messageId, meta };
  }
  throw new WxstreamError('not_found', 'No such reply, or it is no longer kept');
}

/** The id to resume after, from the header or the query; 0 when neither is given. */
export function resumeAfterId(header: string | undefined, query: string | string[] | undefined): number {
  if (Array.isArray(query)) throw new WxstreamError('invalid_request', `${LAST_EVENT_ID_QUERY} must be given at most once`);
  const afterId = parseLastEventId(header ?? query);
  if (afterId === undefined) throw new WxstreamError('invalid_request', 'Last-Event-ID must be a whole number');
  return afterId;
}

export function mountReplyRoutes(router: Router<AppState>, guard: Middleware<AppState>, deps: ReplyRoutesDeps): void {
  const { replyLog } = deps;

  router.get(ROUTES.replyEvents, guard, async (ctx) => {
    if (deps.lifecycle.shuttingDown) throw new WxstreamError('server_shutdown', 'The server is shutting down; resume elsewhere');
    const user = userOf(ctx.state);
    const afterId = resumeAfterId(ctx.get('Last-Event-ID') === '' ? undefined : ctx.get('Last-Event-ID'), ctx.query[LAST_EVENT_ID_QUERY]);
    const { id } = await ownReply(replyLog, user, ctx.params.messageId);
    deps.holdStreamSlot?.(ctx, id);
    const log = ctx.state.log;
    if (ctx.query[POLL_QUERY] === '1') {
      const body = await pollReplyEvents({ log: replyLog, replyId: id, afterId, clock: deps.clock, waitMs: deps.pollWaitMs, onSilence: async () => void (await endAbandonedReply(deps.abandoned, id, log)) });
      respondWithPoll(ctx, body);
      return;
    }

    const startedAt = deps.clock.now();
    const producerCheck = {
      intervalMs: deps.producerCheckIntervalMs,
      run: async () => {
        await endAbandonedReply(deps.abandoned, id, log);
      },
    };
    void respondWithReplyStream(ctx, { log: replyLog, replyId: id, afterId, clock: deps.clock, heartbeatIntervalMs: deps.heartbeatIntervalMs, producerCheck }).then(
      (end) => log.info({ messageId: id, afterId, end, durationMs: deps.clock.now() - startedAt }, 'reply resumed'),
      (error: unknown) => log.error({ err: error, messageId: id }, 'could not read the reply log'),
    );
  });

  router.post(ROUTES.stopReply, guard, async (ctx) => {
    const user = userOf(ctx.state);
    const { id, meta } = await ownReply(replyLog, user, ctx.params.messageId);
    let answer: StopReplyResponse;
    if (meta.state === 'ended') {
      answer = { status: 'ended' };
    } else if (await endAbandonedReply(deps.abandoned, id, ctx.state.log)) {
      // Nobody was generating it any more (its instance died): it ended here, with server_shutdown.
      answer = { status: 'ended' };
    } else {
      await deps.stopChannel.request(id);
      answer = { status: 'stopping' };
    }
    ctx.state.log.info({ messageId: id, status: answer.status }, 'stop requested');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = answer;
  });
}
