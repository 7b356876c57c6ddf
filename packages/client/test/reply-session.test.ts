import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SSE_HEARTBEAT, errorBody, formatSseEvent, userMessageFor, type ReplyEvent } from '@wxstream/protocol';
import type { ReplyState } from '../src/reply-reducer.ts';
import { ReplySession, type ReplySessionOptions, type ReplyView, type ReplyViewPatch } from '../src/reply-session.ts';
import { openReplyStream } from '../src/wx-request-transport.ts';
import { FakeClock } from './support/fake-clock.ts';
import { FakeWxRequest, utf8 } from './support/fake-wx-request.ts';
import { createSeededRandom, testSeed, type SeededRandom } from './support/seeded-random.ts';

interface Render {
  at: number;
  patch: ReplyViewPatch;
}

/** A session over the real transport, with the fake wx.request as the network and a fake clock. */
function setup(options: Partial<ReplySessionOptions> & { chunkedSupported?: boolean } = {}) {
  const clock = new FakeClock(1_000_000);
  const network = new FakeWxRequest();
  const renders: Render[] = [];
  const settled: { at: number; state: ReplyState }[] = [];
  /** The page's data, as successive setData calls with the patches would leave it. */
  let page: Partial<ReplyView> = {};
  const { chunkedSupported, ...sessionOptions } = options;
  const session = new ReplySession({
    openStream: (body, handlers) =>
      openReplyStream({ request: network.request, url: 'https://chat.example.com/api/chat', token: 't', body, handlers, chunkedSupported }),
    clock,
    scheduler: clock,
    onRender: (patch) => {
      for (const [key, value] of Object.entries(patch)) {
        assert.notDeepEqual(page[key as keyof ReplyView], value, `patch at ${clock.now()} repeats unchanged field ${key}`);
      }
      page = { ...page, ...patch };
      renders.push({ at: clock.now(), patch });
    },
    onSettled: (state) => settled.push({ at: clock.now(), state }),
    ...sessionOptions,
  });
  const send = (events: readonly ReplyEvent[]): void => network.last.sendBody(events.map(formatSseEvent).join(''));
  return { clock, network, session, renders, settled, send, page: () => page };
}

function assertRenderBudget(renders: readonly Render[], intervalMs = 50): void {
  for (let n = 1; n < renders.length; n++) {
    const gap = (renders[n] as Render).at - (renders[n - 1] as Render).at;
    assert.ok(gap >= intervalMs, `renders ${n - 1} and ${n} are ${gap} ms apart`);
  }
  for (const first of renders) {
    const inWindow = renders.filter((r) => r.at >= first.at && r.at < first.at + 1000).length;
    assert.ok(inWindow <= 1000 / intervalMs, `${inWindow} renders in the second from ${first.at}`);
  }
}

const START: ReplyEvent = { id: 1, type: 'start', data: { conversationId: 'c-9', messageId: 'm-9', model: 'deepseek-reasoner' } };

/** Splits `text` into pieces of 1..maxSize code points (never inside a surrogate pair). */
function pieces(random: SeededRandom, text: string, maxSize: number): string[] {
  const codePoints = Array.from(text);
  const out: string[] = [];
  for (let at = 0; at < codePoints.length; ) {
    const size = random.range(1, maxSize);
    out.push(codePoints.slice(at, at + size).join(''));
    at += size;
  }
  return out;
}

test('a 2,000-character reply in random bursts renders at most 20 patches a second, each with only changed fields', () => {
  const random = createSeededRandom(testSeed(0x5e55));
  const { clock, network, session, renders, settled, page } = setup();
  const alphabet = ['你', '好', '，', '世', '界', '。', 'a', 'b', ' ', '👍🏽', '👨‍👩‍👧', '🇨🇳', '\n'];
  const reasoning = Array.from({ length: 300 }, () => random.pick(['想', '一', '下', '…'])).join('');
  let answer = '';
  while (answer.length < 2000) answer += random.pick(alphabet);
  const events: ReplyEvent[] = [START];
  for (const text of pieces(random, reasoning, 8)) events.push({ id: events.length + 1, type: 'reasoning', data: { text } });
  for (const text of pieces(random, answer, 12)) events.push({ id: events.length + 1, type: 'delta', data: { text } });
  events.push({ id: events.length + 1, type: 'usage', data: { promptTokens: 20, completionTokens: 900 } });
  events.push({ id: events.length + 1, type: 'done', data: { finishReason: 'stop' } });
  const wire = utf8(events.map(formatSseEvent).join('') + SSE_HEARTBEAT);

  session.start({ message: '写一段长回复' });
  network.last.sendHeaders(200, { 'Content-Type': 'text/event-stream' });
  // Bursts of arbitrary byte length (events merged and split, characters cut) at irregular times.
  for (let at = 0; at < wire.length; ) {
    const size = random.chance(0.1) ? random.range(500, 3000) : random.range(1, 200);
    network.last.sendChunk(wire.slice(at, at + size));
    at += size;
    clock.advance(random.chance(0.2) ? random.range(200, 900) : random.range(0, 60));
  }
  network.last.succeed(200);
  clock.runUntilIdle();

  assertRenderBudget(renders);
  assert.ok(renders.length > 10, `only ${renders.length} renders: the text was not typed out`);
  const final = page();
  assert.equal(final.text, answer);
  assert.equal(final.reasoning, reasoning);
  assert.equal(final.status, 'done');
  assert.equal(final.finishReason, 'stop');
  assert.equal(final.conversationId, 'c-9');
  assert.deepEqual(final, session.view);
  const doneRender = renders.findIndex((r) => r.patch.status === 'done');
  assert.equal(doneRender, renders.length - 1, 'the final state comes in the last patch');
  assert.equal(settled.length, 1);
  assert.ok((settled[0]?.at ?? 0) >= (renders[renders.length - 1] as Render).at);
  assert.equal(settled[0]?.state.usage?.completionTokens, 900);
  assert.equal(clock.pendingTimers, 0, 'no timer left once settled');
});

test('the first render shows the streaming status before any text', () => {
  const { clock, session, renders } = setup();
  session.start({ message: 'hi' });
  assert.equal(renders.length, 0, 'renders are never synchronous');
  clock.advance(0);
  assert.deepEqual(renders.map((r) => r.patch), [{ text: '', reasoning: '', status: 'streaming' }]);
});

test('the final text and status arrive together in one patch even when typing was far behind', () => {
  const { clock, network, session, renders, settled, send, page } = setup();
  session.start({ message: 'hi' });
  network.last.sendHeaders(200);
  const long = '长'.repeat(3000);
  send([START, { id: 2, type: 'delta', data: { text: long } }]);
  clock.advance(200);
  assert.ok((page().text ?? '').length < 3000);
  send([{ id: 3, type: 'done', data: { finishReason: 'length' } }]);
  clock.runUntilIdle();
  const last = renders[renders.length - 1] as Render;
  assert.equal(last.patch.status, 'done');
  assert.equal(last.patch.text, long);
  assert.equal(last.patch.finishReason, 'length');
  assert.equal(renders.filter((r) => r.patch.status === 'done').length, 1);
  assert.equal(settled.length, 1);
  assertRenderBudget(renders);
});

test('stop keeps the partial text, shows all of it at once, and later chunks change nothing', () => {
  const { clock, network, session, renders, settled, send, page } = setup();
  session.start({ message: 'hi' });
  network.last.sendHeaders(200);
  send([START, { id: 2, type: 'delta', data: { text: '已经收到的一大段文字'.repeat(20) } }]);
  clock.advance(300);
  const typedSoFar = page().text ?? '';
  assert.ok(typedSoFar.length > 0 && typedSoFar.length < 200);
  session.stop();
  assert.equal(network.last.abortCalls, 1);
  clock.runUntilIdle();
  const afterStop = renders.length;
  assert.equal(page().status, 'stopped');
  assert.equal(page().finishReason, 'stopped');
  assert.equal(page().text, '已经收到的一大段文字'.repeat(20), 'everything received is revealed at once');
  assert.equal(settled.length, 1);
  assert.equal(settled[0]?.state.status, 'stopped');

  network.last.sendChunk(utf8(formatSseEvent({ id: 3, type: 'delta', data: { text: '迟到的' } })), { evenIfRemoved: true });
  network.last.succeed(200);
  session.stop();
  clock.runUntilIdle();
  assert.equal(renders.length, afterStop);
  assert.equal(session.state.text, '已经收到的一大段文字'.repeat(20));
  assert.equal(settled.length, 1);
});

test('while hidden there are no renders at all; visible again brings one catch-up render', () => {
  const { clock, network, session, renders, settled, send, page } = setup();
  session.start({ message: 'hi' });
  network.last.sendHeaders(200);
  send([START, { id: 2, type: 'delta', data: { text: '第一段。' } }]);
  clock.advance(500);
  session.setVisible(false);
  const whileVisible = renders.length;
  for (let n = 0; n < 20; n++) {
    send([{ id: 3 + n, type: 'delta', data: { text: `后台第${n}段。` } }]);
    clock.advance(100);
  }
  assert.equal(renders.length, whileVisible, 'renders while hidden');
  assert.equal(clock.pendingTimers, 1, 'only the idle watchdog is armed while hidden');
  session.setVisible(true);
  clock.advance(0);
  assert.equal(renders.length, whileVisible + 1, 'one catch-up render');
  // Everything older than the lag bound is in it; the rest keeps typing.
  assert.ok((page().text ?? '').includes('后台第9段。'));
  assert.ok(page().text !== session.state.text, 'recent text is still typed out, not dumped');
  clock.advance(3000);
  assert.equal(page().text, session.state.text);
  assertRenderBudget(renders);
  assert.equal(settled.length, 0, 'still streaming');
  assert.equal(page().status, 'streaming');
});

test('a reply that ends while hidden settles at once and shows its final state in one render when visible', () => {
  const { clock, network, session, renders, settled, send, page } = setup();
  session.start({ message: 'hi' });
  network.last.sendHeaders(200);
  send([START]);
  clock.advance(100);
  session.setVisible(false);
  const before = renders.length;
  send([{ id: 2, type: 'delta', data: { text: '在后台完成的回复' } }, { id: 3, type: 'done', data: { finishReason: 'stop' } }]);
  clock.runUntilIdle();
  assert.equal(renders.length, before);
  assert.equal(settled.length, 1);
  assert.equal(clock.pendingTimers, 0);
  session.setVisible(true);
  clock.runUntilIdle();
  assert.equal(renders.length, before + 1);
  assert.equal(page().text, '在后台完成的回复');
  assert.equal(page().status, 'done');
  assert.equal(settled.length, 1);
});

test('an in-band error after partial text keeps the text and shows the Chinese message', () => {
  const { clock, network, session, renders, settled, send, page } = setup();
  session.start({ message: 'hi' });
  network.last.sendHeaders(200);
  send([START, { id: 2, type: 'delta', data: { text: '回答到一半' } }]);
  clock.advance(100);
  send([{ id: 3, type: 'error', data: { code: 'upstream_timeout', message: 'no token for 30 s', retryable: true } }]);
  clock.runUntilIdle();
  const view = page();
  assert.equal(view.text, '回答到一半');
  assert.equal(view.status, 'error');
  assert.equal(view.errorCode, 'upstream_timeout');
  assert.equal(view.errorMessage, userMessageFor('upstream_timeout'));
  assert.match(view.errorMessage ?? '', /[\u4e00-\u9fff]/);
  assert.equal(view.retryable, true);
  assert.ok(!(view.text ?? '').includes('timeout'), 'the error never becomes reply text');
  assert.equal(settled.length, 1);
  assertRenderBudget(renders);
});

test('a connection that breaks mid-reply ends as stream_interrupted with the text kept', () => {
  const { clock, network, session, settled, send, page } = setup();
  session.start({ message: 'hi' });
  network.last.sendHeaders(200);
  send([START, { id: 2, type: 'delta', data: { text: '断线前' } }]);
  network.last.fail('request:fail socket closed');
  clock.runUntilIdle();
  assert.equal(page().text, '断线前');
  assert.equal(page().errorCode, 'stream_interrupted');
  assert.equal(page().errorMessage, userMessageFor('stream_interrupted'));
  assert.equal(settled.length, 1);
});

test('an error answer before the stream renders the error with no text', () => {
  const { clock, network, session, settled, page } = setup();
  session.start({ message: 'hi' });
  network.last.sendHeaders(429, { 'Content-Type': 'application/json' });
  network.last.sendBody(JSON.stringify(errorBody('rate_limited', 'slow down')));
  network.last.succeed(429);
  clock.runUntilIdle();
  assert.deepEqual(page(), {
    text: '',
    reasoning: '',
    status: 'error',
    errorCode: 'rate_limited',
    errorMessage: userMessageFor('rate_limited'),
    retryable: true,
  });
  assert.equal(settled.length, 1);
});

test('an unsupported platform fails synchronously, renders once and settles once', () => {
  const { clock, network, session, renders, settled, page } = setup({ chunkedSupported: false });
  session.start({ message: 'hi' });
  clock.runUntilIdle();
  assert.equal(network.tasks.length, 0);
  assert.equal(renders.length, 1);
  assert.equal(page().errorCode, 'unsupported_platform');
  assert.equal(page().retryable, false);
  assert.equal(settled.length, 1);
  assert.equal(clock.pendingTimers, 0);
});

test('onSettled runs exactly once whatever happens after the end', () => {
  const { clock, network, session, settled, send } = setup();
  session.start({ message: 'hi' });
  network.last.sendHeaders(200);
  send([START, { id: 2, type: 'delta', data: { text: '完' } }, { id: 3, type: 'done', data: { finishReason: 'stop' } }]);
  clock.runUntilIdle();
  session.stop();
  send([{ id: 4, type: 'delta', data: { text: '多' } }]);
  network.last.fail('request:fail late');
  session.setVisible(false);
  session.setVisible(true);
  clock.runUntilIdle();
  session.dispose();
  assert.equal(settled.length, 1);
  assert.equal(settled[0]?.state.status, 'done');
});

test('a silent connection is cut by the idle watchdog; heartbeats keep a slow one alive', () => {
  const quiet = setup({ idleTimeoutMs: 45_000 });
  quiet.session.start({ message: 'hi' });
  quiet.network.last.sendHeaders(200);
  quiet.send([START]);
  quiet.clock.advance(44_999);
  assert.equal(quiet.settled.length, 0);
  quiet.clock.advance(1);
  quiet.clock.runUntilIdle();
  assert.equal(quiet.page().errorCode, 'stream_interrupted');
  assert.equal(quiet.network.last.abortCalls, 1);
  assert.equal(quiet.settled.length, 1);

  const slow = setup({ idleTimeoutMs: 45_000 });
  slow.session.start({ message: 'hi' });
  slow.network.last.sendHeaders(200);
  slow.send([START]);
  for (let n = 0; n < 8; n++) {
    slow.clock.advance(15_000);
    slow.network.last.sendBody(SSE_HEARTBEAT);
  }
  assert.equal(slow.settled.length, 0);
  assert.equal(slow.session.state.status, 'streaming');
  slow.send([{ id: 2, type: 'done', data: { finishReason: 'stop' } }]);
  slow.clock.runUntilIdle();
  assert.equal(slow.page().status, 'done');
  assert.equal(slow.clock.pendingTimers, 0);
});

test('dispose stops the transport, clears every timer and silences all callbacks', () => {
  const { clock, network, session, renders, settled, send } = setup();
  session.start({ message: 'hi' });
  network.last.sendHeaders(200);
  send([START, { id: 2, type: 'delta', data: { text: '还在打字的内容'.repeat(10) } }]);
  clock.advance(120);
  const count = renders.length;
  session.dispose();
  assert.equal(network.last.abortCalls, 1);
  assert.equal(clock.pendingTimers, 0);
  network.last.sendChunk(utf8(formatSseEvent({ id: 3, type: 'done', data: { finishReason: 'stop' } })), { evenIfRemoved: true });
  session.setVisible(false);
  session.setVisible(true);
  session.stop();
  clock.runUntilIdle();
  assert.equal(renders.length, count);
  assert.equal(settled.length, 0);
});

test('a session carries one reply: starting it twice is a programming error', () => {
  const { session } = setup();
  session.start({ message: 'hi' });
  assert.throws(() => session.start({ message: 'again' }), /one reply/);
});

test('a transport that throws on open ends the reply as a network error instead of stranding it', () => {
  const clock = new FakeClock();
  const renders: ReplyViewPatch[] = [];
  let settledCount = 0;
  const session = new ReplySession({
    openStream: () => {
      throw new TypeError('request is not a function');
    },
    clock,
    scheduler: clock,
    onRender: (patch) => renders.push(patch),
    onSettled: () => settledCount++,
  });
  session.start({ message: 'hi' });
  clock.runUntilIdle();
  assert.equal(session.state.status, 'error');
  assert.equal(session.state.error?.code, 'network_error');
  assert.match(session.state.error?.message ?? '', /request is not a function/);
  assert.equal(renders.length, 1);
  assert.equal(renders[0]?.errorMessage, userMessageFor('network_error'));
  assert.equal(settledCount, 1);
  assert.equal(clock.pendingTimers, 0);
});

test('onStateChange hands over audio segments and the voice flag at once, also while hidden, without a render', () => {
  const changes: ReplyState[] = [];
  const { clock, network, session, renders, send } = setup({ onStateChange: (state) => changes.push(state) });
  session.start({ message: 'hi', voice: true });
  network.last.sendHeaders(200);
  clock.advance(100);
  session.setVisible(false);
  const rendersBefore = renders.length;
  send([
    { id: 1, type: 'start', data: { conversationId: 'c-9', messageId: 'm-9', model: 'm', voice: true } },
    { id: 2, type: 'audio', data: { index: 0, url: '/api/audio/a0', text: '你好', format: 'mp3' } },
    { id: 3, type: 'audio', data: { index: 1, skipped: true, code: 'tts_failed' } },
  ]);
  assert.equal(changes.length, 3, 'one call per event, inside the transport callback');
  assert.equal(changes[0]?.voice, true);
  assert.deepEqual(changes[2]?.audio.map((a) => a.index), [0, 1]);
  clock.advance(1000);
  assert.equal(renders.length, rendersBefore, 'hidden: nothing rendered');
});
