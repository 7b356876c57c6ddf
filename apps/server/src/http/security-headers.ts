/**
 * Headers every answer of the API carries, whatever route or error produced it.
 *
 * Contract: `X-Content-Type-Options: nosniff` (a JSON or text answer is never run as a script or
 * shown as HTML because a browser guessed its type), `Content-Security-Policy: default-src 'none';
 * frame-ancestors 'none'` and `Referrer-Policy: no-referrer` (nothing we answer is a page to load
 * anything or be framed), and `Cache-Control: no-store` on every answer that did not choose its
 * own caching — the API's answers are one user's data and must not sit in a shared or disk cache
 * (reply streams keep the protocol's `no-cache, no-transform`; the signed audio keeps its own).
 * HSTS belongs to whoever terminates TLS: the shipped nginx config sends it.
 */
import type { Middleware } from 'koa';
import type { AppState } from '../app-state.ts';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
};

export function securityHeaders(): Middleware<AppState> {
  return async (ctx, next) => {
    ctx.set(SECURITY_HEADERS);
    try {
      await next();
    } finally {
      if (!ctx.headerSent && ctx.response.get('Cache-Control') === undefined) ctx.set('Cache-Control', 'no-store');
    }
  };
}
