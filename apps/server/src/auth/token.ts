/**
 * Signed, expiring session tokens: `base64url(JSON {sub, iat, exp}) . base64url(HMAC-SHA256)`.
 *
 * Contract: `issue(subject)` signs a token valid for `ttlSeconds` from the injected clock's now;
 * `verify(token)` returns the claims or throws a `WxstreamError` — `invalid_token` for anything
 * malformed or not signed with our secret (checked first, with a constant-time compare, so a
 * forged token never reveals whether it is also expired), `token_expired` when a genuine token's
 * `exp` has passed. Deliberately not JWT: one algorithm, no header to negotiate, nothing to
 * misconfigure.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WxstreamError } from '@wxstream/protocol';
import type { Clock } from '../clock.ts';

export interface TokenClaims {
  /** Subject: the user id. */
  readonly sub: string;
  /** Issued at, seconds since the epoch. */
  readonly iat: number;
  /** Expires at, seconds since the epoch. */
  readonly exp: number;
}

export interface IssuedToken {
  readonly token: string;
  readonly expiresIn: number;
}

export interface TokenService {
  issue(subject: string): IssuedToken;
  verify(token: string): TokenClaims;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function isClaims(value: unknown): value is TokenClaims {
  if (typeof value !== 'object' || value === null) return false;
  const { sub, iat, exp } = value as Record<string, unknown>;
  return typeof sub === 'string' && sub !== '' && Number.isSafeInteger(iat) && Number.isSafeInteger(exp);
}

export function createTokenService(options: { secret: string | Buffer; ttlSeconds: number; clock: Clock }): TokenService {
  const sign = (payload: string): Buffer => createHmac('sha256', options.secret).update(payload).digest();
  const nowSeconds = () => Math.floor(options.clock.now() / 1000);

  return {
    issue(subject) {
      const iat = nowSeconds();
      const claims: TokenClaims = { sub: subject, iat, exp: iat + options.ttlSeconds };
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return { token: `${payload}.${sign(payload).toString('base64url')}`, expiresIn: options.ttlSeconds };
    },

    verify(token) {
      const parts = token.split('.');
      const [payload, signature] = parts;
      if (parts.length !== 2 || payload === undefined || signature === undefined) {
        throw new WxstreamError('invalid_token', 'Token is malformed');
      }
      if (!BASE64URL.test(payload) || !BASE64URL.test(signature)) {
        throw new WxstreamError('invalid_token', 'Token is malformed');
      }
      const expected = sign(payload);
      const given = Buffer.from(signature, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new WxstreamError('invalid_token', 'Token signature is invalid');
      }
      let claims: unknown;
      try {
        claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        throw new WxstreamError('invalid_token', 'Token payload is malformed');
      }
      if (!isClaims(claims)) throw new WxstreamError('invalid_token', 'Token payload is malformed');
      if (claims.exp <= nowSeconds()) throw new WxstreamError('token_expired', 'Token has expired');
      return claims;
    },
  };
}
