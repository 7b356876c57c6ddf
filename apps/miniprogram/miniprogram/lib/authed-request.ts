/**
 * A JSON request made as the signed-in user, logging in again once if the server refuses the token —
 * the JSON counterpart of authed-stream.ts.
 *
 * Contract: the request goes out with the session's current token. When it is answered
 * `token_expired` or `invalid_token`, the token is dropped, a new one is fetched and the same request
 * is sent once more; a second refusal, or any other error, rejects as it is. A failed login rejects
 * with its `WxstreamError`. Every rejection is a `WxstreamError`. `withFreshToken` is the same rule for
 * any authenticated call (the recording upload uses it).
 */
import { WxstreamError } from '../vendor/wxstream-client.js';
import type { AuthSession } from './auth-session.ts';
import { requestJson, type JsonMethod, type JsonRequest, type JsonResponse, type WxJsonRequest } from './json-request.ts';

export interface AuthedRequestDeps {
  auth: AuthSession;
  request: WxJsonRequest;
}

function isRefusedToken(error: unknown): boolean {
  return error instanceof WxstreamError && (error.code === 'token_expired' || error.code === 'invalid_token');
}

function asWxstreamError(error: unknown): WxstreamError {
  if (error instanceof WxstreamError) return error;
  return new WxstreamError('login_failed', error instanceof Error ? error.message : String(error));
}

/** Runs `send` with the session's token, and once more with a new token when the server refused the first. */
export async function withFreshToken<T>(auth: AuthSession, send: (token: string) => Promise<T>): Promise<T> {
  const attempt = async (): Promise<T> => {
    let token: string;
    try {
      token = await auth.token();
    } catch (error) {
      throw asWxstreamError(error);
    }
    return send(token);
  };
  try {
    return await attempt();
  } catch (error) {
    if (!isRefusedToken(error)) throw error;
    auth.invalidate();
    return attempt();
  }
}

export function requestAuthedJson(deps: AuthedRequestDeps, request: Omit<JsonRequest, 'token'>): Promise<JsonResponse> {
  return withFreshToken(deps.auth, (token) => requestJson(deps.request, { ...request, token }));
}

/** `call(method, path, body?)` on one server as the signed-in user: what each API module builds its routes on. */
export type AuthedCall = (method: JsonMethod, path: string, body?: object) => Promise<JsonResponse>;

export function authedCaller(deps: AuthedRequestDeps & { serverUrl: string; timeoutMs: number }): AuthedCall {
  const { serverUrl, timeoutMs } = deps;
  return (method, path, body) =>
    requestAuthedJson(deps, body === undefined ? { url: serverUrl + path, method, timeoutMs } : { url: serverUrl + path, method, body, timeoutMs });
}
