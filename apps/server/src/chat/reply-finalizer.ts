/**
 * Conclude — the last phase of a reply: stores its ending, counts its usage against the daily
 * quota, and reports its outcome to metrics and the `reply finished` log record.
 *
 * Contract: `createReplyFinalizer(deps, reply)` returns `conclude(outcome)`, which does this once,
 * whichever way the reply ends and however often it is called (the relay calls it before the
 * terminal event, so a client that saw `done` finds the reply stored; the route calls it again
 * after the relay in case the relay ended without one). The stored status comes from
 * `concludeReply` (the content guard has the last word); the usage is the provider's, or an
 * estimate from the prompt and the text when it sent none. Never rejects: a store or quota failure
 * is logged (a reply still `streaming` is marked interrupted at the next start).
 */
import type { UsageData } from '@wxstream/protocol';
import type { Logger } from '../logger.ts';
import { estimateUsage } from '../storage/token-estimate.ts';
import { isUpstreamCode, type ChatRouteDeps } from './chat-deps.ts';
import type { RelayOutcome } from './relay.ts';
import type { CommittedReply } from './reply-commit.ts';
import { concludeReply, type ReplyConclusion } from './reply-conclusion.ts';
import type { ReplyRecorder } from './reply-recorder.ts';

export type ConcludeReply = (outcome: RelayOutcome) => Promise<ReplyConclusion>;

export function createReplyFinalizer(deps: ChatRouteDeps, reply: CommittedReply): ConcludeReply {
  let concluded: Promise<ReplyConclusion> | undefined;
  return (outcome) => (concluded ??= conclude(deps, reply, outcome));
}

async function conclude(deps: ChatRouteDeps, reply: CommittedReply, outcome: RelayOutcome): Promise<ReplyConclusion> {
  const { run, recorder, log } = reply;
  const { metrics } = deps;
  run.guard.cancel();
  const conclusion = concludeReply(outcome, run.guard.verdict);
  const usage: UsageData = outcome.usage ?? estimateUsage(reply.prompt, recorder.reasoning + recorder.text);
  await storeEnding(recorder, conclusion, usage, log);
  try {
    await deps.admission.quota.record(reply.user.id, usage.promptTokens + usage.completionTokens);
  } catch (error) {
    log.error({ err: error }, 'could not count the reply against the daily quota');
  }
  metrics.tokensUsed(usage);
  if (conclusion.metricsCode !== undefined && isUpstreamCode(conclusion.metricsCode)) metrics.upstreamError(conclusion.metricsCode);
  reply.tracker.end(conclusion.metricsOutcome, conclusion.metricsCode);
  log.info(
    {
      outcome: outcome.kind,
      status: conclusion.status,
      ...(outcome.kind === 'done' ? { finishReason: outcome.finishReason } : {}),
      ...(outcome.kind === 'error' ? { code: outcome.error.code, detail: outcome.error.message } : {}),
      conversationId: reply.turn.conversationId,
      messageId: reply.turn.reply.id,
      events: reply.writer.eventCount,
      checkpoints: recorder.checkpoints,
      contentChecks: run.guard.checks,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      usageEstimated: outcome.usage === undefined,
      durationMs: deps.clock.now() - reply.startedAt,
      ...(deps.settings.logMessageText ? { userText: reply.turn.userMessage.text, replyText: recorder.text } : {}),
    },
    'reply finished',
  );
  return conclusion;
}

async function storeEnding(recorder: ReplyRecorder, conclusion: ReplyConclusion, usage: UsageData, log: Logger): Promise<void> {
  try {
    const stored = await recorder.finish({
      status: conclusion.status,
      ...(conclusion.finishReason === undefined ? {} : { finishReason: conclusion.finishReason }),
      ...(conclusion.errorCode === undefined ? {} : { errorCode: conclusion.errorCode }),
      usage,
      clearText: conclusion.clearText,
    });
    if (stored === undefined) log.info('the reply ended after its conversation was deleted; only its usage was kept');
  } catch (error) {
    // At the next start `markInterruptedReplies` turns the row still `streaming` into an error.
    log.error({ err: error }, 'could not store the end of the reply');
  }
}
