/**
 * Checks a reply's text while it streams, without holding the stream back.
 *
 * Contract: `observe(event)` takes every `reasoning` and `delta` event as it is sent; each text
 * (reasoning and answer separately — both reach the user) is cut into segments by a
 * `ReplyCheckSegmenter`, and each completed segment is checked at once, in the background, at most
 * `maxConcurrentChecks` at a time (the rest queue). The stream never waits for a verdict: text
 * that passes costs no latency, and text already sent cannot be unsent anyway — the client replaces
 * a reply that ends in `content_blocked`. As soon as a check says `risky`, `onStop` is called with
 * a `content_blocked` error (the caller aborts the upstream call); when a check cannot be made and
 * the checker fails closed, `onStop` gets the checker's error instead. Only the first stop counts,
 * and it abandons the checks still in flight.
 *
 * `settle()` flushes the last, incomplete segments, waits for every check and resolves with the
 * verdict — never rejects. It is what the reply's final event waits for: a `done` is only sent once
 * the whole text is cleared. `cancel()` abandons the checks still running (the client left, the
 * server is shutting down); a cancelled check decides nothing, and `settle()` then resolves with
 * what was decided so far.
 */
import { WxstreamError, type ReplyEvent } from '@wxstream/protocol';
import type { Logger } from '../logger.ts';
import { isBlocked, type ContentChecker } from '../wechat/content-checker.ts';
import { ReplyCheckSegmenter, type ReplyCheckSegmenterOptions } from '../wechat/reply-check-segmenter.ts';

export type GuardVerdict =
  | { readonly kind: 'clear' }
  /** `error` is `content_blocked`, or the checker's own failure when it fails closed. */
  | { readonly kind: 'stopped'; readonly error: WxstreamError; readonly blocked: boolean };

export interface ReplyContentGuard {
  observe(event: ReplyEvent): void;
  settle(): Promise<GuardVerdict>;
  cancel(): void;
  readonly verdict: GuardVerdict;
  /** Checks made so far (for logs). */
  readonly checks: number;
}

export interface ReplyContentGuardOptions {
  checker: ContentChecker;
  openid: string;
  onStop: (error: WxstreamError) => void;
  log: Logger;
  maxConcurrentChecks?: number;
  segmenter?: ReplyCheckSegmenterOptions;
}

export const DEFAULT_MAX_CONCURRENT_REPLY_CHECKS = 2;

export function createReplyContentGuard(options: ReplyContentGuardOptions): ReplyContentGuard {
  const limit = Math.max(1, options.maxConcurrentChecks ?? DEFAULT_MAX_CONCURRENT_REPLY_CHECKS);
  const segmenters = { reasoning: new ReplyCheckSegmenter(options.segmenter), delta: new ReplyCheckSegmenter(options.segmenter) };
  const cancelled = new AbortController();
  const queue: string[] = [];
  const running = new Set<Promise<void>>();
  let verdict: GuardVerdict = { kind: 'clear' };
  let checks = 0;
  let flushed = false;

  const stop = (error: WxstreamError, blocked: boolean) => {
    if (verdict.kind === 'stopped') return;
    verdict = { kind: 'stopped', error, blocked };
    queue.length = 0;
    // The reply's fate is decided: checks still in flight can only keep `settle` waiting.
    cancelled.abort(new Error('the reply was already stopped'));
    options.onStop(error);
  };

  const check = async (text: string): Promise<void> => {
    checks += 1;
    try {
      const result = await options.checker.checkText({ openid: options.openid, text, role: 'assistant', signal: cancelled.signal });
      if (isBlocked(result)) {
        const label = result.label === undefined ? '' : ` (label ${result.label})`;
        stop(new WxstreamError('content_blocked', `The reply was blocked by WeChat content security${label}`), true);
      }
    } catch (error) {
      if (cancelled.signal.aborted) return;
      if (error instanceof WxstreamError) {
        stop(error, false);
        return;
      }
      options.log.error({ err: error }, 'reply content check failed unexpectedly');
      stop(new WxstreamError('internal_error', 'The reply could not be checked'), false);
    }
  };

  const pump = () => {
    while (running.size < limit && queue.length > 0 && verdict.kind === 'clear' && !cancelled.signal.aborted) {
      const text = queue.shift() as string;
      const task: Promise<void> = check(text).finally(() => {
        running.delete(task);
        pump();
      });
      running.add(task);
    }
  };

  const enqueue = (segments: readonly string[]) => {
    for (const segment of segments) if (segment.trim() !== '') queue.push(segment);
    pump();
  };

  return {
    observe(event) {
      if (flushed || verdict.kind === 'stopped') return;
      if (event.type === 'reasoning' || event.type === 'delta') enqueue(segmenters[event.type].push(event.data.text));
    },

    async settle() {
      if (!flushed) {
        flushed = true;
        enqueue([...segmenters.reasoning.flush(), ...segmenters.delta.flush()]);
      }
      // Finishing checks start queued ones, so wait until nothing runs any more.
      while (running.size > 0) await Promise.all(running);
      return verdict;
    },

    cancel() {
      queue.length = 0;
      cancelled.abort(new Error('reply content checks cancelled'));
    },

    get verdict() {
      return verdict;
    },
    get checks() {
      return checks;
    },
  };
}
