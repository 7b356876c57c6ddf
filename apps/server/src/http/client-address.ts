/**
 * Who is on the other end of a request: the client's address, and whether the connection comes
 * from a proxy we trust (`TRUST_PROXY`).
 *
 * Contract: `compileTrustProxy(setting)` turns the setting — unset/`false` (trust nobody), or a
 * comma-separated list of addresses, CIDR ranges and the names `loopback`, `linklocal`,
 * `uniquelocal` (private ranges) — into a `ProxyTrust`, or throws a `TypeError` naming what it could
 * not read. `clientAddress(req, trust)` is the connection's peer address when the peer is not
 * trusted; when it is, it walks `X-Forwarded-For` from the right, past every trusted hop, and
 * answers the first address that is not trusted — the left-most entries are whatever the client
 * wrote and are never believed (the `proxy-addr` rules, as Express uses them). `viaTrustedProxy`
 * says whether the peer itself is trusted: only then may headers a proxy sets (X-Request-Id)
 * be believed.
 */
import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';

export interface ProxyTrust {
  readonly trusts: (address: string, hop: number) => boolean;
  /** For the start-up log. */
  readonly description: string;
}

const NOBODY: ProxyTrust = { trusts: () => false, description: 'none' };

export function compileTrustProxy(setting: string | undefined): ProxyTrust {
  const trimmed = setting?.trim() ?? '';
  if (trimmed === '' || ['false', '0', 'no', 'off', 'none'].includes(trimmed.toLowerCase())) return NOBODY;
  const entries = trimmed.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  const compiled = proxyAddr.compile(entries);
  return { trusts: (address, hop) => compiled(address, hop), description: entries.join(', ') };
}

/** The peer's address, `''` when the socket is already gone. */
function peerAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? '';
}

export function viaTrustedProxy(req: IncomingMessage, trust: ProxyTrust): boolean {
  const peer = peerAddress(req);
  return peer !== '' && trust.trusts(peer, 0);
}

export function clientAddress(req: IncomingMessage, trust: ProxyTrust): string {
  if (!viaTrustedProxy(req, trust)) return peerAddress(req);
  return proxyAddr(req, trust.trusts);
}
