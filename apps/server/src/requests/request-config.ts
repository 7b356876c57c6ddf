/**
 * Configuration of chat requests named by the client (`requestId`) and of polling delivery, read from
 * an environment-like record by a pure function (same conventions as `src/config.ts`).
 *
 * Contract: `loadRequestConfig(env)` never reads `process.env`; it returns a complete `RequestConfig` or
 * throws one `ConfigError` listing every invalid variable.
 *
 * | variable             | default | meaning                                                              |
 * |----------------------|---------|----------------------------------------------------------------------|
 * | REQUEST_STOP_TTL_MS  | 60000   | a stop that arrives before its request is remembered this long        |
 * | POLL_WAIT_MS         | 10000   | a poll with no new event waits this long for one before it answers empty |
 * | STOP_SETTLE_WAIT_MS  | 5000    | a stop by requestId answers once the reply has ended, or after this long |
 *
 * A request's record (its reply, once committed) lives as long as the reply log (REPLY_LOG_TTL_MS), so a
 * repeat finds the reply while its events can still be replayed.
 */
import { ConfigError, type Env } from '../config.ts';
import { createEnvReader } from '../limits/env-reader.ts';

export interface RequestConfig {
  readonly stopTtlMs: number;
  readonly pollWaitMs: number;
  readonly stopSettleWaitMs: number;
}

export const DEFAULT_REQUESTS: RequestConfig = { stopTtlMs: 60_000, pollWaitMs: 10_000, stopSettleWaitMs: 5000 };

export function loadRequestConfig(env: Env): RequestConfig {
  const problems: string[] = [];
  const read = createEnvReader(env, problems);
  const config: RequestConfig = {
    stopTtlMs: read.integer('REQUEST_STOP_TTL_MS', DEFAULT_REQUESTS.stopTtlMs, 1000, 24 * 60 * 60 * 1000),
    pollWaitMs: read.integer('POLL_WAIT_MS', DEFAULT_REQUESTS.pollWaitMs, 0, 60_000),
    stopSettleWaitMs: read.integer('STOP_SETTLE_WAIT_MS', DEFAULT_REQUESTS.stopSettleWaitMs, 0, 60_000),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
