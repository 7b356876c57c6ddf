import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_HTTP, loadHttpConfig } from '../src/http/http-config.ts';
import { DEFAULT_LIMITS, loadLimitsConfig } from '../src/limits/limits-config.ts';
import { isPrivateHost, loadMetricsConfig } from '../src/metrics/metrics-config.ts';
import { loadReplyLogConfig } from '../src/reply-log/reply-log-config.ts';
import { loadServerConfig } from '../src/server-config.ts';
import { loadVoiceConfig } from '../src/voice/voice-config.ts';
import { problemsOf } from './support/config-problems.ts';

test('the listener settings have safe defaults: headers in 10 s, the request in 30 s, 4096 connections, no proxy trusted', () => {
  const config = loadHttpConfig({});
  assert.deepEqual({ ...config, trustProxy: config.trustProxy.description }, { ...DEFAULT_HTTP, trustProxy: 'none' });
  assert.equal(config.trustProxy.trusts('127.0.0.1', 0), false);
});

test('TRUST_PROXY takes addresses, ranges and names; nonsense and a request timeout below the headers timeout are refused', () => {
  const trust = loadHttpConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy;
  assert.ok(trust.trusts('127.0.0.1', 0) && trust.trusts('10.1.2.3', 0) && !trust.trusts('8.8.8.8', 0));
  const problems = problemsOf(() => loadHttpConfig({ TRUST_PROXY: 'everyone', HEADERS_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '5000', MAX_CONNECTIONS: '0' }));
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.match(problems[0] ?? '', /TRUST_PROXY/);
  assert.match(problems.join('\n'), /REQUEST_TIMEOUT_MS \(5000\) must not be shorter than HEADERS_TIMEOUT_MS/);
  assert.match(problems.join('\n'), /MAX_CONNECTIONS/);
});

test('the door limits and stream caps are settings with documented defaults', () => {
  const limits = loadLimitsConfig({});
  assert.deepEqual(
    { login: limits.loginRate, public: limits.publicRate, api: limits.apiRate, streams: limits.maxStreamsPerUser, readers: limits.maxReadersPerReply },
    { login: DEFAULT_LIMITS.loginRate, public: DEFAULT_LIMITS.publicRate, api: DEFAULT_LIMITS.apiRate, streams: 4, readers: 4 },
  );
  const set = loadLimitsConfig({ LOGIN_RATE_LIMIT_PER_MINUTE: '0', API_RATE_LIMIT_BURST: '7', MAX_STREAMS_PER_USER: '2' });
  assert.deepEqual([set.loginRate.perMinute, set.apiRate.burst, set.maxStreamsPerUser], [0, 7, 2]);
  assert.equal(problemsOf(() => loadLimitsConfig({ PUBLIC_RATE_LIMIT_BURST: '0', MAX_READERS_PER_REPLY: 'many' })).length, 2);
  assert.equal(loadReplyLogConfig({}).maxBytes, 256 * 1024 * 1024);
  assert.equal(loadReplyLogConfig({ REPLY_LOG_MAX_BYTES: '1048576' }).maxBytes, 1_048_576);
});

test('in production /metrics needs METRICS_TOKEN unless the server listens on a private address', () => {
  const production = { NODE_ENV: 'production', TOKEN_SECRET: 'a-production-secret-that-is-long-enough' };
  assert.match(problemsOf(() => loadServerConfig(production)).join('\n'), /METRICS_TOKEN is required in production when HOST \(0\.0\.0\.0\)/);
  assert.match(problemsOf(() => loadMetricsConfig({ ...production, HOST: '203.0.113.5' })).join('\n'), /METRICS_TOKEN is required/);
  for (const HOST of ['127.0.0.1', '10.0.3.4', '172.20.0.1', '192.168.1.9', '::1', 'fd00::1', 'localhost']) {
    assert.deepEqual(problemsOf(() => loadMetricsConfig({ ...production, HOST })), [], HOST);
  }
  assert.deepEqual(problemsOf(() => loadServerConfig({ ...production, METRICS_TOKEN: 'scrape-token-0123456789' })), []);
  assert.deepEqual(problemsOf(() => loadMetricsConfig({ HOST: '0.0.0.0' })), [], 'outside production an open /metrics is allowed');
  assert.equal(isPrivateHost('172.32.0.1'), false);
  assert.equal(isPrivateHost('chat.example.com'), false);
});

test('VOICE_NAME and VOICE_NAMES must be voice names, never "." or an option', () => {
  assert.deepEqual(loadVoiceConfig({ VOICE_NAMES: 'youxiaoxun, youxiaozhi' }).extraVoices, ['youxiaoxun', 'youxiaozhi']);
  const problems = problemsOf(() => loadVoiceConfig({ VOICE_NAME: '..', VOICE_NAMES: 'ok,-h' }));
  assert.equal(problems.length, 2, problems.join('\n'));
});
