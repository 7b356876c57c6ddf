/**
 * Whether shared state lives in Redis, read from an environment-like record by a pure function
 * (same conventions as `src/config.ts`).
 *
 * Contract: `loadRedisConfig(env)` never reads `process.env`; it returns a complete `RedisConfig`
 * or throws one `ConfigError` listing every invalid variable.
 *
 * | variable          | default    | meaning                                                           |
 * |-------------------|------------|-------------------------------------------------------------------|
 * | REDIS_URL         | (none)     | redis:// or rediss:// URL; set, it moves the reply log, rate      |
 * |                   |            | limits, quotas and reply locks into Redis so they hold across     |
 * |                   |            | instances; unset, they live in this process's memory              |
 * | REDIS_KEY_PREFIX  | wxstream:  | starts every key, so several deployments can share one Redis      |
 */
import { ConfigError, type Env } from '../config.ts';
import { createEnvReader } from '../limits/env-reader.ts';

export interface RedisConfig {
  /** Undefined: keep shared state in process memory. */
  readonly url: string | undefined;
  readonly keyPrefix: string;
}

export const DEFAULT_REDIS_KEY_PREFIX = 'wxstream:';

export function loadRedisConfig(env: Env): RedisConfig {
  const problems: string[] = [];
  const read = createEnvReader(env, problems);
  const url = read.text('REDIS_URL');
  if (url !== undefined && !isRedisUrl(url)) {
    // The URL may carry a password: name the rule, not the value.
    problems.push('REDIS_URL must be a redis:// or rediss:// URL');
  }
  const keyPrefix = read.text('REDIS_KEY_PREFIX') ?? DEFAULT_REDIS_KEY_PREFIX;
  if (problems.length > 0) throw new ConfigError(problems);
  return { url, keyPrefix };
}

function isRedisUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
}
