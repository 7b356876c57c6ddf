/**
 * Relay benchmark: what the server adds on top of reading the model provider directly.
 *
 * Three processes on loopback: the emulator (child), the server (child, `startServer` exactly as
 * `main.ts` runs it, so its event loop is not shared with the load generator), and this process,
 * which opens N concurrent streams either straight to the emulator ("direct") or through the
 * server ("relay"). The emulator stamps each content delta with its send time (epoch ms from
 * `performance.timeOrigin + performance.now()`); the latency of an event is its arrival time here
 * minus that stamp. The clocks of two processes may disagree by a constant, which cancels in the
 * "added" rows (relay minus direct, same emulator, same client). TTFB is the time from sending
 * the request to the first body byte (direct: the provider's first chunk; relay: our `start`).
 * Memory per stream: 1,000 replies held open mid-stream (one delta sent, then the emulator stays
 * silent), the server's post-GC RSS and heap minus its idle figures, divided by the open replies.
 * Env, for a quick look at one level: RELAY_LEVELS=`streams:rounds,…` (default `1:3,100:1,1000:1`)
 * and RELAY_HELD (replies held for the memory figure, default 1000; 0 skips that phase).
 * No assertions: figures only.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { request, type IncomingMessage } from 'node:http';
import { arch, cpus, loadavg, platform } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { percentile } from './percentile.ts';

const DELTAS_PER_STREAM = 30;
const DELTA_INTERVAL_MS = 100;
/** Replies held open at once for the memory figure. */
const HELD = Number(process.env.RELAY_HELD ?? 1000);
const LEVELS: ReadonlyArray<{ streams: number; rounds: number }> = (process.env.RELAY_LEVELS ?? '1:3,100:1,1000:1').split(',').map((level) => {
  const [streams, rounds] = level.split(':').map(Number);
  return { streams: streams ?? 1, rounds: rounds ?? 1 };
});

interface StreamResult {
  ttfbMs: number;
  latenciesMs: number[];
}

interface MemorySample {
  usage: NodeJS.MemoryUsage;
  cpu: NodeJS.CpuUsage;
  activeReplies: number;
}

const epochMs = () => performance.timeOrigin + performance.now();
const STAMP = /(\d{13}\.\d{3})\|/g;

function spawnChild(file: string, args: string[]): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), args, { execArgv: ['--expose-gc'], stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', (message: Record<string, unknown>) => resolve({ child, ready: message }));
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

function ask<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (message: T) => resolve(message));
    child.send({ type });
  });
}

/** One streamed request; scans arriving bytes for send stamps without decoding them as text. */
function stream(url: string, path: string, headers: Record<string, string>, body: string): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const startedAt = epochMs();
    let ttfbMs = Number.NaN;
    const latenciesMs: number[] = [];
    let seen = '';
    let scanFrom = 0;
    const req = request(new URL(path, url), {
      method: 'POST',
      agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), ...headers },
    });
    req.on('response', (res: IncomingMessage) => {
      if (res.statusCode !== 200) reject(new Error(`${path} answered ${res.statusCode}`));
      res.on('data', (bytes: Buffer) => {
        const arrivedAt = epochMs();
        if (Number.isNaN(ttfbMs)) ttfbMs = arrivedAt - startedAt;
        seen += bytes.toString('latin1');
        STAMP.lastIndex = scanFrom;
        for (let match = STAMP.exec(seen); match !== null; match = STAMP.exec(seen)) {
          latenciesMs.push(arrivedAt - Number(match[1]));
          scanFrom = STAMP.lastIndex;
        }
        // Keep only the unscanned tail: a stamp can straddle two chunks.
        seen = seen.slice(scanFrom);
        scanFrom = 0;
      });
      res.on('end', () => resolve({ ttfbMs, latenciesMs }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface PathFigures {
  ttfb: { p50: number; p99: number };
  event: { p50: number; p99: number };
  events: number;
}

function figures(results: readonly StreamResult[]): PathFigures {
  const ttfb = results.map((result) => result.ttfbMs).sort((a, b) => a - b);
  const events = results.flatMap((result) => result.latenciesMs).sort((a, b) => a - b);
  return {
    ttfb: { p50: percentile(ttfb, 50), p99: percentile(ttfb, 99) },
    event: { p50: percentile(events, 50), p99: percentile(events, 99) },
    events: events.length,
  };
}

async function main(): Promise<void> {
  const began = performance.now();
  const loadBefore = loadavg()[0] ?? 0;
  const emulator = await spawnChild('./emulator-process.ts', [String(DELTAS_PER_STREAM), String(DELTA_INTERVAL_MS)]);
  const baseURL = String(emulator.ready.baseURL);
  const server = await spawnChild('./server-process.ts', [baseURL]);
  const serverUrl = String(server.ready.url);

  // One user per concurrent stream: the server allows each user one reply at a time.
  const users = Math.max(HELD, ...LEVELS.map((level) => level.streams));
  const tokens: string[] = [];
  for (let index = 0; index < users; index += 1) {
    const login = await fetch(`${serverUrl}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: `bench-${index}` }) });
    tokens.push(((await login.json()) as { token: string }).token);
  }
  const direct = () =>
    stream(baseURL, `${new URL(baseURL).pathname}/chat/completions`, {}, JSON.stringify({ model: 'bench-model', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'bench' }] }));
  const relay = (user: number) => stream(serverUrl, '/api/chat', { Authorization: `Bearer ${tokens[user] ?? ''}` }, '{"message":"bench"}');

  // Warm up both paths (JIT, connection setup code paths) before measuring.
  await Promise.all(Array.from({ length: 20 }, () => direct()));
  await Promise.all(Array.from({ length: 20 }, (_, user) => relay(user)));

  const idle = await ask<MemorySample>(server.child, 'memory');

  // Memory: HELD replies held open mid-stream (one delta sent, upstream silent), sampled post-GC.
  const held: Array<{ destroy(): void }> = [];
  const heldReplies: string[] = [];
  let streaming = 0;
  let allStreaming!: () => void;
  const everyoneStreaming = new Promise<void>((resolve) => (allStreaming = resolve));
  for (let index = 0; index < HELD; index += 1) {
    const req = request(new URL('/api/chat', serverUrl), {
      method: 'POST',
      agent: false,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tokens[index] ?? ''}` },
    });
    req.on('response', (res: IncomingMessage) => {
      let seen = '';
      res.on('data', (bytes: Buffer) => {
        if (seen.includes('held')) return;
        seen += bytes.toString('latin1');
        if (seen.includes('held')) {
          const messageId = /"messageId":"([^"]+)"/.exec(seen)?.[1];
          if (messageId !== undefined) heldReplies.push(`${index}:${messageId}`);
          streaming += 1;
          if (streaming === HELD) allStreaming();
        }
      });
      res.on('error', () => {});
    });
    req.on('error', () => {});
    req.end('{"message":"hold"}');
    held.push(req);
  }
  if (HELD > 0) await everyoneStreaming;
  const atLoad = await ask<MemorySample>(server.child, 'memory');
  // Leaving does not end a reply (CONTINUE_ON_DISCONNECT): stop each, as the client's stop button does.
  for (const req of held) req.destroy();
  await Promise.all(
    heldReplies.map((entry) => {
      const [user, messageId] = entry.split(':');
      return fetch(`${serverUrl}/api/chat/${messageId ?? ''}/stop`, { method: 'POST', headers: { Authorization: `Bearer ${tokens[Number(user)] ?? ''}` } }).then((answer) => answer.arrayBuffer());
    }),
  );
  // Let the server tear the held replies down before measuring latency.
  await new Promise((resolve) => setTimeout(resolve, 1000));

  const rows: Array<{ streams: number; direct: PathFigures; relay: PathFigures; cpuUsPerEvent: number }> = [];

  for (const level of LEVELS) {
    const directResults: StreamResult[] = [];
    const relayResults: StreamResult[] = [];
    let cpuMicros = 0;
    for (let round = 0; round < level.rounds; round += 1) {
      directResults.push(...(await Promise.all(Array.from({ length: level.streams }, () => direct()))));
      const cpuBefore = (await ask<MemorySample>(server.child, 'cpu')).cpu;
      relayResults.push(...(await Promise.all(Array.from({ length: level.streams }, (_, user) => relay(user)))));
      const cpuAfter = (await ask<MemorySample>(server.child, 'cpu')).cpu;
      cpuMicros += cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system;
    }
    const relayed = figures(relayResults);
    rows.push({ streams: level.streams, direct: figures(directResults), relay: relayed, cpuUsPerEvent: cpuMicros / relayed.events });
  }


  server.child.send({ type: 'stop' });
  emulator.child.send({ type: 'stop' });

  const ms = (value: number) => value.toFixed(2).padStart(8);
  const cpu = cpus()[0]?.model.trim() ?? 'unknown cpu';
  console.log(`\nwxstream relay benchmark — ${cpu}, ${cpus().length} cores, node ${process.version}, ${platform()} ${arch()}`);
  console.log(`processes: emulator (child), server (child, startServer), load generator (this process); loopback only`);
  console.log(`each stream: ${DELTAS_PER_STREAM} content deltas, ${DELTA_INTERVAL_MS} ms apart; latency = arrival - emulator send stamp\n`);
  console.log('streams | path    | TTFB p50 | TTFB p99 | event p50 | event p99 | events');
  console.log('--------|---------|----------|----------|-----------|-----------|-------');
  for (const row of rows) {
    const line = (name: string, f: PathFigures | { ttfb: { p50: number; p99: number }; event: { p50: number; p99: number }; events: number | string }) =>
      console.log(`${String(row.streams).padStart(7)} | ${name.padEnd(7)} | ${ms(f.ttfb.p50)} | ${ms(f.ttfb.p99)} | ${ms(f.event.p50)}  | ${ms(f.event.p99)}  | ${String(f.events).padStart(6)}`);
    line('direct', row.direct);
    line('relay', row.relay);
    line('added', {
      ttfb: { p50: row.relay.ttfb.p50 - row.direct.ttfb.p50, p99: row.relay.ttfb.p99 - row.direct.ttfb.p99 },
      event: { p50: row.relay.event.p50 - row.direct.event.p50, p99: row.relay.event.p99 - row.direct.event.p99 },
      events: '',
    });
  }
  console.log('(all times in ms; "added" = relay minus direct at the same percentile)\n');
  for (const row of rows) {
    console.log(
      `server CPU at ${String(row.streams).padStart(4)} streams: ${row.cpuUsPerEvent.toFixed(0)} µs per relayed delta ` +
        `(all server CPU during the relay runs ÷ deltas: request setup, SDK parsing, framing, socket writes, GC)`,
    );
  }
  if (HELD > 0) {
    const streams = atLoad.activeReplies;
    const kib = (bytes: number) => (bytes / 1024).toFixed(1);
    const rss = atLoad.usage.rss - idle.usage.rss;
    const heap = atLoad.usage.heapUsed - idle.usage.heapUsed;
    console.log(
      `\nserver memory with ${streams} replies held open mid-stream (post-GC, minus idle): RSS +${(rss / 1048576).toFixed(1)} MiB = ${kib(rss / streams)} KiB/stream; ` +
        `heap +${(heap / 1048576).toFixed(1)} MiB = ${kib(heap / streams)} KiB/stream`,
    );
  }
  console.log(
    `run time ${((performance.now() - began) / 1000).toFixed(1)} s; 1-min load average ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? 0).toFixed(2)} after ` +
      `(other work on the machine inflates the wall-clock figures; the CPU figures are steadier)`,
  );
}

await main();
