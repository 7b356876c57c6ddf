/**
 * Ends a reply whose generating instance died without a goodbye (SIGKILL, a crash, lost power):
 * the reader's side of the reply log's producer lease.
 *
 * Contract: `endAbandonedReply(deps, replyId)` asks the log to end the reply if its producer's
 * lease has lapsed (`ReplyLog.endIfProducerGone`), with a retryable `server_shutdown` — the code a
 * SIGTERM gives the same situation ("服务器正在更新，请重试。": the instance went away, asking
 * again works). Only the one call that ended it, on whichever instance, then stores the reply as
 * `error` / `server_shutdown` with the text and reasoning the log holds — exactly what every
 * client was sent, so a conversation read afterwards matches the screen — counts it
 * (`replies_abandoned_total`), frees its user's one-reply lock (the dead instance cannot; the log
 * recorded which lease was the reply's, so a newer one is never freed) and logs it. Resolves true for that call, false for every other
 * (the producer lives, the reply already ended, or its log is gone). Never rejects: a failure is
 * logged and the caller's next check asks again. A store write that fails after the log was ended
 * is not retried here; the row stays `streaming` until an instance's start marks it interrupted.
 *
 * The terminal reaches the stored state a moment after it reaches the log (the log decides who
 * ended the reply, so it must come first); a client that reads the conversation the instant it saw
 * the error may still find `streaming` for that moment.
 */
import { WxstreamError, type ReplyEvent } from '@wxstream/protocol';
import type { Logger } from '../logger.ts';
import type { ReplyLog } from '../reply-log/reply-log.ts';
import type { ReplyLocks } from '../limits/reply-locks.ts';
import type { ConversationStore } from '../storage/conversation-store.ts';

export interface AbandonedReplyDeps {
  readonly replyLog: ReplyLog;
  readonly store: Pick<ConversationStore, 'updateAssistantMessage'>;
  readonly metrics: { replyAbandoned(): void };
  /** The dead instance still holds its user's one-reply lock: free it, so 重试 works at once. */
  readonly locks: Pick<ReplyLocks, 'releaseAbandoned'>;
}

export async function endAbandonedReply(deps: AbandonedReplyDeps, replyId: string, log: Logger): Promise<boolean> {
  const failure = new WxstreamError('server_shutdown', 'The instance generating this reply stopped without ending it; please retry').toWire();
  let ended: ReplyEvent | undefined;
  try {
    ended = await deps.replyLog.endIfProducerGone(replyId, failure);
  } catch (error) {
    log.warn({ err: error, messageId: replyId }, 'could not check whether the reply is still being generated; checking again later');
    return false;
  }
  if (ended === undefined) return false;
  deps.metrics.replyAbandoned();
  try {
    const meta = await deps.replyLog.meta(replyId);
    if (meta?.lockId !== undefined) await deps.locks.releaseAbandoned(meta.userId, meta.lockId);
  } catch (error) {
    log.warn({ err: error, messageId: replyId }, 'could not free the reply lock of an abandoned reply; it expires on its own');
  }
  try {
    const { text, reasoning } = await textOf(deps.replyLog, replyId);
    await deps.store.updateAssistantMessage(replyId, { status: 'error', errorCode: failure.code, text, reasoning });
    log.warn({ messageId: replyId, terminalEventId: ended.id, code: failure.code }, 'the instance generating this reply is gone: ended it here');
  } catch (error) {
    log.error({ err: error, messageId: replyId }, 'ended an abandoned reply, but could not store its end; it is marked interrupted at the next start');
  }
  return true;
}

async function textOf(replyLog: ReplyLog, replyId: string): Promise<{ text: string; reasoning: string }> {
  let text = '';
  let reasoning = '';
  for await (const event of replyLog.read(replyId, 0)) {
    if (event.type === 'delta') text += event.data.text;
    else if (event.type === 'reasoning') reasoning += event.data.text;
  }
  return { text, reasoning };
}
