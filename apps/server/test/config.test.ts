import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

test('an empty environment gives the documented defaults and the offline model', () => {
  assert.deepEqual(loadConfig({}), {
    port: 3000,
    host: '0.0.0.0',
    production: false,
    logLevel: 'info',
    tokenSecret: undefined,
    tokenTtlSeconds: 604_800,
    devLogin: true,
    upstream: { kind: 'offline', model: 'wxstream-offline', chunkDelayMs: 40 },
    heartbeatIntervalMs: 15_000,
    upstreamIdleTimeoutMs: 60_000,
    maxMessageChars: 4000,
    maxBodyBytes: 65_536,
    shutdownGraceMs: 10_000,
  });
});

test('an API key alone selects OpenAI with the default model', () => {
  assert.deepEqual(loadConfig({ OPENAI_API_KEY: 'sk-abc' }).upstream, {
    kind: 'openai-compatible',
    apiKey: 'sk-abc',
    baseURL: undefined,
    model: 'gpt-4o-mini',
  });
});

test('a base URL alone selects a keyless compatible provider such as Ollama', () => {
  assert.deepEqual(loadConfig({ OPENAI_BASE_URL: 'http://localhost:11434/v1/', OPENAI_MODEL: 'qwen2.5:7b' }).upstream, {
    kind: 'openai-compatible',
    apiKey: undefined,
    baseURL: 'http://localhost:11434/v1',
    model: 'qwen2.5:7b',
  });
});

test('numbers, flags and levels are read from the environment', () => {
  const config = loadConfig({
    PORT: '8080',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'WARN',
    HEARTBEAT_INTERVAL_MS: '5000',
    UPSTREAM_IDLE_TIMEOUT_MS: '30000',
    MAX_MESSAGE_CHARS: '100',
    MAX_BODY_BYTES: '1024',
    SHUTDOWN_GRACE_MS: '0',
    TOKEN_TTL_SECONDS: '60',
    DEV_LOGIN: 'off',
  });
  assert.equal(config.port, 8080);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.logLevel, 'warn');
  assert.equal(config.heartbeatIntervalMs, 5000);
  assert.equal(config.upstreamIdleTimeoutMs, 30_000);
  assert.equal(config.maxMessageChars, 100);
  assert.equal(config.maxBodyBytes, 1024);
  assert.equal(config.shutdownGraceMs, 0);
  assert.equal(config.tokenTtlSeconds, 60);
  assert.equal(config.devLogin, false);
});

test('every invalid variable is reported at once', () => {
  const problems = problemsOf({
    PORT: 'eighty',
    LOG_LEVEL: 'loud',
    HEARTBEAT_INTERVAL_MS: '0',
    MAX_BODY_BYTES: '-5',
    OPENAI_BASE_URL: 'ftp://example.com',
    DEV_LOGIN: 'maybe',
    TOKEN_SECRET: 'short',
  });
  assert.equal(problems.length, 7);
  assert.ok(problems.some((problem) => problem.startsWith('PORT must be a whole number')));
  assert.ok(problems.some((problem) => problem.startsWith('LOG_LEVEL must be one of')));
  assert.ok(problems.some((problem) => problem.startsWith('HEARTBEAT_INTERVAL_MS must be between 1')));
  assert.ok(problems.some((problem) => problem.startsWith('MAX_BODY_BYTES must be a whole number')));
  assert.ok(problems.some((problem) => problem.startsWith('OPENAI_BASE_URL must be an http(s) URL')));
  assert.ok(problems.some((problem) => problem.startsWith('DEV_LOGIN must be true or false')));
  assert.ok(problems.some((problem) => problem.startsWith('TOKEN_SECRET must be at least 32')));
});

test('production requires TOKEN_SECRET and turns development login off by default', () => {
  assert.deepEqual(problemsOf({ NODE_ENV: 'production' }), ['TOKEN_SECRET is required when NODE_ENV=production (tokens must survive restarts)']);
  const config = loadConfig({ NODE_ENV: 'production', TOKEN_SECRET: 's'.repeat(32) });
  assert.equal(config.production, true);
  assert.equal(config.devLogin, false);
});
