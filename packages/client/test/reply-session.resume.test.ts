/**
 * Continuing a reply whose connection broke: the session over the real transport, the fake wx.request
 * as the network, and a small reply server in the test that answers the chat POST and the events
 * route from one event log, as the server does (same ids, only events after `lastEventId`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAST_EVENT_ID_QUERY, errorBody, formatSseEvent, userMessageFor, type ReplyEvent } from '@wxstream/protocol';
import type { ReplyState } from '../src/reply-reducer.ts';
import { DEFAULT_RESUME_ATTEMPTS, RESUME_EXPIRED_MESSAGE, ReplySession, type ReplyResumeOptions, type ReplyView } from '../src/reply-session.ts';
import { openReplyEvents, openReplyStream } from '../src/wx-request-transport.ts';
import { FakeClock } from './support/fake-clock.ts';
import { FakeWxRequest, utf8, type FakeRequestTask } from './support/fake-wx-request.ts';
import { createSeededRandom, testSeed, type SeededRandom } from './support/seeded-random.ts';

const SERVER = 'https://chat.example.com';

function setup(resume: Partial<ReplyResumeOptions> = {}, options: { idleTimeoutMs?: number; stopByRequest?: boolean } = {}) {
  const clock = new FakeClock(1_000_000);
  const network = new FakeWxRequest();
  const settled: ReplyState[] = [];
  const stops: string[] = [];
  /** Every text the page has shown, in order. */
  const shown: string[] = [];
  let page: Partial<ReplyView> = {};
  const session = new ReplySession({
    openStream: (body, handlers) => openReplyStream({ request: network.request, url: `${SERVER}/api/chat`, token: 't', body, handlers }),
    resume: {
      open: (messageId, lastEventId, handlers) =>
        openReplyEvents({ request: network.request, url: `${SERVER}/api/chat/${messageId}/events`, token: 't', lastEventId, handlers }),
      random: () => 0.5,
      ...resume,
    },
    stopReply: (messageId) => stops.push(messageId),
    ...(options.stopByRequest === false ? {} : { stopRequest: (requestId: string) => stops.push(`request:${requestId}`) }),
    clock,
    scheduler: clock,
    idleTimeoutMs: options.idleTimeoutMs ?? 45_000,
    onRender: (patch) => {
      page = { ...page, ...patch };
      if (patch.text !== undefined) shown.push(patch.text);
    },
    onSettled: (state) => settled.push(state),
  });
  return { clock, network, session, settled, stops, shown, page: () => page };
}

/** The `lastEventId` a request asked for: from the query, checked against the header; 0 for the chat POST. */
function askedAfter(task: FakeRequestTask): number {
  if (task.options.method === 'POST') return 0;
  const url = new URL(task.options.url);
  const fromQuery = url.searchParams.get(LAST_EVENT_ID_QUERY);
  assert.equal(task.options.header['Last-Event-ID'], fromQuery, 'header and query agree');
  assert.match(url.pathname, /^\/api\/chat\/m-9\/events$/);
  return Number(fromQuery);
}

function longReply(random: SeededRandom, deltas: number): { events: ReplyEvent[]; text: string } {
  const alphabet = ['你', '好', '，', '世界', '。', 'ab', ' ', '👍🏽', '👨‍👩‍👧', '🇨🇳', '\n', 'é'];
  const events: ReplyEvent[] = [{ id: 1, type: 'start', data: { conversationId: 'c-9', messageId: 'm-9', model: 'm' } }];
  let text = '';
  for (let n = 0; n < deltas; n++) {
    let piece = '';
    for (let k = random.range(1, 6); k > 0; k--) piece += random.pick(alphabet);
    text += piece;
    events.push({ id: events.length + 1, type: 'delta', data: { text: piece } });
  }
  events.push({ id: events.length + 1, type: 'done', data: { finishReason: 'stop' } });
  return { events, text };
}

function wire(events: readonly ReplyEvent[]): Uint8Array {
  return utf8(events.map(formatSseEvent).join(''));
}

const START: ReplyEvent = { id: 1, type: 'start', data: { conversationId: 'c-9', messageId: 'm-9', model: 'm' } };
const delta = (id: number, text: string): ReplyEvent => ({ id, type: 'delta', data: { text } });

test('a long reply cut at random points and resumed again and again ends exactly equal to the full reply', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const random = createSeededRandom(testSeed(0x7e50 + seed));
    const { events, text } = longReply(random, 400);
    const { clock, network, session, settled, shown, page } = setup({ maxAttempts: 50 }, { idleTimeoutMs: 3000 });
    session.start({ message: '写一篇长文' });
    let produced = 1;
    let served = 0;
    let conn: { task: FakeRequestTask; next: number; stalled: boolean } | undefined;
    let cuts = 0;
    let finished = false;
    for (let step = 0; step < 20_000 && !finished; step++) {
      produced = Math.min(events.length, produced + random.range(0, 3));
      if (network.tasks.length > served) {
        const task = network.tasks[served++] as FakeRequestTask;
        const after = askedAfter(task);
        if (served > 1) assert.equal(after, session.state.lastEventId, 'resumes right after the last event applied');
        task.sendHeaders(200, { 'Content-Type': 'text/event-stream' });
        conn = { task, next: after, stalled: false };
      }
      if (conn !== undefined && !conn.stalled && produced > conn.next) {
        const batch = events.slice(conn.next, produced);
        const bytes = wire(batch);
        const roll = random.next();
        if (roll < 0.08) {
          // Cut inside the batch: part of an event (or a character) arrives, then the connection ends
          // the way WeChat ends it — a fail, a success without a terminal event, or nothing at all.
          conn.task.sendBody(bytes.slice(0, random.int(bytes.length)), [random.int(bytes.length)]);
          const how = random.int(3);
          if (how === 0) conn.task.fail('request:fail timeout');
          else if (how === 1) conn.task.succeed(200);
          else conn.stalled = true;
          if (how !== 2) conn = undefined;
          cuts++;
        } else {
          conn.task.sendBody(bytes, [random.int(bytes.length), random.int(bytes.length)]);
          conn.next = produced;
          if (produced === events.length) {
            conn.task.succeed(200);
            finished = true;
          }
        }
      }
      clock.advance(random.range(0, 120));
    }
    clock.runUntilIdle();
    assert.ok(finished, `seed ${seed}: the reply was delivered`);
    assert.ok(cuts >= 4, `seed ${seed}: only ${cuts} cuts`);
    assert.ok(network.tasks.length > cuts / 2, `seed ${seed}: ${network.tasks.length} requests for ${cuts} cuts`);
    assert.equal(page().text, text, `seed ${seed}`);
    assert.equal(page().status, 'done');
    assert.equal(session.state.text, text);
    for (const visible of shown) assert.ok(text.startsWith(visible), `seed ${seed}: the page never showed repeated or skipped text`);
    assert.ok(shown.length > 20, 'the text was typed out across the cuts, not dumped at the end');
    assert.equal(settled.length, 1);
    assert.equal(clock.pendingTimers, 0);
  }
});

test('a request WeChat ends without a terminal event (the ~60 s cut) continues seamlessly, typing on', () => {
  const { clock, network, session, settled, page } = setup();
  session.start({ message: 'hi' });
  network.last.sendHeaders(200);
  network.last.sendBody(wire([START, delta(2, '第一段'.repeat(30))]));
  clock.advance(500);
  const typed = page().text ?? '';
  assert.ok(typed.length > 0 && typed.length < 90);
  network.last.succeed(200);
  assert.equal(session.state.status, 'streaming', 'a cut is not an ending');
  clock.advance(600);
  assert.equal(network.tasks.length, 2);
  assert.ok((page().text ?? '').length > typed.length, 'typing went on while reconnecting');
  assert.equal(askedAfter(network.last), 2);
  network.last.sendHeaders(200);
  network.last.sendBody(wire([delta(3, '第二段'), { id: 4, type: 'done', data: { finishReason: 'length' } }]));
  network.last.succeed(200);
  clock.runUntilIdle();
  assert.equal(page().text, '第一段'.repeat(30) + '第二段');
  assert.equal(page().finishReason, 'length', 'the view tells the page the reply was cut by the length limit');
  assert.equal(page().errorCode, undefined);
  assert.equal(settled.length, 1);
});

test('back from the background: a broken reply resumes at once, and a quiet connection is replaced', () => {
  const broken = setup({ baseDelayMs: 4000 });
  broken.session.start({ message: 'hi' });
  broken.network.last.sendHeaders(200);
  broken.network.last.sendBody(wire([START, delta(2, '前台')]));
  broken.session.setVisible(false);
  broken.network.last.fail('request:fail interrupted');
  assert.equal(broken.network.tasks.length, 1, 'waiting out the backoff');
  broken.session.setVisible(true);
  assert.equal(broken.session.resume(), true);
  assert.equal(broken.network.tasks.length, 2, 'resumed without waiting');
  assert.equal(askedAfter(broken.network.last), 2);
  broken.clock.advance(10_000);
  assert.equal(broken.network.tasks.length, 2, 'the cancelled backoff does not fire a second request');
  broken.network.last.sendHeaders(200);
  broken.network.last.sendBody(wire([delta(3, '后台'), { id: 4, type: 'done', data: { finishReason: 'stop' } }]));
  broken.clock.runUntilIdle();
  assert.equal(broken.page().text, '前台后台');

  const quiet = setup();
  quiet.session.start({ message: 'hi' });
  quiet.network.last.sendHeaders(200);
  quiet.network.last.sendBody(wire([START, delta(2, '一')]));
  quiet.clock.advance(1000);
  assert.equal(quiet.session.resume(), false, 'a connection that just carried an event is kept');
  assert.equal(quiet.network.tasks.length, 1);
  quiet.session.setVisible(false);
  quiet.clock.advance(25_000);
  quiet.session.setVisible(true);
  assert.equal(quiet.session.resume(), true, 'a connection silent for longer than a heartbeat is presumed dead');
  assert.equal(quiet.network.tasks[0]?.abortCalls, 1);
  assert.equal(askedAfter(quiet.network.last), 2);
  assert.equal(quiet.session.resume({ force: true }), true, 'the network changed: replace even a fresh connection');
  assert.equal(quiet.network.tasks.length, 3);
  quiet.network.last.sendHeaders(200);
  quiet.network.last.sendBody(wire([delta(3, '二'), { id: 4, type: 'done', data: { finishReason: 'stop' } }]));
  quiet.clock.runUntilIdle();
  assert.equal(quiet.page().text, '一二');
  assert.equal(quiet.session.resume(), false, 'nothing to resume once ended');
});

test('a reply the server no longer has (404 on resume) ends with a clear message and keeps its text', () => {
  const { clock, network, session, settled, page } = setup();
  session.start({ message: 'hi' });
  network.last.sendHeaders(200);
  network.last.sendBody(wire([START, delta(2, '已收到的部分')]));
  network.last.fail('request:fail');
  clock.advance(1000);
  network.last.sendHeaders(404, { 'Content-Type': 'application/json' });
  network.last.sendBody(JSON.stringify(errorBody('not_found', 'no such reply')));
  network.last.succeed(404);
  clock.runUntilIdle();
  assert.equal(page().text, '已收到的部分');
  assert.equal(page().status, 'error');
  assert.equal(page().errorCode, 'not_found');
  assert.equal(page().errorMessage, RESUME_EXPIRED_MESSAGE);
  assert.equal(page().retryable, false);
  assert.equal(network.tasks.length, 2, 'an expired reply is not retried');
  assert.equal(settled.length, 1);
  assert.equal(clock.pendingTimers, 0);
});

test('retries are bounded, spaced by a growing jittered backoff, then the reply ends with a clear error', () => {
  const random = createSeededRandom(testSeed(0xb0ff));
  const { clock, network, session, settled, page } = setup({ maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8000, random: () => random.next() });
  session.start({ message: 'hi' });
  network.last.sendHeaders(200);
  network.last.sendBody(wire([START, delta(2, '半句')]));
  const sentAt: number[] = [];
  let failedAt = clock.now();
  network.last.fail('request:fail');
  for (let attempt = 0; attempt < 4; attempt++) {
    const before = network.tasks.length;
    while (network.tasks.length === before) clock.advance(10);
    sentAt.push(clock.now());
    const wait = clock.now() - failedAt;
    const ceiling = Math.min(8000, 500 * 2 ** attempt);
    assert.ok(wait >= ceiling / 2 && wait <= ceiling + 10, `attempt ${attempt} waited ${wait} ms`);
    assert.equal(askedAfter(network.last), 2);
    failedAt = clock.now();
    network.last.fail('request:fail net::ERR_INTERNET_DISCONNECTED');
  }
  clock.runUntilIdle();
  assert.equal(network.tasks.length, 5, 'the first request and four attempts to resume');
  assert.equal(page().status, 'error');
  assert.equal(page().errorCode, 'network_error');
  assert.equal(page().errorMessage, userMessageFor('network_error'));
  assert.equal(page().text, '半句');
  assert.match(session.state.error?.message ?? '', /gave up after 4 attempts/);
  assert.equal(settled.length, 1);
  assert.equal(clock.pendingTimers, 0);
});

test('an attempt that brings new events restores the full retry budget', () => {
  const { clock, network, session, page } = setup({ maxAttempts: 2 });
  session.start({ message: 'hi' });
  network.last.sendHeaders(200);
  network.last.sendBody(wire([START]));
  for (let n = 2; n < 8; n++) {
    network.last.fail('request:fail');
    network.last.fail('request:fail');
    clock.advance(2000);
    assert.equal(askedAfter(network.last), n - 1);
    network.last.sendHeaders(200);
    network.last.sendBody(wire([delta(n, String(n))]));
    clock.advance(2000);
  }
  network.last.sendBody(wire([{ id: 8, type: 'done', data: { finishReason: 'stop' } }]));
  clock.runUntilIdle();
  assert.equal(page().status, 'done');
  assert.equal(page().text, '234567');
});

test('stop aborts the request and tells the server to stop the model, also while waiting to resume', () => {
  const live = setup();
  live.session.start({ message: 'hi' });
  live.network.last.sendHeaders(200);
  live.network.last.sendBody(wire([START, delta(2, '停之前')]));
  live.session.stop();
  assert.deepEqual(live.stops, ['m-9']);
  assert.equal(live.network.last.abortCalls, 1);
  live.clock.runUntilIdle();
  assert.equal(live.page().status, 'stopped');
  assert.equal(live.page().text, '停之前');
  assert.equal(live.clock.pendingTimers, 0);

  const waiting = setup();
  waiting.session.start({ message: 'hi' });
  waiting.network.last.sendHeaders(200);
  waiting.network.last.sendBody(wire([START, delta(2, '断了')]));
  waiting.network.last.fail('request:fail');
  waiting.session.stop();
  assert.deepEqual(waiting.stops, ['m-9']);
  waiting.clock.runUntilIdle();
  assert.equal(waiting.network.tasks.length, 1, 'no attempt to resume a stopped reply');
  assert.equal(waiting.page().status, 'stopped');
  assert.equal(waiting.settled.length, 1);
});

test('stop before the reply has an id waits for the start event to tell the server, silently', () => {
  const { clock, network, session, stops, page, settled } = setup();
  session.start({ message: 'hi' });
  clock.advance(100);
  session.stop();
  assert.deepEqual(stops, [], 'no id to stop yet');
  assert.equal(network.last.abortCalls, 0, 'the request stays open to learn the id');
  clock.advance(1000);
  assert.equal(page().status, 'stopped');
  assert.equal(settled.length, 1);
  network.last.sendHeaders(200);
  network.last.sendBody(wire([START, delta(2, '不该出现')]));
  assert.deepEqual(stops, ['m-9']);
  assert.equal(network.last.abortCalls, 1);
  clock.runUntilIdle();
  assert.equal(page().text, '');
  assert.equal(session.state.text, '');
  assert.equal(clock.pendingTimers, 0);
});

test('stop before start with a requestId tells the server at once, by the request, and only once', () => {
  const { clock, network, session, stops, page, settled } = setup();
  session.start({ message: 'hi', requestId: 'req-stop-0001' });
  clock.advance(100);
  session.stop();
  // Before: nothing reached the server until `start` named the reply, and a new send disposed the session
  // first, so the stop was lost and the server stored a reply the user had stopped.
  assert.deepEqual(stops, ['request:req-stop-0001'], 'the server hears of the stop before the reply has an id');
  assert.equal(network.last.abortCalls, 0, 'the request stays open, so the server ends the reply stopped');
  clock.advance(100);
  assert.equal(page().status, 'stopped');
  assert.equal(settled.length, 1);
  network.last.sendHeaders(200);
  network.last.sendBody(wire([START, { id: 2, type: 'done', data: { finishReason: 'stopped' } }]));
  assert.deepEqual(stops, ['request:req-stop-0001'], 'not told twice');
  clock.runUntilIdle();
  assert.equal(page().text, '');
  assert.equal(clock.pendingTimers, 0);
});

test('stop before start with a requestId but no way to stop by request still tells the server once start names the reply', () => {
  const { clock, network, session, stops, page } = setup({}, { stopByRequest: false });
  session.start({ message: 'hi', requestId: 'req-stop-0003' });
  session.stop();
  assert.deepEqual(stops, [], 'no id to stop yet, and no request route to stop by');
  clock.advance(100);
  assert.equal(page().status, 'stopped');
  network.last.sendHeaders(200);
  network.last.sendBody(wire([START, delta(2, '不该出现')]));
  assert.deepEqual(stops, ['m-9'], 'the reply named by start is stopped');
  assert.equal(network.last.abortCalls, 1);
});

test('stop after start with a requestId stops by the request too', () => {
  const { network, session, stops } = setup();
  session.start({ message: 'hi', requestId: 'req-stop-0002' });
  network.last.sendHeaders(200);
  network.last.sendBody(wire([START, delta(2, '半')]));
  session.stop();
  assert.deepEqual(stops, ['request:req-stop-0002']);
  assert.equal(network.last.abortCalls, 1);
});

test('the idle watchdog starts when the server first answers, never before', () => {
  const { clock, network, session, page } = setup({}, { idleTimeoutMs: 45_000 });
  session.start({ message: 'hi', requestId: 'req-idle-0001' });
  // Nothing at all for 90 s (a platform that hands the body over only at its end, or a slow admission).
  clock.advance(90_000);
  assert.equal(session.state.status, 'streaming', 'no header, no byte: not a stalled connection yet');
  assert.equal(network.last.abortCalls, 0);
  network.last.sendHeaders(200);
  network.last.sendBody(wire([START]));
  clock.advance(44_999);
  assert.equal(session.state.status, 'streaming');
  clock.advance(1);
  assert.equal(network.last.abortCalls, 1, 'silent after its start: the connection counts as broken');
  clock.advance(10_000);
  assert.equal(network.tasks.length, 2, 'and is replaced through the events route');
  assert.equal(page().status, 'streaming');
});

test('dispose while waiting to resume leaves no timer and makes no request', () => {
  const { clock, network, session, settled, stops } = setup();
  session.start({ message: 'hi' });
  network.last.sendHeaders(200);
  network.last.sendBody(wire([START, delta(2, '半')]));
  network.last.fail('request:fail');
  session.dispose();
  assert.equal(clock.pendingTimers, 0);
  clock.advance(60_000);
  assert.equal(network.tasks.length, 1);
  assert.equal(session.resume(), false);
  assert.deepEqual(stops, [], 'leaving is not stopping: the server finishes and stores the reply');
  assert.equal(settled.length, 0);
});

test('an idle connection is replaced through the events route instead of ending the reply', () => {
  const { clock, network, session, page } = setup({}, { idleTimeoutMs: 5000 });
  session.start({ message: 'hi' });
  network.last.sendHeaders(200);
  network.last.sendBody(wire([START, delta(2, '卡住')]));
  clock.advance(5000);
  assert.equal(network.tasks[0]?.abortCalls, 1, 'the stalled request is aborted');
  clock.advance(1000);
  assert.equal(network.tasks.length, 2);
  assert.equal(askedAfter(network.last), 2);
  network.last.sendHeaders(200);
  network.last.sendBody(wire([delta(3, '又好了'), { id: 4, type: 'done', data: { finishReason: 'stop' } }]));
  clock.runUntilIdle();
  assert.equal(page().text, '卡住又好了');
  assert.equal(page().status, 'done');
});

/** A second session on the same network and clock, as a page makes one when 重试 is pressed. */
function nextSession(base: ReturnType<typeof setup>) {
  const settled: ReplyState[] = [];
  const shown: string[] = [];
  const patches: Partial<ReplyView>[] = [];
  let page: Partial<ReplyView> = {};
  const session = new ReplySession({
    openStream: (body, handlers) => openReplyStream({ request: base.network.request, url: `${SERVER}/api/chat`, token: 't', body, handlers }),
    resume: {
      open: (messageId, lastEventId, handlers) =>
        openReplyEvents({ request: base.network.request, url: `${SERVER}/api/chat/${messageId}/events`, token: 't', lastEventId, handlers }),
      random: () => 0.5,
    },
    clock: base.clock,
    scheduler: base.clock,
    onRender: (patch) => {
      patches.push(patch);
      page = { ...page, ...patch };
      if (patch.text !== undefined) shown.push(patch.text);
    },
    onSettled: (state) => settled.push(state),
  });
  return { session, settled, shown, patches, page: () => page };
}

/** Starts a reply, delivers `text` as event 2, then fails the connection until the resumes give up. */
function giveUp(base: ReturnType<typeof setup>, text: string): void {
  base.session.start({ message: 'hi' });
  base.network.last.sendHeaders(200);
  base.network.last.sendBody(wire([START, delta(2, text)]));
  for (let n = 0; n <= DEFAULT_RESUME_ATTEMPTS; n++) {
    const before = base.network.tasks.length;
    base.network.last.fail('request:fail net::ERR_INTERNET_DISCONNECTED');
    if (n < DEFAULT_RESUME_ATTEMPTS) while (base.network.tasks.length === before) base.clock.advance(50);
  }
  base.clock.runUntilIdle();
}

test('a reply whose resumes ran out is reopenable, and a new session continues it from its last event without retyping it', () => {
  const base = setup();
  giveUp(base, '已经显示的前半段');
  assert.equal(base.page().status, 'error');
  assert.equal(base.session.reopenable, true);
  const tasksBefore = base.network.tasks.length;

  const next = nextSession(base);
  next.session.reopen(base.session.state);
  assert.equal(base.network.tasks.length, tasksBefore + 1, 'the events route is opened at once');
  assert.equal(base.network.last.options.method, 'GET');
  assert.equal(askedAfter(base.network.last), 2);
  base.clock.advance(0);
  assert.deepEqual(next.shown, ['已经显示的前半段'], 'the received text is shown whole, not typed again');
  assert.equal(next.page().status, 'streaming');
  assert.equal(next.page().errorCode, undefined);

  base.network.last.sendHeaders(200);
  base.network.last.sendBody(wire([delta(3, '，以及后半段。'), { id: 4, type: 'done', data: { finishReason: 'stop' } }]));
  base.network.last.succeed(200);
  base.clock.runUntilIdle();
  assert.equal(next.page().text, '已经显示的前半段，以及后半段。');
  assert.equal(next.page().status, 'done');
  for (const visible of next.shown) assert.ok(visible.startsWith('已经显示的前半段'), `never less than what was on screen: ${visible}`);
  assert.equal(next.session.state.lastEventId, 4);
  assert.equal(next.settled.length, 1);
  assert.equal(base.clock.pendingTimers, 0);
});

test('reopening a reply the server no longer has hands it to onGone without rendering an ending', () => {
  const base = setup();
  giveUp(base, '半句');
  const next = nextSession(base);
  let gone = 0;
  next.session.reopen(base.session.state, { onGone: () => gone++ });
  base.clock.advance(0);
  const rendered = next.patches.length;
  base.network.last.sendHeaders(404, { 'Content-Type': 'application/json' });
  base.network.last.sendBody(JSON.stringify(errorBody('not_found', 'no such reply')));
  base.network.last.succeed(404);
  base.clock.runUntilIdle();
  assert.equal(gone, 1);
  assert.equal(next.patches.length, rendered, 'no error is shown: the caller sends the message again');
  assert.equal(next.settled.length, 0);
  assert.equal(base.clock.pendingTimers, 0);
});

test('only a reply given up on after connection failures is reopenable, not one the server ended or no longer has', () => {
  const ended = setup();
  ended.session.start({ message: 'hi' });
  ended.network.last.sendHeaders(200);
  ended.network.last.sendBody(wire([START, { id: 2, type: 'error', data: { code: 'upstream_unavailable', message: '502', retryable: true } }]));
  ended.clock.runUntilIdle();
  assert.equal(ended.page().status, 'error');
  assert.equal(ended.session.reopenable, false);

  const expired = setup();
  expired.session.start({ message: 'hi' });
  expired.network.last.sendHeaders(200);
  expired.network.last.sendBody(wire([START]));
  expired.network.last.fail('request:fail');
  expired.clock.advance(1000);
  expired.network.last.sendHeaders(404, { 'Content-Type': 'application/json' });
  expired.network.last.sendBody(JSON.stringify(errorBody('not_found', 'gone')));
  expired.network.last.succeed(404);
  expired.clock.runUntilIdle();
  assert.equal(expired.page().errorCode, 'not_found');
  assert.equal(expired.session.reopenable, false);

  const unnamed = setup();
  unnamed.session.start({ message: 'hi' });
  unnamed.network.last.fail('request:fail');
  unnamed.clock.runUntilIdle();
  assert.equal(unnamed.page().errorCode, 'network_error');
  assert.equal(unnamed.session.reopenable, false, 'without a messageId there is nothing to reopen');
});
