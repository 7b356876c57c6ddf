/**
 * Configuration of the reply log, read from an environment-like record by a pure function (same
 * conventions as `src/config.ts`).
 *
 * Contract: `loadReplyLogConfig(env)` never reads `process.env`; it returns a complete
 * `ReplyLogConfig` or throws one `ConfigError` listing every invalid variable.
 *
 * | variable                          | default | meaning                                                  |
 * |-----------------------------------|---------|----------------------------------------------------------|
 * | REPLY_LOG_TTL_MS                  | 600000  | how long a reply's events stay resumable after its last event |
 * | REPLY_LOG_MAX_EVENTS              | 50000   | events one reply may hold before the producer must end it |
 * | REPLY_PRODUCER_LEASE_TTL_MS       | 15000   | with Redis: a reply whose generating instance has not renewed its lease for this long counts as abandoned |
 * | REPLY_PRODUCER_CHECK_INTERVAL_MS  | 5000    | a reader that got no event for this long asks whether the producer still lives |
 * | REPLY_LOG_MAX_BYTES               | 268435456 | without Redis: memory all logs of this process may take (256 MiB); ended logs go first, oldest first |
 *
 * 50 000 events is far above any real reply (a delta per provider chunk: a 16k-token answer is
 * about 16 000), yet bounds one log to a few megabytes.
 *
 * The lease is renewed every third of its TTL, so the default costs one Redis call per live reply
 * every 5 s whatever the reply's pace, and nothing per event. Its TTL must outlast the longest
 * event-loop stall of a healthy instance (a stalled producer past it has its reply ended by a
 * reader); a dead instance's replies end within about TTL + check interval (20 s by default) of
 * its death, for a client that is reading.
 */
import { ConfigError, type Env } from '../config.ts';
import { createEnvReader } from '../limits/env-reader.ts';

export interface ReplyLogConfig {
  readonly retentionMs: number;
  readonly maxEvents: number;
  readonly producerLeaseTtlMs: number;
  readonly producerCheckIntervalMs: number;
  /** The in-memory log's total budget (estimated bytes); Redis is bounded by its own `maxmemory`. */
  readonly maxBytes: number;
}

export const DEFAULT_REPLY_LOG: ReplyLogConfig = {
  retentionMs: 600_000,
  maxEvents: 50_000,
  producerLeaseTtlMs: 15_000,
  producerCheckIntervalMs: 5000,
  maxBytes: 256 * 1024 * 1024,
};

export function loadReplyLogConfig(env: Env): ReplyLogConfig {
  const problems: string[] = [];
  const read = createEnvReader(env, problems);
  const config: ReplyLogConfig = {
    retentionMs: read.integer('REPLY_LOG_TTL_MS', DEFAULT_REPLY_LOG.retentionMs, 1000, 7 * 24 * 60 * 60 * 1000),
    maxEvents: read.integer('REPLY_LOG_MAX_EVENTS', DEFAULT_REPLY_LOG.maxEvents, 100, 10_000_000),
    producerLeaseTtlMs: read.integer('REPLY_PRODUCER_LEASE_TTL_MS', DEFAULT_REPLY_LOG.producerLeaseTtlMs, 100, 600_000),
    producerCheckIntervalMs: read.integer('REPLY_PRODUCER_CHECK_INTERVAL_MS', DEFAULT_REPLY_LOG.producerCheckIntervalMs, 50, 600_000),
    maxBytes: read.integer('REPLY_LOG_MAX_BYTES', DEFAULT_REPLY_LOG.maxBytes, 64 * 1024, Number.MAX_SAFE_INTEGER),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
