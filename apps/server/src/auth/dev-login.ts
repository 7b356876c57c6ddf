/**
 * Development login: trades any non-empty code for a token of user `dev:<code>`.
 *
 * Contract: `POST /api/auth/login {"code"}` → `{"token","expiresIn"}`. The code must be a string of
 * 1–128 characters that is not only whitespace; otherwise `invalid_request`. There is no secret
 * behind a code here — that is the point of development mode, and the server warns about it at
 * start. With WeChat credentials configured, `wechat-login.ts` answers this route instead.
 */
import type { Middleware } from 'koa';
import { WxstreamError, type LoginResponse } from '@wxstream/protocol';
import type { AppState } from '../app-state.ts';
import { readJsonBody } from '../http/json-body.ts';
import { devIdentity } from './identity.ts';
import type { TokenService } from './token.ts';

export const MAX_LOGIN_CODE_CHARS = 128;

export function parseLoginCode(body: unknown): string {
  const code = typeof body === 'object' && body !== null ? (body as { code?: unknown }).code : undefined;
  if (typeof code !== 'string' || code.trim() === '' || [...code].length > MAX_LOGIN_CODE_CHARS) {
    throw new WxstreamError('invalid_request', `code must be a non-empty string of at most ${MAX_LOGIN_CODE_CHARS} characters`);
  }
  return code;
}

export function devLogin(deps: { tokens: TokenService; maxBodyBytes: number }): Middleware<AppState> {
  return async (ctx) => {
    const code = parseLoginCode(await readJsonBody(ctx.req, { maxBytes: deps.maxBodyBytes }));
    const issued = deps.tokens.issue(devIdentity(code));
    const answer: LoginResponse = { token: issued.token, expiresIn: issued.expiresIn };
    ctx.set('Cache-Control', 'no-store');
    ctx.body = answer;
    ctx.state.log.info('development login issued a token');
  };
}
