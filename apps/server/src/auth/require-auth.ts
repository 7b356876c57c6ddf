/**
 * Guards a route with a bearer token.
 *
 * Contract: no `Authorization: Bearer <token>` (absent header, other scheme, empty token) →
 * `unauthorized`; a token that fails verification → `invalid_token` / `token_expired` from the
 * token service. On success `ctx.state.user` is set. Runs before the body is read, so
 * unauthenticated clients cannot make us buffer anything.
 */
import type { Middleware } from 'koa';
import { WxstreamError } from '@wxstream/protocol';
import type { AppState } from '../app-state.ts';
import type { TokenService } from './token.ts';

export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

export function requireAuth(tokens: TokenService): Middleware<AppState> {
  return async (ctx, next) => {
    const token = bearerToken(ctx.get('Authorization') || undefined);
    if (token === undefined) throw new WxstreamError('unauthorized', 'A bearer token is required');
    const claims = tokens.verify(token);
    ctx.state.user = { id: claims.sub };
    await next();
  };
}
