/**
 * Benchmark child: the wxstream server (`startServer`, as `main.ts` runs it) in its own process,
 * relaying from the emulator whose base URL is argv[2]. Answers `memory` requests over IPC with a
 * post-GC `process.memoryUsage()` (run with --expose-gc) and `cpu` requests with `process.cpuUsage()`;
 * exits on `stop`. REDIS_URL / REDIS_KEY_PREFIX from its environment, when set, move the reply
 * logs and locks to Redis.
 */
import { loadServerConfig } from '../src/server-config.ts';
import { createLogger } from '../src/logger.ts';
import { startServer } from '../src/start-server.ts';

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
  ...(process.env.REDIS_URL === undefined ? {} : { REDIS_URL: process.env.REDIS_URL }),
  ...(process.env.REDIS_KEY_PREFIX === undefined ? {} : { REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX }),
});
const server = await startServer({ config, logger: createLogger({ level: 'silent' }) });
process.send?.({ type: 'ready', url: server.url });

const collect = (globalThis as { gc?: () => void }).gc;
process.on('message', (message: { type: string }) => {
  if (message.type === 'memory') {
    collect?.();
    collect?.();
    process.send?.({ type: 'memory', usage: process.memoryUsage(), cpu: process.cpuUsage(), activeReplies: server.activeReplies });
  }
  if (message.type === 'cpu') {
    process.send?.({ type: 'cpu', usage: process.memoryUsage(), cpu: process.cpuUsage(), activeReplies: server.activeReplies });
  }
  if (message.type === 'stop') void server.shutdown().then(() => process.exit(0));
});
