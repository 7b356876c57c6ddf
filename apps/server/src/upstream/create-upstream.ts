/**
 * The model the chat route talks to, as configured: the primary provider through the SDK, the
 * fallback (if any), and the retry decorator over both.
 *
 * Contract: the fallback takes what it does not set from the primary — `OPENAI_FALLBACK_MODEL`
 * alone is another model at the same provider with the same key; `OPENAI_FALLBACK_BASE_URL` is
 * another provider with its own key (`OPENAI_FALLBACK_API_KEY`, none for keyless local ones) and
 * the primary's model name unless one is set. A fallback identical to the primary is ignored with
 * a warning. Timers default to the injected clock and `Math.random`; tests replace them.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { abortableSleep } from './abortable-sleep.ts';
import { createOpenAIUpstream, type OpenAIUpstreamOptions } from './openai-upstream.ts';
import { createRetryingUpstream, type RetryObserver, type RetryTimers } from './retrying-upstream.ts';
import type { UpstreamRetryConfig } from './upstream-retry-config.ts';
import type { UpstreamModel } from './upstream-model.ts';

export interface ConfiguredUpstreamOptions {
  readonly primary: OpenAIUpstreamOptions;
  readonly retry: UpstreamRetryConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly timers?: Partial<RetryTimers>;
  /** Told of every retry and fallback (the metrics). */
  readonly observer?: RetryObserver;
}

function fallbackOptions(options: ConfiguredUpstreamOptions): OpenAIUpstreamOptions | undefined {
  const { primary } = options;
  const configured = options.retry.fallback;
  if (configured === undefined) return undefined;
  const resolved: OpenAIUpstreamOptions =
    configured.baseURL === undefined
      ? { ...primary, model: configured.model ?? primary.model }
      : { apiKey: configured.apiKey, baseURL: configured.baseURL, model: configured.model ?? primary.model, headersTimeoutMs: primary.headersTimeoutMs };
  if (resolved.baseURL === primary.baseURL && resolved.model === primary.model) {
    options.logger.warn({ model: primary.model }, 'the fallback is the primary model at the same provider: ignored');
    return undefined;
  }
  return resolved;
}

export function createConfiguredUpstream(options: ConfiguredUpstreamOptions): UpstreamModel {
  const { clock, logger, retry } = options;
  const primary = createOpenAIUpstream(options.primary);
  const fallbackSettings = fallbackOptions(options);
  const fallback = fallbackSettings === undefined ? undefined : createOpenAIUpstream(fallbackSettings);
  logger.info(
    {
      maxRetries: retry.policy.maxRetries,
      maxDelayMs: retry.policy.maxDelayMs,
      budgetMs: retry.policy.budgetMs,
      fallback:
        fallbackSettings === undefined
          ? 'none'
          : { model: fallbackSettings.model, baseURL: fallbackSettings.baseURL ?? 'the primary provider', apiKey: fallbackSettings.apiKey === undefined ? 'not set' : 'set' },
    },
    'refused model calls are retried before the stream starts',
  );
  if (retry.policy.maxRetries > 0 && retry.policy.budgetMs >= options.primary.headersTimeoutMs) {
    // The chat route's idle watchdog covers the whole open phase, retries included.
    logger.warn(
      { budgetMs: retry.policy.budgetMs, idleTimeoutMs: options.primary.headersTimeoutMs },
      'UPSTREAM_RETRY_BUDGET_MS is not below UPSTREAM_IDLE_TIMEOUT_MS: a request can time out while it waits to retry',
    );
  }
  const timers: RetryTimers = {
    sleep: options.timers?.sleep ?? ((ms, signal) => abortableSleep(clock, ms, signal)),
    random: options.timers?.random ?? Math.random,
    now: options.timers?.now ?? (() => clock.now()),
  };
  return createRetryingUpstream({
    primary,
    ...(fallback === undefined ? {} : { fallback }),
    ...(options.observer === undefined ? {} : { observer: options.observer }),
    policy: retry.policy,
    timers,
    log: logger,
  });
}
