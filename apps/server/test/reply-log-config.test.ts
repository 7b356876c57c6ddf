import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../src/config.ts';
import { DEFAULT_REDIS_KEY_PREFIX, loadRedisConfig } from '../src/redis/redis-config.ts';
import { DEFAULT_REPLY_LOG, loadReplyLogConfig } from '../src/reply-log/reply-log-config.ts';
import { parseLastEventId } from '../src/reply-log/reply-log.ts';

describe('reply log configuration', () => {
  test('with nothing set, replies stay resumable for 10 minutes, hold up to 50,000 events, and a producer silent for 15 s is asked after every 5 s', () => {
    assert.deepEqual(loadReplyLogConfig({}), { retentionMs: 600_000, maxEvents: 50_000, producerLeaseTtlMs: 15_000, producerCheckIntervalMs: 5000, maxBytes: 256 * 1024 * 1024 });
    assert.deepEqual(loadReplyLogConfig({}), DEFAULT_REPLY_LOG);
  });

  test('REPLY_LOG_TTL_MS, REPLY_LOG_MAX_EVENTS and the producer lease settings override the defaults', () => {
    assert.deepEqual(
      loadReplyLogConfig({ REPLY_LOG_TTL_MS: '120000', REPLY_LOG_MAX_EVENTS: '2000', REPLY_PRODUCER_LEASE_TTL_MS: '3000', REPLY_PRODUCER_CHECK_INTERVAL_MS: '1000' }),
      { retentionMs: 120_000, maxEvents: 2000, producerLeaseTtlMs: 3000, producerCheckIntervalMs: 1000, maxBytes: 256 * 1024 * 1024 },
    );
  });

  test('invalid values are all reported at once', () => {
    assert.throws(
      () => loadReplyLogConfig({ REPLY_LOG_TTL_MS: '10', REPLY_LOG_MAX_EVENTS: 'lots', REPLY_PRODUCER_LEASE_TTL_MS: '5', REPLY_PRODUCER_CHECK_INTERVAL_MS: 'often' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.length === 4 &&
        error.problems.some((p) => p.includes('REPLY_LOG_TTL_MS')) &&
        error.problems.some((p) => p.includes('REPLY_PRODUCER_LEASE_TTL_MS')),
    );
  });
});

describe('Redis configuration', () => {
  test('without REDIS_URL shared state stays in memory, and keys would start with wxstream:', () => {
    assert.deepEqual(loadRedisConfig({}), { url: undefined, keyPrefix: DEFAULT_REDIS_KEY_PREFIX });
    assert.equal(DEFAULT_REDIS_KEY_PREFIX, 'wxstream:');
  });

  test('a redis:// or rediss:// URL and a key prefix are taken as given', () => {
    assert.deepEqual(loadRedisConfig({ REDIS_URL: 'rediss://:secret@cache.internal:6380/2', REDIS_KEY_PREFIX: 'chat-prod:' }), {
      url: 'rediss://:secret@cache.internal:6380/2',
      keyPrefix: 'chat-prod:',
    });
  });

  test('a URL that is not a Redis URL is refused', () => {
    for (const url of ['http://cache:6379', 'cache:6379', 'redis://']) {
      assert.throws(() => loadRedisConfig({ REDIS_URL: url }), (error: unknown) => error instanceof ConfigError && error.problems.length === 1, url);
    }
  });

  test('the refusal does not echo the URL, which may hold a password', () => {
    assert.throws(
      () => loadRedisConfig({ REDIS_URL: 'http://:hunter2@cache:6379' }),
      (error: unknown) => error instanceof ConfigError && error.message.includes('REDIS_URL') && !error.message.includes('hunter2'),
    );
  });
});

describe('Last-Event-ID', () => {
  test('absent or blank reads from the start; a number resumes after it', () => {
    assert.equal(parseLastEventId(undefined), 0);
    assert.equal(parseLastEventId('  '), 0);
    assert.equal(parseLastEventId('42'), 42);
    assert.equal(parseLastEventId(' 7 '), 7);
  });

  test('anything else is malformed', () => {
    for (const header of ['-1', '1.5', 'abc', '1e3', '9999999999999999']) assert.equal(parseLastEventId(header), undefined, header);
  });
});
