/**
 * Configuration of the reply log, read from an environment-like record by a pure function (same
 * conventions as `src/config.ts`).
 *
 * Contract: `loadReplyLogConfig(env)` never reads `process.env`; it returns a complete
 * `ReplyLogConfig` or throws one `ConfigError` listing every invalid variable.
 *
 * | variable              | default | meaning                                                          |
 * |-----------------------|---------|------------------------------------------------------------------|
 * | REPLY_LOG_TTL_MS      | 600000  | how long a reply's events stay resumable after its last event    |
 * | REPLY_LOG_MAX_EVENTS  | 50000   | events one reply may hold before the producer must end it        |
 *
 * 50 000 events is far above any real reply (a delta per provider chunk: a 16k-token answer is
 * about 16 000), yet bounds one log to a few megabytes.
 */
import { ConfigError, type Env } from '../config.ts';
import { createEnvReader } from '../limits/env-reader.ts';

export interface ReplyLogConfig {
  readonly retentionMs: number;
  readonly maxEvents: number;
}

export const DEFAULT_REPLY_LOG: ReplyLogConfig = {
  retentionMs: 600_000,
  maxEvents: 50_000,
};

export function loadReplyLogConfig(env: Env): ReplyLogConfig {
  const problems: string[] = [];
  const read = createEnvReader(env, problems);
  const config: ReplyLogConfig = {
    retentionMs: read.integer('REPLY_LOG_TTL_MS', DEFAULT_REPLY_LOG.retentionMs, 1000, 7 * 24 * 60 * 60 * 1000),
    maxEvents: read.integer('REPLY_LOG_MAX_EVENTS', DEFAULT_REPLY_LOG.maxEvents, 100, 10_000_000),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
