/**
 * Configuration of the `/metrics` endpoint, read from an environment-like record by a pure
 * function (same conventions as `src/config.ts`).
 *
 * | variable         | default | meaning                                                         |
 * |------------------|---------|-----------------------------------------------------------------|
 * | METRICS_TOKEN    | (none)  | when set, `/metrics` requires `Authorization: Bearer <token>`   |
 * | METRICS_PROCESS  | true    | include Node process metrics (CPU, memory, event loop, GC)      |
 *
 * Without METRICS_TOKEN the endpoint is open: fine behind a proxy that does not route it, or on a
 * private network where Prometheus scrapes. So in production (`NODE_ENV=production`) the token is
 * required unless the server listens on a private address only (`HOST` loopback, or in
 * 10/8, 172.16/12, 192.168/16, fc00::/7): a public listener with open metrics is refused at start.
 */
import { ConfigError, type Env } from '../config.ts';
import { isIP } from 'node:net';
import { createEnvReader } from '../limits/env-reader.ts';

export interface MetricsConfig {
  readonly token: string | undefined;
  readonly collectProcessMetrics: boolean;
}

/** A scrape token is a shared secret; shorter ones are guessable. */
export const MIN_METRICS_TOKEN_LENGTH = 16;

export function loadMetricsConfig(env: Env): MetricsConfig {
  const problems: string[] = [];
  const read = createEnvReader(env, problems);
  const token = read.text('METRICS_TOKEN');
  if (token !== undefined && token.length < MIN_METRICS_TOKEN_LENGTH) {
    problems.push(`METRICS_TOKEN must be at least ${MIN_METRICS_TOKEN_LENGTH} characters long`);
  }
  const host = read.text('HOST') ?? DEFAULT_HOST;
  if (token === undefined && read.text('NODE_ENV') === 'production' && !isPrivateHost(host)) {
    problems.push(`METRICS_TOKEN is required in production when HOST (${host}) is not a private address: /metrics would be open to anyone who reaches the server`);
  }
  const config: MetricsConfig = { token, collectProcessMetrics: read.flag('METRICS_PROCESS', true) };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** `config.ts`'s default: every interface. */
const DEFAULT_HOST = '0.0.0.0';

/** Loopback or a private range: a listener there is not reachable from the internet on its own. */
export function isPrivateHost(host: string): boolean {
  const address = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (address === 'localhost') return true;
  if (isIP(address) === 4) {
    const [a = 0, b = 0] = address.split('.').map(Number);
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  if (isIP(address) === 6) return address === '::1' || /^f[cd][0-9a-f]{2}:/.test(address);
  return false;
}
