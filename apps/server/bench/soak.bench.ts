/**
 * Soak benchmark: 1,000 concurrent clients for a fixed time, each starting replies back to back
 * (one user per client: the server allows a user one reply at a time), cutting the connection at a
 * seeded random point and resuming with `GET /api/chat/:messageId/events` + `Last-Event-ID`, until
 * the terminal event. Runs once with the in-memory default and once with Redis (skipped, with the
 * reason printed, when Redis does not answer).
 *
 * Processes as in relay.bench: emulator (child), server (child, `startServer`), and this load
 * generator. The emulator's scenario is deterministic apart from the send stamps it prefixes to each
 * delta, so the expected text of every reply is known: stamps are stripped and the assembled text
 * compared with it, counting characters lost and duplicated (both must be 0). Added latency is the
 * arrival of a live delta minus its emulator send stamp (replayed deltas, sent before the resume
 * was asked for, are not latency). Memory per live reply: the server's post-GC RSS and heap while
 * the soak runs, minus its idle figures, divided by its in-flight replies at that moment.
 * Env: SOAK_SECONDS (default 20 per backend), SOAK_CLIENTS (default 1000), SOAK_SEED (default 1).
 * No assertions: figures only.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { arch, cpus, loadavg, platform } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseReplyEvent, type ReplyEvent } from '@wxstream/protocol';
import { createSeededRandom, type SeededRandom } from '../../../packages/client/test/support/seeded-random.ts';

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 20);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 1000);
const SEED = Number(process.env.SOAK_SEED ?? 1);
const DELTAS_PER_REPLY = 30;
const DELTA_INTERVAL_MS = 100;
/** Chance that any one connection (first or resumed) is cut before its end. */
const CUT_CHANCE = 0.4;
/** Chance that a client waits before resuming, and the longest wait. */
const RESUME_DELAY_CHANCE = 0.3;
const RESUME_DELAY_MAX_MS = 1500;
/** A reply not finished this long after its start is counted unfinished and given up. */
const REPLY_GIVE_UP_MS = 20_000;
const REDIS_URL = 'redis://127.0.0.1:6379';
const EXPECTED_TEXT = Array.from({ length: DELTAS_PER_REPLY }, (_, index) => `token${index} `).join('');
const STAMP = /\d{13}\.\d{3}\|/g;

const epochMs = () => performance.timeOrigin + performance.now();

interface MemorySample {
  usage: NodeJS.MemoryUsage;
  activeReplies: number;
}

function spawnChild(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), args, { execArgv: ['--expose-gc'], stdio: 'inherit', env });
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

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.send({ type: 'stop' });
  });
}

/** Whether something answers PING on the Redis port within half a second. */
function redisAnswers(): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect(6379, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('no answer from 127.0.0.1:6379 within 500 ms');
    }, 500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (bytes) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(bytes.toString('latin1').startsWith('+PONG') ? null : `127.0.0.1:6379 answered ${JSON.stringify(bytes.toString('latin1').trim())}`);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      resolve(`127.0.0.1:6379: ${error.message}`);
    });
  });
}

/** Everything one reply's reader knows, across all its connections. */
interface ReplyState {
  messageId: string | undefined;
  lastId: number;
  /** Delta text by event id, stamps stripped; a second delivery of an id counts as duplicated. */
  deltas: Map<number, string>;
  duplicatedChars: number;
  /** Ids that arrived after a gap (never filled by the server: it resumes after the last id we have). */
  gapEvents: number;
  terminal: ReplyEvent['type'] | undefined;
}

interface Totals {
  started: number;
  completed: number;
  endedInError: number;
  unfinished: number;
  refusedStarts: number;
  connections: number;
  cuts: number;
  resumes: number;
  delayedResumes: number;
  lostChars: number;
  duplicatedChars: number;
  mismatchedReplies: number;
  latenciesMs: number[];
}

function newTotals(): Totals {
  return { started: 0, completed: 0, endedInError: 0, unfinished: 0, refusedStarts: 0, connections: 0, cuts: 0, resumes: 0, delayedResumes: 0, lostChars: 0, duplicatedChars: 0, mismatchedReplies: 0, latenciesMs: [] };
}

type ConnectionEnd = { kind: 'ended' } | { kind: 'cut' } | { kind: 'status'; status: number };

/**
 * One connection of a reply (the POST or a resume): reads frames, feeds `state`, and destroys the
 * request after `cutAfter` events (when given). Resolves when the body ends or the cut is made.
 */
function readConnection(
  url: string,
  path: string,
  method: 'POST' | 'GET',
  headers: Record<string, string>,
  body: string | undefined,
  state: ReplyState,
  cutAfter: number | undefined,
  totals: Totals,
): Promise<ConnectionEnd> {
  return new Promise((resolve) => {
    const openedAt = epochMs();
    let settled = false;
    let seen = 0;
    let carry = '';
    const finish = (end: ConnectionEnd) => {
      if (settled) return;
      settled = true;
      resolve(end);
    };
    const req: ClientRequest = request(new URL(path, url), {
      method,
      agent: false,
      headers: body === undefined ? headers : { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), ...headers },
    });
    totals.connections += 1;
    req.on('response', (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        res.resume();
        res.on('end', () => finish({ kind: 'status', status: res.statusCode ?? 0 }));
        return;
      }
      // StringDecoder underneath: a character split across chunks is carried over, not mangled.
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (settled) return;
        carry += chunk;
        const blocks = carry.split('\n\n');
        carry = blocks.pop() ?? '';
        for (const block of blocks) {
          if (block.startsWith(':')) continue;
          const fields = new Map(block.split('\n').map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)] as const));
          const parsed = parseReplyEvent({ id: fields.get('id') ?? '', event: fields.get('event') ?? '', data: fields.get('data') ?? '' });
          if (!parsed.ok) throw new Error(`invalid event from the server: ${parsed.reason}`);
          absorb(parsed.event, state, openedAt, totals);
          seen += 1;
          if (state.terminal !== undefined) break;
          if (cutAfter !== undefined && seen >= cutAfter) {
            totals.cuts += 1;
            req.destroy();
            finish({ kind: 'cut' });
            return;
          }
        }
      });
      res.on('end', () => finish({ kind: 'ended' }));
      res.on('error', () => finish({ kind: 'cut' }));
    });
    req.on('error', () => finish({ kind: 'cut' }));
    req.end(body);
  });
}

function absorb(event: ReplyEvent, state: ReplyState, openedAt: number, totals: Totals): void {
  const arrivedAt = epochMs();
  if (event.id <= state.lastId) {
    if (event.type === 'delta') state.duplicatedChars += event.data.text.replace(STAMP, '').length;
    return;
  }
  if (event.id !== state.lastId + 1) state.gapEvents += 1;
  state.lastId = event.id;
  if (event.type === 'start') state.messageId = event.data.messageId;
  if (event.type === 'delta') {
    const stamp = /^(\d{13}\.\d{3})\|/.exec(event.data.text)?.[1];
    // Only live deltas measure latency: a replayed one was sent before this connection opened.
    if (stamp !== undefined && Number(stamp) >= openedAt) totals.latenciesMs.push(arrivedAt - Number(stamp));
    state.deltas.set(event.id, event.data.text.replace(STAMP, ''));
  }
  if (event.type === 'done' || event.type === 'error') state.terminal = event.type;
}

/** One reply from start to terminal event, with seeded cuts and resumes. Returns false when the start was refused. */
async function runReply(url: string, token: string, random: SeededRandom, totals: Totals): Promise<boolean> {
  const auth = { Authorization: `Bearer ${token}` };
  const state: ReplyState = { messageId: undefined, lastId: 0, deltas: new Map(), duplicatedChars: 0, gapEvents: 0, terminal: undefined };
  const cutPoint = () => (random.chance(CUT_CHANCE) ? random.range(1, DELTAS_PER_REPLY + 2) : undefined);
  const first = await readConnection(url, '/api/chat', 'POST', auth, '{"message":"soak"}', state, cutPoint(), totals);
  if (first.kind === 'status') {
    // 409: the previous reply's lock is released just after its terminal event; retry as clients do.
    totals.refusedStarts += 1;
    return false;
  }
  totals.started += 1;
  const startedAt = performance.now();
  while (state.terminal === undefined && performance.now() - startedAt < REPLY_GIVE_UP_MS) {
    if (state.messageId === undefined) break;
    if (random.chance(RESUME_DELAY_CHANCE)) {
      totals.delayedResumes += 1;
      await sleep(random.range(50, RESUME_DELAY_MAX_MS));
    }
    totals.resumes += 1;
    const end = await readConnection(url, `/api/chat/${state.messageId}/events`, 'GET', { ...auth, 'Last-Event-ID': String(state.lastId) }, undefined, state, cutPoint(), totals);
    if (end.kind === 'status') await sleep(50);
  }
  if (state.terminal === 'done') totals.completed += 1;
  else if (state.terminal === 'error') totals.endedInError += 1;
  else totals.unfinished += 1;
  if (state.terminal === 'done') {
    const text = [...state.deltas.entries()].sort((a, b) => a[0] - b[0]).map((entry) => entry[1]).join('');
    if (text !== EXPECTED_TEXT) totals.mismatchedReplies += 1;
    // Missing ids leave holes in the id-ordered text: whatever length is short was lost.
    totals.lostChars += Math.max(0, EXPECTED_TEXT.length - text.length);
  }
  totals.duplicatedChars += state.duplicatedChars;
  return true;
}

async function loginAll(url: string, prefix: string): Promise<string[]> {
  const tokens: string[] = [];
  for (let from = 0; from < CLIENTS; from += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, CLIENTS - from) }, async (_, offset) => {
        const answer = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: `${prefix}-${from + offset}` }) });
        return ((await answer.json()) as { token: string }).token;
      }),
    );
    tokens.push(...batch);
  }
  return tokens;
}

interface PassFigures {
  backend: string;
  totals: Totals;
  seconds: number;
  memory: { rssPerReply: number; heapPerReply: number; liveReplies: number };
}

async function runPass(backend: string, emulatorUrl: string, env: NodeJS.ProcessEnv): Promise<PassFigures> {
  const server = await spawnChild('./server-process.ts', [emulatorUrl], env);
  const url = String(server.ready.url);
  try {
    const tokens = await loginAll(url, `soak-${backend}`);
    const idle = await ask<MemorySample>(server.child, 'memory');
    const totals = newTotals();
    const began = performance.now();
    const deadline = began + SOAK_SECONDS * 1000;
    const clients = tokens.map(async (token, index) => {
      const random = createSeededRandom(SEED * 100_000 + index);
      // Spread the first starts over one reply's length so the load is steady, not in waves.
      await sleep(random.int(DELTAS_PER_REPLY * DELTA_INTERVAL_MS));
      while (performance.now() < deadline) {
        if (!(await runReply(url, token, random, totals))) await sleep(20);
      }
    });
    // Memory while the soak is at full load: a few post-GC samples, keep the one with most live replies.
    const samples: MemorySample[] = [];
    for (const at of [0.4, 0.6, 0.8]) {
      await sleep(Math.max(0, began + at * SOAK_SECONDS * 1000 - performance.now()));
      samples.push(await ask<MemorySample>(server.child, 'memory'));
    }
    await Promise.all(clients);
    const seconds = (performance.now() - began) / 1000;
    const atLoad = samples.reduce((best, sample) => (sample.activeReplies > best.activeReplies ? sample : best));
    const live = Math.max(1, atLoad.activeReplies);
    return {
      backend,
      totals,
      seconds,
      memory: { rssPerReply: (atLoad.usage.rss - idle.usage.rss) / live, heapPerReply: (atLoad.usage.heapUsed - idle.usage.heapUsed) / live, liveReplies: atLoad.activeReplies },
    };
  } finally {
    await stopChild(server.child);
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const began = performance.now();
  const loadBefore = loadavg()[0] ?? 0;
  const emulator = await spawnChild('./emulator-process.ts', [String(DELTAS_PER_REPLY), String(DELTA_INTERVAL_MS)]);
  const emulatorUrl = String(emulator.ready.baseURL);
  const passes: PassFigures[] = [];
  const baseEnv = { ...process.env };
  delete baseEnv.REDIS_URL;
  delete baseEnv.REDIS_KEY_PREFIX;
  passes.push(await runPass('memory', emulatorUrl, baseEnv));
  const redisProblem = await redisAnswers();
  if (redisProblem === null) {
    passes.push(await runPass('redis', emulatorUrl, { ...baseEnv, REDIS_URL, REDIS_KEY_PREFIX: `wxstream-soak-${process.pid}-${Date.now()}:` }));
  }
  await stopChild(emulator.child);

  const cpu = cpus()[0]?.model.trim() ?? 'unknown cpu';
  console.log(`\nwxstream soak benchmark — ${cpu}, ${cpus().length} cores, node ${process.version}, ${platform()} ${arch()}`);
  console.log(`${CLIENTS} concurrent clients (one user each) for ${SOAK_SECONDS} s per backend, seed ${SEED}; loopback only`);
  console.log(
    `each reply: ${DELTAS_PER_REPLY} deltas ${DELTA_INTERVAL_MS} ms apart; each connection cut with p=${CUT_CHANCE} at a random event, ` +
      `resumed with Last-Event-ID (after a 50–${RESUME_DELAY_MAX_MS} ms wait with p=${RESUME_DELAY_CHANCE}) until the terminal event\n`,
  );
  console.log('backend | replies started | completed | error | unfinished | cuts  | resumes | lost chars | dup chars | mismatched | added p50 ms | added p99 ms | live replies | RSS/reply KiB | heap/reply KiB');
  console.log('--------|-----------------|-----------|-------|------------|-------|---------|------------|-----------|------------|--------------|--------------|--------------|---------------|---------------');
  for (const pass of passes) {
    const t = pass.totals;
    const sorted = t.latenciesMs.sort((a, b) => a - b);
    const cells = [
      pass.backend.padEnd(7),
      String(t.started).padStart(15),
      String(t.completed).padStart(9),
      String(t.endedInError).padStart(5),
      String(t.unfinished).padStart(10),
      String(t.cuts).padStart(5),
      String(t.resumes).padStart(7),
      String(t.lostChars).padStart(10),
      String(t.duplicatedChars).padStart(9),
      String(t.mismatchedReplies).padStart(10),
      percentile(sorted, 50).toFixed(2).padStart(12),
      percentile(sorted, 99).toFixed(2).padStart(12),
      String(pass.memory.liveReplies).padStart(12),
      (pass.memory.rssPerReply / 1024).toFixed(1).padStart(13),
      (pass.memory.heapPerReply / 1024).toFixed(1).padStart(14),
    ];
    console.log(cells.join(' | '));
  }
  if (redisProblem !== null) console.log(`redis: skipped — ${redisProblem}`);
  console.log(
    '\nlost/dup chars: delta text missing from, or delivered twice into, the reply assembled across all its connections (stamps stripped), vs the emulator\'s deterministic text — must be 0.',
  );
  console.log('added latency: live delta arrival minus the emulator\'s send stamp (two processes\' clocks; replayed deltas excluded). memory: server post-GC sample at load minus idle, ÷ its in-flight replies then.');
  for (const pass of passes) {
    console.log(`${pass.backend}: ${pass.totals.connections} connections, ${pass.totals.delayedResumes} delayed resumes, ${pass.totals.refusedStarts} starts refused (409 while the previous reply's lock was released), ${pass.totals.latenciesMs.length} live deltas timed, ${pass.seconds.toFixed(1)} s`);
  }
  console.log(
    `run time ${((performance.now() - began) / 1000).toFixed(1)} s; 1-min load average ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? 0).toFixed(2)} after (other work on the machine inflates the latency figures)`,
  );
}

await main();
