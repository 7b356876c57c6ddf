/**
 * Admit — the first phase of `POST /api/chat`: the one place a chat request is let in or turned
 * away, before anything is read from the store or sent upstream.
 *
 * Contract: reads and validates the body (`parseChatRequest`; 400/413/415 as JSON errors), passes
 * the limits (`admitReply`: rate, daily quota, one reply in progress per user; 429/409), and then
 * starts the reply's run (`reply-run.ts`: registered in flight, its lease kept alive). A refusal
 * throws and leaves nothing behind; an admitted reply must be released by whoever ends it. A request
 * the client named (`requestId`) is claimed first (`named-request.ts`): a repeat of a committed one
 * comes back as a `RepeatedRequest` and spends no limit.
 */
import type { ParameterizedContext } from 'koa';
import type { AppState, AuthenticatedUser } from '../app-state.ts';
import { readJsonBody } from '../http/json-body.ts';
import { admitReply } from '../limits/reply-admission.ts';
import type { Logger } from '../logger.ts';
import { assertVoiceOffered, type VoiceService } from '../voice/voice-service.ts';
import type { ChatRouteDeps } from './chat-deps.ts';
import { parseChatRequest, type ParsedChatRequest } from './chat-request.ts';
import { claimNamedRequest, type NamedClaim, type RepeatedRequest } from './named-request.ts';
import { startReplyRun, type ReplyRun } from './reply-run.ts';

export interface AdmittedChat {
  readonly user: AuthenticatedUser;
  readonly log: Logger;
  readonly request: ParsedChatRequest;
  readonly startedAt: number;
  /** The voice that speaks this reply: asked for, configured, and able to work here. */
  readonly speaker: VoiceService | undefined;
  readonly run: ReplyRun;
  /** The client's `requestId`, claimed for this request. */
  readonly named?: NamedClaim;
}

export async function admitChat(deps: ChatRouteDeps, ctx: ParameterizedContext<AppState>): Promise<AdmittedChat | RepeatedRequest> {
  const { settings } = deps;
  const { log, user } = ctx.state;
  if (user === undefined) throw new Error('chatRoute must run behind requireAuth');
  const request = parseChatRequest(await readJsonBody(ctx.req, { maxBytes: settings.maxBodyBytes }), settings);
  const startedAt = deps.clock.now();
  const speaker = request.voice === true && deps.voice?.unavailableReason === undefined ? deps.voice : undefined;
  assertVoiceOffered(speaker, request.voiceName);
  const named = await claimNamedRequest(deps.requests, user.id, request);
  if (named !== undefined && 'kind' in named) return named;
  let lease;
  try {
    ({ lease } = await admitReply(deps.admission, user.id, deps.ids()));
  } catch (error) {
    if (named !== undefined) await deps.requests?.release(named.requestId);
    throw error;
  }
  const run = startReplyRun(deps, { lease, openid: user.openid ?? '', res: ctx.res, log });
  return { user, log, request, startedAt, speaker, run, ...(named === undefined ? {} : { named }) };
}
