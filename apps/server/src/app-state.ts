/**
 * What the middleware chain stores on `ctx.state` for the handlers after it.
 *
 * Contract: `requestId` and `log` are set by the request-id middleware before anything else runs;
 * `user` is set only on routes behind `requireAuth`.
 */
import type { Logger } from './logger.ts';

export interface AuthenticatedUser {
  /** Stable subject, e.g. `dev:<code>` for development logins. */
  readonly id: string;
}

export interface AppState {
  requestId: string;
  log: Logger;
  user?: AuthenticatedUser;
}
