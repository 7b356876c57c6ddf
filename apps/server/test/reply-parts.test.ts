import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WxstreamError, type ReplyEvent } from '@wxstream/protocol';
import { countCodePoints, parseChatRequest } from '../src/chat/chat-request.ts';
import { createIdleWatchdog } from '../src/chat/idle-watchdog.ts';
import { ClientClosed, ReplyStopped, relayReply } from '../src/chat/relay.ts';
import { createReplyLogWriter } from '../src/chat/reply-log-writer.ts';
import { ReplyRegistry } from '../src/chat/reply-registry.ts';
import { ReplySequencer } from '../src/chat/reply-sequencer.ts';
import { readChunk } from '../src/chat/upstream-chunk.ts';
import { systemClock } from '../src/clock.ts';
import { InMemoryReplyLog } from '../src/reply-log/in-memory-reply-log.ts';
import type { UpstreamChunk } from '../src/upstream/upstream-model.ts';
import { createManualClock } from './support/manual-clock.ts';

const start = { conversationId: 'c', messageId: 'm', model: 'x' };

describe('reply sequencer', () => {
  test('numbers events from 1 without gaps and skips empty texts', () => {
    const sequencer = new ReplySequencer();
    const events = [
      sequencer.start(start),
      sequencer.reasoning(''),
      sequencer.reasoning('think'),
      sequencer.delta(''),
      sequencer.delta('say'),
      sequencer.usage({ promptTokens: 1, completionTokens: 2 }),
      sequencer.done({ finishReason: 'stop' }),
    ].filter((event) => event !== undefined);
    assert.deepEqual(
      events.map((event) => [event.id, event.type]),
      [
        [1, 'start'],
        [2, 'reasoning'],
        [3, 'delta'],
        [4, 'usage'],
        [5, 'done'],
      ],
    );
  });

  test('drops reasoning that arrives after the answer began', () => {
    const sequencer = new ReplySequencer();
    sequencer.start(start);
    sequencer.delta('answer');
    assert.equal(sequencer.reasoning('late thought'), undefined);
  });

  test('allows one usage and one terminal, and nothing after the terminal', () => {
    const sequencer = new ReplySequencer();
    sequencer.start(start);
    assert.ok(sequencer.usage({ promptTokens: 1, completionTokens: 1 }));
    assert.equal(sequencer.usage({ promptTokens: 2, completionTokens: 2 }), undefined);
    assert.ok(sequencer.error({ code: 'upstream_error', message: 'x', retryable: true }));
    assert.equal(sequencer.done({ finishReason: 'stop' }), undefined);
    assert.equal(sequencer.delta('more'), undefined);
    assert.equal(sequencer.count, 3);
  });

  test('refuses any event before start', () => {
    assert.throws(() => new ReplySequencer().delta('too early'), /must start/);
  });

  test('allows one suggestions event with items, before the terminal only', () => {
    const sequencer = new ReplySequencer();
    sequencer.start(start);
    assert.equal(sequencer.suggestions({ items: [] }), undefined, 'no items, no event');
    assert.deepEqual(sequencer.suggestions({ items: ['再问一个？'] }), { id: 2, type: 'suggestions', data: { items: ['再问一个？'] } });
    assert.equal(sequencer.suggestions({ items: ['又一个？'] }), undefined, 'at most one');
    sequencer.done({ finishReason: 'stop' });
    const late = new ReplySequencer();
    late.start(start);
    late.done({ finishReason: 'stop' });
    assert.equal(late.suggestions({ items: ['太晚了？'] }), undefined, 'nothing after the terminal');
  });
});

describe('reading an upstream chunk', () => {
  test('reads content, either reasoning field, finish reason and usage of choice 0', () => {
    assert.deepEqual(readChunk({ choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null }] }), {
      reasoning: '',
      content: 'hi',
      finishReason: undefined,
      usage: undefined,
    });
    assert.equal(readChunk({ choices: [{ delta: { reasoning_content: 'a' } }] }).reasoning, 'a');
    assert.equal(readChunk({ choices: [{ delta: { reasoning: 'b' } }] }).reasoning, 'b');
    assert.equal(readChunk({ choices: [{ index: 1, delta: { content: 'other choice' } }] }).content, '');
    assert.deepEqual(readChunk({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 5 } }).usage, { promptTokens: 3, completionTokens: 5 });
    assert.equal(readChunk({ choices: [{ delta: {}, finish_reason: 'length' }] }).finishReason, 'length');
  });

  test('ignores null deltas and malformed usage', () => {
    assert.deepEqual(readChunk({ choices: [{ delta: null }], usage: null }), { reasoning: '', content: '', finishReason: undefined, usage: undefined });
    assert.equal(readChunk({ usage: { prompt_tokens: -1 } }).usage, undefined);
  });
});

describe('chat request validation', () => {
  test('counts code points, not UTF-16 units', () => {
    assert.equal(countCodePoints('a😀字'), 3);
    assert.deepEqual(parseChatRequest({ message: '😀😀' }, { maxMessageChars: 2 }), { message: '😀😀', turn: { kind: 'new' } });
    assert.throws(() => parseChatRequest({ message: '😀😀😀' }, { maxMessageChars: 2 }), (error: unknown) => error instanceof WxstreamError && error.code === 'message_too_long');
  });

  test('keeps a valid conversationId and ignores unknown fields', () => {
    assert.deepEqual(parseChatRequest({ message: 'hi', conversationId: 'A-z_09', extra: true }, { maxMessageChars: 10 }), {
      message: 'hi',
      conversationId: 'A-z_09',
      turn: { kind: 'new' },
    });
  });

  test('a regenerate names its conversation and carries no message; an edit names the question it replaces', () => {
    const limits = { maxMessageChars: 10 };
    assert.deepEqual(parseChatRequest({ conversationId: 'c1', regenerate: true }, limits), {
      conversationId: 'c1',
      regenerate: true,
      turn: { kind: 'regenerate', conversationId: 'c1' },
    });
    assert.deepEqual(parseChatRequest({ conversationId: 'c1', message: 'again', editOf: 'm1' }, limits), {
      message: 'again',
      conversationId: 'c1',
      turn: { kind: 'edit', conversationId: 'c1', editOf: 'm1' },
    });
    assert.deepEqual(parseChatRequest({ message: 'hi', regenerate: false }, limits), { message: 'hi', turn: { kind: 'new' } });
  });

  test('every malformed regenerate or edit is refused, naming the field', () => {
    const limits = { maxMessageChars: 10 };
    const cases: [object, string, RegExp][] = [
      [{ conversationId: 'c1', regenerate: 'yes' }, 'invalid_request', /regenerate must be true or false/],
      [{ regenerate: true }, 'invalid_request', /regenerate needs the conversationId/],
      [{ conversationId: 'c1', regenerate: true, message: 'x' }, 'invalid_request', /regenerate takes no message/],
      [{ conversationId: 'c1', regenerate: true, editOf: 'm1' }, 'invalid_request', /cannot be combined/],
      [{ conversationId: 'bad id', regenerate: true }, 'invalid_request', /conversationId must be/],
      [{ conversationId: 'c1', message: 'x', editOf: 42 }, 'invalid_request', /editOf must be the id/],
      [{ conversationId: 'c1', message: 'x', editOf: '../m1' }, 'invalid_request', /editOf must be the id/],
      [{ message: 'x', editOf: 'm1' }, 'invalid_request', /editOf needs the conversationId/],
      [{ conversationId: 'c1', editOf: 'm1' }, 'message_required', /message is required/],
      [{ conversationId: 'c1', editOf: 'm1', message: 'x'.repeat(11) }, 'message_too_long', /limit is 10/],
    ];
    for (const [body, code, message] of cases) {
      assert.throws(
        () => parseChatRequest(body, limits),
        (error: unknown) => error instanceof WxstreamError && error.code === code && message.test(error.message),
        JSON.stringify(body),
      );
    }
  });
});

async function* chunksOf(chunks: readonly UpstreamChunk[], then?: () => Promise<void>): AsyncGenerator<UpstreamChunk> {
  for (const chunk of chunks) yield chunk;
  await then?.();
}

/** Relays `chunks` into a real (in-memory) reply log, as the chat route does. */
function relayInto(chunks: AsyncIterable<UpstreamChunk>, controller = new AbortController()) {
  const log = new InMemoryReplyLog({ clock: createManualClock(), retentionMs: 60_000, maxEvents: 1000 });
  const ready = log.create('reply', { userId: 'u', conversationId: 'c' });
  const writer = createReplyLogWriter({ log, replyId: 'reply', onAppendFailed: (error) => assert.fail(String(error)) });
  const outcome = ready.then(() => {
    writer.start(start);
    const watchdog = createIdleWatchdog({ clock: systemClock, timeoutMs: 60_000, onIdle: () => {} });
    return relayReply({
      chunks,
      writer,
      signal: controller.signal,
      watchdog,
      failure: (error) => new WxstreamError('upstream_error', String(error)),
    });
  });
  const events = async (): Promise<ReplyEvent[]> => {
    await outcome;
    await writer.settled();
    const logged: ReplyEvent[] = [];
    for await (const event of log.read('reply', 0)) logged.push(event);
    return logged;
  };
  return { outcome, events };
}

describe('relay', () => {
  const delta = (content: string): UpstreamChunk => ({ choices: [{ delta: { content } }] });

  test('an error after the finish reason still ends with done: the answer was complete', async () => {
    const run = relayInto(
      chunksOf([delta('whole'), { choices: [{ delta: {}, finish_reason: 'stop' }] }], async () => {
        throw new Error('connection reset after the last chunk');
      }),
    );
    assert.deepEqual(await run.outcome, { kind: 'done', finishReason: 'stop', usage: undefined });
    assert.equal((await run.events()).at(-1)?.type, 'done');
  });

  test('a client that left (CONTINUE_ON_DISCONNECT off) gets nothing more relayed, and the log ends as stopped', async () => {
    const controller = new AbortController();
    const run = relayInto(
      chunksOf([delta('first'), delta('second')], async () => {
        controller.abort(new ClientClosed());
      }),
      controller,
    );
    assert.equal((await run.outcome).kind, 'client_closed');
    assert.deepEqual(
      (await run.events()).map((event) => event.type),
      ['start', 'delta', 'delta', 'done'],
    );
    assert.deepEqual((await run.events()).at(-1)?.data, { finishReason: 'stopped' });
  });

  test('the user’s stop ends the reply with done stopped, not an error', async () => {
    const controller = new AbortController();
    const run = relayInto(
      chunksOf([delta('part'), delta('never')], async () => {
        controller.abort(new ReplyStopped());
      }),
      controller,
    );
    assert.deepEqual(await run.outcome, { kind: 'done', finishReason: 'stopped', usage: undefined });
    assert.deepEqual((await run.events()).at(-1)?.data, { finishReason: 'stopped' });
  });

  test('usage is the last value reported, sent once before the terminal', async () => {
    const usage = (completion: number): UpstreamChunk => ({ choices: [], usage: { prompt_tokens: 9, completion_tokens: completion } });
    const run = relayInto(chunksOf([delta('a'), usage(1), delta('b'), usage(2), { choices: [{ finish_reason: 'stop' }] }, usage(2)]));
    await run.outcome;
    const events = await run.events();
    assert.deepEqual(
      events.map((event) => event.type),
      ['start', 'delta', 'delta', 'usage', 'done'],
    );
    assert.deepEqual(events[3]?.data, { promptTokens: 9, completionTokens: 2 });
  });

});

describe('reply registry', () => {
  test('is idle when every reply has unregistered', async () => {
    const registry = new ReplyRegistry();
    const done = [registry.add({ interrupt: () => {} }), registry.add({ interrupt: () => {} })];
    let idle = false;
    const waiting = registry.whenIdle().then(() => (idle = true));
    done[0]?.();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(idle, false);
    done[1]?.();
    await waiting;
    assert.equal(registry.size, 0);
  });

  test('stops the reply with a given message id, and says when no reply here has it', () => {
    const registry = new ReplyRegistry();
    const stopped: string[] = [];
    registry.add({ interrupt: () => {}, messageId: 'm1', stop: () => stopped.push('m1') });
    registry.add({ interrupt: () => {}, messageId: undefined, stop: () => stopped.push('unnamed') });
    assert.equal(registry.stop('m1'), true);
    assert.equal(registry.stop('elsewhere'), false);
    assert.deepEqual(stopped, ['m1']);
  });

  test('interrupts the running replies, and a reply registering afterwards at once', () => {
    const registry = new ReplyRegistry();
    const reasons: string[] = [];
    registry.add({ interrupt: (reason) => reasons.push(`running:${reason.code}`) });
    registry.interruptAll(new WxstreamError('server_shutdown'));
    registry.add({ interrupt: (reason) => reasons.push(`late:${reason.code}`) });
    assert.deepEqual(reasons, ['running:server_shutdown', 'late:server_shutdown']);
  });
});
