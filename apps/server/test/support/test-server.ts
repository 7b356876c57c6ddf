/**
 * Starts the real server and the real upstream emulator on loopback ports for tests (and for the
 * end-to-end tests of the client core).
 *
 * Contract: `startEmulator` is the OpenAI-compatible emulator on 127.0.0.1:0; `startTestServer`
 * runs `startServer` with a test configuration — HOST 127.0.0.1, PORT 0, a fixed TOKEN_SECRET,
 * silent logs captured in memory, the given emulator as upstream (or the embedded offline model
 * when `upstream: 'offline'`) — plus whatever env overrides the test passes. `startStack` starts
 * both. Every `close()` shuts the pieces down; call it in `after`/`finally`.
 */
import { Writable } from 'node:stream';
import type { Clock } from '../../src/clock.ts';
import type { Env } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import {
  startOpenAICompatibleEmulator,
  type EmulatorOptions,
  type OpenAICompatibleEmulator,
  type ScenarioSource,
} from '../../src/offline-model/openai-compatible-emulator.ts';
import { loadServerConfig, type ServerConfig } from '../../src/server-config.ts';
import { startServer, type RunningServer } from '../../src/start-server.ts';
import type { Transcriber } from '../../src/transcription/transcriber.ts';
import type { TtsProvider } from '../../src/voice/tts-provider.ts';

export const TEST_TOKEN_SECRET = 'test-secret-that-is-long-enough-0123456789';
export const TEST_API_KEY = 'sk-test-emulator-key-0123456789abcdef';

export type LogRecord = Record<string, unknown> & { level: number; msg?: string };

export function startEmulator(options: EmulatorOptions = {}): Promise<OpenAICompatibleEmulator> {
  return startOpenAICompatibleEmulator({ host: '127.0.0.1', ...options });
}

/**
 * The configuration tests run with: `loadServerConfig` over test defaults and the given overrides.
 * The defaults keep tests independent of each other: a private in-memory database, no rate limits
 * or stream caps (suites send many chats from one user and one address), no process metrics (their
 * event-loop monitor never stops), no upstream retries (a scripted refusal is answered as
 * scripted), no voice-input rate limit, no titles or follow-up questions from the model (side calls
 * the other tests did not script).
 */
export function testConfig(env: Env = {}): ServerConfig {
  return loadServerConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    TOKEN_SECRET: TEST_TOKEN_SECRET,
    LOG_LEVEL: 'debug',
    OFFLINE_MODEL_CHUNK_DELAY_MS: '0',
    SHUTDOWN_GRACE_MS: '1000',
    DATABASE_PATH: ':memory:',
    RATE_LIMIT_PER_MINUTE: '0',
    STT_RATE_LIMIT_PER_MINUTE: '0',
    // Likewise the per-address and per-user limits of the other doors, and the stream caps: every
    // test client is 127.0.0.1, and some suites open many streams at once. The tests of those
    // limits set them back.
    LOGIN_RATE_LIMIT_PER_MINUTE: '0',
    PUBLIC_RATE_LIMIT_PER_MINUTE: '0',
    API_RATE_LIMIT_PER_MINUTE: '0',
    MAX_STREAMS_PER_USER: '10000',
    MAX_READERS_PER_REPLY: '10000',
    METRICS_PROCESS: 'false',
    // Refusals answer at once, as each test scripted them; the retry tests turn retries back on.
    UPSTREAM_MAX_RETRIES: '0',
    // Side calls would add a request to the emulator and an event to every reply each test scripted;
    // the tests of titles and follow-up questions turn them on.
    TITLE_GENERATION: 'false',
    FOLLOW_UP_SUGGESTIONS: 'false',
    ...env,
  });
}

export interface TestServer {
  readonly server: RunningServer;
  readonly url: string;
  /** Every log record the server wrote, parsed. */
  readonly logs: LogRecord[];
  /** The raw log output, for "never logs X" assertions. */
  readonly rawLogs: () => string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** The upstream: an emulator (its base URL and TEST_API_KEY are configured), or the offline model. */
  upstream: OpenAICompatibleEmulator | 'offline';
  env?: Env;
  clock?: Clock;
  ids?: () => string;
  /** Speaks voice replies instead of the configured provider. */
  ttsProvider?: TtsProvider;
  /** Transcribes voice input instead of the configured provider. */
  transcriber?: Transcriber;
}

export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const upstreamEnv: Env =
    options.upstream === 'offline'
      ? {}
      : { OPENAI_BASE_URL: options.upstream.baseURL, OPENAI_API_KEY: TEST_API_KEY, OPENAI_MODEL: 'emulated-model' };
  const config = testConfig({ ...upstreamEnv, ...options.env });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger({ level: config.logLevel, destination: sink });
  const server = await startServer({
    config,
    logger,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.ids === undefined ? {} : { ids: options.ids }),
    ...(options.ttsProvider === undefined ? {} : { ttsProvider: options.ttsProvider }),
    ...(options.transcriber === undefined ? {} : { transcriber: options.transcriber }),
  });
  const logs: LogRecord[] = [];
  return {
    server,
    url: server.url,
    get logs() {
      logs.length = 0;
      for (const line of lines.join('').split('\n')) if (line !== '') logs.push(JSON.parse(line) as LogRecord);
      return logs;
    },
    rawLogs: () => lines.join(''),
    close: () => server.shutdown(),
  };
}

export interface TestStack {
  readonly emulator: OpenAICompatibleEmulator;
  readonly app: TestServer;
  readonly url: string;
  close(): Promise<void>;
}

/** An emulator with `scenario` and a server using it. */
export async function startStack(options: { scenario?: ScenarioSource; env?: Env; clock?: Clock; ids?: () => string; emulator?: EmulatorOptions } = {}): Promise<TestStack> {
  const emulator = await startEmulator({
    ...options.emulator,
    ...(options.scenario === undefined ? {} : { scenario: options.scenario }),
  });
  const app = await startTestServer({
    upstream: emulator,
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.ids === undefined ? {} : { ids: options.ids }),
  });
  return {
    emulator,
    app,
    url: app.url,
    async close() {
      await app.close();
      await emulator.close();
    },
  };
}
