import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../src/config.ts';
import { loadServerConfig } from '../src/server-config.ts';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadServerConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

test('an empty environment gives the embedded defaults: SQLite under .data, no WeChat, development login', () => {
  const config = loadServerConfig({});
  assert.deepEqual(config.storage, { databaseUrl: undefined, databasePath: '.data/wxstream.sqlite', checkpointIntervalMs: 1000, checkpointChars: 500 });
  assert.equal(config.logMessageText, false);
  assert.equal(config.login, 'dev');
  assert.equal(config.devLoginOverridden, false);
  assert.equal(config.wechat.credentials, undefined);
  assert.equal(config.limits.dailyTokenQuota, 200_000);
  assert.equal(config.metrics.token, undefined);
  assert.equal(config.port, 3000);
});

test('every invalid variable of every part is reported at once', () => {
  const problems = problemsOf({
    PORT: 'eighty',
    RATE_LIMIT_PER_MINUTE: 'many',
    METRICS_TOKEN: 'short',
    WECHAT_APPID: 'wx-only-the-appid',
    DATABASE_PATH: ' ',
    REPLY_CHECKPOINT_INTERVAL_MS: '5',
    REPLY_CHECKPOINT_CHARS: 'lots',
    LOG_MESSAGE_TEXT: 'perhaps',
  });
  const starts = [
    'PORT must be a whole number',
    'RATE_LIMIT_PER_MINUTE must be a whole number',
    'METRICS_TOKEN must be at least',
    'WECHAT_APPID and WECHAT_SECRET must be set together',
    'REPLY_CHECKPOINT_INTERVAL_MS must be between 10',
    'REPLY_CHECKPOINT_CHARS must be a whole number',
    'LOG_MESSAGE_TEXT must be true or false',
  ];
  assert.equal(problems.length, starts.length, problems.join('\n'));
  for (const start of starts) assert.ok(problems.some((problem) => problem.startsWith(start)), start);
});

test('WeChat credentials switch to WeChat login, overriding an explicit DEV_LOGIN=true', () => {
  const wechat = { WECHAT_APPID: 'wx0123456789', WECHAT_SECRET: 'secret-0123456789' };
  assert.equal(loadServerConfig(wechat).login, 'wechat');
  const both = loadServerConfig({ ...wechat, DEV_LOGIN: 'true' });
  assert.equal(both.login, 'wechat');
  assert.equal(both.devLoginOverridden, true);
});

test('without WeChat, production refuses logins unless DEV_LOGIN=true, and DEV_LOGIN=false refuses them anywhere', () => {
  // A production listener on every interface needs a metrics token (hardening-config.test.ts).
  const secret = { TOKEN_SECRET: 's'.repeat(32), METRICS_TOKEN: 'm'.repeat(16) };
  assert.equal(loadServerConfig({ ...secret, NODE_ENV: 'production' }).login, 'disabled');
  assert.equal(loadServerConfig({ ...secret, NODE_ENV: 'production', DEV_LOGIN: 'true' }).login, 'dev');
  assert.equal(loadServerConfig({ DEV_LOGIN: 'false' }).login, 'disabled');
});

test('storage settings are read, including an in-memory database', () => {
  const config = loadServerConfig({
    DATABASE_PATH: ':memory:',
    REPLY_CHECKPOINT_INTERVAL_MS: '250',
    REPLY_CHECKPOINT_CHARS: '64',
    LOG_MESSAGE_TEXT: 'yes',
  });
  assert.deepEqual(config.storage, { databaseUrl: undefined, databasePath: ':memory:', checkpointIntervalMs: 250, checkpointChars: 64 });
  assert.equal(config.logMessageText, true);
});

test('shared state: without REDIS_URL and DATABASE_URL everything is local, and replies continue when their client leaves', () => {
  const config = loadServerConfig({});
  assert.deepEqual(config.redis, { url: undefined, keyPrefix: 'wxstream:' });
  assert.deepEqual(config.replyLog, { retentionMs: 600_000, maxEvents: 50_000, producerLeaseTtlMs: 15_000, producerCheckIntervalMs: 5000, maxBytes: 256 * 1024 * 1024 });
  assert.equal(config.continueOnDisconnect, true);
});

test('shared state: DATABASE_URL, REDIS_URL, the reply log and CONTINUE_ON_DISCONNECT are read, and bad ones reported together', () => {
  const config = loadServerConfig({
    DATABASE_URL: 'postgres://app@db:5432/wxstream',
    REDIS_URL: 'redis://cache:6379',
    REDIS_KEY_PREFIX: 'chat:',
    REPLY_LOG_TTL_MS: '5000',
    REPLY_LOG_MAX_EVENTS: '1000',
    CONTINUE_ON_DISCONNECT: 'false',
  });
  assert.equal(config.storage.databaseUrl, 'postgres://app@db:5432/wxstream');
  assert.deepEqual(config.redis, { url: 'redis://cache:6379', keyPrefix: 'chat:' });
  assert.deepEqual(config.replyLog, { retentionMs: 5000, maxEvents: 1000, producerLeaseTtlMs: 15_000, producerCheckIntervalMs: 5000, maxBytes: 256 * 1024 * 1024 });
  assert.equal(config.continueOnDisconnect, false);
  const problems = problemsOf({ REDIS_URL: 'http://cache', REPLY_LOG_TTL_MS: 'soon', CONTINUE_ON_DISCONNECT: 'maybe' });
  assert.equal(problems.length, 3, problems.join('\n'));
});
