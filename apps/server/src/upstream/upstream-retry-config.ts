/**
 * Configuration of retries and the fallback model, read from an environment-like record.
 *
 * Contract: `loadUpstreamRetryConfig(env)` is pure and throws one `ConfigError` listing every
 * invalid variable (the convention of `src/config.ts`).
 *
 * | variable                     | default | meaning                                                        |
 * |------------------------------|---------|----------------------------------------------------------------|
 * | UPSTREAM_MAX_RETRIES         | 2       | retries of a refused call (429, 5xx, refused/reset before headers); 0 = none |
 * | UPSTREAM_RETRY_BASE_DELAY_MS | 500     | first backoff ceiling, doubled per retry, full jitter          |
 * | UPSTREAM_RETRY_MAX_DELAY_MS  | 8000    | longest single wait; a longer `Retry-After` gives the model up |
 * | UPSTREAM_RETRY_BUDGET_MS     | 15000   | longest total wait over one request's retries                  |
 * | OPENAI_FALLBACK_MODEL        | —       | model tried once when the primary keeps refusing (same provider unless a base URL is set) |
 * | OPENAI_FALLBACK_BASE_URL     | —       | another provider for the fallback (default model: OPENAI_MODEL) |
 * | OPENAI_FALLBACK_API_KEY      | —       | that provider's key; only with OPENAI_FALLBACK_BASE_URL; never logged |
 */
import { ConfigError, type Env } from '../config.ts';
import { createEnvReader } from '../limits/env-reader.ts';
import type { RetryPolicy } from './retry-policy.ts';

/** A fallback as configured; unset parts are taken from the primary when the upstream is built. */
export interface FallbackConfig {
  readonly model: string | undefined;
  /** Set: another provider, reached with `apiKey`. Unset: the primary's provider and key. */
  readonly baseURL: string | undefined;
  readonly apiKey: string | undefined;
}

export interface UpstreamRetryConfig {
  readonly policy: RetryPolicy;
  readonly fallback: FallbackConfig | undefined;
}

export const DEFAULT_UPSTREAM_MAX_RETRIES = 2;
export const DEFAULT_UPSTREAM_RETRY_BASE_DELAY_MS = 500;
export const DEFAULT_UPSTREAM_RETRY_MAX_DELAY_MS = 8000;
export const DEFAULT_UPSTREAM_RETRY_BUDGET_MS = 15_000;

export function loadUpstreamRetryConfig(env: Env): UpstreamRetryConfig {
  const problems: string[] = [];
  const read = createEnvReader(env, problems);
  const policy: RetryPolicy = {
    maxRetries: read.integer('UPSTREAM_MAX_RETRIES', DEFAULT_UPSTREAM_MAX_RETRIES, 0, 10),
    baseDelayMs: read.integer('UPSTREAM_RETRY_BASE_DELAY_MS', DEFAULT_UPSTREAM_RETRY_BASE_DELAY_MS, 0, 60_000),
    maxDelayMs: read.integer('UPSTREAM_RETRY_MAX_DELAY_MS', DEFAULT_UPSTREAM_RETRY_MAX_DELAY_MS, 0, 120_000),
    budgetMs: read.integer('UPSTREAM_RETRY_BUDGET_MS', DEFAULT_UPSTREAM_RETRY_BUDGET_MS, 0, 600_000),
  };

  const model = read.text('OPENAI_FALLBACK_MODEL');
  const baseURLRaw = read.text('OPENAI_FALLBACK_BASE_URL');
  const apiKey = read.text('OPENAI_FALLBACK_API_KEY');
  let baseURL: string | undefined;
  if (baseURLRaw !== undefined) {
    try {
      const url = new URL(baseURLRaw);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
      baseURL = baseURLRaw.replace(/\/+$/, '');
    } catch {
      problems.push(`OPENAI_FALLBACK_BASE_URL must be an http(s) URL, got "${baseURLRaw}"`);
    }
  }
  if (apiKey !== undefined && baseURLRaw === undefined) {
    // Sending a second key to the primary's provider is never what was meant.
    problems.push('OPENAI_FALLBACK_API_KEY needs OPENAI_FALLBACK_BASE_URL (without it the fallback uses the primary provider and key)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const fallback = model === undefined && baseURL === undefined ? undefined : { model, baseURL, apiKey };
  return { policy, fallback };
}
