/**
 * A conversation's title, made by the model after its first reply — in the background.
 *
 * Contract: `titleConversation` starts the work and returns at once; the work never rejects. It
 * asks the model (one side call, at most `TITLE_TIMEOUT_MS`) only while the conversation's title is
 * still the automatic one (`titleSource` `auto`): a title the model already gave or the user chose is
 * left alone. The answer is read by `readTitle`, content-checked as model text, and stored with
 * `setGeneratedTitle`, which refuses — in the same statement — a conversation the user has renamed in
 * the meantime. A failed, empty, blocked or unreadable title keeps the current one. While it runs the
 * work is registered in the reply registry, so a shutdown waits for it (and then aborts it) before
 * the store closes.
 */
import type { Logger } from '../logger.ts';
import type { ReplyRegistry } from '../chat/reply-registry.ts';
import type { ConversationStore } from '../storage/conversation-store.ts';
import { isBlocked, type ContentChecker } from '../wechat/content-checker.ts';
import { readTitle, TITLE_MAX_TOKENS, titleRequest } from './side-call-prompts.ts';
import { askModel, withDeadline, type SideCallDeps } from './side-call.ts';

/** The title is not urgent, but a call that hangs must not hold a shutdown for long. */
export const TITLE_TIMEOUT_MS = 20_000;

export interface TitlerDeps extends SideCallDeps {
  readonly store: Pick<ConversationStore, 'recordSideUsage' | 'getConversation' | 'setGeneratedTitle'>;
  readonly contentChecker: ContentChecker;
  readonly replies: ReplyRegistry;
}

export interface TitleRequest {
  readonly userId: string;
  readonly openid: string;
  readonly conversationId: string;
  readonly question: string;
  readonly answer: string;
  readonly log: Logger;
}

/** Starts titling; the returned promise (for tests) settles when the work is over. */
export function titleConversation(deps: TitlerDeps, request: TitleRequest): Promise<void> {
  const stop = new AbortController();
  const unregister = deps.replies.add({ interrupt: (reason) => stop.abort(reason) });
  return makeTitle(deps, request, stop.signal)
    .catch((error: unknown) => request.log.warn({ err: error, conversationId: request.conversationId }, 'titling the conversation failed; it keeps its title'))
    .finally(unregister);
}

async function makeTitle(deps: TitlerDeps, request: TitleRequest, signal: AbortSignal): Promise<void> {
  const { log, userId, conversationId } = request;
  const conversation = await deps.store.getConversation(userId, conversationId);
  if (conversation === undefined || conversation.titleSource !== 'auto') {
    log.debug({ conversationId }, 'the conversation has its title; not asking the model');
    return;
  }
  const title = await withDeadline(deps.clock, TITLE_TIMEOUT_MS, signal, async (deadline) => {
    const answer = await askModel(deps, { userId, messages: titleRequest(request.question, request.answer), maxTokens: TITLE_MAX_TOKENS, signal: deadline, task: 'title', log });
    const text = answer === undefined ? undefined : readTitle(answer);
    if (text === undefined) return undefined;
    const verdict = await deps.contentChecker.checkText({ openid: request.openid, text, role: 'assistant', signal: deadline });
    return isBlocked(verdict) ? undefined : text;
  });
  if (title === undefined) {
    log.info({ conversationId }, 'no usable title from the model; the conversation keeps its title');
    return;
  }
  const stored = await deps.store.setGeneratedTitle(userId, conversationId, title);
  log.info({ conversationId, titled: stored !== undefined }, stored === undefined ? 'the user named the conversation meanwhile; their title stays' : 'conversation titled');
}
