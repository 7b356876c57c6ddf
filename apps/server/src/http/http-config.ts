/**
 * Configuration of the HTTP listener — who counts as a proxy, how long a client may take to send
 * a request, how many connections are served — read from an environment-like record by a pure
 * function (same conventions as `src/config.ts`).
 *
 * | variable               | default | meaning                                                              |
 * |------------------------|---------|----------------------------------------------------------------------|
 * | TRUST_PROXY            | (none)  | proxies whose X-Forwarded-For / X-Request-Id are believed            |
 * | HEADERS_TIMEOUT_MS     | 10000   | a client must finish sending its request headers within this         |
 * | REQUEST_TIMEOUT_MS     | 30000   | … and its whole request (headers and body); answers are not limited  |
 * | KEEP_ALIVE_TIMEOUT_MS  | 5000    | an idle keep-alive connection is closed after this                    |
 * | MAX_CONNECTIONS        | 4096    | open connections; more are answered 503 `server_busy` and closed      |
 *
 * REQUEST_TIMEOUT_MS bounds receiving the request only: a reply stream, however long, is the
 * response and is never cut by it (Node stops the request timer once the request is complete).
 */
import { ConfigError, type Env } from '../config.ts';
import { createEnvReader } from '../limits/env-reader.ts';
import { compileTrustProxy, type ProxyTrust } from './client-address.ts';

export interface HttpConfig {
  readonly trustProxy: ProxyTrust;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxConnections: number;
}

export const DEFAULT_HTTP: Omit<HttpConfig, 'trustProxy'> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 4096,
};

export function loadHttpConfig(env: Env): HttpConfig {
  const problems: string[] = [];
  const read = createEnvReader(env, problems);
  const d = DEFAULT_HTTP;
  let trustProxy = compileTrustProxy(undefined);
  try {
    trustProxy = compileTrustProxy(read.text('TRUST_PROXY'));
  } catch (error) {
    problems.push(`TRUST_PROXY must be false or a comma-separated list of addresses, CIDR ranges, loopback, linklocal or uniquelocal: ${(error as Error).message}`);
  }
  const headersTimeoutMs = read.integer('HEADERS_TIMEOUT_MS', d.headersTimeoutMs, 100, 600_000);
  const requestTimeoutMs = read.integer('REQUEST_TIMEOUT_MS', d.requestTimeoutMs, 100, 3_600_000);
  // Node refuses a request timeout shorter than the headers timeout: say so here, by name.
  if (requestTimeoutMs < headersTimeoutMs) problems.push(`REQUEST_TIMEOUT_MS (${requestTimeoutMs}) must not be shorter than HEADERS_TIMEOUT_MS (${headersTimeoutMs})`);
  const config: HttpConfig = {
    trustProxy,
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: read.integer('KEEP_ALIVE_TIMEOUT_MS', d.keepAliveTimeoutMs, 100, 600_000),
    maxConnections: read.integer('MAX_CONNECTIONS', d.maxConnections, 1, 1_000_000),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
