/**
 * The rate limits at the doors other than the chat: per client address on login and on every
 * other request without a valid token, per user on the authenticated routes — 429 rate_limited
 * with Retry-After, counted in /metrics — and who the client is behind a proxy (TRUST_PROXY).
 * Time is a test clock, so a refill is an `advance`, never a wait.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseErrorBody } from '@wxstream/protocol';
import { authed } from './support/api-client.ts';
import { parseExposition, valueOf } from './support/exposition.ts';
import { startFakeWechatServer } from './support/fake-wechat-server.ts';
import { login, send, type HttpAnswer } from './support/http-client.ts';
import { createTestClock } from './support/test-clock.ts';
import { startStack } from './support/test-server.ts';

const postLogin = (url: string, code: string, headers: Record<string, string> = {}) =>
  send(url, '/api/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: { code } });

function assertRateLimited(answer: HttpAnswer): number {
  assert.equal(answer.status, 429, answer.text);
  assert.equal(parseErrorBody(answer.json())?.code, 'rate_limited');
  const wait = Number(answer.headers['retry-after']);
  assert.ok(Number.isInteger(wait) && wait >= 1, `Retry-After ${answer.headers['retry-after']}`);
  return wait;
}

const METRICS_TOKEN = 'door-tests-scrape-token';
/** Scraped with a token: a scraper's bearer token keeps it clear of the address limits it is counting. */
const refusals = async (url: string, limit: string) =>
  valueOf(parseExposition((await send(url, '/metrics', { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } })).text), 'wxstream_limit_refusals_total', { limit });

describe('per-address login limit', () => {
  test('junk logins past the burst are refused 429 with Retry-After before WeChat is asked, counted, and allowed again once the bucket refills', async () => {
    const fake = await startFakeWechatServer();
    const clock = createTestClock();
    const stack = await startStack({
      clock,
      env: { WECHAT_APPID: fake.appid, WECHAT_SECRET: fake.secret, WECHAT_API_BASE_URL: fake.baseUrl, LOGIN_RATE_LIMIT_PER_MINUTE: '6', LOGIN_RATE_LIMIT_BURST: '3', METRICS_TOKEN },
    });
    try {
      const answers = [];
      for (let attempt = 0; attempt < 50; attempt += 1) answers.push(await postLogin(stack.url, `junk-${attempt}`));
      assert.deepEqual(answers.slice(0, 3).map((answer) => answer.status), [401, 401, 401], 'the burst reaches WeChat and is refused there');
      for (const answer of answers.slice(3)) assertRateLimited(answer);
      assert.equal(fake.requestsTo('jscode2session').length, 3, '50 junk logins cost WeChat 3 calls, not 50');
      assert.equal(await refusals(stack.url, 'login_rate'), 47);
      clock.advance(10_000);
      fake.addLoginCode('good-code', 'openid-patient');
      assert.equal((await postLogin(stack.url, 'good-code')).status, 200, 'one login back after a sixth of a minute');
    } finally {
      await stack.close();
      await fake.close();
    }
  });

  test('without TRUST_PROXY a client cannot pick its address with X-Forwarded-For; behind a trusted proxy each forwarded client has its own bucket', async () => {
    const env = { LOGIN_RATE_LIMIT_PER_MINUTE: '1', LOGIN_RATE_LIMIT_BURST: '2' };
    const direct = await startStack({ env });
    try {
      const statuses = [];
      for (let attempt = 0; attempt < 4; attempt += 1) statuses.push((await postLogin(direct.url, 'me', { 'X-Forwarded-For': `198.51.100.${attempt}` })).status);
      assert.deepEqual(statuses, [200, 200, 429, 429]);
    } finally {
      await direct.close();
    }
    const proxied = await startStack({ env: { ...env, TRUST_PROXY: 'loopback' } });
    try {
      const statuses = [];
      for (let attempt = 0; attempt < 4; attempt += 1) statuses.push((await postLogin(proxied.url, 'me', { 'X-Forwarded-For': `198.51.100.${attempt}` })).status);
      assert.deepEqual(statuses, [200, 200, 200, 200], 'four clients behind the proxy, one login each');
      const one = [];
      for (let attempt = 0; attempt < 3; attempt += 1) one.push((await postLogin(proxied.url, 'me', { 'X-Forwarded-For': '198.51.100.77' })).status);
      assert.deepEqual(one, [200, 200, 429], 'one client behind the proxy is limited by its own address');
      // The left-most entries are the client's own words: only the hop the proxy added counts.
      const spoofed = [];
      for (let attempt = 0; attempt < 3; attempt += 1) spoofed.push((await postLogin(proxied.url, 'me', { 'X-Forwarded-For': `10.9.9.${attempt}, 198.51.100.88` })).status);
      assert.deepEqual(spoofed, [200, 200, 429]);
    } finally {
      await proxied.close();
    }
  });
});

describe('per-address limit on the other unauthenticated requests', () => {
  test('requests without a token, and with a refused one, spend the address public limit; /healthz never does', async () => {
    const stack = await startStack({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '1', PUBLIC_RATE_LIMIT_BURST: '3', METRICS_TOKEN } });
    try {
      for (let probe = 0; probe < 20; probe += 1) assert.equal((await send(stack.url, '/healthz')).status, 200);
      assert.equal((await send(stack.url, '/api/conversations')).status, 401);
      assert.equal((await send(stack.url, '/no/such/route')).status, 404);
      assert.equal((await send(stack.url, '/api/conversations', { headers: { Authorization: 'Bearer junk.token' } })).status, 401);
      assertRateLimited(await send(stack.url, '/api/conversations', { headers: { Authorization: 'Bearer other.junk' } }));
      assertRateLimited(await send(stack.url, '/api/audio/abc?exp=1&sig=x'));
      assert.equal((await send(stack.url, '/healthz')).status, 200);
      assert.equal(await refusals(stack.url, 'public_rate'), 2);
    } finally {
      await stack.close();
    }
  });
});

describe('per-user limit on the authenticated routes', () => {
  test('history, resumes and stops past the user burst are 429; another user is not affected', async () => {
    const clock = createTestClock();
    const stack = await startStack({ clock, env: { API_RATE_LIMIT_PER_MINUTE: '60', API_RATE_LIMIT_BURST: '3', METRICS_TOKEN } });
    try {
      const token = await login(stack.url, 'busy-user');
      const statuses = [];
      for (const path of ['/api/conversations', '/api/conversations/nope', '/api/chat/nope/events', '/api/conversations']) statuses.push((await send(stack.url, path, authed(token))).status);
      assert.deepEqual(statuses, [200, 404, 404, 429]);
      assertRateLimited(await send(stack.url, '/api/chat/nope/stop', authed(token, 'POST')));
      assert.equal((await send(stack.url, '/api/conversations', authed(await login(stack.url, 'calm-user')))).status, 200);
      assert.equal(await refusals(stack.url, 'api_rate'), 2);
      clock.advance(1000);
      assert.equal((await send(stack.url, '/api/conversations', authed(token))).status, 200, 'one more after a second');
    } finally {
      await stack.close();
    }
  });
});
