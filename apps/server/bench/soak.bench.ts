/**
 * Soak benchmark, two phases per backend (the in-memory default, then Redis — skipped with the
 * reason printed when Redis does not answer):
 *
 * 1. Hold: exactly SOAK_HOLD_REPLIES replies live at once (`hold-phase.ts`), for the server's
 *    memory per live reply, and whether memory and the in-flight gauge come back after they stop.
 * 2. Soak, at each level of SOAK_LEVELS concurrent clients in turn, SOAK_SECONDS each: every
 *    client starts replies back to back (one user per client: a user has one reply at a time),
 *    each connection is cut at a seeded random point and resumed with `Last-Event-ID` until the
 *    terminal event (`soak-client.ts`). Reported: replies completed, characters lost and
 *    duplicated against the emulator's deterministic text (both must be 0), and the added latency
 *    of live deltas — arrival here minus the emulator's send stamp, corrected for the measured
 *    disagreement of the two processes' epoch clocks (read against the machine's monotonic clock).
 *
 * Processes: emulator (child), server (child, `startServer`), and this load generator, so the
 * server's event loop is its own. Beside the latency the run prints what decides how far it can
 * be trusted: CPU used by each process and by the whole machine (other work on it included), and
 * the event-loop delay of the server and of this process — a load generator whose own loop is late
 * stamps arrivals late, and that delay is not the server's.
 * Env: SOAK_SECONDS (15 per level), SOAK_LEVELS (100,1000), SOAK_HOLD_REPLIES (1000),
 * SOAK_HOLD_SECONDS (5: how long the held replies stream, all live, before the memory sample),
 * SOAK_HOLD_ROUNDS (2, on one server: a second round shows whether memory kept after the first
 * is reused or leaked),
 * SOAK_HOLD_LOG_TTL_MS (5000: reply-log retention in the hold phase, so its end can be seen),
 * SOAK_BACKENDS (memory,redis), SOAK_SEED (1). No assertions: figures only.
 */
import { arch, cpus, loadavg, platform } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, type RedisClientType } from '@redis/client';
import { createSeededRandom } from '../../../packages/client/test/support/seeded-random.ts';
import { ask, cpuMicros, serverStartFlags, spawnChild, stopChild, type Child, type EmulatorClock, type EmulatorCpu, type ServerSample } from './bench-children.ts';
import { inFlight, runHold, type HoldFigures, type MemoryPoint } from './hold-phase.ts';
import { ascending, percentile } from './percentile.ts';
import { CUT_CHANCE, DELTA_INTERVAL_MS, DELTAS_PER_REPLY, RESUME_DELAY_CHANCE, RESUME_DELAY_MAX_MS, epochMs, newTotals, runReply, type SoakTarget, type SoakTotals } from './soak-client.ts';

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 15);
const LEVELS = (process.env.SOAK_LEVELS ?? '100,1000').split(',').map(Number);
const HOLD_REPLIES = Number(process.env.SOAK_HOLD_REPLIES ?? 1000);
const HOLD_LOG_TTL_MS = Number(process.env.SOAK_HOLD_LOG_TTL_MS ?? 5000);
const HOLD_SECONDS = Number(process.env.SOAK_HOLD_SECONDS ?? 5);
const HOLD_ROUNDS = Number(process.env.SOAK_HOLD_ROUNDS ?? 2);
const BACKENDS = (process.env.SOAK_BACKENDS ?? 'memory,redis').split(',');
const SEED = Number(process.env.SOAK_SEED ?? 1);
/** The hold phase's emulator pace: a delta a second keeps 1,000 replies streaming for little CPU. */
const SLOW_DELTA_MS = 1000;
const REDIS_URL = 'redis://127.0.0.1:6379';
if (!(HOLD_LOG_TTL_MS >= 2 * SLOW_DELTA_MS)) {
  // A log expires that long after its last event, and a held reply writes one a second: it would end mid-hold.
  throw new RangeError(`SOAK_HOLD_LOG_TTL_MS must be at least ${2 * SLOW_DELTA_MS} (twice the held replies' ${SLOW_DELTA_MS} ms between deltas), got ${HOLD_LOG_TTL_MS}`);
}

// This process's own loop: how late it noticed arrivals. A 10 ms tick costs it next to nothing; the
// histogram records whole tick intervals, so the tick is taken off to leave the lateness.
const LOOP_TICK_MS = 10;
const ownLoopDelay = monitorEventLoopDelay({ resolution: LOOP_TICK_MS });
ownLoopDelay.enable();
const lateness = (nanoseconds: number) => Math.max(0, nanoseconds / 1e6 - LOOP_TICK_MS);

/** Whether Redis answers PING within half a second; the reason when it does not. */
async function redisProblem(): Promise<string | null> {
  const client = createClient({ url: REDIS_URL, socket: { connectTimeout: 500, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    return `${REDIS_URL}: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

async function connectRedis(): Promise<RedisClientType> {
  const client: RedisClientType = createClient({ url: REDIS_URL });
  await client.connect();
  return client;
}

/** Deletes every key under `prefix`; answers how many there were. */
async function deleteRedisKeys(prefix: string): Promise<number> {
  const client = await connectRedis();
  let deleted = 0;
  try {
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
      if (batch.length === 0) continue;
      deleted += await client.unlink(batch);
    }
  } finally {
    client.destroy();
  }
  return deleted;
}

async function loginAll(url: string, prefix: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let from = 0; from < count; from += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - from) }, async (_, offset) => {
        const answer = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: `${prefix}-${from + offset}` }) });
        return ((await answer.json()) as { token: string }).token;
      }),
    );
    tokens.push(...batch);
  }
  return tokens;
}

/** How far the emulator's epoch clock is ahead of ours, via the machine-wide monotonic clock both read. */
async function clockOffsetMs(emulator: Child): Promise<number> {
  const offsets: number[] = [];
  for (let round = 0; round < 5; round += 1) {
    const theirs = await ask<EmulatorClock>(emulator, 'clock');
    const ours = { epochMs: epochMs(), monotonicMs: Number(process.hrtime.bigint()) / 1e6 };
    offsets.push(theirs.epochMs - theirs.monotonicMs - (ours.epochMs - ours.monotonicMs));
  }
  return percentile(ascending(offsets), 50);
}

interface CpuSnapshot {
  at: number;
  server: number;
  emulator: number;
  loadGenerator: number;
  /** redis-server's own CPU (INFO cpu), when the pass uses Redis; it is shared with other work. */
  redis: number | undefined;
  machineBusy: number;
  machineTotal: number;
  serverLoopDelay: ServerSample['loopDelay'];
}

function machineTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const { user, nice, sys, irq, idle } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + irq + idle;
  }
  return { busy, total };
}

/** redis-server's CPU so far, in microseconds, from `INFO cpu`. */
async function redisCpuMicros(redis: RedisClientType): Promise<number> {
  const info = await redis.info('cpu');
  const seconds = (field: string) => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6;
}

async function cpuSnapshot(server: Child, emulator: Child, redis: RedisClientType | undefined): Promise<CpuSnapshot> {
  const serverSample = await ask<ServerSample>(server, 'cpu');
  const emulatorSample = await ask<EmulatorCpu>(emulator, 'cpu');
  const redisMicros = redis === undefined ? undefined : await redisCpuMicros(redis);
  const machine = machineTimes();
  return {
    at: performance.now(),
    server: cpuMicros(serverSample.cpu),
    emulator: cpuMicros(emulatorSample.cpu),
    loadGenerator: cpuMicros(process.cpuUsage()),
    redis: redisMicros,
    machineBusy: machine.busy,
    machineTotal: machine.total,
    serverLoopDelay: serverSample.loopDelay,
  };
}

interface LevelFigures {
  clients: number;
  totals: SoakTotals;
  /** Length of the measured window: after the ramp-up, until new replies stop starting. */
  windowSeconds: number;
  /** The server's in-flight gauge, read once a second in the window. */
  inFlight: { mean: number; max: number };
  /** Percent of one core, over the window. */
  cpu: { server: number; emulator: number; loadGenerator: number; redis: number | undefined; machinePercentOfAll: number };
  serverLoopDelay: { p99: number; max: number };
  ownLoopDelay: { p99: number; max: number };
}

/** Ramp-up: first starts are spread over one reply's length, so the load is steady, not in waves. */
const RAMP_MS = DELTAS_PER_REPLY * DELTA_INTERVAL_MS;

async function runLevel(server: Child, emulator: Child, redis: RedisClientType | undefined, url: string, tokens: readonly string[], offsetMs: number): Promise<LevelFigures> {
  const totals = newTotals();
  const target: SoakTarget = { url, clockOffsetMs: offsetMs, totals, measuring: false };
  const began = performance.now();
  const deadline = began + SOAK_SECONDS * 1000;
  const clients = Promise.all(
    tokens.map(async (token, index) => {
      const random = createSeededRandom(SEED * 100_000 + index);
      await sleep(random.int(RAMP_MS));
      while (performance.now() < deadline) {
        if (!(await runReply(target, token, random))) await sleep(20);
      }
    }),
  );
  // The measured window: from the end of the ramp-up to the deadline, when every client is busy.
  await sleep(RAMP_MS);
  // Also resets the server's loop-delay histogram, so what `after` reports is this window's.
  const before = await cpuSnapshot(server, emulator, redis);
  ownLoopDelay.reset();
  target.measuring = true;
  const inFlightSamples: number[] = [];
  while (performance.now() < deadline - 1000) {
    await sleep(1000);
    inFlightSamples.push(await inFlight(url));
  }
  await sleep(Math.max(0, deadline - performance.now()));
  target.measuring = false;
  const after = await cpuSnapshot(server, emulator, redis);
  const ownDelay = { p99: lateness(ownLoopDelay.percentile(99)), max: lateness(ownLoopDelay.max) };
  await clients;
  const wallMicros = (after.at - before.at) * 1000;
  const percentOfCore = (from: number, to: number) => ((to - from) / wallMicros) * 100;
  return {
    clients: tokens.length,
    totals,
    windowSeconds: (after.at - before.at) / 1000,
    inFlight: { mean: inFlightSamples.reduce((sum, value) => sum + value, 0) / Math.max(1, inFlightSamples.length), max: Math.max(...inFlightSamples) },
    cpu: {
      server: percentOfCore(before.server, after.server),
      emulator: percentOfCore(before.emulator, after.emulator),
      loadGenerator: percentOfCore(before.loadGenerator, after.loadGenerator),
      redis: before.redis === undefined || after.redis === undefined ? undefined : percentOfCore(before.redis, after.redis),
      machinePercentOfAll: ((after.machineBusy - before.machineBusy) / (after.machineTotal - before.machineTotal)) * 100,
    },
    serverLoopDelay: { p99: after.serverLoopDelay?.p99 ?? Number.NaN, max: after.serverLoopDelay?.max ?? Number.NaN },
    ownLoopDelay: ownDelay,
  };
}

interface BackendFigures {
  backend: string;
  holds: HoldFigures[];
  levels: LevelFigures[];
  redisKeysDeleted: number | undefined;
}

async function runBackend(backend: string, emulator: Child, env: NodeJS.ProcessEnv, offsetMs: number): Promise<BackendFigures> {
  const emulatorUrl = String(emulator.ready.baseURL);
  // A fresh server for the hold, with a short log retention so the return to baseline is visible.
  const holdServer = await spawnChild('./server-process.ts', [emulatorUrl], { ...env, REPLY_LOG_TTL_MS: String(HOLD_LOG_TTL_MS) }, serverStartFlags());
  const holds: HoldFigures[] = [];
  try {
    const url = String(holdServer.ready.url);
    const tokens = await loginAll(url, `hold-${backend}`, HOLD_REPLIES);
    // A second round on the same server tells memory the allocator keeps for reuse from memory that leaks.
    for (let round = 0; round < HOLD_ROUNDS; round += 1) holds.push(await runHold(holdServer, url, tokens, HOLD_LOG_TTL_MS, HOLD_SECONDS * 1000));
  } finally {
    await stopChild(holdServer);
  }
  // The soak runs with the production retention, as deployed.
  const soakServer = await spawnChild('./server-process.ts', [emulatorUrl], env, serverStartFlags());
  const redis = env.REDIS_URL === undefined ? undefined : await connectRedis();
  const levels: LevelFigures[] = [];
  try {
    const url = String(soakServer.ready.url);
    const tokens = await loginAll(url, `soak-${backend}`, Math.max(...LEVELS));
    for (const clients of LEVELS) levels.push(await runLevel(soakServer, emulator, redis, url, tokens.slice(0, clients), offsetMs));
  } finally {
    redis?.destroy();
    await stopChild(soakServer);
  }
  return { backend, holds, levels, redisKeysDeleted: undefined };
}

const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
const kib = (bytes: number) => (bytes / 1024).toFixed(1);
const fixed = (value: number, digits = 1) => value.toFixed(digits);

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => console.log(cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join(' | '));
  line(header);
  console.log(widths.map((width) => '-'.repeat(width)).join('-|-'));
  for (const row of rows) line(row);
}

function memoryCells(point: MemoryPoint): string {
  return `${mib(point.rss)} / ${mib(point.heapUsed)}`;
}

function printFigures(results: readonly BackendFigures[], skipped: string | null, offsetMs: number, began: number, loadBefore: number): void {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown cpu';
  console.log(`\nwxstream soak benchmark — ${cpu}, ${cpus().length} cores, node ${process.version}, ${platform()} ${arch()}; loopback only`);
  console.log(`processes: emulator (child), server (child, startServer), load generator (this process); seed ${SEED}`);
  console.log(`emulator epoch clock vs the load generator's: ${offsetMs >= 0 ? '+' : ''}${offsetMs.toFixed(3)} ms (subtracted from every latency)\n`);

  console.log(`hold: ${HOLD_REPLIES} replies live at once, streaming a delta every ${SLOW_DELTA_MS} ms for ${HOLD_SECONDS} s, then each stopped via POST /api/chat/:messageId/stop;`);
  console.log(`server memory post-GC, MiB RSS / heap; in-flight from its /metrics gauge; reply-log retention ${HOLD_LOG_TTL_MS} ms in this phase`);
  printTable(
    ['backend', 'round', 'in flight', 'all live after', 'deltas/reply', 'baseline', 'held', 'RSS/reply KiB', 'heap/reply KiB', 'stopped in', 'after stop (in flight)', 'after retention (in flight)'],
    results.flatMap(({ backend, holds }) =>
      holds.map((hold, round) => [
        backend,
        String(round + 1),
        String(hold.held.inFlight),
        `${fixed(hold.secondsToAllLive)} s`,
        fixed(hold.deltasPerReplyAtSample),
        memoryCells(hold.baseline),
        memoryCells(hold.held),
        kib((hold.held.rss - hold.baseline.rss) / hold.replies),
        kib((hold.held.heapUsed - hold.baseline.heapUsed) / hold.replies),
        `${fixed(hold.secondsToStop)} s`,
        `${memoryCells(hold.afterStop)} (${hold.afterStop.inFlight})`,
        `${memoryCells(hold.afterExpiry)} (${hold.afterExpiry.inFlight})`,
      ]),
    ),
  );

  console.log(
    `\nsoak: ${SOAK_SECONDS} s per level (timed window: ${RAMP_MS / 1000} s ramp-up to the end of new starts); each reply ${DELTAS_PER_REPLY} deltas ${DELTA_INTERVAL_MS} ms apart; each connection cut with p=${CUT_CHANCE} at a random event, ` +
      `resumed with Last-Event-ID (after a 50–${RESUME_DELAY_MAX_MS} ms wait with p=${RESUME_DELAY_CHANCE}) until the terminal event`,
  );
  printTable(
    ['backend', 'clients', 'started', 'completed', 'error', 'unfinished', 'cuts', 'resumes', 'lost chars', 'dup chars', 'mismatched'],
    results.flatMap(({ backend, levels }) =>
      levels.map((level) => {
        const t = level.totals;
        return [backend, String(level.clients), String(t.started), String(t.completed), String(t.endedInError), String(t.unfinished), String(t.cuts), String(t.resumes), String(t.lostChars), String(t.duplicatedChars), String(t.mismatchedReplies)];
      }),
    ),
  );
  console.log(`\nadded latency of live deltas in the timed window (ms); loop = event-loop lateness (ms); CPU in % of one core (${cpus().length} cores), machine = every process on it, other work included`);
  printTable(
    ['backend', 'clients', 'in flight mean / max', 'deltas timed', 'p50', 'p90', 'p99', 'max', 'flowing p50 / p99', 'server loop p99 / max', 'load-gen loop p99 / max', 'CPU server', 'emulator', 'load gen', 'redis', 'machine busy'],
    results.flatMap(({ backend, levels }) =>
      levels.map((level) => {
        const sorted = ascending(level.totals.latenciesMs);
        const flowing = ascending(level.totals.flowingLatenciesMs);
        return [
          backend,
          String(level.clients),
          `${fixed(level.inFlight.mean, 0)} / ${level.inFlight.max}`,
          String(sorted.length),
          fixed(percentile(sorted, 50), 2),
          fixed(percentile(sorted, 90), 2),
          fixed(percentile(sorted, 99), 2),
          fixed(sorted.at(-1) ?? Number.NaN, 0),
          `${fixed(percentile(flowing, 50), 2)} / ${fixed(percentile(flowing, 99), 2)}`,
          `${fixed(level.serverLoopDelay.p99)} / ${fixed(level.serverLoopDelay.max, 0)}`,
          `${fixed(level.ownLoopDelay.p99)} / ${fixed(level.ownLoopDelay.max, 0)}`,
          `${fixed(level.cpu.server, 0)}%`,
          `${fixed(level.cpu.emulator, 0)}%`,
          `${fixed(level.cpu.loadGenerator, 0)}%`,
          level.cpu.redis === undefined ? '—' : `${fixed(level.cpu.redis, 0)}%`,
          `${fixed(level.cpu.machinePercentOfAll, 0)}% of all`,
        ];
      }),
    ),
  );
  console.log('\nlost/dup chars: delta text missing from, or delivered twice into, each reply reassembled across its connections, vs the emulator\'s text — must be 0.');
  console.log('added latency: arrival in the load generator minus the emulator\'s send stamp; replayed deltas excluded. It includes the load generator\'s own loop delay (its column).');
  console.log('flowing: only deltas sent after their connection delivered its first event — the relay on an open stream, without a resume request\'s wait to be served.');
  for (const result of results) {
    for (const level of result.levels) {
      const t = level.totals;
      console.log(`${result.backend} ${level.clients} clients: ${t.connections} connections, ${t.delayedResumes} delayed resumes, ${t.refusedStarts} starts refused (409 while the previous reply's lock was released), timed window ${fixed(level.windowSeconds)} s`);
    }
    if (result.redisKeysDeleted !== undefined) console.log(`${result.backend}: ${result.redisKeysDeleted} keys under the run's prefix deleted afterwards`);
  }
  if (skipped !== null) console.log(`redis: skipped — ${skipped}`);
  console.log(`run time ${fixed((performance.now() - began) / 1000)} s; 1-min load average ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? 0).toFixed(2)} after`);
}

async function main(): Promise<void> {
  const began = performance.now();
  const loadBefore = loadavg()[0] ?? 0;
  const emulator = await spawnChild('./emulator-process.ts', [String(DELTAS_PER_REPLY), String(DELTA_INTERVAL_MS), String(SLOW_DELTA_MS)]);
  const results: BackendFigures[] = [];
  let skipped: string | null = null;
  let offsetMs = Number.NaN;
  try {
    offsetMs = await clockOffsetMs(emulator);
    const baseEnv = { ...process.env };
    delete baseEnv.REDIS_URL;
    delete baseEnv.REDIS_KEY_PREFIX;
    delete baseEnv.REPLY_LOG_TTL_MS;
    if (BACKENDS.includes('memory')) results.push(await runBackend('memory', emulator, baseEnv, offsetMs));
    if (BACKENDS.includes('redis')) {
      skipped = await redisProblem();
      if (skipped === null) {
        const prefix = `wxstream-soak-${process.pid}-${Date.now()}:`;
        try {
          results.push(await runBackend('redis', emulator, { ...baseEnv, REDIS_URL, REDIS_KEY_PREFIX: prefix }, offsetMs));
        } finally {
          // Even when the pass failed: a shared Redis must not keep a benchmark's keys.
          const deleted = await deleteRedisKeys(prefix);
          const redisResult = results.find((result) => result.backend === 'redis');
          if (redisResult !== undefined) redisResult.redisKeysDeleted = deleted;
        }
      }
    }
  } finally {
    await stopChild(emulator);
  }
  printFigures(results, skipped, offsetMs, began, loadBefore);
}

await main();
