/**
 * One side question to the model — a title, follow-up questions — under a deadline, with its tokens
 * counted like a reply's.
 *
 * Contract: `withDeadline(clock, ms, signal, work)` runs `work` with a signal that aborts when `ms`
 * pass on the injected clock or `signal` aborts, and resolves to its result, or to `undefined` at
 * the deadline or the abort even if `work` ignores its signal — so a caller never waits past the
 * deadline. `askModel` makes one non-streamed call (`UpstreamModel.complete`) and resolves to the
 * answer's text, or `undefined` when the call failed or was aborted (logged, never thrown: a side
 * question that fails is simply not answered). The tokens of an answered call — the provider's
 * count, or an estimate when it sent none — go into the user's usage ledger
 * (`recordSideUsage`), the quota ledger and the token metrics, as a reply's do.
 */
import type { Clock } from '../clock.ts';
import type { QuotaLedger } from '../limits/quota-ledger.ts';
import type { Logger } from '../logger.ts';
import type { ServerMetrics } from '../metrics/server-metrics.ts';
import type { ConversationStore } from '../storage/conversation-store.ts';
import { estimateUsage } from '../storage/token-estimate.ts';
import type { ChatMessage, UpstreamModel } from '../upstream/upstream-model.ts';

export interface SideCallDeps {
  readonly upstream: UpstreamModel;
  readonly store: Pick<ConversationStore, 'recordSideUsage'>;
  readonly quota: Pick<QuotaLedger, 'record'>;
  readonly metrics: Pick<ServerMetrics, 'tokensUsed'>;
  readonly clock: Clock;
  readonly ids: () => string;
}

export async function withDeadline<T>(clock: Clock, ms: number, signal: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
  const deadline = new AbortController();
  let settle: (() => void) | undefined;
  const stopped = new Promise<undefined>((resolve) => {
    settle = () => resolve(undefined);
  });
  const abort = () => {
    deadline.abort(new Error(`no answer within ${ms} ms`));
    settle?.();
  };
  const timer = clock.setTimeout(abort, ms);
  if (signal.aborted) abort();
  else signal.addEventListener('abort', abort, { once: true });
  try {
    return await Promise.race([work(deadline.signal), stopped]);
  } finally {
    clock.clearTimeout(timer);
    signal.removeEventListener('abort', abort);
  }
}

export interface SideQuestion {
  readonly userId: string;
  readonly messages: readonly ChatMessage[];
  readonly maxTokens: number;
  readonly signal: AbortSignal;
  /** What is asked, for the log: `title`, `follow-ups`. */
  readonly task: string;
  readonly log: Logger;
}

export async function askModel(deps: SideCallDeps, question: SideQuestion): Promise<string | undefined> {
  const { log, task } = question;
  let text: string;
  let usage;
  try {
    const answer = await deps.upstream.complete({ messages: question.messages, signal: question.signal, maxTokens: question.maxTokens });
    text = answer.text;
    usage = answer.usage ?? estimateUsage(question.messages, text);
  } catch (error) {
    if (question.signal.aborted) log.info({ task }, 'side call aborted');
    else log.warn({ task, code: deps.upstream.failure(error, 'before-stream').code }, 'side call failed; going on without it');
    return undefined;
  }
  try {
    await deps.store.recordSideUsage(question.userId, `${task}:${deps.ids()}`, usage);
    await deps.quota.record(question.userId, usage.promptTokens + usage.completionTokens);
  } catch (error) {
    log.error({ err: error, task }, 'could not count a side call against the daily quota');
  }
  deps.metrics.tokensUsed(usage);
  return text;
}
