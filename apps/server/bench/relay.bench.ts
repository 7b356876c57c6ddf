/**
 * Relay benchmark: what each relay adds on top of reading the model provider directly, side by
 * side in one run, at the issue's levels.
 *
 * Relays, each in its own process on loopback, all in front of the same emulator (child):
 * - direct: no relay, the load generator reads the emulator itself — the baseline of "added";
 * - nginx: the Debian package, one worker, response buffering off (`nginx-relay.ts`);
 * - pipe: the naive byte pipe the project replaced, plain `node:http` (`seed-pipe-process.ts`);
 * - ours: `startServer` exactly as `main.ts` runs it (embedded default: SQLite in memory, the
 *   in-memory reply log; one user per stream) — parsing, re-framing, the reply log, checkpoints;
 * - ours-redis: the same with `REDIS_URL` (reply logs, locks and stops in Redis);
 * - ours-before (only with RELAY_BEFORE=<the root of another checkout, e.g. an older commit's
 *   `git archive` next to this one's node_modules>): that checkout's server, its own
 *   `bench/server-process.ts` and start flags — the "before" of a change, measured in the same run.
 * Every server runs with the Node flags of its `pnpm start`.
 * The emulator stamps each content delta with its send time; a delta's latency is its arrival here
 * minus that stamp, and "added" is a relay's figure minus direct's at the same percentile and
 * level. TTFB is request sent → first body byte. Relay CPU is the relay process's CPU (/proc) over
 * the level ÷ the deltas it delivered, and its share of one core over the level's wall time. RSS
 * per stream is the relay's peak RSS growth during the level ÷ streams (no forced GC). For ours,
 * RSS per live reply is also measured the way the issue's target is: RELAY_HELD replies live at
 * once (a delta a second), post-GC RSS and heap minus the idle server's, ÷ replies.
 * Each row prints the load generator's own CPU and event-loop lateness and the machine's busy share:
 * when the load generator is the bottleneck the row says so (its figures then include its own
 * lateness), and a busy machine (other work on it) inflates everyone's tails.
 *
 * Env: RELAY_LEVELS (`1x50:3,100x50,1000x10`: streams x deltas per second [: rounds]),
 * RELAY_DELTAS (200 per reply), RELAY_TARGETS (`direct,nginx,pipe,ours,ours-redis`), RELAY_HELD
 * (1000; 0 skips the held phase), RELAY_PROFILE (a directory: a CPU profile of `ours` and
 * `ours-before` over the levels is written in a folder for each, for `cpuprofile-summary.ts`),
 * RELAY_BEFORE (above). Starts are spread over the first half of
 * a reply. No assertions: figures only.
 */
import { mkdir } from 'node:fs/promises';
import { arch, cpus, loadavg, platform } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ask, serverStartFlags, spawnChild, stopChild, type Child, type ServerSample } from './bench-children.ts';
import { startNginxRelay, type NginxRelay } from './nginx-relay.ts';
import { ascending, percentile } from './percentile.ts';
import { machineBusy, machineTimes } from './proc-stats.ts';
import { runLevel, type LevelRun, type RelayTarget } from './relay-load.ts';

interface Level {
  readonly streams: number;
  readonly perSecond: number;
  readonly rounds: number;
}

const LEVELS: readonly Level[] = (process.env.RELAY_LEVELS ?? '1x50:3,100x50,1000x10').split(',').map((spec) => {
  const match = /^(\d+)x(\d+)(?::(\d+))?$/.exec(spec.trim());
  if (match === null) throw new Error(`RELAY_LEVELS: "${spec}" is not streams x per-second[:rounds]`);
  return { streams: Number(match[1]), perSecond: Number(match[2]), rounds: Number(match[3] ?? 1) };
});
const DELTAS = Number(process.env.RELAY_DELTAS ?? 200);
const TARGETS = (process.env.RELAY_TARGETS ?? `direct,nginx,pipe,${process.env.RELAY_BEFORE === undefined ? '' : 'ours-before,'}ours,ours-redis`).split(',');
const HELD = Number(process.env.RELAY_HELD ?? 1000);
const PROFILE_DIR = process.env.RELAY_PROFILE;
const REDIS_URL = 'redis://127.0.0.1:6379';
const BEFORE = process.env.RELAY_BEFORE;

const paceOf = (level: Level) => `pace ${Math.round(1000 / level.perSecond)} ${DELTAS}`;

interface Ours {
  readonly child: Child;
  readonly url: string;
  readonly tokens: string[];
}

/** The server of this checkout, or of the checkout at `root`, as its `pnpm start` runs it. */
async function startOurs(emulatorUrl: string, env: NodeJS.ProcessEnv, users: number, root?: string): Promise<Ours> {
  const child: Child =
    root === undefined
      ? await spawnChild('./server-process.ts', [emulatorUrl], env, serverStartFlags())
      : await spawnChild(`${root}/apps/server/bench/server-process.ts`, [emulatorUrl], env, serverStartFlags(new URL(`file://${root}/apps/server/package.json`)));
  leftovers.push(() => child.process.kill());
  const url = String(child.ready.url);
  const tokens: string[] = [];
  for (let from = 0; from < users; from += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, users - from) }, async (_, offset) => {
        const login = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: `bench-${from + offset}` }) });
        if (login.status !== 200) throw new Error(`login answered ${login.status}: ${await login.text()}`);
        return ((await login.json()) as { token: string }).token;
      }),
    );
    tokens.push(...batch);
  }
  return { child, url, tokens };
}

function oursTarget(name: string, ours: Ours, message: string): RelayTarget {
  return {
    name,
    pid: ours.child.process.pid,
    url: ours.url,
    path: '/api/chat',
    headers: (stream) => ({ Authorization: `Bearer ${ours.tokens[stream] ?? ''}` }),
    body: JSON.stringify({ message }),
  };
}

function providerTarget(name: string, pid: number | undefined, url: string, path: string, message: string): RelayTarget {
  return {
    name,
    pid,
    url,
    path,
    headers: () => ({}),
    body: JSON.stringify({ model: 'bench-model', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: message }] }),
  };
}

interface HeldMemory {
  readonly replies: number;
  readonly rssPerReply: number;
  readonly heapPerReply: number;
}

/** RELAY_HELD replies live at once on a warmed-up, idle server: post-GC memory minus idle, per reply. */
async function holdReplies(ours: Ours): Promise<HeldMemory> {
  const idle = await ask<ServerSample>(ours.child, 'memory');
  const held = Array.from({ length: HELD }, (_, index) => {
    const controller = new AbortController();
    // Undefined when the reply could not start (refused, or the connection failed): counted, never waited for.
    let live!: (messageId: string | undefined) => void;
    const started = new Promise<string | undefined>((resolve) => (live = resolve));
    void fetch(`${ours.url}/api/chat`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ours.tokens[index] ?? ''}` },
      body: '{"message":"slow"}',
      signal: controller.signal,
    })
      .then(async (answer) => {
        if (answer.status !== 200) live(undefined);
        const reader = answer.body?.getReader();
        let head = '';
        for (;;) {
          const part = await reader?.read();
          if (part === undefined || part.done) break;
          head += Buffer.from(part.value).toString('utf8');
          const messageId = /"messageId":"([^"]+)"/.exec(head)?.[1];
          if (messageId !== undefined) {
            live(messageId);
            head = '';
          }
        }
      })
      .catch(() => live(undefined))
      .finally(() => live(undefined));
    return { controller, started };
  });
  const messageIds = (await Promise.all(held.map((reply) => reply.started))).flatMap((id, index) => (id === undefined ? [] : [{ id, user: index }]));
  await sleep(3000);
  const atLoad = await ask<ServerSample>(ours.child, 'memory');
  for (const reply of held) reply.controller.abort();
  for (let from = 0; from < messageIds.length; from += 100) {
    await Promise.all(
      messageIds.slice(from, from + 100).map(async ({ id, user }) => {
        const answer = await fetch(`${ours.url}/api/chat/${id}/stop`, { method: 'POST', headers: { Authorization: `Bearer ${ours.tokens[user] ?? ''}` } });
        await answer.arrayBuffer();
      }),
    );
  }
  await settled(ours);
  return {
    replies: atLoad.activeReplies,
    rssPerReply: (atLoad.usage.rss - idle.usage.rss) / atLoad.activeReplies,
    heapPerReply: (atLoad.usage.heapUsed - idle.usage.heapUsed) / atLoad.activeReplies,
  };
}

/** Waits (up to 30 s) until the server has no reply in flight: every lease is back, so no user gets a 409. */
async function settled(ours: Ours): Promise<void> {
  for (let waited = 0; waited < 300; waited += 1) {
    if ((await ask<ServerSample>(ours.child, 'cpu')).activeReplies === 0) return;
    await sleep(100);
  }
}

async function redisAnswers(): Promise<boolean> {
  const { createClient } = await import('@redis/client');
  const client = createClient({ url: REDIS_URL, socket: { connectTimeout: 500, reconnectStrategy: false } });
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => undefined);
  }
}

interface Row {
  readonly level: Level;
  readonly target: string;
  readonly run: LevelRun;
  readonly deltas: number;
}

function merge(runs: readonly LevelRun[]): LevelRun {
  const first = runs[0];
  if (first === undefined) throw new Error('no runs');
  const sum = (pick: (run: LevelRun) => number | undefined) => runs.reduce((total, run) => total + (pick(run) ?? 0), 0);
  return {
    ttfbMs: runs.flatMap((run) => run.ttfbMs),
    latenciesMs: runs.flatMap((run) => run.latenciesMs),
    failed: sum((run) => run.failed),
    wallMs: sum((run) => run.wallMs),
    relayCpuMicros: first.relayCpuMicros === undefined ? undefined : sum((run) => run.relayCpuMicros),
    relayRssGrowthBytes: first.relayRssGrowthBytes === undefined ? undefined : Math.max(...runs.map((run) => run.relayRssGrowthBytes ?? 0)),
    loadGenCpuMicros: sum((run) => run.loadGenCpuMicros),
    loadGenLoopP99Ms: Math.max(...runs.map((run) => run.loadGenLoopP99Ms)),
    machineBusy: sum((run) => run.machineBusy * run.wallMs) / sum((run) => run.wallMs),
  };
}

async function main(): Promise<void> {
  const began = performance.now();
  const loadBefore = loadavg();
  const machineBefore = machineTimes();
  const maxStreams = Math.max(HELD, ...LEVELS.map((level) => level.streams));
  const emulator = await spawnChild('./emulator-process.ts', ['30', '100']);
  leftovers.push(() => emulator.process.kill());
  const emulatorUrl = String(emulator.ready.baseURL);
  const emulatorPath = `${new URL(emulatorUrl).pathname}/chat/completions`;
  const notes: string[] = [];

  const targets = new Map<string, (message: string) => RelayTarget>();
  const stops: Array<() => Promise<void>> = [() => stopChild(emulator)];
  const oursServers = new Map<string, Ours>();
  if (TARGETS.includes('direct')) targets.set('direct', (message) => providerTarget('direct', undefined, emulatorUrl, emulatorPath, message));
  let nginx: NginxRelay | undefined;
  if (TARGETS.includes('nginx')) {
    nginx = await startNginxRelay(emulatorUrl);
    if (nginx === undefined) notes.push('nginx: not found on this machine (Debian: apt-get install nginx); skipped');
    else {
      const running = nginx;
      leftovers.push(() => void running.stop());
      targets.set('nginx', (message) => providerTarget('nginx', running.pid, running.url, emulatorPath, message));
      stops.push(() => running.stop());
      notes.push(`nginx: ${running.version}, one worker, proxy_buffering off`);
    }
  }
  if (TARGETS.includes('pipe')) {
    const pipe = await spawnChild('./seed-pipe-process.ts', [emulatorUrl]);
    leftovers.push(() => pipe.process.kill());
    targets.set('pipe', (message) => providerTarget('pipe', pipe.process.pid, String(pipe.ready.url), emulatorPath, message));
    stops.push(() => stopChild(pipe));
  }
  for (const name of ['ours-before', 'ours', 'ours-redis']) {
    if (!TARGETS.includes(name)) continue;
    if (name === 'ours-before' && BEFORE === undefined) {
      notes.push('ours-before: RELAY_BEFORE is not set; skipped');
      continue;
    }
    const redis = name === 'ours-redis';
    if (redis && !(await redisAnswers())) {
      notes.push(`ours-redis: Redis does not answer at ${REDIS_URL}; skipped`);
      continue;
    }
    const env = {
      ...process.env,
      ...(PROFILE_DIR !== undefined && name !== 'ours-redis' ? { BENCH_PROFILE_DIR: `${PROFILE_DIR}/${name}` } : {}),
      ...(redis ? { REDIS_URL, REDIS_KEY_PREFIX: `wxbench-relay-${process.pid}:`, REPLY_LOG_TTL_MS: '60000' } : {}),
    };
    if (PROFILE_DIR !== undefined) await mkdir(`${PROFILE_DIR}/${name}`, { recursive: true });
    const ours = await startOurs(emulatorUrl, env, maxStreams, name === 'ours-before' ? BEFORE : undefined);
    oursServers.set(name, ours);
    targets.set(name, (message) => oursTarget(name, ours, message));
    stops.push(() => stopChild(ours.child));
  }

  // Warm up every path (JIT, connection code paths) before measuring.
  for (const make of targets.values()) {
    const target = make('pace 1 20');
    await runLevel(target, 20, 0);
  }
  for (const ours of oursServers.values()) await settled(ours);
  const held = new Map<string, HeldMemory>();
  if (HELD > 0) for (const [name, ours] of oursServers) held.set(name, await holdReplies(ours));

  const rows: Row[] = [];
  for (const level of LEVELS) {
    const spreadMs = (DELTAS * 1000) / level.perSecond / 2;
    for (const [name, make] of targets) {
      const target = make(paceOf(level));
      const profiled = PROFILE_DIR !== undefined && name !== 'ours-redis' ? oursServers.get(name) : undefined;
      if (profiled !== undefined) await ask(profiled.child, 'profile-start');
      const runs: LevelRun[] = [];
      for (let round = 0; round < level.rounds; round += 1) runs.push(await runLevel(target, level.streams, spreadMs));
      if (profiled !== undefined) await ask(profiled.child, 'profile-pause');
      const run = merge(runs);
      rows.push({ level, target: name, run, deltas: run.latenciesMs.length });
      // Let sockets close and lock leases go before the next relay's turn.
      await sleep(500);
      const server = oursServers.get(name);
      if (server !== undefined) await settled(server);
    }
  }
  if (PROFILE_DIR !== undefined) {
    for (const [name, ours] of oursServers) if (name !== 'ours-redis') await ask(ours.child, 'profile-write');
  }
  for (const stop of stops.reverse()) await stop();

  const cpu = cpus()[0]?.model.trim() ?? 'unknown cpu';
  console.log(`\nwxstream relay benchmark — ${cpu}, ${cpus().length} cores, node ${process.version}, ${platform()} ${arch()}`);
  console.log(`each stream: ${DELTAS} content deltas at the level's rate, starts spread over the first half of a reply; latency = arrival − emulator send stamp; one socket per stream`);
  for (const note of notes) console.log(note);
  console.log('');
  console.log('| streams × deltas/s | relay | added p50 | added p99 | added max | TTFB p50 | relay CPU (one core) | CPU per delta | RSS per stream | load gen CPU / loop p99 | machine busy |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const ms = (value: number) => (Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2));
  for (const row of rows) {
    const latencies = ascending(row.run.latenciesMs);
    const ttfb = ascending(row.run.ttfbMs);
    const direct = rows.find((other) => other.level === row.level && other.target === 'direct');
    const base = direct === undefined ? undefined : ascending(direct.run.latenciesMs);
    const at = (p: number) => percentile(latencies, p) - (base === undefined ? 0 : percentile(base, p));
    const max = (latencies.at(-1) ?? Number.NaN) - (base?.at(-1) ?? 0);
    const isDirect = row.target === 'direct';
    const relayCpu = row.run.relayCpuMicros;
    const cpuShare = relayCpu === undefined ? '—' : `${((100 * relayCpu) / 1000 / row.run.wallMs).toFixed(0)} %`;
    const perDelta = relayCpu === undefined ? '—' : `${(relayCpu / Math.max(1, row.deltas)).toFixed(1)} µs`;
    const rss = row.run.relayRssGrowthBytes === undefined ? '—' : `${(row.run.relayRssGrowthBytes / row.level.streams / 1024).toFixed(0)} KB`;
    const loadGenShare = (100 * row.run.loadGenCpuMicros) / 1000 / row.run.wallMs;
    // A load generator near a full core is the bottleneck; one whose loop runs late stamps arrivals late.
    const saturated = loadGenShare > 80 ? ' **load generator saturated**' : row.run.loadGenLoopP99Ms > 20 ? ' (late)' : '';
    const failed = row.run.failed > 0 ? ` (${row.run.failed} failed)` : '';
    console.log(
      `| ${row.level.streams} × ${row.level.perSecond} | ${row.target}${failed} | ${isDirect ? `(${ms(percentile(latencies, 50))})` : ms(at(50))} | ${isDirect ? `(${ms(percentile(latencies, 99))})` : ms(at(99))} | ` +
        `${isDirect ? `(${ms(latencies.at(-1) ?? Number.NaN)})` : ms(max)} | ${ms(percentile(ttfb, 50))} | ${cpuShare} | ${perDelta} | ${rss} | ` +
        `${loadGenShare.toFixed(0)} % / ${row.run.loadGenLoopP99Ms.toFixed(1)} ms${saturated} | ${(100 * row.run.machineBusy).toFixed(0)} % |`,
    );
  }
  console.log('(ms; direct rows show its own latency in parentheses — the others are added over it at the same percentile)');
  for (const [name, memory] of held) {
    console.log(
      `${name}: ${memory.replies} replies live at once (a delta a second), post-GC minus idle: RSS ${(memory.rssPerReply / 1024).toFixed(1)} KB, heap ${(memory.heapPerReply / 1024).toFixed(1)} KB per live reply`,
    );
  }
  const after = loadavg();
  console.log(
    `run time ${((performance.now() - began) / 1000).toFixed(0)} s; load average (1/5/15 min) ${loadBefore.map((value) => value.toFixed(2)).join('/')} before, ` +
      `${after.map((value) => value.toFixed(2)).join('/')} after; the machine was ${(100 * machineBusy(machineBefore, machineTimes())).toFixed(0)} % busy over the run (all work on it, this run included)`,
  );
}

/** What a failed run must not leave behind: every child process and nginx, killed by their handles. */
const leftovers: Array<() => void> = [];

try {
  await main();
} catch (error) {
  for (const kill of leftovers) kill();
  throw error;
}
