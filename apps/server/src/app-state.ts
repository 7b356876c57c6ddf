/**
 * What the middleware chain stores on `ctx.state` for the handlers after it.
 *
 * Contract: `requestId`, `log` and `clientAddress` are set by the request-id middleware before anything else runs;
 * `user` is set only on routes behind `requireAuth`.
 */
import type { Logger } from './logger.ts';

export interface AuthenticatedUser {
  /** The stored user's id: the key of everything the user owns. */
  readonly id: string;
  /** The token's subject: `wechat:<openid>` or `dev:<code>`. */
  readonly identity: string;
  /** For WeChat users: what content checks are made for. */
  readonly openid: string | undefined;
}

export interface AppState {
  requestId: string;
  log: Logger;
  /** The client's address: the peer's, or X-Forwarded-For's through trusted proxies (TRUST_PROXY). */
  clientAddress: string;
  user?: AuthenticatedUser;
}
