/**
 * Prepare — the second phase of `POST /api/chat`: everything that must succeed before we commit
 * to a 200. Each failure is a JSON error and leaves nothing stored.
 *
 * Contract, in order:
 *   1. the conversation to continue is read (404 for another user's or an unknown one) and must
 *      have room for the turn (409 `conversation_too_long`); a regenerate or an edit must name a
 *      last turn that can have a new version (400) — `prepareTurn`;
 *   2. the text the reply answers (the message, or the stored question it regenerates) goes through the content check (422 `content_blocked`, nothing is sent
 *      upstream);
 *   3. the upstream call is opened with the context window (system prompt, the history trimmed
 *      newest-first to the token budget, the new message), and we wait for the provider's response
 *      headers — so a provider refusal is a JSON error with a fitting status;
 *   4. the turn is stored (`persistTurn`: the conversation, the user's message, the reply as
 *      `streaming`), naming the model that actually answered (a fallback may have);
 *   5. the reply's log is created with its owner, and the reply becomes stoppable by its id.
 * On failure the run is released, the failure counted, and the error rethrown — except when the
 * client left first (`ClientClosed`): then `prepareReply` resolves to undefined and nothing is
 * answered. A reply is counted in metrics from step 2 on.
 */
import { WxstreamError } from '@wxstream/protocol';
import type { ReplyTracker } from '../metrics/server-metrics.ts';
import { buildContextWindow } from '../storage/context-window.ts';
import type { ChatMessage, UpstreamStream } from '../upstream/upstream-model.ts';
import { assertContentAllowed } from '../wechat/content-checker.ts';
import type { AdmittedChat } from './chat-admission.ts';
import { isUpstreamCode, type ChatRouteDeps } from './chat-deps.ts';
import { persistTurn, prepareTurn, type PersistedTurn, type PreparedTurn } from './conversation-turn.ts';
import { ClientClosed } from './relay.ts';

export interface PreparedReply extends AdmittedChat {
  readonly tracker: ReplyTracker;
  readonly chunks: UpstreamStream;
  /** The model that answered: the configured one, or a fallback. */
  readonly answeredBy: string;
  readonly turn: PersistedTurn;
  /** What was sent upstream, for the usage estimate when the provider reports none. */
  readonly prompt: readonly ChatMessage[];
}

export async function prepareReply(deps: ChatRouteDeps, admitted: AdmittedChat): Promise<PreparedReply | undefined> {
  let tracker: ReplyTracker | undefined;
  try {
    const prepared = await prepareTurn(deps.store, admitted.user.id, admitted.request, deps.settings.maxConversationMessages);
    tracker = deps.metrics.startReply();
    await checkUserText(deps, admitted, prepared.question);
    const prompt = contextWindow(deps, admitted, prepared);
    const chunks = await openUpstream(deps, admitted, prompt);
    const answeredBy = chunks.model ?? deps.upstream.model;
    const turn = await storeTurn(deps, admitted, prepared, answeredBy);
    await createReplyLog(deps, admitted, turn);
    admitted.run.identify(turn.reply.id);
    return { ...admitted, tracker, chunks, answeredBy, turn, prompt };
  } catch (thrown) {
    return failBeforeStream(deps, admitted, tracker, thrown);
  }
}

async function checkUserText(deps: ChatRouteDeps, { user, run }: AdmittedChat, text: string): Promise<void> {
  const verdict = await deps.contentChecker.checkText({ openid: user.openid ?? '', text, role: 'user', signal: run.signal });
  assertContentAllowed(verdict, 'user');
}

function contextWindow(deps: ChatRouteDeps, { log }: AdmittedChat, turn: PreparedTurn): readonly ChatMessage[] {
  const { settings } = deps;
  const context = buildContextWindow({
    ...(settings.systemPrompt === undefined ? {} : { systemPrompt: settings.systemPrompt }),
    history: turn.history,
    userMessage: turn.question,
    maxTokens: settings.maxContextTokens,
  });
  if (context.droppedMessages > 0) log.info({ droppedMessages: context.droppedMessages }, 'older messages left out of the context');
  return context.messages;
}

async function openUpstream(deps: ChatRouteDeps, { run }: AdmittedChat, messages: readonly ChatMessage[]): Promise<UpstreamStream> {
  run.watchdog.touch();
  let chunks: UpstreamStream;
  try {
    chunks = await deps.upstream.open({ messages, signal: run.signal });
  } catch (error) {
    throw run.signal.aborted ? run.signal.reason : deps.upstream.failure(error, 'before-stream');
  }
  if (run.signal.aborted) throw run.signal.reason;
  return chunks;
}

async function storeTurn(deps: ChatRouteDeps, { user, run }: AdmittedChat, turn: PreparedTurn, model: string): Promise<PersistedTurn> {
  try {
    return await persistTurn(deps.store, user.id, turn, model);
  } catch (error) {
    run.abort(new Error('the turn could not be stored'));
    throw error;
  }
}

async function createReplyLog(deps: ChatRouteDeps, { user, run, log }: AdmittedChat, turn: PersistedTurn): Promise<void> {
  try {
    await deps.replyLog.create(turn.reply.id, { userId: user.id, conversationId: turn.conversationId, lockId: run.lease.replyId });
  } catch (error) {
    run.abort(new Error('the reply log could not be created'));
    await deps.store.updateAssistantMessage(turn.reply.id, { status: 'error', errorCode: 'internal_error' }).catch((storeError: unknown) => {
      log.error({ err: storeError }, 'could not mark the reply as failed');
    });
    throw error;
  }
}

async function failBeforeStream(deps: ChatRouteDeps, admitted: AdmittedChat, tracker: ReplyTracker | undefined, thrown: unknown): Promise<undefined> {
  const { log } = admitted;
  await admitted.run.release();
  if (thrown instanceof ClientClosed) {
    tracker?.end('disconnected');
    log.info({ outcome: 'client_closed', durationMs: deps.clock.now() - admitted.startedAt }, 'client left before the reply started');
    return undefined;
  }
  if (thrown instanceof WxstreamError) {
    tracker?.end(thrown.code === 'content_blocked' ? 'blocked' : 'error', thrown.code);
    if (isUpstreamCode(thrown.code)) deps.metrics.upstreamError(thrown.code);
    if (tracker !== undefined) log.warn({ code: thrown.code, detail: thrown.message }, 'the reply failed before the stream');
  } else {
    tracker?.end('error', 'internal_error');
  }
  throw thrown;
}
