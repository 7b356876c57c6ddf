/**
 * Guards a route with a bearer token and resolves the stored user behind it.
 *
 * Contract: no `Authorization: Bearer <token>` (absent header, other scheme, empty token) →
 * `unauthorized`; a token that fails verification → `invalid_token` / `token_expired` from the
 * token service; a genuine token whose identity the server no longer accepts (a development
 * identity once the development login is off, or an identity of an unknown form) →
 * `invalid_token`, so switching to WeChat login also retires every unverified `dev:` user. On
 * success `ctx.state.user` is set, the user being created in the store on first sight. Runs before
 * the body is read, so unauthenticated clients cannot make us buffer anything.
 */
import type { Middleware } from 'koa';
import { WxstreamError } from '@wxstream/protocol';
import type { AppState } from '../app-state.ts';
import type { ConversationStore } from '../storage/conversation-store.ts';
import { parseIdentity } from './identity.ts';
import type { TokenService } from './token.ts';

export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

export interface RequireAuthDeps {
  tokens: TokenService;
  store: Pick<ConversationStore, 'ensureUser'>;
  /** Whether `dev:` identities are honoured (the development login is on). */
  acceptDevIdentities: boolean;
}

export function requireAuth(deps: RequireAuthDeps): Middleware<AppState> {
  return async (ctx, next) => {
    const token = bearerToken(ctx.get('Authorization') || undefined);
    if (token === undefined) throw new WxstreamError('unauthorized', 'A bearer token is required');
    const claims = deps.tokens.verify(token);
    const identity = parseIdentity(claims.sub);
    if (identity === undefined || (identity.kind === 'dev' && !deps.acceptDevIdentities)) {
      throw new WxstreamError('invalid_token', 'The token was issued by a login this server no longer accepts');
    }
    const user = await deps.store.ensureUser(claims.sub);
    ctx.state.user = { id: user.id, identity: claims.sub, openid: identity.kind === 'wechat' ? identity.openid : undefined };
    await next();
  };
}
