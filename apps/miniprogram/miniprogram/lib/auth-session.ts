/**
 * The signed-in state: a bearer token from `wx.login` → `POST /api/auth/login`, kept in storage.
 *
 * Contract: `token()` resolves to the stored token while it has at least REFRESH_MARGIN_MS to live,
 * else logs in (one login at a time: concurrent callers share it) and stores `{ token, expiresAt }`
 * under STORAGE_KEY. It rejects only with a `WxstreamError`: `login_failed` when `wx.login` fails,
 * `network_error` when the server cannot be reached, the server's own code for an error body,
 * `http_error` for another non-2xx answer (json-request.ts), and `bad_response` for a 2xx answer
 * without a token. `invalidate()` forgets the token after the server refused it. With `devCode`, every
 * login also sends this device's stable id, which a development-login server uses as the user.
 * The wx functions come in by injection, typed as just the parts used, so Node tests drive a fake.
 */
import { ROUTES, WxstreamError, type Clock, type LoginRequest } from '../vendor/wxstream-client.js';
import { requestJson, type WxJsonRequest } from './json-request.ts';

export const STORAGE_KEY = 'wxstream.auth';
/** A token this close to expiry is renewed before use, so it cannot expire in the middle of a reply. */
export const REFRESH_MARGIN_MS = 60_000;
export const LOGIN_TIMEOUT_MS = 10_000;

interface WxFail {
  errMsg: string;
}

export interface AuthDeps {
  serverUrl: string;
  clock: Clock;
  login(options: { timeout: number; success(result: { code: string }): void; fail(error: WxFail): void }): void;
  request: WxJsonRequest;
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: StoredToken): void;
  removeStorageSync(key: string): void;
  /** This device's stable id (device-id.ts), sent as `devCode`: a development login's identity. */
  devCode?: () => string;
}

export interface StoredToken {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface AuthSession {
  token(): Promise<string>;
  invalidate(): void;
}

function isStoredToken(value: unknown): value is StoredToken {
  if (typeof value !== 'object' || value === null) return false;
  const { token, expiresAt } = value as { token?: unknown; expiresAt?: unknown };
  return typeof token === 'string' && token !== '' && typeof expiresAt === 'number' && Number.isFinite(expiresAt);
}

function isLoginResponse(value: unknown): value is { token: string; expiresIn: number } {
  if (typeof value !== 'object' || value === null) return false;
  const { token, expiresIn } = value as { token?: unknown; expiresIn?: unknown };
  return typeof token === 'string' && token !== '' && typeof expiresIn === 'number' && expiresIn > 0;
}

export function createAuthSession(deps: AuthDeps): AuthSession {
  let pending: Promise<string> | undefined;

  function stored(): StoredToken | undefined {
    const value = deps.getStorageSync(STORAGE_KEY);
    return isStoredToken(value) ? value : undefined;
  }

  function wxLoginCode(): Promise<string> {
    return new Promise((resolve, reject) => {
      deps.login({
        timeout: LOGIN_TIMEOUT_MS,
        success: (result) =>
          result.code ? resolve(result.code) : reject(new WxstreamError('login_failed', 'wx.login returned no code')),
        fail: (error) => reject(new WxstreamError('login_failed', `wx.login failed: ${error.errMsg}`)),
      });
    });
  }

  async function exchange(code: string): Promise<StoredToken> {
    const body: LoginRequest = { code };
    if (deps.devCode !== undefined) body.devCode = deps.devCode();
    const answer = await requestJson(deps.request, {
      url: deps.serverUrl + ROUTES.login,
      method: 'POST',
      body,
      timeoutMs: LOGIN_TIMEOUT_MS,
    });
    if (!isLoginResponse(answer.data)) throw new WxstreamError('bad_response', `login answered ${answer.statusCode} without a token`);
    return { token: answer.data.token, expiresAt: deps.clock.now() + answer.data.expiresIn * 1000 };
  }

  async function login(): Promise<string> {
    const issued = await exchange(await wxLoginCode());
    deps.setStorageSync(STORAGE_KEY, issued);
    return issued.token;
  }

  return {
    token() {
      const current = stored();
      if (current && current.expiresAt - deps.clock.now() > REFRESH_MARGIN_MS) return Promise.resolve(current.token);
      if (!pending) {
        // then(ok, fail) rather than finally(): Promise.prototype.finally is missing on the oldest iOS JSCore.
        pending = login().then(
          (token) => {
            pending = undefined;
            return token;
          },
          (error: unknown) => {
            pending = undefined;
            throw error;
          },
        );
      }
      return pending;
    },
    invalidate() {
      deps.removeStorageSync(STORAGE_KEY);
    },
  };
}
