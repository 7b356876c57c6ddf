/**
 * What a reply asks the model besides itself: follow-up questions before its `done`, and — for a
 * conversation's first reply — a title after it. The relay phase calls these two; the work is in
 * `src/side-calls/`.
 *
 * Contract: `followUpsFor(deps, reply, ending)` resolves to the questions to send (none unless
 * `FOLLOW_UP_SUGGESTIONS` is on and the reply ended `done` with `stop`), within
 * `FOLLOW_UP_TIMEOUT_MS` and never past the reply's own abort (a stop or a shutdown ends the wait at
 * once). `titleAfter(deps, reply, conclusion)` starts titling the conversation in the background
 * when `TITLE_GENERATION` is on and the reply that just completed is its first turn's.
 */
import type { ReplyConclusion } from './reply-conclusion.ts';
import type { ChatRouteDeps } from './chat-deps.ts';
import type { CommittedReply } from './reply-commit.ts';
import type { ReplyEnding } from './reply-writer.ts';
import { suggestFollowUps } from '../side-calls/follow-up-suggestions.ts';
import { titleConversation } from '../side-calls/conversation-titler.ts';

function sideCallDeps(deps: ChatRouteDeps) {
  return { upstream: deps.upstream, store: deps.store, quota: deps.admission.quota, metrics: deps.metrics, clock: deps.clock, ids: deps.ids };
}

export async function followUpsFor(deps: ChatRouteDeps, reply: CommittedReply, ending: ReplyEnding): Promise<string[]> {
  const { sideCalls } = deps.settings;
  if (!sideCalls.followUpSuggestions || ending.type !== 'done' || ending.data.finishReason !== 'stop') return [];
  return suggestFollowUps(
    { ...sideCallDeps(deps), contentChecker: deps.contentChecker, timeoutMs: sideCalls.followUpTimeoutMs },
    {
      userId: reply.user.id,
      openid: reply.user.openid ?? '',
      question: reply.turn.userMessage.text,
      answer: reply.recorder.text,
      signal: reply.run.signal,
      log: reply.log,
    },
  );
}

export function titleAfter(deps: ChatRouteDeps, reply: CommittedReply, conclusion: ReplyConclusion): void {
  if (!deps.settings.sideCalls.titleGeneration || conclusion.status !== 'complete' || reply.turn.userMessage.turn !== 1) return;
  void titleConversation(
    { ...sideCallDeps(deps), contentChecker: deps.contentChecker, replies: deps.replies },
    {
      userId: reply.user.id,
      openid: reply.user.openid ?? '',
      conversationId: reply.turn.conversationId,
      question: reply.turn.userMessage.text,
      answer: reply.recorder.text,
      log: reply.log,
    },
  );
}
