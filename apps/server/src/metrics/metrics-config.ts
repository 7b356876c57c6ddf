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
 * private network where Prometheus scrapes; anything reachable from the internet should set one.
 */
import { ConfigError, type Env } from '../config.ts';
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
  const config: MetricsConfig = { token, collectProcessMetrics: read.flag('METRICS_PROCESS', true) };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
