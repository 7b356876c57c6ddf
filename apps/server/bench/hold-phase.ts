/**
 * The soak's hold phase: exactly `tokens.length` replies live at once, for the server's memory per
 * live reply and for whether that memory and the in-flight count come back once they end.
 *
 * Contract: `runHold` expects a fresh server child whose reply logs expire after `logTtlMs`, and
 * one token per reply (the server allows a user one reply at a time). It warms the server up with
 * a few complete replies and waits for their logs to expire, takes the baseline (post-GC), opens
 * one `slow` reply per token (the emulator streams it a delta a second, for far longer than the
 * phase), waits until every client has its `start` and the server's own
 * `wxstream_replies_in_progress` gauge reads the full count, lets them stream for `holdMs`,
 * samples again (post-GC) with the gauge read beside the sample, stops every
 * reply through `POST /api/chat/:messageId/stop` as the client's stop button does, waits for the
 * gauge to read 0 and samples, then waits out the log retention and samples a last time.
 * Memory per live reply = (held − baseline) ÷ replies held.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ask, type Child, type ServerSample } from './bench-children.ts';
import { readUnlabelledSample } from './prometheus-gauge.ts';

const WARM_UP_REPLIES = 20;
const IN_PROGRESS = 'wxstream_replies_in_progress';
const WAIT_LIMIT_MS = 60_000;

export interface MemoryPoint {
  readonly rss: number;
  readonly heapUsed: number;
  /** The server's in-flight gauge (from /metrics) when the sample was taken. */
  readonly inFlight: number;
}

export interface HoldFigures {
  readonly replies: number;
  readonly secondsToAllLive: number;
  /** Deltas each held reply had received, on average, when the held sample was taken. */
  readonly deltasPerReplyAtSample: number;
  readonly baseline: MemoryPoint;
  readonly held: MemoryPoint;
  readonly secondsToStop: number;
  readonly afterStop: MemoryPoint;
  readonly afterExpiry: MemoryPoint;
}

/** The server's in-flight replies as its `/metrics` gauge reports them. */
export async function inFlight(url: string): Promise<number> {
  const answer = await fetch(`${url}/metrics`);
  const value = readUnlabelledSample(await answer.text(), IN_PROGRESS);
  if (value === undefined) throw new Error(`${IN_PROGRESS} missing from ${url}/metrics`);
  return value;
}

async function waitForInFlight(url: string, wanted: number): Promise<number> {
  const began = performance.now();
  for (;;) {
    const now = await inFlight(url);
    if (now === wanted) return now;
    if (performance.now() - began > WAIT_LIMIT_MS) throw new Error(`in-flight replies stayed at ${now}, not ${wanted}, for ${WAIT_LIMIT_MS} ms`);
    await sleep(100);
  }
}

async function memoryPoint(server: Child, url: string): Promise<MemoryPoint> {
  const sample = await ask<ServerSample>(server, 'memory');
  return { rss: sample.usage.rss, heapUsed: sample.usage.heapUsed, inFlight: await inFlight(url) };
}

async function completeReply(url: string, token: string): Promise<void> {
  const answer = await fetch(`${url}/api/chat`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: '{"message":"soak"}' });
  await answer.arrayBuffer();
}

interface HeldReply {
  readonly req: ClientRequest;
  messageId: string | undefined;
  deltas: number;
  readonly ended: Promise<void>;
}

/** Opens one slow reply; `live` is called once its `start` event has arrived. */
function openHeldReply(url: string, token: string, live: () => void): HeldReply {
  let ended!: () => void;
  const reply: HeldReply = { req: request(new URL('/api/chat', url), { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` } }), messageId: undefined, deltas: 0, ended: new Promise((resolve) => (ended = resolve)) };
  let head = '';
  reply.req.on('response', (res: IncomingMessage) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      // Counting, not parsing: the server frames one event per `event:` line.
      reply.deltas += chunk.split('event: delta\n').length - 1;
      if (reply.messageId !== undefined) return;
      head += chunk;
      const messageId = /"messageId":"([^"]+)"/.exec(head)?.[1];
      if (messageId === undefined) return;
      reply.messageId = messageId;
      live();
    });
    res.on('end', () => ended());
    res.on('error', () => ended());
  });
  reply.req.on('error', () => ended());
  reply.req.end('{"message":"slow"}');
  return reply;
}

export async function runHold(server: Child, url: string, tokens: readonly string[], logTtlMs: number, holdMs: number): Promise<HoldFigures> {
  await Promise.all(tokens.slice(0, WARM_UP_REPLIES).map((token) => completeReply(url, token)));
  // The warm-up replies' logs would otherwise sit in the baseline and vanish from the last sample.
  await sleep(logTtlMs + 1000);
  await waitForInFlight(url, 0);
  const baseline = await memoryPoint(server, url);

  const began = performance.now();
  let live = 0;
  const replies = tokens.map((token) => openHeldReply(url, token, () => (live += 1)));
  while (live < tokens.length) {
    if (performance.now() - began > WAIT_LIMIT_MS) throw new Error(`only ${live} of ${tokens.length} held replies started within ${WAIT_LIMIT_MS} ms`);
    await sleep(50);
  }
  await waitForInFlight(url, tokens.length);
  const secondsToAllLive = (performance.now() - began) / 1000;
  // Streaming for a while, not just started: sockets, buffers and logs as they are mid-reply.
  await sleep(holdMs);
  const deltasPerReplyAtSample = replies.reduce((sum, reply) => sum + reply.deltas, 0) / replies.length;
  const held = await memoryPoint(server, url);

  // Leaving does not end a reply (CONTINUE_ON_DISCONNECT): stop each, as the client's stop button does.
  const stopsBegan = performance.now();
  for (let from = 0; from < replies.length; from += 100) {
    await Promise.all(
      replies.slice(from, from + 100).map(async (reply, offset) => {
        const answer = await fetch(`${url}/api/chat/${reply.messageId ?? ''}/stop`, { method: 'POST', headers: { Authorization: `Bearer ${tokens[from + offset] ?? ''}` } });
        await answer.arrayBuffer();
      }),
    );
  }
  await Promise.all(replies.map((reply) => reply.ended));
  await waitForInFlight(url, 0);
  const secondsToStop = (performance.now() - stopsBegan) / 1000;
  const stoppedAt = performance.now();
  const afterStop = await memoryPoint(server, url);
  await sleep(Math.max(0, stoppedAt + logTtlMs + 1000 - performance.now()));
  const afterExpiry = await memoryPoint(server, url);
  return { replies: tokens.length, secondsToAllLive, deltasPerReplyAtSample, baseline, held, secondsToStop, afterStop, afterExpiry };
}
