/**
 * Reply log benchmark: what keeping every event for resumption costs, in memory and in Redis.
 *
 * For each log (Redis only when `REDIS_URL`, else redis://127.0.0.1:6379, answers):
 * - append: one reply of 10,000 events, written as a producer that does not wait for each write
 *   (burst) and as one that awaits every write (awaited), in events per second;
 * - replay: reading those 10,000 events back from id 0, in events per second;
 * - live: 100 readers following one reply while 200 deltas are appended 5 ms apart; latency is
 *   from the `append` call to each reader receiving the event (p50 / p99 / max over all readers);
 * - memory (in-memory log only): 1,000 ended replies of 500 deltas held, post-GC heap per reply.
 * Keys go under a random prefix and are deleted afterwards. No assertions: figures only.
 * Run with `node --expose-gc bench/reply-log.bench.ts`.
 */
import { randomUUID } from 'node:crypto';
import { arch, cpus, platform } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReplyEvent } from '@wxstream/protocol';
import { ReplySequencer } from '../src/chat/reply-sequencer.ts';
import { systemClock } from '../src/clock.ts';
import { openRedis, type RedisConnections } from '../src/redis/redis-connections.ts';
import { InMemoryReplyLog } from '../src/reply-log/in-memory-reply-log.ts';
import { RedisReplyLog } from '../src/reply-log/redis-reply-log.ts';
import type { ReplyLog } from '../src/reply-log/reply-log.ts';

const EVENTS = 10_000;
const FOLLOWERS = 100;
const LIVE_DELTAS = 200;
const LIVE_INTERVAL_MS = 5;
const HELD_REPLIES = 1000;
const HELD_DELTAS = 500;
const OWNER = { userId: 'bench-user', conversationId: 'bench-conversation' };
const LOG_OPTIONS = { clock: systemClock, retentionMs: 600_000, maxEvents: 50_000 };

/** A reply as a model streams it: start, `deltas` deltas of a few characters, usage, done. */
function reply(deltas: number): ReplyEvent[] {
  const sequencer = new ReplySequencer();
  const events: ReplyEvent[] = [sequencer.start({ conversationId: 'c', messageId: 'm', model: 'bench' })];
  for (let i = 0; i < deltas; i++) events.push(sequencer.delta(i % 2 === 0 ? '你好，' : 'world ') as ReplyEvent);
  events.push(sequencer.usage({ promptTokens: 10, completionTokens: deltas }) as ReplyEvent);
  events.push(sequencer.done({ finishReason: 'stop' }) as ReplyEvent);
  return events;
}

const perSecond = (count: number, ms: number) => Math.round((count / ms) * 1000).toLocaleString('en-US');
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

async function appendAndReplay(log: ReplyLog): Promise<{ burst: string; awaited: string; replay: string }> {
  const events = reply(EVENTS - 3);
  const burstId = randomUUID();
  await log.create(burstId, OWNER);
  let started = performance.now();
  await Promise.all(events.map((event) => log.append(burstId, event)));
  const burstMs = performance.now() - started;

  const awaitedId = randomUUID();
  await log.create(awaitedId, OWNER);
  started = performance.now();
  for (const event of events) await log.append(awaitedId, event);
  const awaitedMs = performance.now() - started;

  started = performance.now();
  let read = 0;
  for await (const _event of log.read(burstId, 0)) read++;
  const replayMs = performance.now() - started;
  if (read !== events.length) throw new Error(`replayed ${read} of ${events.length} events`);
  return { burst: perSecond(events.length, burstMs), awaited: perSecond(events.length, awaitedMs), replay: perSecond(read, replayMs) };
}

async function live(log: ReplyLog): Promise<{ p50: number; p99: number; max: number }> {
  const replyId = randomUUID();
  await log.create(replyId, OWNER);
  const events = reply(LIVE_DELTAS);
  const appendedAt = new Map<number, number>();
  const latencies: number[] = [];
  const readers = Array.from({ length: FOLLOWERS }, async () => {
    for await (const event of log.read(replyId, 0)) {
      const at = appendedAt.get(event.id);
      if (at !== undefined) latencies.push(performance.now() - at);
    }
  });
  await sleep(100);
  for (const event of events) {
    appendedAt.set(event.id, performance.now());
    await log.append(replyId, event);
    await sleep(LIVE_INTERVAL_MS);
  }
  await Promise.all(readers);
  latencies.sort((a, b) => a - b);
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1) ?? Number.NaN };
}

async function heapPerReply(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return Number.NaN;
  gc();
  const before = process.memoryUsage().heapUsed;
  const log = new InMemoryReplyLog(LOG_OPTIONS);
  const events = reply(HELD_DELTAS);
  for (let i = 0; i < HELD_REPLIES; i++) {
    await log.create(`held-${i}`, OWNER);
    for (const event of events) await log.append(`held-${i}`, event);
  }
  gc();
  const perReply = (process.memoryUsage().heapUsed - before) / HELD_REPLIES;
  if (log.size !== HELD_REPLIES) throw new Error('replies were dropped');
  return perReply;
}

async function main(): Promise<void> {
  console.log(`reply log bench — ${platform()} ${arch()}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
  const subjects: Array<{ name: string; log: ReplyLog }> = [{ name: 'in-memory', log: new InMemoryReplyLog(LOG_OPTIONS) }];

  const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  let redis: RedisConnections | undefined;
  const keyPrefix = `wxstream-bench:${randomUUID()}:`;
  try {
    redis = await openRedis({ url, connectTimeoutMs: 1000, onError: (error) => console.error('redis:', error.message) });
    subjects.push({ name: 'redis', log: new RedisReplyLog({ ...LOG_OPTIONS, client: redis.commands, subscriber: redis.subscriber, keyPrefix }) });
  } catch (error) {
    console.log(`redis: skipped (${error instanceof Error ? error.message : String(error)})`);
  }

  try {
    console.log(`\n${'log'.padEnd(10)} ${'append burst/s'.padStart(15)} ${'append awaited/s'.padStart(17)} ${'replay/s'.padStart(12)}   live ${FOLLOWERS} readers p50 / p99 / max (ms)`);
    for (const { name, log } of subjects) {
      const throughput = await appendAndReplay(log);
      const latency = await live(log);
      console.log(
        `${name.padEnd(10)} ${throughput.burst.padStart(15)} ${throughput.awaited.padStart(17)} ${throughput.replay.padStart(12)}   ` +
          `${latency.p50.toFixed(2)} / ${latency.p99.toFixed(2)} / ${latency.max.toFixed(2)}`,
      );
    }
    const perReply = await heapPerReply();
    console.log(`\nin-memory heap per held reply of ${HELD_DELTAS + 3} events: ${Number.isNaN(perReply) ? 'n/a (run with --expose-gc)' : `${(perReply / 1024).toFixed(1)} KiB`}`);
  } finally {
    if (redis !== undefined) {
      const keys: string[] = [];
      for await (const batch of redis.commands.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 1000 })) keys.push(...batch);
      if (keys.length > 0) await redis.commands.unlink(keys);
      await redis.close();
    }
  }
}

await main();
