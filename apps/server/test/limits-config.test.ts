import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadLimitsConfig } from '../src/limits/limits-config.ts';
import { loadMetricsConfig } from '../src/metrics/metrics-config.ts';
import { problemsOf } from './support/config-problems.ts';

test('an empty environment gives the documented limits', () => {
  assert.deepEqual(loadLimitsConfig({}), {
    rateLimitPerMinute: 20,
    rateLimitBurst: 5,
    shareRateLimitPerMinute: 10,
    shareRateLimitBurst: 5,
    dailyTokenQuota: 200_000,
    quotaUtcOffsetMinutes: 480,
    replyLockTtlMs: 120_000,
    maxConversationMessages: 200,
    maxContextTokens: 8000,
    systemPrompt: undefined,
    loginRate: { perMinute: 20, burst: 10 },
    publicRate: { perMinute: 600, burst: 200 },
    apiRate: { perMinute: 300, burst: 100 },
    maxStreamsPerUser: 4,
    maxReadersPerReply: 4,
  });
});

test('every limit is read from the environment, including a negative offset and zeros that switch limits off', () => {
  assert.deepEqual(
    loadLimitsConfig({
      RATE_LIMIT_PER_MINUTE: '0',
      RATE_LIMIT_BURST: '10',
      SHARE_RATE_LIMIT_PER_MINUTE: '0',
      SHARE_RATE_LIMIT_BURST: '3',
      DAILY_TOKEN_QUOTA: '0',
      QUOTA_UTC_OFFSET_MINUTES: '-300',
      REPLY_LOCK_TTL_MS: '5000',
      MAX_CONVERSATION_MESSAGES: '50',
      MAX_CONTEXT_TOKENS: '32000',
      SYSTEM_PROMPT: '  你是一个乐于助人的助手。\n回答要简洁。  ',
    }),
    {
      rateLimitPerMinute: 0,
      rateLimitBurst: 10,
      shareRateLimitPerMinute: 0,
      shareRateLimitBurst: 3,
      dailyTokenQuota: 0,
      quotaUtcOffsetMinutes: -300,
      replyLockTtlMs: 5000,
      maxConversationMessages: 50,
      maxContextTokens: 32_000,
      systemPrompt: '你是一个乐于助人的助手。\n回答要简洁。',
      loginRate: { perMinute: 20, burst: 10 },
      publicRate: { perMinute: 600, burst: 200 },
      apiRate: { perMinute: 300, burst: 100 },
      maxStreamsPerUser: 4,
      maxReadersPerReply: 4,
    },
  );
});

test('blank values fall back to the defaults and a blank system prompt means none', () => {
  const config = loadLimitsConfig({ RATE_LIMIT_PER_MINUTE: '  ', SYSTEM_PROMPT: ' \n ' });
  assert.equal(config.rateLimitPerMinute, 20);
  assert.equal(config.systemPrompt, undefined);
});

test('an explicit plus sign and "-0" are read as the numbers they are', () => {
  assert.equal(loadLimitsConfig({ QUOTA_UTC_OFFSET_MINUTES: '+330' }).quotaUtcOffsetMinutes, 330);
  assert.ok(Object.is(loadLimitsConfig({ QUOTA_UTC_OFFSET_MINUTES: '-0' }).quotaUtcOffsetMinutes, 0));
});

test('every invalid limit is reported at once, naming the variable and the rule', () => {
  const problems = problemsOf(() =>
    loadLimitsConfig({
      RATE_LIMIT_PER_MINUTE: 'twenty',
      RATE_LIMIT_BURST: '0',
      SHARE_RATE_LIMIT_PER_MINUTE: '-1',
      SHARE_RATE_LIMIT_BURST: '0',
      DAILY_TOKEN_QUOTA: '-1',
      QUOTA_UTC_OFFSET_MINUTES: '900',
      REPLY_LOCK_TTL_MS: '10',
      MAX_CONVERSATION_MESSAGES: '1',
      MAX_CONTEXT_TOKENS: '1.5',
    }),
  );
  assert.deepEqual(problems, [
    'RATE_LIMIT_PER_MINUTE must be a whole number (not negative), got "twenty"',
    'RATE_LIMIT_BURST must be between 1 and 10000, got 0',
    'SHARE_RATE_LIMIT_PER_MINUTE must be a whole number (not negative), got "-1"',
    'SHARE_RATE_LIMIT_BURST must be between 1 and 10000, got 0',
    'DAILY_TOKEN_QUOTA must be a whole number (not negative), got "-1"',
    'QUOTA_UTC_OFFSET_MINUTES must be between -720 and 840, got 900',
    'REPLY_LOCK_TTL_MS must be between 1000 and 86400000, got 10',
    'MAX_CONVERSATION_MESSAGES must be between 2 and 100000, got 1',
    'MAX_CONTEXT_TOKENS must be a whole number (not negative), got "1.5"',
  ]);
});

test('a rate above one request per millisecond is refused', () => {
  assert.deepEqual(problemsOf(() => loadLimitsConfig({ RATE_LIMIT_PER_MINUTE: '60001' })), [
    'RATE_LIMIT_PER_MINUTE must be between 0 and 60000, got 60001',
  ]);
});

test('a malformed offset is reported as not a whole number', () => {
  assert.deepEqual(problemsOf(() => loadLimitsConfig({ QUOTA_UTC_OFFSET_MINUTES: 'UTC+8' })), [
    'QUOTA_UTC_OFFSET_MINUTES must be a whole number, got "UTC+8"',
  ]);
});

test('metrics are open with process metrics by default', () => {
  assert.deepEqual(loadMetricsConfig({}), { token: undefined, collectProcessMetrics: true });
  assert.deepEqual(loadMetricsConfig({ METRICS_TOKEN: 'scrape-token-0123456789', METRICS_PROCESS: 'off' }), {
    token: 'scrape-token-0123456789',
    collectProcessMetrics: false,
  });
});

test('a short metrics token and a bad flag are reported together', () => {
  assert.deepEqual(problemsOf(() => loadMetricsConfig({ METRICS_TOKEN: 'short', METRICS_PROCESS: 'sometimes' })), [
    'METRICS_TOKEN must be at least 16 characters long',
    'METRICS_PROCESS must be true or false, got "sometimes"',
  ]);
});
