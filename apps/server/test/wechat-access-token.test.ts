import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { createLogger } from '../src/logger.ts';
import {
  createAccessTokenCache,
  FORCE_REFRESH_MIN_INTERVAL_MS,
  REFRESH_MARGIN_MS,
  type AccessTokenSource,
} from '../src/wechat/access-token-cache.ts';
import type { ContentCheckResult } from '../src/wechat/content-checker.ts';
import { createWechatContentChecker } from '../src/wechat/msg-sec-check.ts';
import { WechatApiError } from '../src/wechat/wechat-errors.ts';
import { createWechatHttp } from '../src/wechat/wechat-http.ts';
import { startFakeWechatServer, type FakeWechatOptions, type FakeWechatServer } from './support/fake-wechat-server.ts';
import { createManualClock, type ManualClock } from './support/manual-clock.ts';

const OPENID = 'openid-token-tests';

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

/** A fake WeChat on the test's manual clock, and the token cache and checker under test. */
interface Setup extends AsyncDisposable {
  fake: FakeWechatServer;
  clock: ManualClock;
  logs: ReturnType<typeof captureLogs>;
  tokens: AccessTokenSource;
  check(text?: string): Promise<ContentCheckResult>;
}

async function setup(options: { fake?: FakeWechatOptions; secret?: string } = {}): Promise<Setup> {
  const clock = createManualClock(Date.UTC(2025, 0, 1));
  const fake = await startFakeWechatServer({ now: () => clock.now(), ...options.fake });
  fake.addLoginCode('unused-code', OPENID);
  const logs = captureLogs();
  const http = createWechatHttp({ baseUrl: fake.baseUrl, timeoutMs: 5000, clock, logger: logs.logger });
  const tokens = createAccessTokenCache({ http, credentials: { appid: fake.appid, secret: options.secret ?? fake.secret }, clock, logger: logs.logger });
  const checker = createWechatContentChecker({ http, tokens, logger: logs.logger, failOpen: { user: false, assistant: false } });
  return {
    fake,
    clock,
    logs,
    tokens,
    check: (text = '今天天气不错。') => checker.checkText({ openid: OPENID, text, role: 'user' }),
    [Symbol.asyncDispose]: () => fake.close(),
  };
}

const endpoints = (fake: FakeWechatServer) => fake.requests.map((request) => request.endpoint);
const forceFlags = (fake: FakeWechatServer) => fake.requestsTo('stable_token').map((request) => (request.body as { force_refresh?: unknown }).force_refresh);
const checkedWith = (fake: FakeWechatServer) => fake.requestsTo('msg_sec_check').map((request) => request.query.access_token);

describe('WeChat access token cache', () => {
  test('many checks share one stable_token call, sent as JSON with client_credential, appid, secret and force_refresh false', async () => {
    await using s = await setup();
    for (let i = 0; i < 5; i++) await s.check();
    const stable = s.fake.requestsTo('stable_token');
    assert.equal(stable.length, 1);
    assert.equal(stable[0]?.method, 'POST');
    assert.match(stable[0]?.contentType ?? '', /^application\/json/);
    assert.deepEqual(stable[0]?.body, { grant_type: 'client_credential', appid: s.fake.appid, secret: s.fake.secret, force_refresh: false });
    assert.deepEqual(checkedWith(s.fake), Array(5).fill(s.fake.issuedTokens[0]));
  });

  test('concurrent callers share one fetch (single flight)', async () => {
    await using s = await setup();
    const tokens = await Promise.all(Array.from({ length: 20 }, () => s.tokens.get()));
    assert.equal(s.fake.requestsTo('stable_token').length, 1);
    assert.deepEqual(new Set(tokens), new Set([s.fake.issuedTokens[0]]));
  });

  test('the token is refreshed five minutes before it expires, not earlier, and the new one is used', async () => {
    await using s = await setup();
    const first = await s.tokens.get();
    s.clock.advance(7200 * 1000 - REFRESH_MARGIN_MS - 1);
    assert.equal(await s.tokens.get(), first);
    assert.equal(s.fake.requestsTo('stable_token').length, 1);
    s.clock.advance(1);
    const second = await s.tokens.get();
    assert.equal(s.fake.requestsTo('stable_token').length, 2);
    assert.notEqual(second, first);
    assert.equal(second, s.fake.issuedTokens[1]);
    assert.deepEqual(forceFlags(s.fake), [false, false]);
  });

  test('a token living less than ten minutes is refreshed at half its lifetime', async () => {
    await using s = await setup({ fake: { tokenTtlSeconds: 400 } });
    const first = await s.tokens.get();
    s.clock.advance(200 * 1000 - 1);
    assert.equal(await s.tokens.get(), first);
    s.clock.advance(1);
    assert.notEqual(await s.tokens.get(), first);
    assert.equal(s.fake.requestsTo('stable_token').length, 2);
  });

  test('an expired token (42001) is replaced in normal mode once and the check retried with the new one', async () => {
    await using s = await setup();
    await s.check();
    s.fake.expireAccessTokens();
    const result = await s.check();
    assert.equal(result.verdict, 'pass');
    assert.equal(typeof result.traceId, 'string');
    assert.deepEqual(endpoints(s.fake), ['stable_token', 'msg_sec_check', 'msg_sec_check', 'stable_token', 'msg_sec_check']);
    assert.deepEqual(forceFlags(s.fake), [false, false]);
    const [old, fresh] = s.fake.issuedTokens;
    assert.deepEqual(checkedWith(s.fake), [old, old, fresh]);
  });

  test('a token WeChat refuses but still hands out is replaced by one forced refresh, at most once per 30 s', async () => {
    await using s = await setup();
    await s.check();
    s.fake.revokeAccessTokens({ keepHandingOut: true });
    assert.equal((await s.check()).verdict, 'pass');
    assert.deepEqual(forceFlags(s.fake), [false, false, true]);

    // Again within 30 s: WeChat would ignore a second forced refresh, so none is sent and the refusal surfaces.
    s.clock.advance(FORCE_REFRESH_MIN_INTERVAL_MS - 1);
    s.fake.revokeAccessTokens({ keepHandingOut: true });
    await assert.rejects(s.check(), (error: unknown) => {
      assert.ok(error instanceof WechatApiError);
      assert.equal(error.code, 'wechat_unavailable');
      assert.equal(error.errcode, 40001);
      return true;
    });
    assert.deepEqual(forceFlags(s.fake), [false, false, true, false]);

    s.clock.advance(1);
    assert.equal((await s.check()).verdict, 'pass');
    assert.deepEqual(forceFlags(s.fake), [false, false, true, false, false, true]);
  });

  test('checks refused together trigger one replacement between them', async () => {
    await using s = await setup();
    await s.check();
    s.fake.expireAccessTokens();
    const results = await Promise.all(Array.from({ length: 6 }, () => s.check()));
    assert.equal(results.length, 6);
    assert.equal(s.fake.requestsTo('stable_token').length, 2);
    assert.equal(s.fake.issuedTokens.length, 2);
  });

  test('when a refresh fails while the current token is still valid, the current token is used and the next call tries again', async () => {
    await using s = await setup();
    const first = await s.tokens.get();
    s.clock.advance(7200 * 1000 - REFRESH_MARGIN_MS);
    s.fake.failNext('stable_token', 'down');
    assert.equal(await s.tokens.get(), first);
    assert.ok(s.logs.records().some((record) => record.level === 40 && record.httpStatus === 502));
    const second = await s.tokens.get();
    assert.notEqual(second, first);
    assert.equal(s.fake.requestsTo('stable_token').length, 3);
  });

  test('a failed fetch is not cached: the next call fetches again', async () => {
    await using s = await setup();
    s.fake.failNext('stable_token', 'busy');
    await assert.rejects(s.tokens.get(), (error: unknown) => error instanceof WechatApiError && error.code === 'wechat_unavailable' && error.errcode === -1);
    assert.equal(await s.tokens.get(), s.fake.issuedTokens[0]);
    assert.equal(s.fake.requestsTo('stable_token').length, 2);
  });

  test("stable_token's rate limit is rate_limited; a wrong secret is wechat_unavailable, not retryable, logged at error level", async () => {
    await using s = await setup();
    s.fake.failNext('stable_token', 'rate-limited');
    await assert.rejects(s.tokens.get(), (error: unknown) => error instanceof WechatApiError && error.code === 'rate_limited' && error.status === 429);

    await using wrong = await setup({ secret: 'not-the-app-secret-at-all' });
    await assert.rejects(wrong.tokens.get(), (error: unknown) => {
      assert.ok(error instanceof WechatApiError);
      assert.equal(error.code, 'wechat_unavailable');
      assert.equal(error.retryable, false);
      assert.equal(error.errcode, 40125);
      return true;
    });
    assert.ok(wrong.logs.records().some((record) => record.level === 50 && record.errcode === 40125));
    assert.ok(!wrong.logs.raw().includes('not-the-app-secret-at-all'));
  });

  test('neither the secret nor any access token appears in logs', async () => {
    await using s = await setup();
    await s.check();
    s.fake.expireAccessTokens();
    await s.check();
    s.clock.advance(7200 * 1000);
    s.fake.failNext('stable_token', 'busy');
    await assert.rejects(s.check());
    await s.check();
    const raw = s.logs.raw();
    assert.ok(s.fake.issuedTokens.length >= 2);
    for (const secret of [s.fake.secret, ...s.fake.issuedTokens]) assert.ok(!raw.includes(secret), 'a secret reached the logs');
  });
});
