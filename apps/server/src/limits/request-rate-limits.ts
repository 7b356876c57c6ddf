/**
 * Rate limits at the doors other than `POST /api/chat` (which has its own, in `reply-admission.ts`).
 *
 * Contract:
 * - `addressRateLimits` runs first on every request. `GET /healthz` passes untouched (load
 *   balancers probe it from one address, often). `POST /api/auth/login` spends one hit of the
 *   per-address login limit — with WeChat configured every login costs a `jscode2session` call,
 *   and WeChat throttles the whole app, not the caller. Any other request without a bearer token
 *   spends one hit of the per-address public limit. Requests with a bearer token pass: their
 *   limit is per user, after authentication.
 * - `chargeFailedAuth(guard, …)` wraps the authentication guard: a request whose token is refused
 *   spends one hit of the public limit of its address too, so junk tokens are limited like no
 *   token; once that limit is spent the refusal is the 429, not the 401.
 * - `userRateLimit` runs after authentication on the routes it guards and spends one hit of the
 *   per-user limit.
 * A refusal is `LimitExceededError('rate_limited')` with `Retry-After` (the error handler sets it)
 * and is counted by `onRefused` under its limit kind. The client address comes from
 * `ctx.state.clientAddress` (TRUST_PROXY decides whether X-Forwarded-For is believed).
 */
import type { Middleware } from 'koa';
import { ROUTES } from '@wxstream/protocol';
import type { AppState } from '../app-state.ts';
import { bearerToken } from '../auth/require-auth.ts';
import type { LimitKind } from '../metrics/server-metrics.ts';
import { LimitExceededError } from './limit-exceeded-error.ts';
import type { RateLimiter } from './rate-limiter.ts';

export interface AddressRateLimitDeps {
  login: RateLimiter;
  public: RateLimiter;
  onRefused: (limit: LimitKind) => void;
}

async function spend(limiter: RateLimiter, key: string, kind: LimitKind, onRefused: (limit: LimitKind) => void, what: string): Promise<void> {
  const decision = await limiter.hit(key);
  if (decision.allowed) return;
  onRefused(kind);
  throw new LimitExceededError('rate_limited', `Too many ${what}; slow down`, { retryAfterMs: decision.retryAfterMs });
}

/** Keys are namespaced so they never meet another limiter's on a shared store. */
const addressKey = (scope: string, address: string) => `${scope}:${address}`;

export function addressRateLimits(deps: AddressRateLimitDeps): Middleware<AppState> {
  return async (ctx, next) => {
    if (ctx.path === ROUTES.health) return next();
    const address = ctx.state.clientAddress;
    if (ctx.method === 'POST' && ctx.path === ROUTES.login) {
      await spend(deps.login, addressKey('login', address), 'login_rate', deps.onRefused, 'logins from this address');
    } else if (bearerToken(ctx.get('Authorization') || undefined) === undefined) {
      await spend(deps.public, addressKey('public', address), 'public_rate', deps.onRefused, 'requests from this address');
    }
    return next();
  };
}

export function chargeFailedAuth(guard: Middleware<AppState>, deps: Pick<AddressRateLimitDeps, 'public' | 'onRefused'>): Middleware<AppState> {
  return async (ctx, next) => {
    let admitted = false;
    try {
      await guard(ctx, () => {
        admitted = true;
        return next();
      });
    } catch (error) {
      // Without a token the door already charged this request; a refused token is charged here.
      const presented = bearerToken(ctx.get('Authorization') || undefined) !== undefined;
      if (!admitted && presented) await spend(deps.public, addressKey('public', ctx.state.clientAddress), 'public_rate', deps.onRefused, 'requests from this address');
      throw error;
    }
  };
}

export function userRateLimit(limiter: RateLimiter, onRefused: (limit: LimitKind) => void): Middleware<AppState> {
  return async (ctx, next) => {
    const user = ctx.state.user;
    if (user === undefined) throw new Error('userRateLimit must run behind requireAuth');
    await spend(limiter, `api:${user.id}`, 'api_rate', onRefused, 'requests');
    return next();
  };
}
