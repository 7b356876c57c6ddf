/**
 * Signed, expiring session tokens: `base64url(JSON {sub, iat, exp}) . base64url(HMAC-SHA256)`.
 *
 * Contract: `issue(subject)` signs a token valid for `ttlSeconds` from the injected clock's now;
 * `verify(token)` returns the claims or throws a `WxstreamError` — `invalid_token` for anything
 * malformed or not signed with our secret (checked first, with a constant-time compare of the
 * canonical signature string — the one spelling `issue` writes, never another base64url spelling
 * of the same bytes — so a
 * forged token never reveals whether it is also expired), `token_expired` when a genuine token's
 * `exp` has passed. Deliberately not JWT: one algorithm, no header to negotiate, nothing to
 * misconfigure.
 *
 * A token that verified is remembered (the last `VERIFIED_TOKENS_KEPT`, oldest forgotten first),
 * and the same string is then answered without another HMAC — only its expiry is checked again,
 * against the clock of that call. A client sends the same token with every request, and under a
 * burst of chat starts the HMAC (OpenSSL's per-call set-up, not the hashing) was one of the larger
 * costs we control. Only strings that passed the full check are kept, so a forged or malformed
 * token always takes the full path, and the secret never changes while the service lives.
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
/** About 250 bytes each: well under a MiB, and more users than one instance serves at once. */
export const VERIFIED_TOKENS_KEPT = 4096;

function isClaims(value: unknown): value is TokenClaims {
  if (typeof value !== 'object' || value === null) return false;
  const { sub, iat, exp } = value as Record<string, unknown>;
  return typeof sub === 'string' && sub !== '' && Number.isSafeInteger(iat) && Number.isSafeInteger(exp);
}

export function createTokenService(options: { secret: string | Buffer; ttlSeconds: number; clock: Clock }): TokenService {
  const sign = (payload: string): Buffer => createHmac('sha256', options.secret).update(payload).digest();
  const nowSeconds = () => Math.floor(options.clock.now() / 1000);
  /** Token string → its claims, for tokens that passed the full check; in insertion order. */
  const verified = new Map<string, TokenClaims>();

  return {
    issue(subject) {
      const iat = nowSeconds();
      const claims: TokenClaims = { sub: subject, iat, exp: iat + options.ttlSeconds };
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return { token: `${payload}.${sign(payload).toString('base64url')}`, expiresIn: options.ttlSeconds };
    },

    verify(token) {
      const known = verified.get(token);
      if (known !== undefined) {
        if (known.exp > nowSeconds()) return known;
        verified.delete(token);
        throw new WxstreamError('token_expired', 'Token has expired');
      }
      const parts = token.split('.');
      const [payload, signature] = parts;
      if (parts.length !== 2 || payload === undefined || signature === undefined) {
        throw new WxstreamError('invalid_token', 'Token is malformed');
      }
      if (!BASE64URL.test(payload) || !BASE64URL.test(signature)) {
        throw new WxstreamError('invalid_token', 'Token is malformed');
      }
      // Compared as strings: base64url has several spellings of the same bytes (the last
      // character's low bits are ignored when decoding), and a token is one string, not a set.
      const expected = Buffer.from(sign(payload).toString('base64url'));
      const given = Buffer.from(signature);
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
      const genuine: TokenClaims = Object.freeze({ sub: claims.sub, iat: claims.iat, exp: claims.exp });
      if (verified.size >= VERIFIED_TOKENS_KEPT) {
        const oldest = verified.keys().next();
        if (oldest.done !== true) verified.delete(oldest.value);
      }
      verified.set(token, genuine);
      return genuine;
    },
  };
}
