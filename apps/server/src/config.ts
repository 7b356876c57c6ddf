/**
 * Server configuration, read from an environment-like record by a pure function.
 *
 * Contract: `loadConfig(env)` never reads `process.env` itself and never has side effects; it
 * returns a complete `Config` or throws one `ConfigError` listing every invalid variable, so an
 * operator fixes them all in one go. Defaults are chosen for production use; tests pass small
 * timeouts through the same variables.
 *
 * Upstream choice: with neither OPENAI_API_KEY nor OPENAI_BASE_URL the server uses its embedded
 * offline model (a local OpenAI-compatible emulator explaining how to configure a real one).
 */

export type Env = Readonly<Record<string, string | undefined>>;

export type UpstreamConfig =
  | { readonly kind: 'offline'; readonly model: string; readonly chunkDelayMs: number }
  | {
      readonly kind: 'openai-compatible';
      /** Undefined for keyless local providers (Ollama, vLLM); a placeholder is sent instead. */
      readonly apiKey: string | undefined;
      /** Undefined means the SDK's default, api.openai.com. */
      readonly baseURL: string | undefined;
      readonly model: string;
    };

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly production: boolean;
  readonly logLevel: LogLevel;
  /** Undefined outside production: a random secret is generated at start. */
  readonly tokenSecret: string | undefined;
  readonly tokenTtlSeconds: number;
  /** Development login: any non-empty code is accepted. Off by default in production. */
  readonly devLogin: boolean;
  readonly upstream: UpstreamConfig;
  readonly heartbeatIntervalMs: number;
  readonly upstreamIdleTimeoutMs: number;
  readonly maxMessageChars: number;
  readonly maxBodyBytes: number;
  readonly shutdownGraceMs: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_OPENAI_MODEL = 'gpt-4o-mini';
export const OFFLINE_MODEL_NAME = 'wxstream-offline';
/** HMAC keys shorter than this are guessable; refuse them rather than sign weak tokens. */
export const MIN_TOKEN_SECRET_LENGTH = 32;

export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

export function loadConfig(env: Env): Config {
  const problems: string[] = [];

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = nonEmpty(env[name]);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw)) {
      problems.push(`${name} must be a whole number, got "${raw}"`);
      return fallback;
    }
    const value = Number(raw);
    if (value < min || value > max) {
      problems.push(`${name} must be between ${min} and ${max}, got ${value}`);
      return fallback;
    }
    return value;
  };

  const flag = (name: string, fallback: boolean): boolean => {
    const raw = nonEmpty(env[name])?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  };

  const production = nonEmpty(env.NODE_ENV) === 'production';

  const logLevelRaw = nonEmpty(env.LOG_LEVEL)?.toLowerCase() ?? 'info';
  let logLevel: LogLevel = 'info';
  if ((LOG_LEVELS as readonly string[]).includes(logLevelRaw)) logLevel = logLevelRaw as LogLevel;
  else problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevelRaw}"`);

  const tokenSecret = nonEmpty(env.TOKEN_SECRET);
  if (tokenSecret === undefined && production) {
    problems.push('TOKEN_SECRET is required when NODE_ENV=production (tokens must survive restarts)');
  } else if (tokenSecret !== undefined && tokenSecret.length < MIN_TOKEN_SECRET_LENGTH) {
    problems.push(`TOKEN_SECRET must be at least ${MIN_TOKEN_SECRET_LENGTH} characters long`);
  }

  const apiKey = nonEmpty(env.OPENAI_API_KEY);
  const baseURLRaw = nonEmpty(env.OPENAI_BASE_URL);
  let baseURL: string | undefined;
  if (baseURLRaw !== undefined) {
    try {
      const url = new URL(baseURLRaw);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
      baseURL = baseURLRaw.replace(/\/+$/, '');
    } catch {
      problems.push(`OPENAI_BASE_URL must be an http(s) URL, got "${baseURLRaw}"`);
    }
  }
  const model = nonEmpty(env.OPENAI_MODEL);
  const offlineChunkDelayMs = integer('OFFLINE_MODEL_CHUNK_DELAY_MS', 40, 0, 10_000);
  const upstream: UpstreamConfig =
    apiKey === undefined && baseURLRaw === undefined
      ? { kind: 'offline', model: OFFLINE_MODEL_NAME, chunkDelayMs: offlineChunkDelayMs }
      : { kind: 'openai-compatible', apiKey, baseURL, model: model ?? DEFAULT_OPENAI_MODEL };

  const config: Config = {
    port: integer('PORT', 3000, 0, 65_535),
    host: nonEmpty(env.HOST) ?? '0.0.0.0',
    production,
    logLevel,
    tokenSecret,
    tokenTtlSeconds: integer('TOKEN_TTL_SECONDS', 7 * 24 * 60 * 60, 1, 365 * 24 * 60 * 60),
    devLogin: flag('DEV_LOGIN', !production),
    upstream,
    heartbeatIntervalMs: integer('HEARTBEAT_INTERVAL_MS', 15_000, 1, 3_600_000),
    upstreamIdleTimeoutMs: integer('UPSTREAM_IDLE_TIMEOUT_MS', 60_000, 1, 3_600_000),
    maxMessageChars: integer('MAX_MESSAGE_CHARS', 4000, 1, 1_000_000),
    maxBodyBytes: integer('MAX_BODY_BYTES', 64 * 1024, 64, 64 * 1024 * 1024),
    shutdownGraceMs: integer('SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
