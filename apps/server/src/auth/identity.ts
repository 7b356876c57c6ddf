/**
 * User identities as tokens carry them in `sub` and the store keys users by: `wechat:<openid>` for
 * WeChat logins, `dev:<code>` for development logins. Pure.
 *
 * The openid is not a secret (it names the user within this mini-program only, and WeChat lets
 * apps hand it to their own client); the session key that comes with it is, and is never kept.
 */

export type Identity = { readonly kind: 'wechat'; readonly openid: string } | { readonly kind: 'dev'; readonly code: string };

export function wechatIdentity(openid: string): string {
  return `wechat:${openid}`;
}

export function devIdentity(code: string): string {
  return `dev:${code}`;
}

/** Undefined for anything that is not one of the two forms with a non-empty rest. */
export function parseIdentity(identity: string): Identity | undefined {
  const colon = identity.indexOf(':');
  if (colon <= 0 || colon === identity.length - 1) return undefined;
  const kind = identity.slice(0, colon);
  const rest = identity.slice(colon + 1);
  if (kind === 'wechat') return { kind, openid: rest };
  if (kind === 'dev') return { kind, code: rest };
  return undefined;
}
