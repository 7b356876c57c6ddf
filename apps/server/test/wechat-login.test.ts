import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../src/logger.ts';
import { createCodeToSession } from '../src/wechat/code-to-session.ts';
import type { WechatCredentials } from '../src/wechat/wechat-config.ts';
import { WechatApiError } from '../src/wechat/wechat-errors.ts';
import { createWechatHttp } from '../src/wechat/wechat-http.ts';
import { startFakeWechatServer, type FakeWechatServer } from './support/fake-wechat-server.ts';
import { createManualClock } from './support/manual-clock.ts';

const TIMEOUT_MS = 5000;

function captureLogs() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return {
    logger: createLogger({ level: 'debug', destination: sink }),
    raw: () => lines.join(''),
    records: () => lines.join('').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

interface Expected {
  code: string;
  status: number;
  retryable: boolean;
  failure: string;
  errcode?: number;
}

function matches(expected: Expected) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof WechatApiError, `expected a WechatApiError, got ${String(error)}`);
    assert.equal(error.code, expected.code);
    assert.equal(error.status, expected.status);
    assert.equal(error.retryable, expected.retryable);
    assert.equal(error.failure, expected.failure);
    assert.equal(error.api, 'jscode2session');
    if (expected.errcode !== undefined) assert.equal(error.errcode, expected.errcode);
    return true;
  };
}

describe('WeChat login (jscode2session)', () => {
  let fake: FakeWechatServer;
  before(async () => {
    fake = await startFakeWechatServer();
  });
  after(() => fake.close());

  const setup = (options: { baseUrl?: string; credentials?: Partial<WechatCredentials> } = {}) => {
    const clock = createManualClock(Date.UTC(2025, 0, 1));
    const logs = captureLogs();
    const http = createWechatHttp({ baseUrl: options.baseUrl ?? fake.baseUrl, timeoutMs: TIMEOUT_MS, clock, logger: logs.logger });
    const login = createCodeToSession({ http, credentials: { appid: fake.appid, secret: fake.secret, ...options.credentials } });
    return { clock, logs, login };
  };

  test('a valid code comes back as the openid and unionid, and never as the session key', async () => {
    const { login } = setup();
    fake.addLoginCode('code-valid-1', 'openid-alice', 'unionid-alice');
    const before = fake.requests.length;
    const identity = await login.exchange('code-valid-1');
    assert.deepEqual(identity, { openid: 'openid-alice', unionid: 'unionid-alice' });
    const [request] = fake.requests.slice(before);
    assert.equal(request?.method, 'GET');
    assert.equal(request?.path, '/sns/jscode2session');
    assert.deepEqual(request?.query, { appid: fake.appid, secret: fake.secret, js_code: 'code-valid-1', grant_type: 'authorization_code' });
  });

  test('an identity without unionid has no unionid key', async () => {
    const { login } = setup();
    fake.addLoginCode('code-no-union', 'openid-bob');
    assert.deepEqual(await login.exchange('code-no-union'), { openid: 'openid-bob' });
  });

  test('an unknown code is login_code_invalid (401, not retryable) from errcode 40029', async () => {
    const { login } = setup();
    await assert.rejects(login.exchange('never-issued'), matches({ code: 'login_code_invalid', status: 401, retryable: false, failure: 'errcode', errcode: 40029 }));
  });

  test('a code exchanged twice is login_code_invalid the second time (40163, code been used)', async () => {
    const { login } = setup();
    fake.addLoginCode('code-once', 'openid-carol');
    await login.exchange('code-once');
    await assert.rejects(login.exchange('code-once'), matches({ code: 'login_code_invalid', status: 401, retryable: false, failure: 'errcode', errcode: 40163 }));
  });

  test("WeChat's minute quota (45011) is rate_limited (429, retryable)", async () => {
    const { login } = setup();
    fake.addLoginCode('code-throttled', 'openid-dan');
    fake.failNext('jscode2session', 'rate-limited');
    await assert.rejects(login.exchange('code-throttled'), matches({ code: 'rate_limited', status: 429, retryable: true, failure: 'errcode', errcode: 45011 }));
  });

  test('system busy (-1) is wechat_unavailable (503, retryable)', async () => {
    const { login } = setup();
    fake.failNext('jscode2session', 'busy');
    await assert.rejects(login.exchange('any-code'), matches({ code: 'wechat_unavailable', status: 503, retryable: true, failure: 'errcode', errcode: -1 }));
  });

  test('an HTTP 502 from WeChat is wechat_unavailable (503, retryable)', async () => {
    const { login } = setup();
    fake.failNext('jscode2session', 'down');
    await assert.rejects(login.exchange('any-code'), (error: unknown) => {
      matches({ code: 'wechat_unavailable', status: 503, retryable: true, failure: 'http_status' })(error);
      assert.equal((error as WechatApiError).httpStatus, 502);
      return true;
    });
  });

  test('an answer that is not JSON is wechat_unavailable', async () => {
    const { login } = setup();
    fake.failNext('jscode2session', 'not-json');
    await assert.rejects(login.exchange('any-code'), matches({ code: 'wechat_unavailable', status: 503, retryable: true, failure: 'bad_response' }));
  });

  test('a WeChat that never answers is wechat_unavailable once the timeout passes on the injected clock', async () => {
    const { login, clock } = setup();
    fake.failNext('jscode2session', 'hang');
    const seen = fake.requests.length;
    const outcome = login.exchange('hanging-code');
    let settled = false;
    outcome.then(
      () => (settled = true),
      () => (settled = true),
    );
    await fake.waitForRequests(seen + 1);
    clock.advance(TIMEOUT_MS - 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'gave up before the timeout');
    clock.advance(1);
    await assert.rejects(outcome, matches({ code: 'wechat_unavailable', status: 503, retryable: true, failure: 'timeout' }));
    assert.equal(clock.pendingTimers, 0);
  });

  test('no server at the base URL is wechat_unavailable (network)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { login, clock } = setup({ baseUrl: `http://127.0.0.1:${port}` });
    await assert.rejects(login.exchange('any-code'), matches({ code: 'wechat_unavailable', status: 503, retryable: true, failure: 'network' }));
    assert.equal(clock.pendingTimers, 0);
  });

  test('a wrong app secret is login_failed, logged at error level, and neither message nor log holds the secret', async () => {
    const wrongSecret = 'wrong-secret-that-must-not-leak-42';
    const { login, logs } = setup({ credentials: { secret: wrongSecret } });
    fake.addLoginCode('code-wrong-secret', 'openid-erin');
    await assert.rejects(login.exchange('code-wrong-secret'), (error: unknown) => {
      matches({ code: 'login_failed', status: 400, retryable: false, failure: 'errcode', errcode: 40125 })(error);
      assert.ok(!(error as Error).message.includes(wrongSecret));
      return true;
    });
    const record = logs.records().find((entry) => entry.errcode === 40125);
    assert.equal(record?.level, 50);
    assert.ok(!logs.raw().includes(wrongSecret));
  });

  test("the caller's abort rejects with the abort reason, not a WeChat error, and leaves no timer", async () => {
    const { login, clock } = setup();
    fake.failNext('jscode2session', 'hang');
    const seen = fake.requests.length;
    const controller = new AbortController();
    const outcome = login.exchange('aborted-code', { signal: controller.signal });
    await fake.waitForRequests(seen + 1);
    const reason = new Error('user left the page');
    controller.abort(reason);
    await assert.rejects(outcome, (error: unknown) => error === reason);
    assert.equal(clock.pendingTimers, 0);
  });

  test('logs of successful and failed logins hold no secret, code or session key', async () => {
    const { login, logs } = setup();
    fake.addLoginCode('code-for-log-check', 'openid-frank');
    await login.exchange('code-for-log-check');
    await assert.rejects(login.exchange('code-for-log-check'));
    fake.failNext('jscode2session', 'busy');
    await assert.rejects(login.exchange('another-code-for-log-check'));
    const raw = logs.raw();
    assert.ok(logs.records().length >= 3);
    for (const secret of [fake.secret, 'code-for-log-check', 'another-code-for-log-check', 'session_key', 'js_code']) {
      assert.ok(!raw.includes(secret), `logs contain ${secret}`);
    }
  });
});
