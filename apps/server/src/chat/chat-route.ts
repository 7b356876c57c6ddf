/**
 * `POST /api/chat`: one reply, as five named phases, each in its own module.
 *
 *   admit    (`chat-admission.ts`)    the body is read and validated, the limits let it in, and the
 *                                      reply's run starts (`reply-run.ts`: in flight, leased,
 *                                      abortable) — the one place a request is let in or refused;
 *   prepare  (`reply-preparation.ts`) the conversation, the user's content check, the upstream call
 *                                      up to its response headers, the stored turn and the reply's
 *                                      log — every failure a JSON error, nothing stored;
 *   commit   (`reply-commit.ts`)      the reply exists: its recorder, its writer into the reply log,
 *                                      its `start` event and its voice; from here every failure
 *                                      travels in-band as one terminal event;
 *   deliver  (`reply-delivery.ts`)    the 200 and the stream: the response is the reply log's first
 *                                      reader, the same code path that serves a resume;
 *   relay → conclude (`reply-relay-phase.ts`, `reply-finalizer.ts`) the upstream stream is
 *                                      relayed into the log, checkpointed and checked as it goes;
 *                                      the ending is stored, usage counted, the run released.
 *
 * The upstream call is aborted when the idle watchdog fires (`upstream_timeout`), a content check
 * stops the reply, the user stops it (`POST /api/chat/:messageId/stop` → `done` `stopped`, stored
 * `stopped`), shutdown interrupts it (`server_shutdown`), or the client's connection closes before
 * the 200 (nobody knows the reply's id yet, so nobody could resume it). A connection that closes
 * after the 200 does NOT stop the reply unless `continueOnDisconnect` is off: it is generated to its
 * end and stored, and the client resumes it or finds it in the conversation.
 *
 * A request the client named (`requestId`, `named-request.ts`) is answered once: a repeat gets the
 * reply the first one started (`reply-acceptance.ts`), and a stop by its id works before `start`.
 * `"delivery":"poll"` answers `202 {messageId, conversationId}` instead of the stream; the reply goes on
 * and is read by polling its events route.
 */
import type { Middleware } from 'koa';
import type { AppState } from '../app-state.ts';
import { admitChat } from './chat-admission.ts';
import type { ChatRouteDeps } from './chat-deps.ts';
import { trackNamedRequest } from './named-request.ts';
import { acceptReply, answerRepeat } from './reply-acceptance.ts';
import { commitReply } from './reply-commit.ts';
import { deliverReply } from './reply-delivery.ts';
import { prepareReply } from './reply-preparation.ts';
import { relayAndConclude } from './reply-relay-phase.ts';

export type { ChatRouteDeps, ChatSettings } from './chat-deps.ts';

export function chatRoute(deps: ChatRouteDeps): Middleware<AppState> {
  return async (ctx) => {
    const admitted = await admitChat(deps, ctx);
    if ('kind' in admitted) return answerRepeat(ctx, deps, admitted);
    const named = trackNamedRequest(deps, admitted);
    const prepared = await prepareReply(named.deps, admitted).catch(async (error: unknown) => {
      await named.failed();
      throw error;
    });
    if (prepared === undefined) {
      await named.failed();
      // The client left before the reply started: there is nobody to answer.
      ctx.respond = false;
      return;
    }
    await named.committed(prepared);
    const reply = commitReply(named.deps, prepared);
    if (admitted.request.delivery === 'poll') acceptReply(ctx, { messageId: reply.turn.reply.id, conversationId: reply.turn.conversationId });
    else deliverReply(ctx, named.deps, reply);
    void relayAndConclude(named.deps, reply).finally(() => named.ended());
  };
}
