import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { createIdleWatchdog } from '../src/chat/idle-watchdog.ts';
import { createReplyWriter } from '../src/chat/reply-writer.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { createManualClock } from './support/manual-clock.ts';

describe('idle watchdog', () => {
  test('fires once, exactly the timeout after the last touch', () => {
    const clock = createManualClock();
    let fired = 0;
    const watchdog = createIdleWatchdog({ clock, timeoutMs: 100, onIdle: () => (fired += 1) });
    watchdog.touch();
    clock.advance(60);
    watchdog.touch();
    clock.advance(99);
    assert.equal(fired, 0);
    clock.advance(1);
    assert.equal(fired, 1);
    watchdog.touch();
    clock.advance(500);
    assert.equal(fired, 1);
  });

  test('does not fire while paused, and counts again from the next touch', () => {
    const clock = createManualClock();
    let fired = 0;
    const watchdog = createIdleWatchdog({ clock, timeoutMs: 100, onIdle: () => (fired += 1) });
    watchdog.touch();
    watchdog.pause();
    clock.advance(1000);
    assert.equal(fired, 0);
    watchdog.touch();
    clock.advance(100);
    assert.equal(fired, 1);
  });

  test('leaves no timer behind once stopped', () => {
    const clock = createManualClock();
    const watchdog = createIdleWatchdog({ clock, timeoutMs: 100, onIdle: () => assert.fail('fired after stop') });
    watchdog.touch();
    watchdog.stop();
    assert.equal(clock.pendingTimers, 0);
    clock.advance(1000);
  });
});

describe('reply writer heartbeat', () => {
  const setup = () => {
    const clock = createManualClock();
    const sink = new PassThrough();
    const writes: Array<{ at: number; text: string }> = [];
    const write = sink.write.bind(sink);
    sink.write = ((chunk: string) => {
      writes.push({ at: clock.now(), text: chunk });
      return write(chunk);
    }) as typeof sink.write;
    const writer = createReplyWriter({ sink, clock, heartbeatIntervalMs: 100 });
    writer.start({ conversationId: 'c', messageId: 'm', model: 'x' });
    return { clock, writer, writes, sink };
  };

  test('pings after each full interval of silence, counted from the last write', () => {
    const { clock, writer, writes } = setup();
    clock.advance(80);
    writer.delta('a');
    clock.advance(80);
    writer.delta('b');
    clock.advance(99);
    assert.equal(writes.filter((write) => write.text === ': ping\n\n').length, 0);
    clock.advance(1);
    clock.advance(250);
    const pings = writes.filter((write) => write.text === ': ping\n\n').map((write) => write.at);
    assert.deepEqual(pings, [260, 360, 460]);
  });

  test('stops pinging once the reply ended, and the body is well framed', async () => {
    const { clock, writer, sink, writes } = setup();
    clock.advance(250);
    writer.end({ type: 'done', data: { finishReason: 'stop' } }, { promptTokens: 1, completionTokens: 1 });
    const count = writes.length;
    clock.advance(1000);
    assert.equal(writes.length, count);
    assert.equal(clock.pendingTimers, 0);
    const body = await new Promise<string>((resolve) => {
      let text = '';
      sink.on('data', (bytes: Buffer) => (text += bytes.toString('utf8')));
      sink.on('end', () => resolve(text));
    });
    const reply = parseReplyBody(body);
    assert.deepEqual(
      reply.blocks.map((block) => (block.kind === 'event' ? block.event.type : 'ping')),
      ['start', 'ping', 'ping', 'usage', 'done'],
    );
  });

  test('a second ending is ignored: exactly one terminal event', () => {
    const { writer, writes } = setup();
    assert.equal(writer.end({ type: 'error', data: { code: 'server_shutdown', message: 'bye', retryable: true } }), true);
    assert.equal(writer.end({ type: 'done', data: { finishReason: 'stop' } }), false);
    assert.equal(writer.delta('late'), true);
    assert.equal(writes.filter((write) => write.text.includes('event: done') || write.text.includes('event: error')).length, 1);
    assert.ok(!writes.some((write) => write.text.includes('late')));
  });
});
