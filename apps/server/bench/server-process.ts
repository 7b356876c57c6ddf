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
 * BENCH_PROFILE_DIR, when set, enables a V8 CPU profile of chosen windows only (so start-up and
 * logins stay out of it): `profile-start` starts or resumes sampling, `profile-pause` stops it and
 * keeps the samples, `profile-write` writes all kept windows as one `.cpuprofile` there; each is
 * answered with a message of its own type once done. With BENCH_PROFILE_DIR, `heap-snapshot` also
 * writes a V8 heap snapshot there (`server-<pid>-<n>.heapsnapshot`) and answers with its path.
 */
import { writeFile } from 'node:fs/promises';
import { Session, type Profiler } from 'node:inspector/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { loadServerConfig } from '../src/server-config.ts';
import { createLogger } from '../src/logger.ts';
import { startServer } from '../src/start-server.ts';

const fromEnv = (name: string) => (process.env[name] === undefined ? {} : { [name]: process.env[name] });
const config = loadServerConfig({
  HOST: '127.0.0.1',
  // The benchmark measures the relay with its storage; limits would only refuse the load.
  DATABASE_PATH: ':memory:',
  RATE_LIMIT_PER_MINUTE: '0',
  // Every bench client logs in and calls from one address (loopback): per-address limits would refuse them.
  LOGIN_RATE_LIMIT_PER_MINUTE: '0',
  PUBLIC_RATE_LIMIT_PER_MINUTE: '0',
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

const profileDir = process.env.BENCH_PROFILE_DIR;
const profiler = profileDir === undefined ? undefined : new Session();
/** Profiles of the windows sampled so far; V8 cannot pause a profile, so each window is its own. */
const windows: Profiler.Profile[] = [];

/** Joins windows into one profile: nodes renumbered per window, samples and deltas appended. */
function joinProfiles(profiles: readonly Profiler.Profile[]): Profiler.Profile {
  const nodes: Profiler.ProfileNode[] = [];
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let offset = 0;
  for (const profile of profiles) {
    for (const node of profile.nodes) {
      nodes.push({ ...node, id: node.id + offset, ...(node.children === undefined ? {} : { children: node.children.map((child) => child + offset) }) });
    }
    samples.push(...(profile.samples ?? []).map((sample) => sample + offset));
    timeDeltas.push(...(profile.timeDeltas ?? []));
    offset += Math.max(0, ...profile.nodes.map((node) => node.id));
  }
  return { nodes, startTime: profiles[0]?.startTime ?? 0, endTime: profiles.at(-1)?.endTime ?? 0, samples, timeDeltas };
}

async function onProfileMessage(type: string): Promise<void> {
  if (profiler === undefined || profileDir === undefined) return;
  if (type === 'profile-start') {
    if (windows.length === 0) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
    }
    await profiler.post('Profiler.start');
  }
  if (type === 'profile-pause') windows.push((await profiler.post('Profiler.stop')).profile);
  if (type === 'profile-write') await writeFile(join(profileDir, `server-${process.pid}.cpuprofile`), JSON.stringify(joinProfiles(windows)));
  process.send?.({ type });
}

const collect = (globalThis as { gc?: () => void }).gc;
let snapshots = 0;
process.on('message', (message: { type: string }) => {
  if (message.type === 'memory') {
    collect?.();
    collect?.();
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((space) => [space.space_name, { size: space.space_size, used: space.space_used_size }]));
    process.send?.({ type: 'memory', usage: process.memoryUsage(), cpu: process.cpuUsage(), activeReplies: server.activeReplies, spaces });
  }
  if (message.type === 'cpu') {
    const delay = { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) };
    loopDelay.reset();
    process.send?.({ type: 'cpu', usage: process.memoryUsage(), cpu: process.cpuUsage(), activeReplies: server.activeReplies, loopDelay: delay });
  }
  if (message.type.startsWith('profile-')) void onProfileMessage(message.type);
  if (message.type === 'heap-snapshot' && profileDir !== undefined) {
    collect?.();
    snapshots += 1;
    const path = writeHeapSnapshot(join(profileDir, `server-${process.pid}-${snapshots}.heapsnapshot`));
    process.send?.({ type: 'heap-snapshot', path });
  }
  if (message.type === 'stop') void server.shutdown().then(() => process.exit(0));
});
