/**
 * The reader side of a reply (`streamReplyLog`) and its producer side (`createReplyLogWriter`) over
 * the real in-memory reply log: a slow sink makes the reader pull nothing more from the log (the
 * log is the buffer), heartbeats only in silence and never into a full sink, and every way a stream
 * ends leaves no timer and no follower behind.
 */
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { SSE_HEARTBEAT } from '@wxstream/protocol';
import { createReplyLogWriter } from '../src/chat/reply-log-writer.ts';
import { streamReplyLog } from '../src/chat/reply-log-stream.ts';
import { InMemoryReplyLog } from '../src/reply-log/in-memory-reply-log.ts';
import { ReplyLogWriteError } from '../src/reply-log/reply-log.ts';
import { createManualClock } from './support/manual-clock.ts';
import { parseReplyBody } from './support/reply-stream.ts';

const OWNER = { userId: 'u1', conversationId: 'c1' };

/** A started reply in a fresh in-memory log, a manual clock, and a sink that takes every write at once. */
async function startedReply(replyId: string) {
  const log = new InMemoryReplyLog({ clock: createManualClock(), retentionMs: 60_000, maxEvents: 100 });
  await log.create(replyId, OWNER);
  const writer = createReplyLogWriter({ log, replyId, onAppendFailed: (error) => assert.fail(String(error)) });
  writer.start({ conversationId: 'c1', messageId: replyId, model: 'm' });
  const chunks: string[] = [];
  const sink = new Writable({
    decodeStrings: false,
    write(chunk: string, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { log, writer, clock: createManualClock(), chunks, sink };
}

/** A sink that holds every write until `release()`; afterwards it takes everything at once. */
function slowSink(highWaterMark: number) {
  const chunks: string[] = [];
  const held: Array<() => void> = [];
  let flowing = false;
  const sink = new Writable({
    highWaterMark,
    decodeStrings: false,
    write(chunk: string, _encoding, callback) {
      chunks.push(chunk);
      if (flowing) callback();
      else held.push(() => callback());
    },
  });
  return {
    sink,
    chunks,
    text: () => chunks.join(''),
    release() {
      flowing = true;
      for (const done of held.splice(0)) done();
    },
  };
}

async function settle(rounds = 20): Promise<void> {
  for (let round = 0; round < rounds; round += 1) await tick();
}

describe('reply log stream', () => {
  test('a client that does not read makes the reader stop pulling from the log; it catches up once the client drains', async () => {
    const log = new InMemoryReplyLog({ clock: createManualClock(), retentionMs: 60_000, maxEvents: 10_000 });
    await log.create('r1', OWNER);
    const writer = createReplyLogWriter({ log, replyId: 'r1', onAppendFailed: (error) => assert.fail(String(error)) });
    writer.start({ conversationId: 'c1', messageId: 'r1', model: 'm' });
    const { sink, chunks, text, release } = slowSink(4096);
    const reader = new AbortController();
    const streamClock = createManualClock();
    const ended = streamReplyLog({ log, replyId: 'r1', afterId: 0, sink, clock: streamClock, heartbeatIntervalMs: 1000, signal: reader.signal });

    const piece = '长'.repeat(100);
    for (let index = 0; index < 3000; index += 1) {
      writer.delta(piece);
      if (index % 50 === 0) await settle(2);
    }
    await writer.settled();
    await settle();
    // ~300 bytes per frame into a 4 KiB sink: a few frames, never the 3000 the log holds.
    assert.ok(chunks.length <= 20, `the reader pulled ${chunks.length} events while the client read nothing`);
    assert.equal((await log.meta('r1'))?.lastEventId, 3001);

    writer.end({ type: 'done', data: { finishReason: 'stop' } });
    release();
    assert.equal(await ended, 'terminal');
    const reply = parseReplyBody(text());
    assert.equal(reply.events.length, 3002);
    assert.equal(reply.text, piece.repeat(3000));
    assert.equal(streamClock.pendingTimers, 0);
    assert.equal(log.followers, 0);
  });

  test('heartbeats go out only after a silent interval, never into a full sink, and stop with the stream', async () => {
    const { log, writer, clock, chunks, sink } = await startedReply('r2');
    const ended = streamReplyLog({ log, replyId: 'r2', afterId: 0, sink, clock, heartbeatIntervalMs: 100, signal: new AbortController().signal });
    await settle();
    clock.advance(99);
    assert.equal(chunks.filter((chunk) => chunk === SSE_HEARTBEAT).length, 0);
    clock.advance(1);
    assert.equal(chunks.filter((chunk) => chunk === SSE_HEARTBEAT).length, 1);
    writer.delta('字');
    await settle();
    clock.advance(99);
    assert.equal(chunks.filter((chunk) => chunk === SSE_HEARTBEAT).length, 1, 'an event restarts the silence');
    clock.advance(301);
    assert.equal(chunks.filter((chunk) => chunk === SSE_HEARTBEAT).length, 5, 'pings at 200, 300, 400 and 500');
    writer.end({ type: 'done', data: { finishReason: 'stop' } });
    assert.equal(await ended, 'terminal');
    assert.equal(clock.pendingTimers, 0);
    parseReplyBody(chunks.join(''));

    const full = slowSink(1);
    const log2 = new InMemoryReplyLog({ clock: createManualClock(), retentionMs: 60_000, maxEvents: 100 });
    await log2.create('r3', OWNER);
    const writer2 = createReplyLogWriter({ log: log2, replyId: 'r3', onAppendFailed: (error) => assert.fail(String(error)) });
    writer2.start({ conversationId: 'c1', messageId: 'r3', model: 'm' });
    const clock2 = createManualClock();
    const reader = new AbortController();
    const ended2 = streamReplyLog({ log: log2, replyId: 'r3', afterId: 0, sink: full.sink, clock: clock2, heartbeatIntervalMs: 100, signal: reader.signal });
    await settle();
    clock2.advance(1000);
    assert.deepEqual(full.chunks.filter((chunk) => chunk === SSE_HEARTBEAT), [], 'no ping into a sink that has not drained');
    reader.abort();
    assert.equal(await ended2, 'closed');
    assert.equal(clock2.pendingTimers, 0);
    assert.equal(log2.followers, 0);
  });

  test('a silent log has its producer checked once per check interval, never while events flow, and a check that ends the log ends the stream', async () => {
    const { log, writer, clock, chunks, sink } = await startedReply('r7');
    let checks = 0;
    let producerGone = false;
    const producerCheck = {
      intervalMs: 500,
      async run() {
        checks += 1;
        // As the reply log does for a dead producer: the terminal goes into the log, and reaches the reader from there.
        if (producerGone) writer.end({ type: 'error', data: { code: 'server_shutdown', message: 'gone', retryable: true } });
      },
    };
    const ended = streamReplyLog({ log, replyId: 'r7', afterId: 0, sink, clock, heartbeatIntervalMs: 100, signal: new AbortController().signal, producerCheck });
    await settle();
    for (let step = 0; step < 10; step += 1) {
      clock.advance(400);
      writer.delta('字');
      await settle();
    }
    assert.equal(checks, 0, 'an event every 400 ms: never silent for 500');
    clock.advance(500);
    await settle();
    assert.equal(checks, 1);
    clock.advance(499);
    await settle();
    assert.equal(checks, 1);
    clock.advance(1);
    await settle();
    assert.equal(checks, 2, 'asked again while the silence lasts');
    producerGone = true;
    clock.advance(500);
    assert.equal(await ended, 'terminal');
    assert.equal(checks, 3);
    assert.equal(clock.pendingTimers, 0);
    const reply = parseReplyBody(chunks.join(''));
    assert.deepEqual(reply.events.at(-1), { id: 12, type: 'error', data: { code: 'server_shutdown', message: 'gone', retryable: true } });
  });

  test('an unknown or expired reply ends the stream as expired, with the sink ended and nothing written', async () => {
    const log = new InMemoryReplyLog({ clock: createManualClock(), retentionMs: 60_000, maxEvents: 100 });
    const { sink, chunks } = slowSink(1024);
    const clock = createManualClock();
    const end = await streamReplyLog({ log, replyId: 'missing', afterId: 0, sink, clock, heartbeatIntervalMs: 100, signal: new AbortController().signal });
    assert.equal(end, 'expired');
    assert.deepEqual(chunks, []);
    assert.equal(sink.writableEnded, true);
    assert.equal(clock.pendingTimers, 0);
  });
});

describe('reply log writer', () => {
  test('a full log is reported once, later deltas are dropped, and the terminal still ends the log', async () => {
    const log = new InMemoryReplyLog({ clock: createManualClock(), retentionMs: 60_000, maxEvents: 3 });
    await log.create('r4', OWNER);
    const failures: unknown[] = [];
    const writer = createReplyLogWriter({ log, replyId: 'r4', onAppendFailed: (error) => failures.push(error) });
    writer.start({ conversationId: 'c1', messageId: 'r4', model: 'm' });
    for (const text of ['a', 'b', 'c', 'd', 'e']) writer.delta(text);
    await writer.settled();
    assert.equal(failures.length, 1);
    assert.ok(failures[0] instanceof ReplyLogWriteError && failures[0].reason === 'full');
    writer.end({ type: 'error', data: { code: 'internal_error', message: 'full', retryable: true } });
    await writer.settled();
    const events = [];
    for await (const event of log.read('r4', 0)) events.push(event);
    assert.deepEqual(
      events.map((event) => `${event.id}:${event.type}`),
      ['1:start', '2:delta', '3:delta', '4:error'],
      'the terminal follows the last accepted event without a gap',
    );
  });

  test('a second ending is ignored: exactly one terminal event reaches the log, and nothing after it', async () => {
    const log = new InMemoryReplyLog({ clock: createManualClock(), retentionMs: 60_000, maxEvents: 100 });
    await log.create('r6', OWNER);
    const writer = createReplyLogWriter({ log, replyId: 'r6', onAppendFailed: (error) => assert.fail(String(error)) });
    writer.start({ conversationId: 'c1', messageId: 'r6', model: 'm' });
    assert.equal(writer.end({ type: 'error', data: { code: 'server_shutdown', message: 'bye', retryable: true } }, { promptTokens: 1, completionTokens: 1 }), true);
    assert.equal(writer.end({ type: 'done', data: { finishReason: 'stop' } }), false);
    writer.delta('late');
    writer.abandon();
    await writer.settled();
    const events = [];
    for await (const event of log.read('r6', 0)) events.push(event);
    assert.deepEqual(
      events.map((event) => event.type),
      ['start', 'usage', 'error'],
    );
  });

  test('abandoning a started reply ends its log with done stopped, so no reader is left waiting', async () => {
    const log = new InMemoryReplyLog({ clock: createManualClock(), retentionMs: 60_000, maxEvents: 100 });
    await log.create('r5', OWNER);
    const writer = createReplyLogWriter({ log, replyId: 'r5', onAppendFailed: (error) => assert.fail(String(error)) });
    writer.start({ conversationId: 'c1', messageId: 'r5', model: 'm' });
    writer.delta('半');
    writer.abandon();
    await writer.settled();
    const events = [];
    for await (const event of log.read('r5', 0)) events.push(event);
    assert.deepEqual(events.at(-1), { id: 3, type: 'done', data: { finishReason: 'stopped' } });
  });
});
