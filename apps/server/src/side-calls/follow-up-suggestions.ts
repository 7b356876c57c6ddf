/**
 * The follow-up questions a finished reply offers: one side call, content-checked, within a bound.
 *
 * Contract: `suggestFollowUps` resolves to 0–`MAX_SUGGESTIONS` questions, never rejects, and never
 * takes longer than `timeoutMs` on the injected clock (or than `signal` stays unaborted): the call,
 * reading its answer (`readFollowUps`) and the content checks of the questions (as model text, in
 * parallel) all run under that one deadline, and whatever is not done by then yields none. A question
 * the check finds risky is dropped; a check that cannot be made drops them all (the checker fails
 * closed). The chat route offers them only after a reply that ended `done` with `stop`.
 */
import type { Logger } from '../logger.ts';
import { isBlocked, type ContentChecker } from '../wechat/content-checker.ts';
import { FOLLOW_UPS_MAX_TOKENS, followUpRequest, readFollowUps } from './side-call-prompts.ts';
import { askModel, withDeadline, type SideCallDeps } from './side-call.ts';

export interface FollowUpDeps extends SideCallDeps {
  readonly contentChecker: ContentChecker;
  readonly timeoutMs: number;
}

export interface FollowUpRequest {
  readonly userId: string;
  readonly openid: string;
  readonly question: string;
  readonly answer: string;
  readonly signal: AbortSignal;
  readonly log: Logger;
}

export async function suggestFollowUps(deps: FollowUpDeps, request: FollowUpRequest): Promise<string[]> {
  const { log } = request;
  const suggested = await withDeadline(deps.clock, deps.timeoutMs, request.signal, async (signal) => {
    const answer = await askModel(deps, {
      userId: request.userId,
      messages: followUpRequest(request.question, request.answer),
      maxTokens: FOLLOW_UPS_MAX_TOKENS,
      signal,
      task: 'follow-ups',
      log,
    });
    const items = answer === undefined ? [] : readFollowUps(answer);
    try {
      const verdicts = await Promise.all(items.map((text) => deps.contentChecker.checkText({ openid: request.openid, text, role: 'assistant', signal })));
      return items.filter((_, index) => !isBlocked(verdicts[index] ?? { verdict: 'risky' }));
    } catch (error) {
      if (!signal.aborted) log.warn({ err: error }, 'follow-up questions could not be checked; none are offered');
      return [];
    }
  });
  if (suggested === undefined) log.info({ timeoutMs: deps.timeoutMs }, 'no follow-up questions in time; done goes out without them');
  return suggested ?? [];
}
