import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../src/config.ts';
import { retryAfterMs } from '../src/upstream/retry-after.ts';
import { isRetryableRefusal, nextRetryDelay, type RetryPolicy } from '../src/upstream/retry-policy.ts';
import { loadUpstreamRetryConfig } from '../src/upstream/upstream-retry-config.ts';

const policy: RetryPolicy = { maxRetries: 3, baseDelayMs: 500, maxDelayMs: 8000, budgetMs: 15_000 };
const refusedWith = (headers: Record<string, string>) => ({ status: 429, headers: new Headers(headers) });
const NOW = Date.UTC(2026, 0, 1, 8, 0, 0);

describe('Retry-After', () => {
  test('delta-seconds become milliseconds, fractions included', () => {
    assert.equal(retryAfterMs(refusedWith({ 'Retry-After': '2' }), NOW), 2000);
    assert.equal(retryAfterMs(refusedWith({ 'Retry-After': '0.25' }), NOW), 250);
  });

  test('retry-after-ms wins over Retry-After', () => {
    assert.equal(retryAfterMs(refusedWith({ 'Retry-After': '20', 'retry-after-ms': '1500.4' }), NOW), 1501);
  });

  test('an HTTP-date is measured from now, and a past date means at once', () => {
    assert.equal(retryAfterMs(refusedWith({ 'Retry-After': new Date(NOW + 3000).toUTCString() }), NOW), 3000);
    assert.equal(retryAfterMs(refusedWith({ 'Retry-After': new Date(NOW - 3000).toUTCString() }), NOW), 0);
  });

  test('no headers, no header or an unreadable one say nothing', () => {
    assert.equal(retryAfterMs(new Error('connection refused'), NOW), undefined);
    assert.equal(retryAfterMs(refusedWith({}), NOW), undefined);
    assert.equal(retryAfterMs(refusedWith({ 'Retry-After': 'soon' }), NOW), undefined);
    assert.equal(retryAfterMs(refusedWith({ 'Retry-After': '-5' }), NOW), undefined);
  });
});

describe('retry policy', () => {
  test('only rate limits and unavailability are retried', () => {
    assert.deepEqual(
      (['upstream_rate_limited', 'upstream_unavailable', 'upstream_auth_failed', 'upstream_bad_request', 'upstream_timeout', 'upstream_error'] as const).filter(isRetryableRefusal),
      ['upstream_rate_limited', 'upstream_unavailable'],
    );
  });

  test('backoff is full jitter under a ceiling that doubles per retry up to the cap', () => {
    const ceilings = [1, 2, 3, 4, 5, 6].map((retry) => nextRetryDelay({ policy: { ...policy, budgetMs: 1e9 }, retry, retryAfterMs: undefined, waitedMs: 0, random: () => 0.999999 }));
    assert.deepEqual(
      ceilings.map((decision) => (decision.retry ? decision.delayMs : -1)),
      [499, 999, 1999, 3999, 7999, 7999],
    );
    const lowest = nextRetryDelay({ policy, retry: 4, retryAfterMs: undefined, waitedMs: 0, random: () => 0 });
    assert.deepEqual(lowest, { retry: true, delayMs: 0 });
  });

  test('a provider asking for a wait gets exactly that wait', () => {
    assert.deepEqual(nextRetryDelay({ policy, retry: 1, retryAfterMs: 3000, waitedMs: 0, random: () => 0 }), { retry: true, delayMs: 3000 });
  });

  test('a provider asking for longer than the cap is given up, not waited on', () => {
    assert.deepEqual(nextRetryDelay({ policy, retry: 1, retryAfterMs: 8001, waitedMs: 0, random: () => 0 }), { retry: false, reason: 'retry_after_too_long' });
  });

  test('a wait that would overrun the total budget is not started', () => {
    assert.deepEqual(nextRetryDelay({ policy, retry: 2, retryAfterMs: 6000, waitedMs: 10_000, random: () => 0 }), { retry: false, reason: 'budget_exhausted' });
    assert.deepEqual(nextRetryDelay({ policy, retry: 2, retryAfterMs: 5000, waitedMs: 10_000, random: () => 0 }), { retry: true, delayMs: 5000 });
  });
});

describe('retry configuration', () => {
  test('defaults: two retries, 500 ms base, 8 s cap, 15 s budget, no fallback', () => {
    assert.deepEqual(loadUpstreamRetryConfig({}), {
      policy: { maxRetries: 2, baseDelayMs: 500, maxDelayMs: 8000, budgetMs: 15_000 },
      fallback: undefined,
    });
  });

  test('a fallback model alone stays at the primary provider; a base URL names another one', () => {
    assert.deepEqual(loadUpstreamRetryConfig({ OPENAI_FALLBACK_MODEL: 'qwen-plus' }).fallback, { model: 'qwen-plus', baseURL: undefined, apiKey: undefined });
    assert.deepEqual(loadUpstreamRetryConfig({ OPENAI_FALLBACK_BASE_URL: 'https://api.deepseek.com/', OPENAI_FALLBACK_API_KEY: 'sk-x' }).fallback, {
      model: undefined,
      baseURL: 'https://api.deepseek.com',
      apiKey: 'sk-x',
    });
  });

  test('every invalid variable is reported at once', () => {
    assert.throws(
      () => loadUpstreamRetryConfig({ UPSTREAM_MAX_RETRIES: '11', UPSTREAM_RETRY_MAX_DELAY_MS: 'x', OPENAI_FALLBACK_BASE_URL: 'ftp://a', OPENAI_FALLBACK_API_KEY: 'sk-y' }),
      (error: unknown) => error instanceof ConfigError && error.problems.length === 3,
    );
    assert.throws(
      () => loadUpstreamRetryConfig({ OPENAI_FALLBACK_API_KEY: 'sk-y' }),
      (error: unknown) => error instanceof ConfigError && /OPENAI_FALLBACK_API_KEY needs OPENAI_FALLBACK_BASE_URL/.test(error.message),
    );
  });
});
