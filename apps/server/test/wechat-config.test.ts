import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { ConfigError } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { NoContentChecker } from '../src/wechat/content-checker.ts';
import { loadWechatConfig } from '../src/wechat/wechat-config.ts';
import { createWechatServices } from '../src/wechat/wechat-services.ts';
import { startFakeWechatServer } from './support/fake-wechat-server.ts';
import { createManualClock } from './support/manual-clock.ts';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadWechatConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  return [];
}

function silentLogger() {
  const sink = new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  return createLogger({ level: 'silent', destination: sink });
}

describe('WeChat configuration', () => {
  test('without credentials WeChat is off, with the production API, a 5 s timeout and checks failing closed', () => {
    assert.deepEqual(loadWechatConfig({}), {
      credentials: undefined,
      apiBaseUrl: 'https://api.weixin.qq.com',
      timeoutMs: 5000,
      contentCheckFailOpen: { user: false, assistant: false },
    });
  });

  test('appid, secret, base URL (trailing slashes dropped) and timeout are read, trimmed', () => {
    const config = loadWechatConfig({
      WECHAT_APPID: ' wx123 ',
      WECHAT_SECRET: 'secret-value',
      WECHAT_API_BASE_URL: 'http://127.0.0.1:9999/prefix//',
      WECHAT_TIMEOUT_MS: '250',
    });
    assert.deepEqual(config.credentials, { appid: 'wx123', secret: 'secret-value' });
    assert.equal(config.apiBaseUrl, 'http://127.0.0.1:9999/prefix');
    assert.equal(config.timeoutMs, 250);
  });

  test('CONTENT_CHECK_FAIL_OPEN takes false/none, true/all, user, assistant or both roles', () => {
    const failOpen = (value: string) => loadWechatConfig({ CONTENT_CHECK_FAIL_OPEN: value }).contentCheckFailOpen;
    assert.deepEqual(failOpen('false'), { user: false, assistant: false });
    assert.deepEqual(failOpen('none'), { user: false, assistant: false });
    assert.deepEqual(failOpen('TRUE'), { user: true, assistant: true });
    assert.deepEqual(failOpen('all'), { user: true, assistant: true });
    assert.deepEqual(failOpen('assistant'), { user: false, assistant: true });
    assert.deepEqual(failOpen('user'), { user: true, assistant: false });
    assert.deepEqual(failOpen('user, assistant'), { user: true, assistant: true });
  });

  test('every invalid variable is reported at once', () => {
    const problems = problemsOf({
      WECHAT_APPID: 'wx123',
      WECHAT_API_BASE_URL: 'ftp://example.com',
      WECHAT_TIMEOUT_MS: '0',
      CONTENT_CHECK_FAIL_OPEN: 'sometimes',
    });
    assert.equal(problems.length, 4);
    assert.match(problems[0] ?? '', /WECHAT_APPID and WECHAT_SECRET/);
    assert.match(problems[1] ?? '', /WECHAT_API_BASE_URL/);
    assert.match(problems[2] ?? '', /WECHAT_TIMEOUT_MS/);
    assert.match(problems[3] ?? '', /CONTENT_CHECK_FAIL_OPEN/);
  });

  test('a secret without an appid is refused, and a base URL with a query is refused', () => {
    assert.equal(problemsOf({ WECHAT_SECRET: 's' }).length, 1);
    assert.equal(problemsOf({ WECHAT_API_BASE_URL: 'https://api.weixin.qq.com/?x=1' }).length, 1);
  });
});

describe('WeChat services', () => {
  test('without credentials there is no WeChat login and the content check passes without contacting WeChat', async () => {
    const fake = await startFakeWechatServer();
    try {
      const services = createWechatServices({
        config: loadWechatConfig({ WECHAT_API_BASE_URL: fake.baseUrl }),
        clock: createManualClock(),
        logger: silentLogger(),
      });
      assert.equal(services.login, undefined);
      assert.ok(services.contentChecker instanceof NoContentChecker);
      assert.deepEqual(await services.contentChecker.checkText({ openid: 'o', text: '任何内容', role: 'user' }), { verdict: 'pass' });
      assert.equal(fake.requests.length, 0);
    } finally {
      await fake.close();
    }
  });

  test('with credentials, a login and a check go to the configured WeChat and share its access token', async () => {
    const clock = createManualClock(Date.UTC(2025, 0, 1));
    const fake = await startFakeWechatServer({ now: () => clock.now(), riskyWords: ['危险内容'] });
    try {
      const services = createWechatServices({
        config: loadWechatConfig({ WECHAT_APPID: fake.appid, WECHAT_SECRET: fake.secret, WECHAT_API_BASE_URL: fake.baseUrl }),
        clock,
        logger: silentLogger(),
      });
      fake.addLoginCode('services-code', 'openid-services');
      const identity = await services.login?.exchange('services-code');
      assert.deepEqual(identity, { openid: 'openid-services' });
      const passing = await services.contentChecker.checkText({ openid: 'openid-services', text: '你好。', role: 'user' });
      const risky = await services.contentChecker.checkText({ openid: 'openid-services', text: '这是危险内容。', role: 'assistant' });
      assert.equal(passing.verdict, 'pass');
      assert.equal(risky.verdict, 'risky');
      assert.deepEqual(
        fake.requests.map((request) => request.endpoint),
        ['jscode2session', 'stable_token', 'msg_sec_check', 'msg_sec_check'],
      );
    } finally {
      await fake.close();
    }
  });
});
