/**
 * Benchmark child: the wxstream server (`startServer`, as `main.ts` runs it) in its own process,
 * relaying from the emulator whose base URL is argv[2]. Answers over IPC:
 * - `memory`: a post-GC `process.memoryUsage()` (run with --expose-gc; two collections, so
 *   garbage freed by the first one's finalizers goes too), with CPU and in-flight replies;
 * - `cpu`: the same without collecting, plus this process's event-loop delay (p50 / p99 / max, ms)
 *   since the previous `cpu` answer — how long work waited for the server's one thread;
 * - `stop`: shuts down and exits.
 * REDIS_URL / REDIS_KEY_PREFIX from its environment, when set, move the reply logs and locks to
 * Redis; REPLY_LOG_TTL_MS, when set, shortens how long ended replies stay resumable.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadServerConfig } from '../src/server-config.ts';
import { createLogger } from '../src/logger.ts';
import { startServer } from '../src/start-server.ts';

const fromEnv = (name: string) => (process.env[name] === undefined ? {} : { [name]: process.env[name] });
const config = loadServerConfig({
  HOST: '127.0.0.1',
  // The benchmark measures the relay with its storage; limits would only refuse the load.
  DATABASE_PATH: ':memory:',
  RATE_LIMIT_PER_MINUTE: '0',
  DAILY_TOKEN_QUOTA: '0',
  METRICS_PROCESS: 'false',
  PORT: '0',
  LOG_LEVEL: 'silent',
  TOKEN_SECRET: 'benchmark-secret-that-is-long-enough-0123',
  OPENAI_BASE_URL: process.argv[2],
  OPENAI_API_KEY: 'sk-benchmark',
  OPENAI_MODEL: 'bench-model',
  // The soak bench runs a second pass against Redis; unset, the in-memory default.
  ...fromEnv('REDIS_URL'),
  ...fromEnv('REDIS_KEY_PREFIX'),
  ...fromEnv('REPLY_LOG_TTL_MS'),
});
const server = await startServer({ config, logger: createLogger({ level: 'silent' }) });
process.send?.({ type: 'ready', url: server.url });

// 10 ms resolution: delays of interest are milliseconds and up; finer sampling would cost the server CPU.
// The histogram records whole tick intervals, so the tick itself is taken off: what is left is lateness.
const LOOP_TICK_MS = 10;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_TICK_MS });
loopDelay.enable();
const ms = (nanoseconds: number) => Math.max(0, nanoseconds / 1e6 - LOOP_TICK_MS);

const collect = (globalThis as { gc?: () => void }).gc;
process.on('message', (message: { type: string }) => {
  if (message.type === 'memory') {
    collect?.();
    collect?.();
    process.send?.({ type: 'memory', usage: process.memoryUsage(), cpu: process.cpuUsage(), activeReplies: server.activeReplies });
  }
  if (message.type === 'cpu') {
    const delay = { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) };
    loopDelay.reset();
    process.send?.({ type: 'cpu', usage: process.memoryUsage(), cpu: process.cpuUsage(), activeReplies: server.activeReplies, loopDelay: delay });
  }
  if (message.type === 'stop') void server.shutdown().then(() => process.exit(0));
});
