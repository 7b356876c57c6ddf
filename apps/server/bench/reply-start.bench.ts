/**
 * Reply start-up benchmark: what one `POST /api/chat` costs the server before its reply streams.
 *
 * Emulator and server each in their own process (the relay benchmark's children), this process the
 * load generator. Each round fires N `POST /api/chat` at the same instant, one user each, asking for
 * the emulator's `hold` scenario (one delta, then silence), so the only work in the window is the
 * reply's set-up — request, token check, limits, storing the turn, the reply log, the upstream
 * request — plus relaying that one delta. Figures per round:
 *   - TTFB: request sent → first body byte (our `start`), p50 / p99 over the N replies;
 *   - server CPU per reply start: the server's user+system CPU from just before the burst until
 *     every client has its delta, divided by N.
 * Then every reply is stopped (as the stop button does), the server waits for in-flight to reach 0
 * and then a further `SETTLE_MS`, so the teardown (aborted upstream calls, closing sockets) stays
 * outside the next window. Rounds vary a lot (a major GC lands in some and not others), so the CPU
 * figure is given as the mean over rounds with its standard error, and the median round.
 *
 * Env: REPLY_START_STREAMS (default 100), REPLY_START_WARMUP (rounds run first and not counted,
 * default 10: the per-start CPU keeps falling for about that many rounds as the JIT settles),
 * REPLY_START_ROUNDS (counted rounds, default 20), REPLY_START_PROFILE=<dir>: the server records a V8 CPU profile of the counted
 * windows only and writes it there (summarise it with `cpuprofile-summary.ts`).
 * No assertions: figures only.
 */
import { request, type IncomingMessage } from 'node:http';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ask, cpuMicros, serverStartFlags, spawnChild, stopChild, type Child, type ServerSample } from './bench-children.ts';
import { percentile, ascending } from './percentile.ts';

const STREAMS = Number(process.env.REPLY_START_STREAMS ?? 100);
const WARMUP = Number(process.env.REPLY_START_WARMUP ?? 10);
const ROUNDS = Number(process.env.REPLY_START_ROUNDS ?? 20);
const PROFILE_DIR = process.env.REPLY_START_PROFILE;
const SETTLE_MS = 200;

interface Started {
  ttfbMs: number;
  messageId: string;
  /** Closed after the measured window, so connection teardown stays out of it. */
  close: () => void;
}

/** One held reply: resolves once the delta arrived, with the time to the first body byte. */
function startHeld(url: string, token: string): Promise<Started> {
  return new Promise((resolve, reject) => {
    const sentAt = performance.now();
    let ttfbMs = Number.NaN;
    let seen = '';
    let held = false;
    const req = request(new URL('/api/chat', url), {
      method: 'POST',
      agent: false,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    });
    req.on('response', (res: IncomingMessage) => {
      if (res.statusCode !== 200) reject(new Error(`/api/chat answered ${res.statusCode}`));
      res.on('data', (bytes: Buffer) => {
        if (Number.isNaN(ttfbMs)) ttfbMs = performance.now() - sentAt;
        if (held) return;
        seen += bytes.toString('latin1');
        if (!seen.includes('held')) return;
        held = true;
        const messageId = /"messageId":"([^"]+)"/.exec(seen)?.[1];
        if (messageId === undefined) reject(new Error('no messageId before the delta'));
        // The reply goes on without this connection (CONTINUE_ON_DISCONNECT); it is stopped below.
        else resolve({ ttfbMs, messageId, close: () => req.destroy() });
      });
      res.on('error', () => {});
    });
    req.on('error', (error) => {
      if (Number.isNaN(ttfbMs)) reject(error);
    });
    req.end('{"message":"hold"}');
  });
}

async function waitForIdle(server: Child): Promise<void> {
  for (let tries = 0; tries < 600; tries += 1) {
    if ((await ask<ServerSample>(server, 'cpu')).activeReplies === 0) return;
    await sleep(50);
  }
  throw new Error('replies still in flight after 30 s');
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0] ?? 0;
  const emulator = await spawnChild('./emulator-process.ts', ['1', '100']);
  const baseURL = String(emulator.ready.baseURL);
  const server = await spawnChild('./server-process.ts', [baseURL], { ...process.env, ...(PROFILE_DIR === undefined ? {} : { BENCH_PROFILE_DIR: PROFILE_DIR }) }, serverStartFlags());
  const url = String(server.ready.url);

  const tokens: string[] = [];
  for (let index = 0; index < STREAMS; index += 1) {
    const login = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: `start-${index}` }) });
    tokens.push(((await login.json()) as { token: string }).token);
  }

  const ttfbs: number[] = [];
  const cpuPerStart: number[] = [];
  const userPerStart: number[] = [];
  for (let round = 0; round < WARMUP + ROUNDS; round += 1) {
    const counted = round >= WARMUP;
    if (counted && PROFILE_DIR !== undefined) await ask(server, 'profile-start');
    const before = (await ask<ServerSample>(server, 'cpu')).cpu;
    const started = await Promise.all(tokens.map((token) => startHeld(url, token)));
    const after = (await ask<ServerSample>(server, 'cpu')).cpu;
    if (counted && PROFILE_DIR !== undefined) await ask(server, 'profile-pause');
    for (const start of started) start.close();
    if (counted) {
      ttfbs.push(...started.map((start) => start.ttfbMs));
      cpuPerStart.push((cpuMicros(after) - cpuMicros(before)) / STREAMS);
      userPerStart.push((after.user - before.user) / STREAMS);
    }
    await Promise.all(
      started.map((start, user) =>
        fetch(`${url}/api/chat/${start.messageId}/stop`, { method: 'POST', headers: { Authorization: `Bearer ${tokens[user] ?? ''}` } }).then((answer) => answer.arrayBuffer()),
      ),
    );
    await waitForIdle(server);
    await sleep(SETTLE_MS);
  }
  if (PROFILE_DIR !== undefined) await ask(server, 'profile-write');
  await stopChild(server);
  await stopChild(emulator);

  const sorted = ascending(ttfbs);
  const cpu = ascending(cpuPerStart);
  const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const cpuMean = mean(cpuPerStart);
  const standardError = Math.sqrt(mean(cpuPerStart.map((value) => (value - cpuMean) ** 2)) / Math.max(1, cpuPerStart.length - 1));
  console.log(
    `reply start: ${STREAMS} simultaneous × ${ROUNDS} rounds after ${WARMUP} warm-up rounds — TTFB p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms; ` +
      `server CPU per reply start ${cpuMean.toFixed(0)} ± ${standardError.toFixed(0)} µs (mean ± standard error over rounds; median round ${percentile(cpu, 50).toFixed(0)}, ` +
      `user ${mean(userPerStart).toFixed(0)} µs of the mean); ` +
      `1-min load ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? 0).toFixed(2)} after`,
  );
}

await main();
