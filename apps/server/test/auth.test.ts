import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WxstreamError, parseErrorBody } from '@wxstream/protocol';
import { createTokenService, VERIFIED_TOKENS_KEPT } from '../src/auth/token.ts';
import { chatRequest, login, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { TEST_TOKEN_SECRET, startStack, startTestServer, type TestStack } from './support/test-server.ts';
import { otherSpellings } from './support/base64url-spellings.ts';
import { createTestClock, type TestClock } from './support/test-clock.ts';

function errorCodeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof WxstreamError ? error.code : `not a WxstreamError: ${String(error)}`;
  }
  return undefined;
}

function forge(token: string, change: (claims: Record<string, unknown>) => void): string {
  const [payload = '', signature = ''] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  change(claims);
  return `${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

describe('token service', () => {
  const clock = createTestClock();
  const tokens = createTokenService({ secret: TEST_TOKEN_SECRET, ttlSeconds: 60, clock });

  test('a token it issued verifies to the subject, issue time and expiry', () => {
    const issued = tokens.issue('dev:alice');
    assert.equal(issued.expiresIn, 60);
    const nowSeconds = Math.floor(clock.now() / 1000);
    assert.deepEqual(tokens.verify(issued.token), { sub: 'dev:alice', iat: nowSeconds, exp: nowSeconds + 60 });
  });

  test('a token is expired exactly when its ttl has passed on the injected clock', () => {
    const local = createTestClock();
    const service = createTokenService({ secret: TEST_TOKEN_SECRET, ttlSeconds: 60, clock: local });
    const { token } = service.issue('dev:bob');
    local.advance(59_000);
    assert.equal(service.verify(token).sub, 'dev:bob');
    local.advance(1_000);
    assert.equal(errorCodeOf(() => service.verify(token)), 'token_expired');
  });

  test('a payload changed after signing is invalid_token', () => {
    const { token } = tokens.issue('dev:alice');
    assert.equal(errorCodeOf(() => tokens.verify(forge(token, (claims) => (claims.sub = 'dev:admin')))), 'invalid_token');
  });

  test('a forged token that is also expired reports invalid_token, revealing nothing about expiry', () => {
    const { token } = tokens.issue('dev:alice');
    assert.equal(errorCodeOf(() => tokens.verify(forge(token, (claims) => (claims.exp = 1)))), 'invalid_token');
  });

  test('a token signed with another secret is invalid_token', () => {
    const other = createTokenService({ secret: 'another-secret-that-is-long-enough-42', ttlSeconds: 60, clock });
    assert.equal(errorCodeOf(() => tokens.verify(other.issue('dev:alice').token)), 'invalid_token');
  });

  test('a token verified before answers the same claims again, and still expires on time', () => {
    const local = createTestClock();
    const service = createTokenService({ secret: TEST_TOKEN_SECRET, ttlSeconds: 60, clock: local });
    const { token } = service.issue('dev:carol');
    const first = service.verify(token);
    local.advance(59_000);
    assert.deepEqual(service.verify(token), first);
    assert.equal(errorCodeOf(() => service.verify(forge(token, (claims) => (claims.sub = 'dev:admin')))), 'invalid_token');
    local.advance(1_000);
    assert.equal(errorCodeOf(() => service.verify(token)), 'token_expired');
    assert.equal(errorCodeOf(() => service.verify(token)), 'token_expired');
  });

  test('more genuine tokens than are remembered all keep verifying', () => {
    const issued = Array.from({ length: VERIFIED_TOKENS_KEPT + 10 }, (_, index) => tokens.issue(`dev:user-${index}`).token);
    for (const token of issued) tokens.verify(token);
    for (const [index, token] of issued.entries()) assert.equal(tokens.verify(token).sub, `dev:user-${index}`);
  });

  test('a token is one string: another base64url spelling of the same signature bytes is invalid_token', () => {
    const { token } = tokens.issue('dev:alice');
    const [payload = '', signature = ''] = token.split('.');
    const spellings = otherSpellings(signature);
    assert.equal(spellings.length, 3);
    for (const spelling of spellings) assert.equal(errorCodeOf(() => tokens.verify(`${payload}.${spelling}`)), 'invalid_token', spelling);
    assert.equal(tokens.verify(token).sub, 'dev:alice');
  });

  test('malformed tokens are invalid_token', () => {
    for (const token of ['', 'abc', 'a.b.c', '.', 'eyJ9.', '!!!.???', `${Buffer.from('not json').toString('base64url')}.sig`]) {
      assert.equal(errorCodeOf(() => tokens.verify(token)), 'invalid_token', token);
    }
  });
});

describe('development login over HTTP', () => {
  let stack: TestStack;
  let clock: TestClock;

  before(async () => {
    clock = createTestClock();
    stack = await startStack({ clock, env: { TOKEN_TTL_SECONDS: '3600' } });
  });
  after(() => stack.close());

  const postLogin = (body: unknown) =>
    send(stack.url, '/api/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  test('any non-empty code gets a token for dev:<code> with its lifetime in seconds', async () => {
    const answer = await postLogin({ code: 'wx-code-123' });
    assert.equal(answer.status, 200);
    const body = answer.json() as { token: string; expiresIn: number };
    assert.equal(body.expiresIn, 3600);
    const claims = JSON.parse(Buffer.from(body.token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { sub: string };
    assert.equal(claims.sub, 'dev:wx-code-123');
    assert.equal(answer.headers['cache-control'], 'no-store');
  });

  test('a devCode wins over the wx.login code: one device stays one user across logins', async () => {
    const subjectOf = async (body: unknown): Promise<string> => {
      const answer = await postLogin(body);
      assert.equal(answer.status, 200, answer.text);
      const { token } = answer.json() as { token: string };
      return (JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { sub: string }).sub;
    };
    // Before: each re-login on a phone sent a new wx.login code and became a new user with no history.
    assert.equal(await subjectOf({ code: 'wx-code-first', devCode: 'device-7f3a9c' }), 'dev:device-7f3a9c');
    assert.equal(await subjectOf({ code: 'wx-code-second', devCode: 'device-7f3a9c' }), 'dev:device-7f3a9c');
    const refused = await postLogin({ code: 'wx-code-third', devCode: '' });
    assert.equal(refused.status, 400);
  });

  for (const [name, body] of [
    ['no code', {}],
    ['an empty code', { code: '' }],
    ['a whitespace code', { code: '   ' }],
    ['a code that is not a string', { code: 12345 }],
    ['a code of 129 characters', { code: 'c'.repeat(129) }],
  ] as const) {
    test(`${name} is refused with invalid_request`, async () => {
      const answer = await postLogin(body);
      assert.equal(answer.status, 400);
      assert.equal(parseErrorBody(answer.json())?.code, 'invalid_request');
    });
  }

  test('the token opens the chat until it expires, then token_expired', async () => {
    const token = await login(stack.url, 'expiring');
    const fresh = await send(stack.url, '/api/chat', chatRequest(token, { message: 'hi' }));
    assert.equal(fresh.status, 200);
    assert.equal(parseReplyBody(fresh.text).events.at(-1)?.type, 'done');

    clock.advance(3600 * 1000);
    const before = stack.emulator.requests.length;
    const expired = await send(stack.url, '/api/chat', chatRequest(token, { message: 'hi' }));
    assert.equal(expired.status, 401);
    assert.deepEqual(parseErrorBody(expired.json()), { code: 'token_expired', message: 'Token has expired', retryable: false });
    assert.equal(stack.emulator.requests.length, before);
  });

  test('a token with a changed subject is refused with invalid_token', async () => {
    const token = await login(stack.url, 'mallory');
    const forged = forge(token, (claims) => (claims.sub = 'dev:admin'));
    const answer = await send(stack.url, '/api/chat', chatRequest(forged, { message: 'hi' }));
    assert.equal(answer.status, 401);
    assert.equal(parseErrorBody(answer.json())?.code, 'invalid_token');
  });
});

test('with DEV_LOGIN=false and no WeChat credentials, login is refused with 403 dev_login_disabled', async () => {
  const app = await startTestServer({ upstream: 'offline', env: { DEV_LOGIN: 'false' } });
  try {
    const answer = await send(app.url, '/api/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: { code: 'x' } });
    assert.equal(answer.status, 403);
    assert.equal(parseErrorBody(answer.json())?.code, 'dev_login_disabled');
  } finally {
    await app.close();
  }
});
