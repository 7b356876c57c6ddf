/**
 * Development login: trades any non-empty code for a token of user `dev:<code>`.
 *
 * Contract: `POST /api/auth/login {"code"}` → `{"token","expiresIn"}`. The code must be a string of
 * 1–128 characters that is not only whitespace; otherwise `invalid_request`. There is no secret
 * behind a code here — that is the point of development mode, and the server warns about it at
 * start. With WeChat credentials configured, `wechat-login.ts` answers this route instead.
 *
 * A `devCode` in the body wins over `code` (same rules): the mini-program sends a random id it keeps in
 * storage there, because every `wx.login` code on a device is new — logging in with it would make every
 * re-login a new user with an empty history. `wechat-login.ts` ignores `devCode`.
 */
import type { Middleware } from 'koa';
import { WxstreamError, type LoginResponse } from '@wxstream/protocol';
import type { AppState } from '../app-state.ts';
import { readJsonBody } from '../http/json-body.ts';
import { devIdentity } from './identity.ts';
import type { TokenService } from './token.ts';

export const MAX_LOGIN_CODE_CHARS = 128;

export function parseLoginCode(body: unknown): string {
  return checkedCode(typeof body === 'object' && body !== null ? (body as { code?: unknown }).code : undefined);
}

/** The identity a development login is for: `devCode` when the body has one, else `code`. */
export function parseDevLoginCode(body: unknown): string {
  const fields = typeof body === 'object' && body !== null ? (body as { code?: unknown; devCode?: unknown }) : {};
  return checkedCode(fields.devCode !== undefined ? fields.devCode : fields.code);
}

function checkedCode(code: unknown): string {
  if (typeof code !== 'string' || code.trim() === '' || [...code].length > MAX_LOGIN_CODE_CHARS) {
    throw new WxstreamError('invalid_request', `code must be a non-empty string of at most ${MAX_LOGIN_CODE_CHARS} characters`);
  }
  return code;
}

export function devLogin(deps: { tokens: TokenService; maxBodyBytes: number }): Middleware<AppState> {
  return async (ctx) => {
    const code = parseDevLoginCode(await readJsonBody(ctx.req, { maxBytes: deps.maxBodyBytes }));
    const issued = deps.tokens.issue(devIdentity(code));
    const answer: LoginResponse = { token: issued.token, expiresIn: issued.expiresIn };
    ctx.set('Cache-Control', 'no-store');
    ctx.body = answer;
    ctx.state.log.info('development login issued a token');
  };
}
