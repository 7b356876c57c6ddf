import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import {
  createAuthSession,
  REFRESH_MARGIN_MS,
  STORAGE_KEY,
  type AuthDeps,
  type StoredToken,
} from '../miniprogram/lib/auth-session.ts';
import { WxstreamError, errorBody } from '../miniprogram/vendor/wxstream-client.js';

type LoginOutcome = { code: string } | { failMsg: string };
type ServerOutcome = { statusCode: number; data: unknown } | { failMsg: string };

/** Callback-style wx functions answering asynchronously from scripted outcomes, and recording what they were asked. */
function harness(options: { login?: LoginOutcome[]; server?: ServerOutcome[]; now?: number } = {}) {
  const storage = new Map<string, unknown>();
  const logins = [...(options.login ?? [])];
  const answers = [...(options.server ?? [])];
  const requests: { url: string; data: unknown }[] = [];
  let now = options.now ?? 1_000_000;
  let loginCalls = 0;
  const deps: AuthDeps = {
    serverUrl: 'https://api.example.test',
    clock: { now: () => now },
    login(callbacks) {
      loginCalls += 1;
      const outcome = logins.shift() ?? { code: `code-${loginCalls}` };
      queueMicrotask(() => ('code' in outcome ? callbacks.success({ code: outcome.code }) : callbacks.fail({ errMsg: outcome.failMsg })));
    },
    request(request) {
      requests.push({ url: request.url, data: request.data });
      const outcome = answers.shift() ?? { statusCode: 200, data: { token: `token-${requests.length}`, expiresIn: 7200 } };
      queueMicrotask(() =>
        'failMsg' in outcome ? request.fail({ errMsg: outcome.failMsg }) : request.success({ statusCode: outcome.statusCode, data: outcome.data }),
      );
      return undefined;
    },
    getStorageSync: (key) => (storage.has(key) ? storage.get(key) : ''),
    setStorageSync: (key, value) => {
      storage.set(key, value);
    },
    removeStorageSync: (key) => {
      storage.delete(key);
    },
  };
  return {
    deps,
    storage,
    requests,
    loginCalls: () => loginCalls,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<WxstreamError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof WxstreamError, `expected a WxstreamError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the promise to reject');
}

test('logging in trades the wx.login code for a token and stores it with its expiry', async () => {
  const h = harness({ now: 5_000 });
  const token = await createAuthSession(h.deps).token();
  assert.equal(token, 'token-1');
  assert.deepEqual(h.requests, [{ url: 'https://api.example.test/api/auth/login', data: { code: 'code-1' } }]);
  assert.deepEqual(h.storage.get(STORAGE_KEY), { token: 'token-1', expiresAt: 5_000 + 7200 * 1000 } satisfies StoredToken);
});

test('a stored token with time to live is used without logging in', async () => {
  const h = harness();
  h.storage.set(STORAGE_KEY, { token: 'kept', expiresAt: h.deps.clock.now() + REFRESH_MARGIN_MS + 1 });
  assert.equal(await createAuthSession(h.deps).token(), 'kept');
  assert.equal(h.loginCalls(), 0);
});

test('a token about to expire is renewed before use', async () => {
  const h = harness();
  h.storage.set(STORAGE_KEY, { token: 'old', expiresAt: h.deps.clock.now() + REFRESH_MARGIN_MS });
  assert.equal(await createAuthSession(h.deps).token(), 'token-1');
  assert.equal(h.loginCalls(), 1);
});

test('a malformed stored value is ignored', async () => {
  const h = harness();
  h.storage.set(STORAGE_KEY, 'not a token');
  assert.equal(await createAuthSession(h.deps).token(), 'token-1');
});

test('concurrent callers share one login', async () => {
  const h = harness();
  const auth = createAuthSession(h.deps);
  const tokens = await Promise.all([auth.token(), auth.token(), auth.token()]);
  assert.deepEqual(tokens, ['token-1', 'token-1', 'token-1']);
  assert.equal(h.loginCalls(), 1);
});

test('invalidate forgets the token so the next call logs in again', async () => {
  const h = harness();
  const auth = createAuthSession(h.deps);
  await auth.token();
  auth.invalidate();
  assert.equal(h.storage.has(STORAGE_KEY), false);
  assert.equal(await auth.token(), 'token-2');
  assert.equal(h.loginCalls(), 2);
});

test('a failed wx.login is login_failed, and the next call tries again', async () => {
  const h = harness({ login: [{ failMsg: 'login:fail timeout' }] });
  const auth = createAuthSession(h.deps);
  const error = await rejection(auth.token());
  assert.equal(error.code, 'login_failed');
  assert.equal(await auth.token(), 'token-1');
});

test('an unreachable server is network_error', async () => {
  const h = harness({ server: [{ failMsg: 'request:fail timeout' }] });
  assert.equal((await rejection(createAuthSession(h.deps).token())).code, 'network_error');
});

test("a server error body surfaces the server's own code", async () => {
  const h = harness({ server: [{ statusCode: 429, data: errorBody('rate_limited', 'slow down') }] });
  const error = await rejection(createAuthSession(h.deps).token());
  assert.equal(error.code, 'rate_limited');
  assert.equal(error.status, 429);
  assert.equal(h.storage.has(STORAGE_KEY), false);
});

test('an answer without a token is bad_response', async () => {
  const h = harness({ server: [{ statusCode: 200, data: '<html>proxy login page</html>' }] });
  assert.equal((await rejection(createAuthSession(h.deps).token())).code, 'bad_response');
});
