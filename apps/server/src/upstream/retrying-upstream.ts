/**
 * A model call that survives a provider's short refusals: an `UpstreamModel` over other ones.
 *
 * Contract: only the `open` phase is ever repeated — before the provider's response headers, when
 * nothing has reached the client and nothing is stored. Once a stream is returned, its failures
 * are final (one in-band `error`, the partial reply stored — the chat route's job).
 *
 * 1. The primary is tried, and retried up to `maxRetries` times while it refuses with a retryable
 *    code (`retry-policy.ts`), waiting what the provider's `Retry-After` asked or a jittered
 *    backoff, never more than `maxDelayMs` at once nor `budgetMs` in all.
 * 2. If it still refuses retryably, the fallback (another model or provider), when configured, is
 *    tried ONCE, at once: it is a different service, so the primary's backoff says nothing about
 *    it, and a single attempt keeps a double outage from multiplying the user's wait.
 * 3. A non-retryable refusal (401/403, 400) is final at once, without the fallback: it is a
 *    configuration or request problem that the operator must see, not an outage to hide.
 *
 * The error thrown is the last refusal, already mapped by the model that refused (so its own
 * secrets are redacted). The client going away (`signal`) stops everything at once, also in the
 * middle of a wait. The returned stream names the model that answered and maps its own mid-stream
 * failures. Each retry and each switch to the fallback is logged with code, status, attempt and
 * delay — never keys or texts — and reported to `observer` (the metrics): a retry once its wait is
 * over and the call is sent again, with why (`retryReason`), a fallback when it is called.
 */
import { WxstreamError } from '@wxstream/protocol';
import type { Logger } from '../logger.ts';
import { retryAfterMs } from './retry-after.ts';
import { isRetryableRefusal, nextRetryDelay, type RetryPolicy } from './retry-policy.ts';
import type { ChatMessage, UpstreamChunk, UpstreamModel, UpstreamStream } from './upstream-model.ts';

export interface RetryTimers {
  /** Resolves after `ms`, rejects as soon as `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Uniform in [0, 1). */
  random(): number;
  /** Epoch milliseconds, for `Retry-After` dates. */
  now(): number;
}

/** Why a refused call was sent again: a 429, a 5xx, or no HTTP answer at all (refused, reset, DNS). */
export type UpstreamRetryReason = 'rate_limited' | 'unavailable' | 'connection';
export const UPSTREAM_RETRY_REASONS: readonly UpstreamRetryReason[] = ['rate_limited', 'unavailable', 'connection'];

export interface RetryObserver {
  retried(reason: UpstreamRetryReason): void;
  fellBack(): void;
}

export interface RetryingUpstreamOptions {
  readonly primary: UpstreamModel;
  readonly fallback?: UpstreamModel;
  readonly policy: RetryPolicy;
  readonly timers: RetryTimers;
  readonly log: Logger;
  readonly observer?: RetryObserver;
}

function statusOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number') return error.status;
  return undefined;
}

/** Only retryable refusals get here: 429 → rate_limited; an HTTP status → unavailable; none → connection. */
export function retryReason(refusal: WxstreamError, status: number | undefined): UpstreamRetryReason {
  if (refusal.code === 'upstream_rate_limited') return 'rate_limited';
  return status === undefined ? 'connection' : 'unavailable';
}

/** The stream as returned, naming its model and mapping its failures with that model's rules. */
function answeredBy(stream: AsyncIterable<UpstreamChunk>, upstream: UpstreamModel): UpstreamStream {
  return {
    model: upstream.model,
    [Symbol.asyncIterator]() {
      const inner = stream[Symbol.asyncIterator]();
      const mapped = (error: unknown): never => {
        throw upstream.failure(error, 'mid-stream');
      };
      return {
        next: () => inner.next().catch(mapped),
        return: (value?: unknown) => (inner.return === undefined ? Promise.resolve({ done: true as const, value: undefined }) : inner.return(value).catch(mapped)),
      };
    },
  };
}

export function createRetryingUpstream(options: RetryingUpstreamOptions): UpstreamModel {
  const { primary, fallback, policy, timers, log, observer } = options;

  return {
    model: primary.model,
    async open(request: { messages: readonly ChatMessage[]; signal: AbortSignal }): Promise<UpstreamStream> {
      const { signal } = request;
      const plan: ReadonlyArray<{ upstream: UpstreamModel; attempts: number; role: 'primary' | 'fallback' }> = [
        { upstream: primary, attempts: 1 + policy.maxRetries, role: 'primary' },
        ...(fallback === undefined ? [] : [{ upstream: fallback, attempts: 1, role: 'fallback' as const }]),
      ];
      let waitedMs = 0;
      let lastRefusal: WxstreamError | undefined;
      for (const { upstream, attempts, role } of plan) {
        if (lastRefusal !== undefined) {
          log.warn({ code: lastRefusal.code, model: primary.model, fallbackModel: upstream.model }, 'the model is still refusing: trying the fallback');
          observer?.fellBack();
        }
        for (let attempt = 1; attempt <= attempts; attempt += 1) {
          signal.throwIfAborted();
          let raw: unknown;
          try {
            return answeredBy(await upstream.open(request), upstream);
          } catch (error) {
            if (signal.aborted) throw error;
            raw = error;
          }
          const refusal = upstream.failure(raw, 'before-stream');
          lastRefusal = refusal;
          if (!isRetryableRefusal(refusal.code)) throw refusal;
          if (attempt === attempts) {
            log.warn({ code: refusal.code, status: statusOf(raw), model: upstream.model, role, attempts }, 'the model refused every attempt');
            break;
          }
          const asked = retryAfterMs(raw, timers.now());
          const decision = nextRetryDelay({ policy, retry: attempt, retryAfterMs: asked, waitedMs, random: timers.random });
          if (!decision.retry) {
            log.warn(
              { code: refusal.code, status: statusOf(raw), model: upstream.model, role, attempt, retryAfterMs: asked, reason: decision.reason },
              'not retrying the model',
            );
            break;
          }
          log.warn(
            { code: refusal.code, status: statusOf(raw), model: upstream.model, role, attempt, delayMs: decision.delayMs, retryAfterMs: asked },
            'the model refused before the stream: retrying',
          );
          await timers.sleep(decision.delayMs, signal);
          waitedMs += decision.delayMs;
          observer?.retried(retryReason(refusal, statusOf(raw)));
        }
      }
      // The plan always has a primary, so a refusal was recorded before the loop ended.
      throw lastRefusal ?? new WxstreamError('upstream_unavailable', 'Model provider: no attempt was made');
    },
    // A side question (title, follow-ups) goes to the primary once: waiting to retry it would only
    // delay what it is for, and a reply that failed to get one loses nothing.
    complete: (request) => primary.complete(request),
    failure(error, phase) {
      // Failures of a returned stream arrive mapped already (by the model that answered).
      return error instanceof WxstreamError ? error : primary.failure(error, phase);
    },
  };
}
